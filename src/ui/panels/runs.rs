//! Runs side by side: every run folder under the runs directory with its data, preset, the
//! settings beyond the preset, scores with and without labels, time and device; sortable; open
//! or delete (after a confirmation, and only run folders); and the loss and quality curves of
//! the ticked runs overlaid, one colour per run. Listing and reading run on helper threads.
use crate::rundir::Curves;
use crate::runs::RunSummary;
use crate::ui::palette;
use crate::ui::tasks::{Done, Tasks};
use egui_plot::{Legend, Line, Plot, PlotPoints};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// What the panel asks the shell to do.
pub enum RunsAction {
    Open(PathBuf),
    /// Train the full method and the paper's variants on the picked data.
    Ablate,
}

/// Ablations in progress: their cancel line and where they are.
struct Ablating {
    tx: crossbeam_channel::Sender<crate::messages::Command>,
    out: PathBuf,
    at: String,
}

pub struct RunsPanel {
    pub root: String,
    pub runs: Vec<RunSummary>,
    pub skipped: Vec<(PathBuf, String)>,
    pub error: Option<String>,
    listing: bool,
    pub sort: &'static str,
    /// Runs whose curves are overlaid.
    pub ticked: BTreeSet<PathBuf>,
    pub curves: BTreeMap<PathBuf, Result<Curves, String>>,
    confirm_delete: Option<PathBuf>,
    /// Listed at least once (the tab lists on first sight).
    listed: bool,
    /// Tick every run once the list arrives (scripted comparisons).
    pub tick_all: bool,
    ablating: Option<Ablating>,
    /// The last ablations' table.
    pub ablations: Vec<crate::train::ablate::AblationRow>,
    pub ablation_error: Option<String>,
}

impl Default for RunsPanel {
    fn default() -> Self {
        Self {
            root: "runs".into(),
            runs: vec![],
            skipped: vec![],
            error: None,
            listing: false,
            sort: "name",
            ticked: BTreeSet::new(),
            curves: BTreeMap::new(),
            confirm_delete: None,
            listed: false,
            tick_all: false,
            ablating: None,
            ablations: vec![],
            ablation_error: None,
        }
    }
}

impl RunsPanel {
    /// Lists the runs directory on a helper thread.
    pub fn refresh(&mut self, tasks: &Tasks) {
        self.listing = true;
        self.listed = true;
        let root = PathBuf::from(self.root.trim());
        tasks.spawn("runs", move |r| {
            let result = crate::runs::list(&root).map_err(|e| format!("{e:#}"));
            r.send(Done::RunsListed(result));
        });
    }

    pub fn on_listed(&mut self, tasks: &Tasks, result: Result<crate::runs::Listing, String>) {
        self.listing = false;
        match result {
            Ok(listing) => {
                self.runs = listing.runs;
                self.skipped = listing.skipped;
                self.error = None;
                crate::cli::runs::sort(&mut self.runs, self.sort);
                let alive: BTreeSet<PathBuf> = self.runs.iter().map(|r| r.dir.clone()).collect();
                self.ticked.retain(|d| alive.contains(d));
                if std::mem::take(&mut self.tick_all) {
                    for d in alive {
                        self.tick(tasks, d);
                    }
                }
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn tick(&mut self, tasks: &Tasks, dir: PathBuf) {
        if !self.curves.contains_key(&dir) {
            let d = dir.clone();
            tasks.spawn("curves", move |r| {
                let result = crate::rundir::read_curves(&d).map_err(|e| format!("{e:#}"));
                r.send(Done::Curves(d, Box::new(result)));
            });
        }
        self.ticked.insert(dir);
    }

    pub fn on_curves(&mut self, dir: PathBuf, curves: Result<Curves, String>) {
        self.curves.insert(dir, curves);
    }

    pub fn ablating(&self) -> bool {
        self.ablating.is_some()
    }

    /// Trains the full method and its variants on a helper thread, into
    /// `<runs folder>/<data>-ablations-<time>`; rows arrive as they finish.
    pub fn start_ablations(
        &mut self,
        tasks: &Tasks,
        ds: std::sync::Arc<crate::data::Dataset>,
        record: crate::rundir::DataRecord,
        cfg: crate::config::Config,
    ) {
        let out = PathBuf::from(self.root.trim()).join(format!(
            "{}-ablations-{}",
            ds.name,
            chrono::Local::now().format("%Y%m%d-%H%M%S")
        ));
        let (tx, rx) = crossbeam_channel::unbounded();
        self.ablating = Some(Ablating {
            tx,
            out: out.clone(),
            at: "starting".into(),
        });
        self.ablations.clear();
        self.ablation_error = None;
        tasks.spawn(crate::ui::tasks::job::ABLATIONS, move |r| {
            let last = std::sync::Mutex::new(std::time::Instant::now());
            let emit = |variant: &'static str, e: crate::messages::Event| {
                use crate::messages::{Event, Stage};
                let text = match e {
                    Event::StageChanged { stage, .. } => Some(format!("{variant}: {stage:?}")),
                    Event::Progress {
                        stage, done, total, ..
                    } => {
                        let mut l = last.lock().unwrap_or_else(|p| p.into_inner());
                        (l.elapsed().as_millis() > 250).then(|| {
                            *l = std::time::Instant::now();
                            let s = if stage == Stage::One {
                                "stage 1"
                            } else {
                                "stage 2"
                            };
                            format!("{variant}: {s} {done}/{total}")
                        })
                    }
                    _ => None,
                };
                if let Some(t) = text {
                    r.send(Done::AblationAt(t));
                }
            };
            let result = crate::train::ablate::ablate(
                ds,
                &record,
                &cfg,
                &out,
                crate::data::cache::default_dir(),
                &rx,
                &emit,
                |row| r.send(Done::AblationRow(Box::new(row.clone()))),
            );
            r.send(Done::AblationsEnded(match result {
                Ok(_) => Ok(()),
                Err(crate::train::Stop::Cancelled { .. }) => Err("cancelled".into()),
                Err(crate::train::Stop::Failed(e)) => Err(format!("{e:#}")),
            }));
        });
    }

    pub fn on_ablation_at(&mut self, at: String) {
        if let Some(a) = &mut self.ablating {
            a.at = at;
        }
    }

    pub fn on_ablation_row(&mut self, row: crate::train::ablate::AblationRow) {
        self.ablations.push(row);
    }

    /// The ablations ended: list their folder with every variant overlaid.
    pub fn on_ablations_done(&mut self, tasks: &Tasks, result: Result<(), String>) {
        let Some(a) = self.ablating.take() else {
            return;
        };
        if let Err(e) = result {
            self.ablation_error = Some(e);
        }
        self.root = a.out.display().to_string();
        self.tick_all = true;
        self.refresh(tasks);
    }

    /// Deletes a run folder on a helper thread; the list is refreshed afterwards.
    fn delete(&mut self, tasks: &Tasks, dir: PathBuf) {
        self.ticked.remove(&dir);
        self.curves.remove(&dir);
        let root = PathBuf::from(self.root.trim());
        tasks.spawn_writer("delete-run", move |r| {
            let deleted = crate::runs::delete(&dir).map_err(|e| format!("{e:#}"));
            let listed = crate::runs::list(&root).map_err(|e| format!("{e:#}"));
            r.send(Done::RunsListed(deleted.and(listed)));
        });
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, tasks: &Tasks) -> Option<RunsAction> {
        if !self.listed {
            self.refresh(tasks);
        }
        let mut action = None;
        ui.horizontal(|ui| {
            let l = ui
                .label("runs folder")
                .on_hover_text("Where Train writes new runs, and what this view lists");
            ui.text_edit_singleline(&mut self.root).labelled_by(l.id);
            if ui
                .add_enabled(!self.listing, egui::Button::new("Refresh"))
                .clicked()
            {
                self.refresh(tasks);
            }
            ui.label("sort by");
            for key in ["name", "dataset", "acc", "silhouette", "time"] {
                if ui.selectable_label(self.sort == key, key).clicked() {
                    self.sort = key;
                    crate::cli::runs::sort(&mut self.runs, key);
                }
            }
        });
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let Some(a) = self.ablations_ui(ui) {
            action = Some(a);
        }
        ui.label(format!(
            "{} runs{}; tick runs to overlay their curves",
            self.runs.len(),
            if self.listing { " (listing…)" } else { "" }
        ));
        let mut tick = None;
        let mut delete = None;
        egui::ScrollArea::vertical()
            .max_height(ui.available_height() * 0.45)
            .id_salt("runs-table")
            .show(ui, |ui| {
                egui::Grid::new("runs")
                    .striped(true)
                    .num_columns(11)
                    .show(ui, |ui| {
                        for h in [
                            "",
                            "run",
                            "data",
                            "preset",
                            "K",
                            "ACC",
                            "silhouette",
                            "confidence",
                            "time",
                            "device",
                            "",
                        ] {
                            ui.label(egui::RichText::new(h).strong());
                        }
                        ui.end_row();
                        for (n, r) in self.runs.iter().enumerate() {
                            let mut on = self.ticked.contains(&r.dir);
                            if ui
                                .checkbox(&mut on, "")
                                .on_hover_text("overlay this run's curves")
                                .changed()
                            {
                                tick = Some((r.dir.clone(), on));
                            }
                            ui.colored_label(palette::colour(n), &r.name).on_hover_text(
                                if r.changed.is_empty() {
                                    "the preset as it is".to_string()
                                } else {
                                    format!("beyond the preset: {}", r.changed.join(", "))
                                },
                            );
                            ui.label(&r.dataset);
                            ui.label(format!("{:?}", r.config.preset).to_lowercase());
                            ui.label(r.config.clusters.to_string());
                            let f = r.finished.as_ref();
                            ui.label(
                                f.and_then(|f| f.scores)
                                    .map_or("–".into(), |s| format!("{:.3}", s.acc)),
                            );
                            ui.label(
                                f.and_then(|f| f.label_free)
                                    .map_or("–".into(), |l| format!("{:.3}", l.silhouette)),
                            );
                            ui.label(
                                f.and_then(|f| f.label_free)
                                    .map_or("–".into(), |l| format!("{:.2}", l.mean_confidence)),
                            )
                            .on_hover_text(crate::metrics::label_free::MEANINGS[3].1);
                            ui.label(f.map_or("unfinished".into(), |f| {
                                format!("{:.0} s", f.wall_seconds)
                            }));
                            ui.label(f.map_or("", |f| f.device.as_str()));
                            ui.horizontal(|ui| {
                                if ui
                                    .button("Open")
                                    .on_hover_text(format!("open {}", r.dir.display()))
                                    .clicked()
                                {
                                    action = Some(RunsAction::Open(r.dir.clone()));
                                }
                                if self.confirm_delete.as_ref() == Some(&r.dir) {
                                    if ui.button(format!("Really delete {}?", r.name)).clicked() {
                                        delete = Some(r.dir.clone());
                                    }
                                } else if ui.button("Delete…").clicked() {
                                    self.confirm_delete = Some(r.dir.clone());
                                }
                            });
                            ui.end_row();
                        }
                    });
                for (dir, why) in &self.skipped {
                    ui.label(
                        egui::RichText::new(format!("skipped {}: {why}", dir.display())).weak(),
                    );
                }
            });
        match tick {
            Some((dir, true)) => self.tick(tasks, dir),
            Some((dir, false)) => {
                self.ticked.remove(&dir);
            }
            None => {}
        }
        if let Some(dir) = delete {
            self.confirm_delete = None;
            self.delete(tasks, dir);
        }
        self.overlay(ui);
        action
    }

    /// The ablations button, their progress and table (the paper's Tables 4–6).
    fn ablations_ui(&mut self, ui: &mut egui::Ui) -> Option<RunsAction> {
        let mut action = None;
        ui.horizontal(|ui| {
            if let Some(a) = &self.ablating {
                ui.label(format!("ablations: {}", a.at));
                if ui.button("Cancel ablations").clicked() {
                    let _ = a.tx.send(crate::messages::Command::Cancel);
                }
            } else if ui
                .button("Run ablations")
                .on_hover_text(
                    "Train the full method and the paper's variants on the picked data with the current settings: \
                     without the instance loss, without the cluster loss (Table 4), without the GCNs (Table 5), \
                     single graph scale (Table 6); the last two reuse the full run's stage 1",
                )
                .clicked()
            {
                action = Some(RunsAction::Ablate);
            }
        });
        if let Some(e) = &self.ablation_error {
            ui.colored_label(ui.visuals().error_fg_color, format!("ablations: {e}"));
        }
        if !self.ablations.is_empty() {
            egui::Grid::new("ablations").striped(true).show(ui, |ui| {
                for h in ["variant", "ACC", "NMI", "ARI", "silhouette", "time"] {
                    ui.label(egui::RichText::new(h).strong());
                }
                ui.end_row();
                for r in &self.ablations {
                    let f = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
                    ui.label(r.description);
                    ui.label(f(r.scores.map(|s| s.acc)));
                    ui.label(f(r.scores.map(|s| s.nmi)));
                    ui.label(f(r.scores.map(|s| s.ari)));
                    ui.label(format!("{:.3}", r.label_free.silhouette));
                    ui.label(format!("{:.0} s", r.seconds));
                    ui.end_row();
                }
            });
        }
        action
    }

    /// Total loss and the final head's ACC (silhouette where unlabelled) of the ticked runs.
    fn overlay(&self, ui: &mut egui::Ui) {
        let shown: Vec<(usize, &RunSummary, &Curves)> = self
            .runs
            .iter()
            .enumerate()
            .filter(|(_, r)| self.ticked.contains(&r.dir))
            .filter_map(|(n, r)| match self.curves.get(&r.dir) {
                Some(Ok(c)) => Some((n, r, c)),
                _ => None,
            })
            .collect();
        if shown.is_empty() {
            return;
        }
        let h = (ui.available_height() - 30.0).max(120.0);
        ui.columns(2, |cols| {
            cols[0].label(
                egui::RichText::new("Total loss (stage 1 steps, then stage 2 iterations)").strong(),
            );
            Plot::new("runs-loss")
                .height(h)
                .legend(Legend::default())
                .show(&mut cols[0], |p| {
                    for (n, r, c) in &shown {
                        let stride = (c.losses.len() / 3000).max(1);
                        let pts: Vec<[f64; 2]> = c
                            .losses
                            .iter()
                            .step_by(stride)
                            .map(|l| [c.x(l.stage, l.global_step), l.terms.total])
                            .collect();
                        p.line(
                            Line::new(r.name.clone(), PlotPoints::from(pts))
                                .color(palette::colour(*n)),
                        );
                    }
                });
            cols[1]
                .label(egui::RichText::new("ACC of the final head (dashed: silhouette)").strong());
            Plot::new("runs-quality")
                .height(h)
                .include_y(0.0)
                .include_y(1.0)
                .legend(Legend::default())
                .show(&mut cols[1], |p| {
                    for (n, r, c) in &shown {
                        let head = if r.config.no_gcn {
                            "q"
                        } else {
                            r.config.head.name()
                        };
                        let x = |stage, step| c.x(stage, step);
                        let acc: Vec<[f64; 2]> = c
                            .metrics
                            .iter()
                            .filter(|m| m.stage == crate::messages::Stage::One || m.head == head)
                            .map(|m| [x(m.stage, m.global_step), m.scores.acc])
                            .collect();
                        if !acc.is_empty() {
                            p.line(
                                Line::new(format!("{} ACC", r.name), PlotPoints::from(acc))
                                    .color(palette::colour(*n)),
                            );
                        }
                        let sil: Vec<[f64; 2]> = c
                            .label_free
                            .iter()
                            .map(|l| [x(l.stage, l.global_step), l.scores.silhouette])
                            .collect();
                        if !sil.is_empty() {
                            p.line(
                                Line::new(format!("{} silhouette", r.name), PlotPoints::from(sil))
                                    .color(palette::colour(*n))
                                    .style(egui_plot::LineStyle::dashed_loose()),
                            );
                        }
                    }
                });
        });
    }
}
