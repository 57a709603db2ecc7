//! A decoded dataset: every image as u8 pixels (N×C×H×W, in memory or memory-mapped), with
//! labels when known.
use super::pixels::Pixels;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tch::{Device, Kind, Tensor};

/// A file that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    /// The folder that item paths are relative to (folder datasets only).
    pub root: Option<PathBuf>,
    /// One name per image: its path relative to `root`, or `#<index>` for IDX data.
    pub items: Vec<String>,
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    /// N×C×H×W, row-major: in memory, or mapped from the decode cache (folders).
    #[serde(skip)]
    pub pixels: Pixels,
    /// Ground-truth label ids (0..class_names.len()), when the source has them.
    pub labels: Option<Vec<i64>>,
    pub class_names: Vec<String>,
    pub skipped: Vec<Skipped>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Pixels of image `i` (C×H×W).
    pub fn image(&self, i: usize) -> &[u8] {
        let l = self.image_len();
        &self.pixels[i * l..(i + 1) * l]
    }

    /// Keeps the first `n` images (and their labels): a quick subset for tests and demos.
    pub fn truncate(&mut self, n: usize) {
        let n = n.min(self.len());
        self.items.truncate(n);
        self.pixels.truncate(n * self.image_len());
        if let Some(l) = &mut self.labels {
            l.truncate(n);
        }
    }

    /// What the default preset adapts to (`config::fit_to_data`).
    pub fn shape(&self) -> crate::config::DataShape {
        crate::config::DataShape {
            items: self.len(),
            side: self.height.max(self.width),
            channels: self.channels,
            prefer_pretrained: None,
        }
    }

    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// All images as stored, u8 N×C×H×W, on `device`.
    pub fn to_u8_tensor(&self, device: Device) -> Tensor {
        self.pixels.tensor(
            [
                self.len() as i64,
                self.channels as i64,
                self.height as i64,
                self.width as i64,
            ],
            device,
        )
    }

    /// All images as floats in [0, 1], N×C×H×W, on `device`.
    pub fn to_tensor(&self, device: Device) -> Tensor {
        self.to_u8_tensor(device).to_kind(Kind::Float) / 255.0
    }

    /// Each image flattened to one row of floats in [0, 1] (N×(C·H·W)): "pixel features".
    pub fn pixel_features(&self, device: Device) -> Tensor {
        self.to_tensor(device).view([self.len() as i64, -1])
    }

    /// Checks the invariants every loader must keep.
    pub fn check(&self) -> Result<()> {
        if self.pixels.len() != self.len() * self.image_len() {
            bail!(
                "{}: {} pixel bytes for {} images of {}",
                self.name,
                self.pixels.len(),
                self.len(),
                self.image_len()
            );
        }
        if let Some(l) = &self.labels {
            if l.len() != self.len() {
                bail!(
                    "{}: {} labels for {} images",
                    self.name,
                    l.len(),
                    self.len()
                );
            }
            let c = self.class_names.len() as i64;
            if let Some(bad) = l.iter().find(|&&v| v < 0 || v >= c) {
                bail!("{}: label {bad} outside the {c} classes", self.name);
            }
        }
        Ok(())
    }
}
