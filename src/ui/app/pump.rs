//! The event pump: worker events and helper-thread results, drained each frame without
//! blocking, each routed to the state or panel it belongs to.
use super::*;

impl IcicleApp {
    /// Drains the worker and helper threads; never blocks.
    pub(super) fn pump(&mut self) {
        while let Ok(ev) = self.worker.events.try_recv() {
            if let Some(ds) = self.run_dataset.clone() {
                self.session.apply(&ds, ev);
            }
        }
        while let Ok(done) = self.tasks.rx.try_recv() {
            match done {
                Done::LoadProgress { what, done, total } => {
                    self.loading = Some((what, done, total))
                }
                Done::DataLoaded(r) => {
                    self.loading = None;
                    match *r {
                        Ok(loaded) => self.on_data_loaded(loaded),
                        Err(e) => self.data_error = Some(e),
                    }
                }
                Done::RunOpened(r) => {
                    self.loading = None;
                    match *r {
                        Ok((run, ds)) => {
                            self.settings.data = run.data.clone();
                            self.settings.config = run.config.clone();
                            self.session = Session::from_saved(run, &ds);
                            self.dataset = Some(ds.clone());
                            self.run_dataset = Some(ds);
                            self.panels.embedding.reset();
                            self.panels.gallery.reset();
                            self.selection = None;
                        }
                        Err(e) => self.notice = Some(format!("cannot open the run: {e}")),
                    }
                }
                Done::TsneProgress {
                    features_id,
                    done,
                    total,
                } => self.panels.embedding.on_progress(features_id, done, total),
                Done::Tsne { features_id, result } => {
                    self.panels.embedding.on_done(features_id, result)
                }
                Done::SuggestProgress { done, total } => {
                    self.panels.params.suggest_k.on_progress(done, total)
                }
                Done::Suggested(r) => self.panels.params.suggest_k.on_done(r),
                Done::Nearest { item, found } => self.panels.neighbours.on_nearest(item, found),
                Done::RunsListed(r) => self.panels.runs.on_listed(&self.tasks, r),
                Done::Curves(dir, c) => self.panels.runs.on_curves(dir, *c),
                Done::AblationAt(t) => self.panels.runs.on_ablation_at(t),
                Done::AblationRow(r) => self.panels.runs.on_ablation_row(*r),
                Done::AblationsEnded(r) => self.panels.runs.on_ablations_done(&self.tasks, r),
                Done::Exported(r) => self.panels.export.on_done(r),
                Done::Previewed(generation, p, key, basis) => {
                    let c = &mut self.session.corrections;
                    c.preview_busy = false;
                    // A preview of assignments no longer on screen is dropped.
                    if generation == self.session.generation {
                        c.preview = Some(*p);
                        c.basis = Some((key, basis));
                    }
                }
                Done::Split(generation, edit) => match edit {
                    // Halves of assignments no longer on screen are dropped.
                    Ok(edit) if generation == self.session.generation => {
                        self.apply(Action::Correct(edit))
                    }
                    Ok(_) => {}
                    Err(e) => self.notice = Some(e),
                },
                Done::Alike(generation, found) => match found {
                    // A list for assignments no longer on screen is dropped.
                    Ok((selection, to)) if generation == self.session.generation => {
                        self.panels.gallery.set_target(to);
                        self.selection = Some(selection);
                        self.tab = Tab::Gallery;
                    }
                    Ok(_) => {}
                    Err(e) => self.notice = Some(e),
                },
                Done::Failed { task, message } => self.on_failed(&task, message),
                Done::Picked(purpose, path) => match (purpose, path) {
                    (_, None) => {
                        self.notice = Some(
                            "No folder was chosen (or no file dialog is available here: type the path instead)."
                                .into(),
                        )
                    }
                    (Pick::Data, Some(p)) => {
                        self.panels.dataset.on_picked_folder(&p);
                        let mut rec = self.settings.data.clone();
                        rec.folder = Some(p);
                        rec.dataset = None;
                        self.load_data(rec);
                    }
                    (Pick::Run, Some(p)) => self.open_run(p),
                    (Pick::Export, Some(p)) => {
                        self.settings.export_dir = p.display().to_string()
                    }
                },
            }
        }
        self.panels
            .embedding
            .maybe_start(&self.tasks, &self.session, &self.settings);
    }

    /// A helper that panicked: what waited for its answer stops waiting, and the person is told.
    fn on_failed(&mut self, task: &str, message: String) {
        use crate::ui::tasks::job;
        let e = format!("{task} failed: {message} (a bug: please report it)");
        match task {
            job::LOAD => {
                self.loading = None;
                self.data_error = Some(e);
                return;
            }
            job::OPEN_RUN => self.loading = None,
            job::PREVIEW => self.session.corrections.preview_busy = false,
            job::TSNE => self.panels.embedding.on_failed(e.clone()),
            job::NEAREST => self.panels.neighbours.on_failed(),
            job::EXPORT => self.panels.export.on_done(Err(e.clone())),
            job::SUGGEST_K => self.panels.params.suggest_k.on_done(Err(e.clone())),
            job::ABLATIONS => self
                .panels
                .runs
                .on_ablations_done(&self.tasks, Err(e.clone())),
            _ => {}
        }
        self.notice = Some(e);
    }
}
