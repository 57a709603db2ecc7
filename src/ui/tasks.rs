//! Helper threads for everything slow that is not training: loading data, t-SNE, export,
//! file dialogs, reopening runs. Each sends one `Done` back and wakes the UI.
use crate::data::Dataset;
use crate::embedding::Embedding;
use crate::export::FolderExport;
use crate::helpers::{Kind, Running};
use crate::priority::Priority;
use crate::rundir::{DataRecord, SavedRun};
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::path::PathBuf;
use std::sync::Arc;

/// Names of the helpers whose failure the app answers (`Done::Failed`): one spelling for the
/// spawn and the pump.
pub mod job {
    pub const LOAD: &str = "load";
    pub const OPEN_RUN: &str = "open-run";
    pub const PREVIEW: &str = "preview";
    pub const TSNE: &str = "tsne";
    pub const NEAREST: &str = "nearest";
    pub const EXPORT: &str = "export";
    pub const SUGGEST_K: &str = "suggest-k";
    pub const ABLATIONS: &str = "ablations";
}

/// What a file dialog was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Data,
    Run,
    Export,
}

/// A dataset loaded on the helper thread, with the shape the default adapts to (the route
/// probe's answer included, computed there too).
pub struct Loaded {
    pub ds: Arc<Dataset>,
    pub record: DataRecord,
    pub shape: crate::config::DataShape,
    /// The probe's line, when it ran.
    pub probe: Option<String>,
}

pub enum Done {
    LoadProgress {
        what: String,
        done: usize,
        total: usize,
    },
    DataLoaded(Box<Result<Loaded, String>>),
    RunOpened(Box<Result<(SavedRun, Arc<Dataset>), String>>),
    /// t-SNE iterations done of all, for the map being computed for `features_id`.
    TsneProgress {
        features_id: u64,
        done: usize,
        total: usize,
    },
    Tsne {
        features_id: u64,
        result: Result<Embedding, String>,
    },
    Exported(Result<ExportReport, String>),
    /// The preview of the corrections of the run with this generation.
    Previewed(
        u64,
        Box<crate::correct::Preview>,
        crate::ui::corrections::BasisKey,
        std::sync::Arc<crate::correct::Basis>,
    ),
    /// The halves of a "Split in two" for the run with this generation: the edit, or why not.
    Split(u64, Result<crate::ui::corrections::Edit, String>),
    /// "More like these" for the run with this generation: the list for the gallery and the
    /// cluster the examples went to, or why not.
    Alike(u64, Result<(crate::ui::Selection, usize), String>),
    /// Values of K swept, of all, by the running "Suggest K".
    SuggestProgress {
        done: usize,
        total: usize,
    },
    Suggested(Result<crate::cluster::suggest_k::Suggestion, String>),
    /// The runs directory listed (or re-listed after a delete).
    RunsListed(Result<crate::runs::Listing, String>),
    /// One run's curves, for the Runs view's overlay.
    Curves(PathBuf, Box<Result<crate::rundir::Curves, String>>),
    /// Where the ablations are (variant, stage, steps).
    AblationAt(String),
    AblationRow(Box<crate::train::ablate::AblationRow>),
    AblationsEnded(Result<(), String>),
    /// The nearest images to `item` over all features, nearest first, with distances.
    Nearest {
        item: usize,
        found: Vec<(usize, f32)>,
    },
    Picked(Pick, Option<PathBuf>),
    /// The helper named `task` panicked with `message` instead of answering.
    Failed {
        task: String,
        message: String,
    },
}

/// A panic's message, as its payload carries it.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[derive(Debug, Clone)]
pub enum ExportReport {
    Files(Vec<PathBuf>),
    Folders(FolderExport),
}

pub struct Tasks {
    tx: Sender<Done>,
    pub rx: Receiver<Done>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Tasks {
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        let (tx, rx) = unbounded();
        Self {
            tx,
            rx,
            wake: Arc::new(wake),
        }
    }

    /// Runs `job` on a new thread; it reports through the `Reporter` it gets. Closing the app
    /// abandons it if it is still computing a moment later (`crate::helpers`).
    pub fn spawn(&self, name: &str, job: impl FnOnce(Reporter) + Send + 'static) {
        self.spawn_as(name, Kind::Compute, job)
    }

    /// Like `spawn`, for a job that writes files: closing the app waits for it to finish.
    pub fn spawn_writer(&self, name: &str, job: impl FnOnce(Reporter) + Send + 'static) {
        self.spawn_as(name, Kind::Writer, job)
    }

    fn spawn_as(&self, name: &str, kind: Kind, job: impl FnOnce(Reporter) + Send + 'static) {
        let r = Reporter {
            tx: self.tx.clone(),
            wake: self.wake.clone(),
        };
        // Registered before the thread starts, so a close right after still sees it.
        let running = Running::register(name, kind);
        let task = name.to_string();
        let _ = std::thread::Builder::new()
            .name(format!("icicle-{name}"))
            .spawn(move || {
                let _running = running;
                // Helpers (t-SNE, decoding, export) yield to the UI thread like training does.
                if let Err(e) = Priority::Background.apply_to_current_thread() {
                    eprintln!("helper thread keeps normal priority: {e}");
                }
                // A helper ends with its job, and its OpenMP pool with it: it may use every
                // core meanwhile (`crate::threads`).
                tch::set_num_threads(crate::threads::cores() as i32);
                // A job that panics (a bug) still answers, so the button that started it
                // does not stay disabled and the person learns it failed.
                let back = r.clone();
                let job = std::panic::AssertUnwindSafe(move || job(r));
                if let Err(p) = std::panic::catch_unwind(job) {
                    back.send(Done::Failed {
                        task: task.to_string(),
                        message: panic_text(p.as_ref()),
                    });
                }
            });
    }

    /// A folder dialog off the UI thread (rfd's sync dialog would block drawing). Without a
    /// portal or zenity rfd returns `None` at once; the app then says no dialog is available.
    pub fn pick_folder(&self, purpose: Pick) {
        self.spawn("dialog", move |r| {
            let path = rfd::FileDialog::new().pick_folder();
            r.send(Done::Picked(purpose, path));
        });
    }
}

/// A helper thread's line back to the UI.
#[derive(Clone)]
pub struct Reporter {
    tx: Sender<Done>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Reporter {
    pub fn send(&self, d: Done) {
        let _ = self.tx.send(d);
        (self.wake)();
    }

    /// Loader progress for the UI, at most every 50 ms (loaders report per file).
    pub fn progress(&self) -> crate::progress::Progress {
        self.throttled(50, |what, done, total| Done::LoadProgress {
            what: what.to_string(),
            done,
            total,
        })
    }

    /// t-SNE progress for the UI, at most every 250 ms (each report costs a repaint, which on
    /// software GL takes CPU from the t-SNE itself).
    pub fn tsne_progress(&self, features_id: u64) -> crate::progress::Progress {
        self.throttled(250, move |_, done, total| Done::TsneProgress {
            features_id,
            done,
            total,
        })
    }

    /// Sends `message(what, done, total)` at most every `ms` milliseconds, and at the end.
    fn throttled(
        &self,
        ms: u128,
        message: impl Fn(&str, usize, usize) -> Done + Send + Sync + 'static,
    ) -> crate::progress::Progress {
        let r = self.clone();
        let last = std::sync::Mutex::new(None::<std::time::Instant>);
        crate::progress::Progress::new(move |what, done, total| {
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|t| t.elapsed().as_millis() >= ms) || done == total;
            if due {
                *last = Some(std::time::Instant::now());
                r.send(message(what, done, total));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_job_answers_failed_with_its_name_and_message() {
        let tasks = Tasks::new(|| {});
        tasks.spawn(job::PREVIEW, |_| panic!("no schema for aten::sub"));
        let done = tasks
            .rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("a panicking job must still answer");
        match done {
            Done::Failed { task, message } => {
                assert_eq!(task, "preview");
                assert_eq!(message, "no schema for aten::sub");
            }
            _ => panic!("expected Done::Failed"),
        }
        let n = 3;
        tasks.spawn("formatted", move |_| panic!("{n} things"));
        let done = tasks
            .rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        assert!(matches!(done, Done::Failed { message, .. } if message == "3 things"));
    }
}
