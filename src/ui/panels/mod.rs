//! One file per panel; each draws from and edits the app's state, nothing else.
pub mod confusion;
pub mod dataset;
pub mod embedding;
pub mod export;
pub mod gallery;
pub mod graph;
pub mod losses;
pub mod neighbours;
pub mod params;
pub mod runs;
pub mod suggest_k;
pub mod training;

/// Shown by result views before a run has produced anything.
pub fn nothing_yet(ui: &mut egui::Ui, what: &str) {
    ui.add_space(40.0);
    ui.vertical_centered(|ui| {
        ui.label(egui::RichText::new(what).size(16.0).weak());
    });
}
