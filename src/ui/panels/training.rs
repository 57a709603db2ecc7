//! Top bar: Train / Pause / Cancel, the stage, progress with ETA, the device, messages.
use crate::messages::{Command, Stage};
use crate::ui::IcicleApp;
use crate::ui::session::Status;

fn stage_title(s: Stage) -> &'static str {
    match s {
        Stage::Extract => "Pretrained features of the augmented views (frozen backbone)",
        Stage::One => "Stage 1 · contrastive pre-training (backbone + ISM + JC-SLIM)",
        Stage::Graphs => "Features, k-NN graphs, K-means init",
        Stage::Two => "Stage 2 · multi-scale GCN self-training",
    }
}

fn eta(s: f64) -> String {
    if s >= 3600.0 {
        format!(
            "{:.0} h {:02.0} min",
            (s / 3600.0).floor(),
            (s % 3600.0) / 60.0
        )
    } else if s >= 60.0 {
        format!("{:.0} min {:02.0} s", (s / 60.0).floor(), s % 60.0)
    } else {
        format!("{s:.0} s")
    }
}

pub fn show(app: &mut IcicleApp, ui: &mut egui::Ui) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.heading("Icicle Explorer");
        ui.separator();
        let status = app.session.status.clone();
        let blocker = app.train_blocker();
        let train = ui
            .add_enabled(blocker.is_none(), egui::Button::new("Train"))
            .on_hover_text("Train IcicleGCN on the loaded dataset with these hyperparameters")
            .on_disabled_hover_text(blocker.clone().unwrap_or_default());
        if train.clicked() {
            app.start_training();
        }
        match status {
            Status::Running | Status::Starting if ui.button("Pause").clicked() => {
                app.worker.send(Command::Pause);
            }
            Status::Paused if ui.button("Resume").clicked() => {
                app.worker.send(Command::Resume);
            }
            _ => {}
        }
        if ui
            .add_enabled(status.active(), egui::Button::new("Cancel"))
            .on_hover_text("Stop within one step; the last checkpoint stays in the run folder")
            .clicked()
        {
            app.worker.send(Command::Cancel);
        }
        ui.separator();
        let device = if app.session.device.is_empty() {
            if app.cuda {
                "CUDA available"
            } else {
                "CPU (no CUDA)"
            }
            .to_string()
        } else {
            format!("device: {}", app.session.device)
        };
        ui.label(device);
        ui.separator();
        match &status {
            Status::Idle => {
                ui.label("Ready. Pick a dataset, set K and the knobs, press Train.");
            }
            Status::Starting => {
                ui.spinner();
                ui.label("starting…");
            }
            Status::Running | Status::Paused => {
                if let Some(stage) = app.session.stage {
                    ui.label(stage_title(stage));
                }
                if status == Status::Paused {
                    ui.colored_label(egui::Color32::from_rgb(200, 120, 0), "paused");
                }
            }
            Status::Finished => {
                let text = match (
                    app.session.analysis.as_ref().and_then(|a| a.eval.as_ref()),
                    app.session.wall_seconds,
                ) {
                    (Some(e), Some(w)) => format!(
                        "Finished in {}: ACC {:.3}  NMI {:.3}  ARI {:.3}",
                        eta(w),
                        e.scores.acc,
                        e.scores.nmi,
                        e.scores.ari
                    ),
                    (Some(e), None) => format!(
                        "Saved run: ACC {:.3}  NMI {:.3}  ARI {:.3}",
                        e.scores.acc, e.scores.nmi, e.scores.ari
                    ),
                    (None, Some(w)) => format!("Finished in {} (no labels to score)", eta(w)),
                    (None, None) => "Saved run (no labels to score)".into(),
                };
                ui.colored_label(egui::Color32::from_rgb(20, 120, 40), text);
            }
            Status::Cancelled => {
                ui.label("Cancelled; the last checkpoint is in the run folder.");
            }
            Status::Failed(_) => {
                ui.colored_label(
                    egui::Color32::from_rgb(190, 30, 30),
                    "The run failed (see below).",
                );
            }
        }
    });
    if app.session.status.active()
        && let Some((stage, done, total, secs)) = app.session.progress
    {
        let frac = if total > 0 {
            done as f32 / total as f32
        } else {
            0.0
        };
        let unit = match stage {
            Stage::One => "steps",
            Stage::Extract => "batches",
            _ => "iterations",
        };
        let mut text = format!("{done}/{total} {unit}");
        if let Some(s) = secs {
            text.push_str(&format!(" · ETA {}", eta(s)));
        }
        ui.add(egui::ProgressBar::new(frac).text(text));
    }
    if let (Some(why), false) = (&app_blocker(app), app.training()) {
        ui.colored_label(
            egui::Color32::from_rgb(190, 30, 30),
            format!("Cannot train: {why}"),
        );
    }
    if let Status::Failed(e) = &app.session.status {
        ui.colored_label(egui::Color32::from_rgb(190, 30, 30), format!("Error: {e}"));
    }
    if let Some(w) = app.session.warnings.last() {
        ui.colored_label(
            egui::Color32::from_rgb(170, 110, 0),
            format!("Warning: {w}"),
        );
    }
    for n in &app.session.notes {
        ui.label(egui::RichText::new(n).small());
    }
    if let Some(dir) = &app.session.run_dir {
        ui.label(
            egui::RichText::new(format!("run folder: {}", dir.display()))
                .small()
                .weak(),
        );
    }
    let mut dismiss = false;
    if let Some(n) = &app.notice {
        ui.horizontal(|ui| {
            ui.colored_label(egui::Color32::from_rgb(170, 110, 0), n);
            dismiss = ui.small_button("OK").clicked();
        });
    }
    if dismiss {
        app.notice = None;
    }
    ui.add_space(2.0);
}

/// A blocker worth showing in red: an invalid setting (not "no dataset yet").
fn app_blocker(app: &IcicleApp) -> Option<String> {
    app.dataset.as_ref()?;
    app.train_blocker()
}
