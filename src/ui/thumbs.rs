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
        let mut unlimited = usize::MAX;
        self.get_within(ctx, ds, i, &mut unlimited)
            .expect("an unlimited budget makes every texture")
    }

    /// Like `get`, but makes a texture only while `budget` lasts (each one made spends one):
    /// a view that shows hundreds of images at once spreads their upload over a few frames
    /// instead of stalling one.
    pub fn get_within(
        &mut self,
        ctx: &egui::Context,
        ds: &Dataset,
        i: usize,
        budget: &mut usize,
    ) -> Option<TextureHandle> {
        let owner = ds as *const Dataset as usize;
        if owner != self.owner || self.textures.len() > MAX_TEXTURES {
            self.textures.clear();
            self.owner = owner;
        }
        if let Some(t) = self.textures.get(&i) {
            return Some(t.clone());
        }
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let rgba = crate::data::convert::to_rgba(ds, i);
        let img = ColorImage::from_rgba_unmultiplied([ds.width, ds.height], &rgba);
        // Nearest keeps 8×8 digits crisp when scaled up.
        let t = ctx.load_texture(format!("thumb-{i}"), img, TextureOptions::NEAREST);
        self.textures.insert(i, t.clone());
        Some(t)
    }

    /// How many textures are held.
    pub fn len(&self) -> usize {
        self.textures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.textures.is_empty()
    }
}
