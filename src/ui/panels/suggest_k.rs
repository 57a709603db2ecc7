//! "Suggest K": a sweep of K on a helper thread (the run's learned features when a run of
//! this data is on screen, else the pixels of gray images or the pretrained features of
//! colour ones), a plot of each label-free criterion over K with the suggestion marked and
//! why, and "use this K". The panel owns its state; the shell starts and feeds it.
use crate::cluster::suggest_k::{Suggestion, suggest_k};
use crate::data::Dataset;
use crate::ui::tasks::{Done, Tasks};
use egui_plot::{Legend, Line, Plot, PlotPoints, VLine};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the sweep runs on.
pub enum SweepSource {
    /// A run's learned features (N×dim).
    Features {
        values: Arc<[f32]>,
        dim: usize,
    },
    Dataset(Arc<Dataset>),
}

/// What the panel asks the shell to do.
pub enum SuggestAction {
    Start,
    UseK(usize),
}

#[derive(Default)]
pub struct SuggestKPanel {
    pub from: usize,
    pub to: usize,
    running: Option<Arc<AtomicBool>>,
    progress: Option<(usize, usize)>,
    pub result: Option<Suggestion>,
    /// What the last sweep ran on, for the reader.
    pub source: String,
    pub error: Option<String>,
    /// Set when a sweep starts, so its header opens once even if it was closed.
    reveal: bool,
}

impl SuggestKPanel {
    pub fn new() -> Self {
        Self {
            from: 2,
            to: 30,
            ..Default::default()
        }
    }

    pub fn running(&self) -> bool {
        self.running.is_some()
    }

    /// Starts a sweep on a helper thread; the result comes back as `Done::Suggested`.
    pub fn start(&mut self, tasks: &Tasks, source: SweepSource, seed: u64) {
        let cancel = Arc::new(AtomicBool::new(false));
        self.running = Some(cancel.clone());
        self.reveal = true;
        self.progress = None;
        self.result = None;
        self.error = None;
        self.source = match &source {
            SweepSource::Features { .. } => "the run's learned features".into(),
            SweepSource::Dataset(ds) if ds.channels == 3 => {
                format!("{}: pretrained EfficientNet-Lite0 features", ds.name)
            }
            SweepSource::Dataset(ds) => format!("{}: pixels", ds.name),
        };
        let (from, to) = (self.from, self.to.max(self.from));
        tasks.spawn(crate::ui::tasks::job::SUGGEST_K, move |r| {
            let result = (|| -> anyhow::Result<Suggestion> {
                let device = tch::Device::Cpu;
                let x = match source {
                    SweepSource::Features { values, dim } => {
                        let n = (values.len() / dim.max(1)) as i64;
                        tch::Tensor::from_slice(&values).view([n, dim as i64])
                    }
                    SweepSource::Dataset(ds) if ds.channels == 3 => {
                        crate::train::frozen::pretrained_features(&ds, 0, 128, device)?.0
                    }
                    SweepSource::Dataset(ds) => ds.pixel_features(device),
                };
                let r2 = r.clone();
                suggest_k(&x, from..=to, seed, &mut |done, total| {
                    r2.send(Done::SuggestProgress { done, total });
                    !cancel.load(Ordering::Relaxed)
                })
            })();
            r.send(Done::Suggested(result.map_err(|e| format!("{e:#}"))));
        });
    }

    /// True once after a sweep starts: the header should open to show it.
    pub fn take_reveal(&mut self) -> bool {
        std::mem::take(&mut self.reveal)
    }

    pub fn on_progress(&mut self, done: usize, total: usize) {
        if self.running.is_some() {
            self.progress = Some((done, total));
        }
    }

    pub fn on_done(&mut self, result: Result<Suggestion, String>) {
        self.running = None;
        self.progress = None;
        match result {
            Ok(s) => self.result = Some(s),
            Err(e) => self.error = Some(e),
        }
    }

    /// The sweep's controls and results; `can_start` is false without data.
    pub fn ui(&mut self, ui: &mut egui::Ui, can_start: bool) -> Option<SuggestAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            let l = ui.label("K from");
            ui.add(egui::DragValue::new(&mut self.from).range(2..=200))
                .labelled_by(l.id);
            let l = ui.label("to");
            ui.add(egui::DragValue::new(&mut self.to).range(2..=200))
                .labelled_by(l.id);
            if let Some(cancel) = &self.running {
                // A static line, not a spinner: a spinner repaints every frame, and on software
                // GL that took the sweep's CPU (10× slower, measured).
                let (d, t) = self
                    .progress
                    .unwrap_or((0, self.to + 1 - self.from.min(self.to)));
                ui.label(format!("sweeping… {d}/{t} values of K"));
                if ui.button("Cancel").clicked() {
                    cancel.store(true, Ordering::Relaxed);
                }
            } else if ui
                .add_enabled(can_start, egui::Button::new("Suggest K"))
                .on_hover_text(
                    "K-means for each K, scored without labels by silhouette (higher is better), \
                     Davies–Bouldin (lower) and the eigengap of the k-NN graph's spectrum; \
                     the suggestion is the K most of them pick",
                )
                .clicked()
            {
                action = Some(SuggestAction::Start);
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let Some(s) = &self.result else {
            return action;
        };
        ui.label(format!(
            "Suggested K = {} ({} images of {}): {}",
            s.suggested, s.items, self.source, s.why
        ));
        if ui.button(format!("Use K = {}", s.suggested)).clicked() {
            action = Some(SuggestAction::UseK(s.suggested));
        }
        // Davies–Bouldin is lower-is-better and unbounded: drawn as 1 / (1 + DB) to share the axis.
        let line = |f: fn(&crate::cluster::suggest_k::KScore) -> f64| {
            PlotPoints::from(
                s.scores
                    .iter()
                    .map(|r| [r.k as f64, f(r)])
                    .collect::<Vec<_>>(),
            )
        };
        Plot::new("suggest-k")
            .height(160.0)
            .legend(Legend::default())
            .x_axis_label("K")
            .show(ui, |p| {
                p.line(Line::new("silhouette", line(|r| r.silhouette)));
                p.line(Line::new(
                    "1 / (1 + Davies–Bouldin)",
                    line(|r| 1.0 / (1.0 + r.davies_bouldin)),
                ));
                p.line(Line::new("eigengap × 10", line(|r| r.eigengap * 10.0)));
                p.vline(VLine::new("suggested", s.suggested as f64));
            });
        action
    }
}
