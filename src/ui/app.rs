//! The app: its state, the actions that start work on the worker or helper threads, and the
//! layout that places the panels (the event pump and scripted launches live in app/).
use super::action::Action;
use super::automation::Automation;
use super::nav::{Selection, Tab};
use super::panels;
use super::session::{Session, Status};
use super::settings::Settings;
use super::tasks::{Done, Pick, Tasks};
use super::thumbs::Thumbs;
use super::view::View;
use crate::config::{Config, apply_override};
use crate::data::{Dataset, LoadOptions, Registry};
use crate::messages::{Command, Job};
use crate::priority::Priority;
use crate::rundir::{DataRecord, SavedRun};
use crate::worker::Worker;
use std::sync::Arc;
use std::time::Instant;

mod apply;
mod pump;
mod scripted;

pub struct IcicleApp {
    pub settings: Settings,
    pub registry: Result<Registry, String>,
    pub cuda: bool,
    /// The dataset picked in the Dataset panel (the next run trains on it).
    pub dataset: Option<Arc<Dataset>>,
    pub loading: Option<(String, usize, usize)>,
    pub data_error: Option<String>,
    pub worker: Worker,
    pub session: Session,
    /// The dataset of the run on screen (may differ from `dataset` once another is picked).
    pub run_dataset: Option<Arc<Dataset>>,
    pub tasks: Tasks,
    pub thumbs: Thumbs,
    pub tab: Tab,
    /// Items picked in a view (map, confusion cell), listed in the gallery.
    pub selection: Option<Selection>,
    /// The image clicked last (gallery, map, neighbours).
    pub focus: Option<usize>,
    pub notice: Option<String>,
    /// What the default preset chose for the loaded data, and why (`config::fit_to_data`).
    pub default_choices: Vec<String>,
    /// The loaded data's shape with the route probe's answer, and the probe's line.
    data_shape: Option<(crate::config::DataShape, Option<String>)>,
    /// Every panel, each owning its own state.
    pub panels: panels::Panels,
    automation: Automation,
    launched: Instant,
    shots_taken: usize,
    /// Per frame: time to build the UI (ms), and whether training ran with the map shown.
    pub frame_ms: Vec<(f32, bool)>,
    /// Per frame, as eframe reports it: build + tessellation + GL painting (ms), without the
    /// wait for the buffer swap; same flag.
    pub frame_total_ms: Vec<(f32, bool)>,
    pending_train: bool,
}

impl IcicleApp {
    pub fn new(cc: &eframe::CreationContext<'_>, automation: Automation) -> Self {
        let settings = if automation.fresh {
            Settings::default()
        } else {
            Settings::restore(cc.storage)
        };
        let ctx = cc.egui_ctx.clone();
        Self::with_settings(ctx, settings, automation)
    }

    /// The app without a window (tests drive it through egui_kittest).
    pub fn with_settings(
        ctx: egui::Context,
        mut settings: Settings,
        automation: Automation,
    ) -> Self {
        ctx.set_visuals(egui::Visuals::light());
        if let Some(d) = &automation.data {
            settings.data = d.clone();
        }
        if let Some(n) = automation.tsne_max_points {
            settings.tsne_max_points = n;
        }
        if let Some(n) = automation.tsne_iterations {
            settings.tsne_iterations = n;
        }
        if let Some((truth, confidence)) = automation.colour_by {
            (settings.colour_by_truth, settings.colour_by_confidence) = (truth, confidence);
        }
        let (c1, c2) = (ctx.clone(), ctx.clone());
        let mut app = Self {
            registry: Registry::discover(None).map_err(|e| format!("{e:#}")),
            cuda: tch::Cuda::is_available(),
            dataset: None,
            loading: None,
            data_error: None,
            // Training reports every step; 10 repaints a second are plenty to watch it, and
            // software GL would otherwise take CPU time from the training itself.
            worker: Worker::spawn(Priority::Background, move || {
                c1.request_repaint_after(std::time::Duration::from_millis(100))
            }),
            session: Session::new(settings.config.clone()),
            run_dataset: None,
            tasks: Tasks::new(move || c2.request_repaint()),
            thumbs: Thumbs::default(),
            tab: automation.tab.unwrap_or(Tab::Losses),
            selection: None,
            focus: automation.focus,
            notice: None,
            default_choices: vec![],
            data_shape: None,
            panels: panels::Panels {
                dataset: panels::dataset::DatasetPanel::new(settings.data.folder.as_deref()),
                ..Default::default()
            },
            pending_train: automation.train,
            settings,
            automation,
            launched: Instant::now(),
            shots_taken: 0,
            frame_ms: vec![],
            frame_total_ms: vec![],
        };
        match app.automation.open_run.clone() {
            Some(dir) => app.open_run(dir),
            None => app.load_data(app.settings.data.clone()),
        }
        if let Some(dir) = app.automation.compare_runs.clone() {
            let runs = &mut app.panels.runs;
            runs.root = dir.display().to_string();
            runs.tick_all = true;
            runs.refresh(&app.tasks);
            app.tab = Tab::Runs;
        }
        app
    }

    pub fn training(&self) -> bool {
        self.session.status.active()
    }

    /// Loads a dataset on a helper thread, with progress.
    pub fn load_data(&mut self, record: DataRecord) {
        let registry = match &self.registry {
            Ok(r) => r.clone(),
            Err(e) => {
                self.data_error = Some(e.clone());
                return;
            }
        };
        self.loading = Some(("starting".into(), 0, 0));
        self.data_error = None;
        let (preset, k, seed) = (
            self.settings.config.preset,
            self.settings.config.clusters,
            self.settings.config.seed,
        );
        let device = match self.settings.config.device {
            crate::runtime::DeviceChoice::Cpu => tch::Device::Cpu,
            _ => tch::Device::cuda_if_available(),
        };
        self.tasks.spawn(crate::ui::tasks::job::LOAD, move |r| {
            let result = record
                .load(&registry, &LoadOptions::with_default_cache(), &r.progress())
                .map(|ds| {
                    let k = if ds.num_classes() >= 2 {
                        ds.num_classes()
                    } else {
                        k
                    };
                    // A failed probe only costs the choice: the shape's own rule decides.
                    let (shape, probe) = crate::train::probe::shape_for(
                        &ds,
                        preset,
                        k.min(ds.len()),
                        seed,
                        device,
                        crate::data::cache::default_dir().as_deref(),
                    )
                    .unwrap_or_else(|e| (ds.shape(), Some(format!("route probe failed: {e:#}"))));
                    crate::ui::tasks::Loaded {
                        ds: Arc::new(ds),
                        record: record.clone(),
                        shape,
                        probe,
                    }
                })
                .map_err(|e| format!("{e:#}"));
            r.send(Done::DataLoaded(Box::new(result)));
        });
    }

    /// Reopens a run directory (its dataset is loaded again from data.json).
    pub fn open_run(&mut self, dir: std::path::PathBuf) {
        let registry = match &self.registry {
            Ok(r) => r.clone(),
            Err(e) => {
                self.notice = Some(e.clone());
                return;
            }
        };
        self.loading = Some((format!("opening {}", dir.display()), 0, 0));
        self.tasks.spawn(crate::ui::tasks::job::OPEN_RUN, move |r| {
            let result = (|| {
                let mut run = SavedRun::read(&dir)?;
                run.refresh_confidence();
                let ds =
                    run.data
                        .load(&registry, &LoadOptions::with_default_cache(), &r.progress())?;
                if ds.len() != run.clusters.len() {
                    anyhow::bail!(
                        "{}: {} assignments but the dataset now has {} images",
                        dir.display(),
                        run.clusters.len(),
                        ds.len()
                    );
                }
                Ok((run, Arc::new(ds)))
            })()
            .map_err(|e: anyhow::Error| format!("{e:#}"));
            r.send(Done::RunOpened(Box::new(result)));
        });
    }

    /// Why Train is blocked, if it is.
    pub fn train_blocker(&self) -> Option<String> {
        if self.training() {
            return Some("a run is in progress".into());
        }
        let Some(ds) = &self.dataset else {
            return Some("no dataset loaded".into());
        };
        self.settings
            .config
            .validate(ds.len())
            .err()
            .map(|e| format!("{e:#}"))
    }

    pub fn start_training(&mut self) {
        if self.train_blocker().is_some() {
            return;
        }
        let Some(ds) = self.dataset.clone() else {
            return;
        };
        let config = self.settings.config.clone();
        // Runs go into the folder the Runs view lists.
        let run_dir = crate::cli::data_args::run_dir_under(
            std::path::Path::new(self.panels.runs.root.trim()),
            &ds,
            "",
        );
        let (record, dir) = (self.settings.data.clone(), run_dir.clone());
        // data.json lets the run be reopened; written off the UI thread like every file.
        self.tasks.spawn_writer("record", move |_| {
            let _ = std::fs::create_dir_all(&dir).map(|_| record.write(&dir));
        });
        self.start_job(ds, config, run_dir, None);
    }

    /// A fresh session on screen for a new run (a training or a retrain with corrections,
    /// whose corrections stay on screen), and the job sent to the worker.
    pub(super) fn start_job(
        &mut self,
        ds: Arc<Dataset>,
        config: Config,
        run_dir: std::path::PathBuf,
        correct_from: Option<Box<crate::messages::CorrectFrom>>,
    ) {
        self.session = Session::new(config.clone());
        if let Some(from) = &correct_from {
            self.session.corrections =
                super::corrections::CorrectionsModel::new(from.corrections.clone());
        }
        self.session.status = Status::Starting;
        self.session.started = Some(Instant::now());
        self.run_dataset = Some(ds.clone());
        self.panels.embedding.reset();
        self.selection = None;
        self.focus = None;
        self.panels.gallery.reset();
        self.panels.export.result = None;
        self.worker.send(Command::Start(Box::new(Job {
            dataset: ds,
            config,
            run_dir,
            resume: false,
            feature_cache: crate::data::cache::default_dir(),
            correct_from,
        })));
    }

    /// The preset's values for K, adapted to the loaded data (epochs, backbone).
    pub fn apply_preset(&mut self, preset: crate::config::Preset) {
        let k = self.settings.config.clusters;
        let device = self.settings.config.device;
        let mut cfg = Config::preset(preset, k);
        cfg.device = device;
        self.fit(&mut cfg);
        self.settings.config = cfg;
    }

    fn fit(&mut self, cfg: &mut Config) {
        if let Some(ds) = &self.dataset {
            let cuda = match cfg.device {
                crate::runtime::DeviceChoice::Cpu => false,
                _ => self.cuda,
            };
            let (shape, probe) = match &self.data_shape {
                Some((shape, probe)) => (*shape, probe.clone()),
                None => (ds.shape(), None),
            };
            self.default_choices = probe
                .into_iter()
                .chain(
                    crate::config::fit_to_data(cfg, shape, cuda)
                        .into_iter()
                        .map(|c| c.text),
                )
                .collect();
        }
    }

    fn on_data_loaded(&mut self, loaded: crate::ui::tasks::Loaded) {
        let crate::ui::tasks::Loaded {
            ds,
            record,
            shape,
            probe,
        } = loaded;
        self.settings.data = record;
        self.data_shape = Some((shape, probe));
        if self.settings.k_from_classes && ds.num_classes() >= 2 {
            self.settings.config.clusters = ds.num_classes();
        }
        self.dataset = Some(ds);
        let mut cfg = self.settings.config.clone();
        self.fit(&mut cfg);
        for s in &self.automation.sets {
            match apply_override(&cfg, s) {
                Ok(c) => cfg = c,
                Err(e) => self.notice = Some(format!("{e:#}")),
            }
        }
        self.settings.config = cfg;
        if std::mem::take(&mut self.pending_train) {
            self.start_training();
        }
    }

    /// Starts "Suggest K" on the run's learned features when the run on screen is of the
    /// picked data, else on the data itself (pixels or pretrained features).
    pub fn start_suggest_k(&mut self) {
        use crate::ui::panels::suggest_k::SweepSource;
        let Some(ds) = self.dataset.clone() else {
            return;
        };
        let same_data = self
            .run_dataset
            .as_ref()
            .is_some_and(|r| Arc::ptr_eq(r, &ds));
        let source = match (&self.session.features, same_data) {
            (Some((values, dim)), true) => SweepSource::Features {
                values: values.clone(),
                dim: *dim,
            },
            _ => SweepSource::Dataset(ds),
        };
        self.panels
            .params
            .suggest_k
            .start(&self.tasks, source, self.settings.config.seed);
    }

    /// Ablations of the current settings on the picked data (the Runs view shows them).
    pub fn start_ablations(&mut self) {
        if let Some(why) = self.train_blocker() {
            self.panels.runs.ablation_error = Some(why);
            return;
        }
        if let Some(ds) = self.dataset.clone() {
            self.panels.runs.start_ablations(
                &self.tasks,
                ds,
                self.settings.data.clone(),
                self.settings.config.clone(),
            );
        }
    }

    /// Draws everything; the same code runs in the window and under egui_kittest. Panels
    /// push actions while they draw; they are applied once every panel has drawn.
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        let t0 = Instant::now();
        let ctx = ui.ctx().clone();
        self.pump();
        self.automate(&ctx);

        let mut out = Vec::new();
        // Ctrl+Shift+Z redoes a correction, Ctrl+Z undoes one (Cmd on a Mac).
        let shortcut = |m: egui::Modifiers| egui::KeyboardShortcut::new(m, egui::Key::Z);
        let shift = egui::Modifiers::COMMAND | egui::Modifiers::SHIFT;
        if ctx.input_mut(|i| i.consume_shortcut(&shortcut(shift))) {
            out.push(Action::Redo);
        } else if ctx.input_mut(|i| i.consume_shortcut(&shortcut(egui::Modifiers::COMMAND))) {
            out.push(Action::Undo);
        }
        let blocker = self.train_blocker();
        // Built from the fields, not through `&self`, so the panels borrow mutably beside it.
        let view = View {
            settings: &self.settings,
            registry: &self.registry,
            cuda: self.cuda,
            dataset: self.dataset.as_ref(),
            run_dataset: self.run_dataset.as_ref(),
            session: &self.session,
            loading: self.loading.as_ref(),
            data_error: self.data_error.as_deref(),
            selection: self.selection.as_ref(),
            focus: self.focus,
            notice: self.notice.as_deref(),
            default_choices: &self.default_choices,
            train_blocker: blocker,
        };
        let (p, thumbs, tasks) = (&mut self.panels, &mut self.thumbs, &self.tasks);
        egui::Panel::top("top").show(ui, |ui| p.training.ui(ui, &view, &mut out));
        egui::Panel::left("left")
            .resizable(true)
            .default_size(340.0)
            .min_size(280.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    egui::CollapsingHeader::new("Dataset")
                        .default_open(true)
                        .show(ui, |ui| p.dataset.ui(ui, &view, thumbs, &mut out));
                    egui::CollapsingHeader::new("Hyperparameters")
                        .default_open(true)
                        .show(ui, |ui| p.params.ui(ui, &view, &mut out));
                });
            });
        let tab = &mut self.tab;
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                for t in Tab::ALL {
                    ui.selectable_value(tab, t, t.title());
                }
            });
            ui.separator();
            match *tab {
                Tab::Losses => p.losses.ui(ui, &view, &mut out),
                Tab::Embedding => p.embedding.ui(ui, &view, thumbs, &mut out),
                Tab::Confusion => p.confusion.ui(ui, &view, &mut out),
                Tab::Gallery => p.gallery.ui(ui, &view, thumbs, &mut out),
                Tab::Neighbours => neighbours(&mut p.neighbours, ui, &view, thumbs, &mut out),
                Tab::Graph => p.graph.ui(ui, &view),
                Tab::Runs => match p.runs.ui(ui, tasks) {
                    Some(panels::runs::RunsAction::Open(dir)) => {
                        out.push(Action::OpenRun(dir));
                        out.push(Action::ShowTab(Tab::Losses));
                    }
                    Some(panels::runs::RunsAction::Ablate) => out.push(Action::Ablate),
                    None => {}
                },
                Tab::Export => p.export.ui(ui, &view, &mut out),
            }
        });
        if !out.is_empty() {
            // What the actions change is drawn on the next frame.
            ctx.request_repaint();
        }
        for a in out {
            self.apply(a);
        }
        let busy =
            self.training() && self.panels.embedding.map.is_some() && self.tab == Tab::Embedding;
        self.frame_ms
            .push((t0.elapsed().as_secs_f32() * 1000.0, busy));
    }
}

/// The Neighbours tab: its own view type, its actions mapped onto the shell's.
fn neighbours(
    panel: &mut panels::neighbours::NeighboursPanel,
    ui: &mut egui::Ui,
    view: &View,
    thumbs: &mut Thumbs,
    out: &mut Vec<Action>,
) {
    use panels::neighbours::{NeighboursAction, NeighboursView};
    let Some(ds) = view.run_dataset else {
        panels::nothing_yet(
            ui,
            "Train or open a run: the neighbours of each image appear here.",
        );
        return;
    };
    let nv = NeighboursView {
        ds,
        session: view.session,
        focus: view.focus,
    };
    match panel.ui(ui, &nv, thumbs) {
        Some(NeighboursAction::Focus(j)) => out.push(Action::Focus(j)),
        Some(NeighboursAction::FindNearest(i)) => out.push(Action::FindNearest(i)),
        Some(NeighboursAction::Correct(edit)) => out.push(Action::Correct(edit)),
        Some(NeighboursAction::MoreLike(m)) => out.push(Action::MoreLikeThese(m)),
        None => {}
    }
}

impl eframe::App for IcicleApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        // eframe reports the previous frame's CPU time; pair it with that frame's flag.
        if let (Some(s), Some(&(_, busy))) = (frame.info().cpu_usage, self.frame_ms.last()) {
            self.frame_total_ms.push((s * 1000.0, busy));
        }
        self.draw(ui);
    }

    fn raw_input_hook(&mut self, ctx: &egui::Context, raw: &mut egui::RawInput) {
        // Only once the map is drawn: before that the sweep would just take CPU from t-SNE.
        if self.automation.sweep_pointer && self.panels.embedding.map.is_some() {
            let screen = raw.screen_rect.unwrap_or(ctx.content_rect());
            let t = self.launched.elapsed().as_secs_f64();
            raw.events.push(egui::Event::PointerMoved(
                super::automation::sweep_position(screen, t),
            ));
            ctx.request_repaint();
        }
        if let Some(drag) = self.automation.drag {
            let t = self.launched.elapsed().as_secs_f64();
            let stage = &mut self.automation.drag_stage;
            raw.events
                .extend(super::automation::drag_events(drag, t, stage));
            if *stage < 2 {
                ctx.request_repaint();
            }
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if !self.automation.fresh {
            self.settings.remember(storage);
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // Closing the window cancels a run; dropping the worker waits for it to stop.
        self.worker.send(Command::Cancel);
        self.write_frame_log();
    }
}
