//! The one place where what the panels asked for happens: training commands to the worker,
//! loading and helper tasks started, navigation (tab, focus, selection) changed.
use super::*;

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
}
