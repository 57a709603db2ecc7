//! Colours for clusters and classes: well-separated hues, the same id always the same colour.
use egui::Color32;

const BASE: [Color32; 12] = [
    Color32::from_rgb(31, 119, 180),
    Color32::from_rgb(255, 127, 14),
    Color32::from_rgb(44, 160, 44),
    Color32::from_rgb(214, 39, 40),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
    Color32::from_rgb(227, 119, 194),
    Color32::from_rgb(127, 127, 127),
    Color32::from_rgb(188, 189, 34),
    Color32::from_rgb(23, 190, 207),
    Color32::from_rgb(174, 199, 232),
    Color32::from_rgb(255, 187, 120),
];

pub fn colour(id: usize) -> Color32 {
    if id < BASE.len() {
        return BASE[id];
    }
    // Golden-angle hues beyond the base set.
    let h = (id as f32 * 0.618_034) % 1.0;
    egui::ecolor::Hsva::new(h, 0.65, 0.85, 1.0).into()
}

/// The map's confidence bins, least sure first: red through orange and olive to blue (a
/// red–blue scale, readable with the common colour-vision deficiencies).
pub const CONFIDENCE: [Color32; 5] = [
    Color32::from_rgb(178, 24, 43),
    Color32::from_rgb(239, 138, 98),
    Color32::from_rgb(200, 164, 0),
    Color32::from_rgb(103, 169, 207),
    Color32::from_rgb(33, 102, 172),
];

/// White to deep blue for a heatmap cell of relative value `t` in [0, 1].
pub fn heat(t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: f32, b: f32| (a + (b - a) * t) as u8;
    Color32::from_rgb(lerp(245.0, 8.0), lerp(248.0, 48.0), lerp(252.0, 107.0))
}
