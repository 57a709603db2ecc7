//! The one place where what the panels asked for happens: training commands to the worker,
//! loading and helper tasks started, navigation (tab, focus, selection) changed.
use super::*;

/// How many of the most alike images "More like these" lists: a person reviews the top of the
/// list (its first ten are the most often right), not the whole cluster.
const ALIKE_SHOWN: usize = 100;

impl IcicleApp {
    pub(super) fn apply(&mut self, action: Action) {
        match action {
            Action::Train => self.start_training(),
            Action::Pause => self.worker.send(Command::Pause),
            Action::Resume => self.worker.send(Command::Resume),
            Action::Cancel => self.worker.send(Command::Cancel),
            Action::DismissNotice => self.notice = None,
            Action::LoadData(record) => self.load_data(record),
            Action::OpenRun(dir) => self.open_run(dir),
            Action::Pick(purpose) => self.tasks.pick_folder(purpose),
            Action::Settings(s) => self.settings = *s,
            Action::ApplyPreset(p) => self.apply_preset(p),
            Action::SuggestK => self.start_suggest_k(),
            Action::ShowTab(t) => self.tab = t,
            Action::Focus(i) => self.focus = Some(i),
            Action::Select(selection, cluster) => {
                self.selection = Some(selection);
                if let Some(c) = cluster {
                    self.panels.gallery.show_cluster(c);
                }
            }
            Action::ClearSelection => self.selection = None,
            Action::FindNearest(i) => {
                if let Some(f) = self.session.features.clone() {
                    self.panels.neighbours.start_nearest(&self.tasks, f, i);
                }
            }
            Action::Ablate => self.start_ablations(),
            Action::ShowCandidate(i) => {
                if let Some(ds) = self.run_dataset.clone() {
                    self.session.show_candidate(&ds, i);
                    self.panels.gallery.reset();
                }
            }
            Action::Correct(edit) => {
                if let Some(ds) = self.run_dataset.clone() {
                    let s = &mut self.session;
                    s.corrections.apply(&edit, &ds.items, &s.clusters);
                    self.save_corrections();
                }
            }
            Action::Undo => {
                if self.session.corrections.undo() {
                    self.save_corrections();
                }
            }
            Action::Redo => {
                if self.session.corrections.redo() {
                    self.save_corrections();
                }
            }
            Action::SplitCluster { cluster, into } => self.start_split(cluster, into),
            Action::PreviewCorrections => self.start_preview(),
            Action::MoreLikeThese(m) => self.start_alike(m),
            Action::RetrainWithCorrections => self.start_retrain(),
            Action::Export(kind) => {
                if let Some(ds) = self.run_dataset.clone() {
                    let dest = std::path::PathBuf::from(self.settings.export_dir.trim());
                    let notes_from = self.session.run_dir.clone();
                    let assigned = (
                        self.session.clusters.clone(),
                        self.session.confidence.clone(),
                    );
                    self.panels
                        .export
                        .start(&self.tasks, kind, ds, assigned, dest, notes_from);
                }
            }
        }
    }

    /// corrections.json in the run folder, written atomically off the UI thread, so reopening
    /// the run restores them.
    fn save_corrections(&mut self) {
        let Some(dir) = self.session.run_dir.clone() else {
            return;
        };
        let facts = self.session.corrections.facts.clone();
        self.tasks.spawn_writer("corrections", move |_| {
            let path = dir.join(crate::correct::facts::FILE);
            if let Err(e) = facts.write(&path) {
                eprintln!("cannot save {}: {e:#}", path.display());
            }
        });
    }

    /// "Split in two": 2-means on the cluster's members' features on a helper thread; the
    /// halves come back as an edit (`Done::Split`).
    fn start_split(&mut self, cluster: usize, into: usize) {
        let s = &self.session;
        let Some((features, dim)) = s.features.clone() else {
            self.notice = Some("This run has no features to split a cluster by.".into());
            return;
        };
        // The cluster as the person sees it, earlier corrections included.
        let members = s.corrections.facts.members(cluster, &s.clusters);
        let (seed, generation) = (s.config.seed, s.generation);
        self.tasks.spawn("split", move |r| {
            let halves = crate::correct::split_in_two(&features, dim, &members, seed)
                .map(|(kept, moved)| crate::ui::corrections::Edit::Split {
                    cluster,
                    into,
                    kept,
                    moved,
                })
                .map_err(|e| format!("cluster {cluster}: {e:#}"));
            r.send(super::Done::Split(generation, halves));
        });
    }

    /// "More like these" over the run's features on a helper thread; the gallery lists the
    /// most alike (`Done::Alike`).
    fn start_alike(&mut self, m: crate::ui::corrections::Move) {
        let s = &self.session;
        let Some((features, dim)) = s.features.clone() else {
            self.notice = Some("This run has no features to compare images by.".into());
            return;
        };
        let assignment = s.corrections.facts.assignment(&s.clusters);
        let corrected: std::collections::BTreeSet<usize> =
            s.corrections.facts.images.keys().copied().collect();
        let generation = s.generation;
        // Clusters as the pickers name them ("8 · people" where the person named it).
        let title = |c: usize| crate::ui::panels::cluster_title(s, c);
        let (from_text, to_text) = (
            m.from
                .iter()
                .map(|&c| title(c))
                .collect::<Vec<_>>()
                .join(", "),
            title(m.to),
        );
        self.tasks.spawn("alike", move |r| {
            let skip = |i: usize| corrected.contains(&i);
            let found = crate::correct::more_like(&features, dim, &assignment, &m, &skip)
                .map(|ranked| {
                    let shown: Vec<usize> =
                        ranked.iter().take(ALIKE_SHOWN).map(|&(i, _)| i).collect();
                    let title = format!(
                        "the {} of {} images of {from_text} most like the {} moved to \
                             {to_text}, most alike first",
                        shown.len(),
                        ranked.len(),
                        m.images.len(),
                    );
                    (
                        crate::ui::Selection {
                            title,
                            items: shown,
                        },
                        m.to,
                    )
                })
                .map_err(|e| format!("More like these: {e:#}"));
            r.send(super::Done::Alike(generation, found));
        });
    }

    /// The preview over the run's k_b graph and features, on a helper thread.
    pub(super) fn start_preview(&mut self) {
        let s = &mut self.session;
        let Some((_, knn_b)) = s.neighbours.clone() else {
            self.notice = Some("This run has no saved k-NN graph to preview over.".into());
            return;
        };
        let (clusters, k, facts, generation, features) = (
            s.clusters.clone(),
            s.config.clusters,
            s.corrections.facts.clone(),
            s.generation,
            s.features.clone(),
        );
        let (answer, min_strength) = (s.answer.clone(), s.config.answer_min_modularity);
        let key = crate::ui::corrections::BasisKey {
            generation,
            features_id: s.features_id,
            graph: Arc::as_ptr(&knn_b) as usize,
        };
        let basis = (s.corrections.basis.as_ref())
            .filter(|(held, _)| *held == key)
            .map(|(_, b)| b.clone());
        s.corrections.preview_busy = true;
        self.tasks.spawn(crate::ui::tasks::job::PREVIEW, move |r| {
            let x = crate::correct::Features::of_run(
                features.as_ref().map(|(x, dim)| (&x[..], *dim)),
                answer.as_ref(),
                k,
                min_strength,
            );
            let basis = basis.unwrap_or_else(|| {
                Arc::new(crate::correct::Basis::of_run(&knn_b, &clusters, k, x))
            });
            let p = crate::correct::preview_with(&basis, &knn_b, &clusters, k, &facts, x);
            r.send(super::Done::Previewed(generation, Box::new(p), key, basis));
        });
    }

    /// Stage 2 again from the run on screen's checkpoint with its corrections, into a new run
    /// folder beside it; the corrections stay on screen for the new run.
    fn start_retrain(&mut self) {
        let (Some(ds), Some(source)) = (self.run_dataset.clone(), self.session.run_dir.clone())
        else {
            return;
        };
        if self.session.status.active() {
            return;
        }
        let facts = self.session.corrections.facts.clone();
        if let Err(e) = facts.validate(&ds.items, self.session.config.clusters) {
            self.notice = Some(format!("{e:#}"));
            return;
        }
        let config = self.session.config.clone();
        let run_dir = crate::cli::data_args::run_dir_under(
            std::path::Path::new(self.panels.runs.root.trim()),
            &ds,
            "-corrected",
        );
        self.start_job(
            ds,
            config,
            run_dir,
            Some(Box::new(crate::messages::CorrectFrom {
                source,
                corrections: facts,
            })),
        );
    }
}
