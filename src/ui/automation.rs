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
    /// List the runs under this folder in the Runs view and overlay them all.
    pub compare_runs: Option<PathBuf>,
    /// The image whose neighbours the Neighbours tab shows at start.
    pub focus: Option<usize>,
    /// Press "Suggest K" this many seconds after launch.
    pub suggest_k_at: Option<f64>,
    /// Press the corrections' "Preview" this many seconds after launch.
    pub preview_at: Option<f64>,
    /// Press "More like these" this many seconds after launch: for the last of `moves`, else
    /// for the images the run's corrections moved into the cluster that received the most.
    pub more_like_at: Option<f64>,
    /// (images, cluster): "Move to cluster" once the run is on screen.
    pub moves: Vec<(Vec<usize>, usize)>,
    /// Override the t-SNE point cap (e.g. all 10k points for the frame-time benchmark).
    pub tsne_max_points: Option<usize>,
    pub tsne_iterations: Option<usize>,
    /// The map's colours: (by ground truth, by confidence); neither = by cluster.
    pub colour_by: Option<(bool, bool)>,
    pub tab: Option<super::Tab>,
    /// (seconds after start, tab) switches, sorted by time.
    pub tab_at: Vec<(f64, super::Tab)>,
    /// (seconds after start, PNG path).
    pub screenshots: Vec<(f64, PathBuf)>,
    pub quit_after: Option<f64>,
    /// Write per-frame CPU times (ms) here at exit, with p50/p95/p99.
    pub frame_log: Option<PathBuf>,
    /// Move the pointer along a slow figure-of-eight over the main view every frame.
    pub sweep_pointer: bool,
    /// A drag with the primary button: (start second, from, to); it lasts one second.
    pub drag: Option<(f64, egui::Pos2, egui::Pos2)>,
    /// How far the drag has gone: 0 not started, 1 pressed, 2 released.
    pub drag_stage: u8,
    /// Start from default settings, ignoring (and not saving) the remembered ones.
    pub fresh: bool,
}

/// Where the swept pointer is `t` seconds after launch: a Lissajous figure over the central
/// view of a `screen` (left of it is the settings panel, above it the tabs).
pub fn sweep_position(screen: egui::Rect, t: f64) -> egui::Pos2 {
    let area = egui::Rect::from_min_max(
        egui::pos2(screen.left() + 400.0, screen.top() + 120.0),
        screen.max - egui::vec2(40.0, 40.0),
    );
    let (x, y) = ((t * 0.7).sin() as f32, (t * 1.1).sin() as f32);
    area.center() + egui::vec2(x * area.width(), y * area.height()) * 0.5
}

/// The pointer events of a scripted drag `t` seconds after launch (`stage` says what was sent
/// already): press at the start, move along the line for a second, release at the end.
pub fn drag_events(
    (at, from, to): (f64, egui::Pos2, egui::Pos2),
    t: f64,
    stage: &mut u8,
) -> Vec<egui::Event> {
    let button = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    match (*stage, t - at) {
        (0, d) if d >= 0.0 => {
            *stage = 1;
            vec![egui::Event::PointerMoved(from), button(from, true)]
        }
        (1, d) if d < 1.0 => vec![egui::Event::PointerMoved(from.lerp(to, d as f32))],
        (1, _) => {
            *stage = 2;
            vec![egui::Event::PointerMoved(to), button(to, false)]
        }
        _ => vec![],
    }
}
