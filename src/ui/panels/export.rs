//! Export: assignments as CSV or JSON, and copies of the images in one folder per cluster.
//! Work happens on a helper thread; originals are never moved or overwritten.
use crate::data::Dataset;
use crate::ui::action::Action;
use crate::ui::tasks::{Done, ExportReport, Pick, Tasks};
use crate::ui::view::View;
use std::path::PathBuf;
use std::sync::Arc;

/// What an export button writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Csv,
    Json,
    /// Copies of the images, one folder per cluster.
    Folders,
}

/// Owns the export in progress and the last one's report.
#[derive(Default)]
pub struct ExportPanel {
    pub busy: bool,
    pub result: Option<Result<ExportReport, String>>,
}

impl ExportPanel {
    /// Writes the run's assignments (or image copies) under `dest` on a helper thread.
    pub fn start(
        &mut self,
        tasks: &Tasks,
        kind: ExportKind,
        ds: Arc<Dataset>,
        (clusters, confidence): (Vec<i64>, Vec<f32>),
        dest: PathBuf,
        notes_from: Option<PathBuf>,
    ) {
        self.busy = true;
        self.result = None;
        tasks.spawn_writer(crate::ui::tasks::job::EXPORT, move |r| {
            // Cluster names and corrected images, from the run folder's corrections.json.
            let notes = notes_from
                .and_then(|d| crate::correct::Corrections::read_run(&d).ok())
                .map(|c| c.annotations())
                .unwrap_or_default();
            let res = match kind {
                ExportKind::Csv => {
                    let path = dest.join("assignments.csv");
                    crate::export::write_assignments(&path, &ds, &clusters, &confidence, &notes)
                        .map(|_| ExportReport::Files(vec![path]))
                }
                ExportKind::Json => {
                    let path = dest.join("assignments.json");
                    crate::export::write_assignments_json(
                        &path,
                        &ds,
                        &clusters,
                        &confidence,
                        &notes,
                    )
                    .map(|_| ExportReport::Files(vec![path]))
                }
                ExportKind::Folders => crate::export::export_cluster_folders(
                    &ds,
                    &clusters,
                    &dest.join("clusters"),
                    &notes.names,
                    &r.progress(),
                )
                .map(ExportReport::Folders),
            };
            r.send(Done::Exported(res.map_err(|e| format!("{e:#}"))));
        });
    }

    pub fn on_done(&mut self, result: Result<ExportReport, String>) {
        self.busy = false;
        self.result = Some(result);
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, view: &View, out: &mut Vec<Action>) {
        let Some(ds) = view.run_dataset else {
            super::nothing_yet(
                ui,
                "Train or open a run first: its assignments can then be exported.",
            );
            return;
        };
        if view.session.clusters.len() != ds.len() {
            super::nothing_yet(ui, "No assignments yet.");
            return;
        }
        if let Some(dir) = &view.session.run_dir {
            ui.label(format!(
                "The run folder already holds assignments.csv, metrics.json, confusion.csv, losses.csv and config.toml: {}",
                dir.display()
            ));
        }
        super::answer_bar(ui, view, out);
        ui.add_space(6.0);
        let mut edited = view.settings.clone();
        ui.horizontal(|ui| {
            let l = ui.label("Export to folder:");
            ui.add(
                egui::TextEdit::singleline(&mut edited.export_dir)
                    .hint_text("/path/to/export")
                    .desired_width(360.0),
            )
            .labelled_by(l.id);
            if ui.button("Choose…").clicked() {
                out.push(Action::Pick(Pick::Export));
            }
        });
        let empty = edited.export_dir.trim().is_empty();
        view.settings_changed(edited, out);
        let ready = !empty && !self.busy;
        if empty {
            ui.weak("Type or choose a folder above to export to; it is created if missing.");
        }
        ui.horizontal(|ui| {
            for (kind, text, tip) in [
                (ExportKind::Csv, "Assignments to CSV", "assignments.csv: item, cluster, confidence"),
                (ExportKind::Json, "Assignments to JSON", "assignments.json: item, cluster, confidence"),
                (
                    ExportKind::Folders,
                    "Copy images into one folder per cluster",
                    "Copies (never moves) every image into <folder>/clusters/cluster_NN/; the folder must be new or empty",
                ),
            ] {
                if ui
                    .add_enabled(ready, egui::Button::new(text))
                    .on_hover_text(tip)
                    .clicked()
                {
                    out.push(Action::Export(kind));
                }
            }
        });
        if self.busy {
            // Static text, not a spinner: a spinner repaints every frame.
            ui.label("exporting…");
        }
        self.report(ui);
    }

    fn report(&self, ui: &mut egui::Ui) {
        match &self.result {
            Some(Ok(ExportReport::Files(files))) => {
                for f in files {
                    ui.colored_label(
                        egui::Color32::from_rgb(20, 120, 40),
                        format!("wrote {}", f.display()),
                    );
                }
            }
            Some(Ok(ExportReport::Folders(f))) => {
                ui.colored_label(
                    egui::Color32::from_rgb(20, 120, 40),
                    format!(
                        "copied {} images into {} cluster folders under {}",
                        f.files,
                        f.folders,
                        f.dest.display()
                    ),
                );
                if !f.failed.is_empty() {
                    ui.colored_label(
                        egui::Color32::from_rgb(190, 30, 30),
                        format!("{} images could not be written:", f.failed.len()),
                    );
                    for (item, why) in f.failed.iter().take(20) {
                        ui.label(egui::RichText::new(format!("{item}: {why}")).small());
                    }
                }
            }
            Some(Err(e)) => {
                ui.colored_label(egui::Color32::from_rgb(190, 30, 30), e);
            }
            None => {}
        }
    }
}
