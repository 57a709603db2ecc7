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

    /// Deletes a run folder on a helper thread; the list is refreshed afterwards.
    fn delete(&mut self, tasks: &Tasks, dir: PathBuf) {
        self.ticked.remove(&dir);
        self.curves.remove(&dir);
        let root = PathBuf::from(self.root.trim());
        tasks.spawn("delete-run", move |r| {
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
            let l = ui.label("runs folder");
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
                    .num_columns(9)
                    .show(ui, |ui| {
                        for h in [
                            "",
                            "run",
                            "data",
                            "preset",
                            "ACC",
                            "silhouette",
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
                            let f = r.finished.as_ref();
                            ui.label(
                                f.and_then(|f| f.scores)
                                    .map_or("–".into(), |s| format!("{:.3}", s.acc)),
                            );
                            ui.label(
                                f.and_then(|f| f.label_free)
                                    .map_or("–".into(), |l| format!("{:.3}", l.silhouette)),
                            );
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
                        let s1 = c
                            .losses
                            .iter()
                            .filter(|l| l.stage == crate::messages::Stage::One)
                            .map(|l| l.global_step)
                            .max()
                            .unwrap_or(0);
                        let stride = (c.losses.len() / 3000).max(1);
                        let pts: Vec<[f64; 2]> = c
                            .losses
                            .iter()
                            .step_by(stride)
                            .map(|l| {
                                let x = match l.stage {
                                    crate::messages::Stage::One => l.global_step,
                                    _ => s1 + l.global_step,
                                };
                                [x as f64, l.terms.total]
                            })
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
                        let s1 = c
                            .losses
                            .iter()
                            .filter(|l| l.stage == crate::messages::Stage::One)
                            .map(|l| l.global_step)
                            .max()
                            .unwrap_or(0);
                        let x = |stage: crate::messages::Stage, step: usize| match stage {
                            crate::messages::Stage::One => step,
                            _ => s1 + step,
                        }
                            as f64;
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
