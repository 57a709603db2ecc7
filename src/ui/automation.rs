//! Scripted launches for demos, screenshots and frame-time measurements: start training at
//! once, open a tab, save framebuffer screenshots at given times, log frame times, quit.
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct Automation {
    /// Data to load instead of the remembered one.
    pub data: Option<crate::rundir::DataRecord>,
    /// A run directory to reopen at start.
    pub open_run: Option<PathBuf>,
    /// `key=value` config changes applied after loading (as `icicle train --set`).
    pub sets: Vec<String>,
    pub train: bool,
    /// Press Train this many seconds after launch (e.g. once a reopened run's map is drawn).
    pub train_at: Option<f64>,
    /// Override the t-SNE point cap (e.g. all 10k points for the frame-time benchmark).
    pub tsne_max_points: Option<usize>,
    pub tab: Option<super::Tab>,
    /// (seconds after start, tab) switches, sorted by time.
    pub tab_at: Vec<(f64, super::Tab)>,
    /// (seconds after start, PNG path).
    pub screenshots: Vec<(f64, PathBuf)>,
    pub quit_after: Option<f64>,
    /// Write per-frame CPU times (ms) here at exit, with p50/p95/p99.
    pub frame_log: Option<PathBuf>,
    /// Start from default settings, ignoring (and not saving) the remembered ones.
    pub fresh: bool,
}
