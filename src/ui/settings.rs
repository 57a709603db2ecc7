//! What the app remembers between launches (eframe persistence): the data source, every
//! hyperparameter and the view choices.
use crate::config::{Config, Preset};
use crate::rundir::DataRecord;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub data: DataRecord,
    pub config: Config,
    /// K follows the dataset's number of classes when a labelled dataset is loaded.
    pub k_from_classes: bool,
    pub log_scale: bool,
    pub colour_by_truth: bool,
    /// The map coloured by each image's confidence (over `colour_by_truth`).
    pub colour_by_confidence: bool,
    /// t-SNE maps at most this many points (a seeded subsample above).
    pub tsne_max_points: usize,
    pub tsne_iterations: usize,
    pub thumb_size: f32,
    /// Where "Export" writes unless told otherwise.
    pub export_dir: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data: DataRecord::registry(None),
            config: Config::preset(Preset::Default, 10),
            k_from_classes: true,
            log_scale: false,
            colour_by_truth: false,
            colour_by_confidence: false,
            tsne_max_points: 5000,
            tsne_iterations: 750,
            thumb_size: 56.0,
            export_dir: String::new(),
        }
    }
}

pub const STORAGE_KEY: &str = "icicle-settings";

impl Settings {
    /// The settings remembered in eframe's storage; defaults when there are none or they
    /// cannot be read (a newer or damaged file must never stop the app from starting).
    pub fn restore(storage: Option<&dyn eframe::Storage>) -> Self {
        storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default()
    }

    pub fn remember(&self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, self);
    }
}
