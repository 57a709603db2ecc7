//! Image thumbnails as GPU textures, made on first sight from the dataset's decoded pixels
//! (no file decoding here: images were decoded once, off the UI thread, when loaded), so
//! galleries of 10k+ images only ever upload what is on screen.
use crate::data::Dataset;
use egui::{ColorImage, TextureHandle, TextureOptions};
use std::collections::HashMap;

/// Past this many textures the cache starts over (each is tiny; this bounds GPU memory).
const MAX_TEXTURES: usize = 6000;

#[derive(Default)]
pub struct Thumbs {
    textures: HashMap<usize, TextureHandle>,
    /// Identifies the dataset the textures belong to.
    owner: usize,
}

impl Thumbs {
    pub fn get(&mut self, ctx: &egui::Context, ds: &Dataset, i: usize) -> TextureHandle {
        let owner = ds as *const Dataset as usize;
        if owner != self.owner || self.textures.len() > MAX_TEXTURES {
            self.textures.clear();
            self.owner = owner;
        }
        self.textures
            .entry(i)
            .or_insert_with(|| {
                let rgba = crate::data::convert::to_rgba(ds, i);
                let img = ColorImage::from_rgba_unmultiplied([ds.width, ds.height], &rgba);
                // Nearest keeps 8×8 digits crisp when scaled up.
                ctx.load_texture(format!("thumb-{i}"), img, TextureOptions::NEAREST)
            })
            .clone()
    }
}
