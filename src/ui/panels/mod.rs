//! One file per panel. Each panel is a struct that owns its own state, draws from the shell's
//! read-only `View` and pushes `Action`s that the shell applies (the shape of egui's demo app
//! and the rerun viewer).
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

#[cfg(test)]
mod tests;

/// Every panel of the app, each with its own state.
#[derive(Default)]
pub struct Panels {
    pub training: training::TrainingBar,
    pub dataset: dataset::DatasetPanel,
    /// Owns "Suggest K" too.
    pub params: params::ParamsPanel,
    pub losses: losses::LossesPanel,
    pub embedding: embedding::EmbeddingPanel,
    pub confusion: confusion::ConfusionPanel,
    pub gallery: gallery::GalleryPanel,
    pub neighbours: neighbours::NeighboursPanel,
    pub graph: graph::GraphPanel,
    pub runs: runs::RunsPanel,
    pub export: export::ExportPanel,
}

/// Shown by result views before a run has produced anything.
pub fn nothing_yet(ui: &mut egui::Ui, what: &str) {
    ui.add_space(40.0);
    ui.vertical_centered(|ui| {
        ui.label(egui::RichText::new(what).size(16.0).weak());
    });
}
