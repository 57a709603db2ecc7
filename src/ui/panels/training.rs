//! Top bar: Train / Pause / Cancel, the stage, progress with ETA, the device, messages.
use crate::messages::Stage;
use crate::ui::action::Action;
use crate::ui::session::Status;
use crate::ui::view::View;

/// The bar has no state of its own: everything it shows is the session's.
#[derive(Default)]
pub struct TrainingBar;

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

impl TrainingBar {
    pub fn ui(&mut self, ui: &mut egui::Ui, view: &View, out: &mut Vec<Action>) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.heading("Icicle Explorer");
            ui.separator();
            let status = view.session.status.clone();
            let blocker = view.train_blocker.clone();
            let train = ui
                .add_enabled(blocker.is_none(), egui::Button::new("Train"))
                .on_hover_text("Train IcicleGCN on the loaded dataset with these hyperparameters")
                .on_disabled_hover_text(blocker.clone().unwrap_or_default());
            if train.clicked() {
                out.push(Action::Train);
            }
            match status {
                Status::Running | Status::Starting if ui.button("Pause").clicked() => {
                    out.push(Action::Pause);
                }
                Status::Paused if ui.button("Resume").clicked() => {
                    out.push(Action::Resume);
                }
                _ => {}
            }
            if ui
                .add_enabled(status.active(), egui::Button::new("Cancel"))
                .on_hover_text("Stop within one step; the last checkpoint stays in the run folder")
                .clicked()
            {
                out.push(Action::Cancel);
            }
            ui.separator();
            let device = if view.session.device.is_empty() {
                if view.cuda {
                    "CUDA available"
                } else {
                    "CPU (no CUDA)"
                }
                .to_string()
            } else {
                format!("device: {}", view.session.device)
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
                    if let Some(stage) = view.session.stage {
                        ui.label(stage_title(stage));
                    }
                    if status == Status::Paused {
                        ui.colored_label(egui::Color32::from_rgb(200, 120, 0), "paused");
                    }
                }
                Status::Finished => {
                    let text = match (
                        view.session.analysis.as_ref().and_then(|a| a.eval.as_ref()),
                        view.session.wall_seconds,
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
                        (None, w) => {
                            let head = match w {
                                Some(w) => format!("Finished in {}", eta(w)),
                                None => "Saved run".into(),
                            };
                            match view.session.analysis.as_ref() {
                                Some(a) => {
                                    let (mean, uncertain, _) = a.confidence_and_balance;
                                    format!(
                                        "{head} · no labels: mean confidence {mean:.2}, {:.0} % \
                                         of images uncertain (Losses: every label-free score)",
                                        uncertain * 100.0
                                    )
                                }
                                None => format!("{head} (no labels to score)"),
                            }
                        }
                    };
                    ui.colored_label(egui::Color32::from_rgb(20, 120, 40), text);
                    if view
                        .session
                        .analysis
                        .as_ref()
                        .is_some_and(|a| a.eval.is_none() && a.uncertain > 0)
                        && ui
                            .small_button("show them")
                            .on_hover_text("The uncertain images in the gallery, least sure first")
                            .clicked()
                        && let Some(sel) = super::uncertain_selection(&view.session.confidence)
                    {
                        out.push(Action::Select(sel, None));
                        out.push(Action::ShowTab(crate::ui::Tab::Gallery));
                    }
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
        if view.session.status.active()
            && let Some((stage, done, total, secs)) = view.session.progress
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
        // Worth showing in red: an invalid setting (not "no dataset yet").
        let invalid = view.dataset.and(view.train_blocker.as_ref());
        if let (Some(why), false) = (invalid, view.training()) {
            ui.colored_label(
                egui::Color32::from_rgb(190, 30, 30),
                format!("Cannot train: {why}"),
            );
        }
        if let Status::Failed(e) = &view.session.status {
            ui.colored_label(egui::Color32::from_rgb(190, 30, 30), format!("Error: {e}"));
        }
        if let Some(w) = view.session.warnings.last() {
            ui.colored_label(
                egui::Color32::from_rgb(170, 110, 0),
                format!("Warning: {w}"),
            );
        }
        // The run's messages fold into one line showing the latest: a long run says a dozen
        // things, and they must not push the views down the window.
        match view.session.notes.as_slice() {
            [] => {}
            [only] => {
                ui.label(egui::RichText::new(only).small());
            }
            notes => {
                let latest = notes.last().map_or("", String::as_str);
                egui::CollapsingHeader::new(
                    egui::RichText::new(format!("{} messages · latest: {latest}", notes.len()))
                        .small(),
                )
                .id_salt("run messages")
                .show(ui, |ui| {
                    for n in notes {
                        ui.label(egui::RichText::new(n).small());
                    }
                });
            }
        }
        if let Some(dir) = &view.session.run_dir {
            ui.label(
                egui::RichText::new(format!("run folder: {}", dir.display()))
                    .small()
                    .weak(),
            );
        }
        if let Some(n) = view.notice {
            ui.horizontal(|ui| {
                ui.colored_label(egui::Color32::from_rgb(170, 110, 0), n);
                if ui.small_button("OK").clicked() {
                    out.push(Action::DismissNotice);
                }
            });
        }
        ui.add_space(2.0);
    }
}
