//! Who gets the CPU's cores for libtorch's parallel work.
//!
//! PyTorch's OpenMP runtime (libgomp) keeps a pool of idle workers for every thread that ever
//! ran a parallel region, for as long as that thread lives, and spins only briefly at its
//! barriers once it manages more threads than there are cores. So a long-lived thread that once
//! ran torch in parallel (the CLI's main thread after the route probe) throttles the training
//! thread's team: a digits stage-1 step measured 39 ms against 19 ms without it
//! (docs/BENCHMARKS.md). And two processes that each spin on every core slow each other about
//! 20-fold. The rules here:
//! - A thread that hands work to a training thread runs torch on one thread itself
//!   (`single_threaded`); parallel work before a training runs on a thread that ends
//!   (`on_fresh_thread`), which takes its pool with it.
//! - A training computes on a fixed number of threads (every core, or `threads`), because
//!   sums split over a different number of threads come out different in the last bits and a
//!   run must be reproducible from its config and seed. Trainings on one machine take turns
//!   instead (`TrainingSlot`, `ComputeTurn`): each slice of steps runs alone on all the cores.
use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

/// The cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Makes the calling thread run torch on one thread (and threads it starts later that do not
/// choose for themselves).
pub fn single_threaded() {
    tch::set_num_threads(1);
}

/// Runs `f` on a new thread that may use every core, and waits for it. The thread's OpenMP
/// pool ends with it, so the caller can go on to start a training that gets the cores alone.
/// `f` must not capture or return tensors (they are not `Send`): plain data in and out.
pub fn on_fresh_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            tch::set_num_threads(cores() as i32);
            f()
        });
        h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Where trainings register: one locked file per training running on this machine.
fn registry_dir() -> PathBuf {
    std::env::temp_dir().join("icicle-explorer-trainings")
}

/// A training's place among those running on this machine, held while it trains.
pub struct TrainingSlot {
    file: Option<File>,
    path: PathBuf,
}

impl TrainingSlot {
    /// Registers the calling training. Failing to register only costs the sharing (the run
    /// then counts itself alone), never the run.
    pub fn take() -> Self {
        let dir = registry_dir();
        let path = dir.join(format!(
            "{}-{:?}-{}.lock",
            std::process::id(),
            std::thread::current().id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let file = std::fs::create_dir_all(&dir)
            .ok()
            .and_then(|_| {
                OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&path)
                    .ok()
            })
            .filter(|f| {
                // Another process probing this new file holds its lock for an instant.
                (0..5).any(|_| {
                    f.try_lock().is_ok() || {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        false
                    }
                })
            });
        Self { file, path }
    }

    /// How many trainings hold a slot now, this one included (at least 1). A slot whose
    /// holder has ended is unlocked; its file is removed here.
    pub fn running(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(registry_dir()) else {
            return 1;
        };
        let mut held = 0;
        for e in entries.flatten() {
            let p = e.path();
            // Slots only: the compute turn's file lives here too.
            if p.extension().is_none_or(|x| x != "lock") {
                continue;
            }
            if p == self.path {
                held += usize::from(self.file.is_some());
                continue;
            }
            let Ok(f) = OpenOptions::new().write(true).open(&p) else {
                continue;
            };
            match f.try_lock() {
                Err(TryLockError::WouldBlock) => held += 1,
                Ok(()) => {
                    // Unlocked: its training ended without cleaning up (killed). A file only
                    // seconds old may be one being taken right now: left for later.
                    let old = e
                        .metadata()
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age.as_secs() > 10);
                    let _ = f.unlock();
                    if old {
                        let _ = std::fs::remove_file(&p);
                    }
                }
                Err(TryLockError::Error(_)) => {}
            }
        }
        held.max(1)
    }
}

impl Drop for TrainingSlot {
    fn drop(&mut self) {
        if let Some(f) = self.file.take() {
            let _ = f.unlock();
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Makes the calling thread flush denormal floats to zero (FTZ and DAZ). Adam's first moment
/// of a weight whose gradient has gone to zero shrinks by 0.9 a step into the denormal range
/// within a few hundred steps, where x86 arithmetic is many times slower (measured: the digits
/// optimizer step 2.4 ms in the first epochs, 7.3 ms averaged over the run). Threads inherit
/// the setting from the thread that creates them, so a training thread sets it before its
/// first parallel region creates OpenMP workers. Values that small change no result.
pub fn flush_denormals() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: reads and writes this thread's MXCSR control bits only.
    #[allow(deprecated)]
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        const FTZ: u32 = 1 << 15;
        const DAZ: u32 = 1 << 6;
        _mm_setcsr(_mm_getcsr() | FTZ | DAZ);
    }
}

/// The threads a training computes on: `fixed` if not 0, else every core.
pub fn training_threads(fixed: usize) -> usize {
    if fixed > 0 { fixed } else { cores() }
}

/// The machine's compute turn: held by one training at a time (an advisory lock on one file
/// beside the slots), so trainings on one machine alternate slices of steps at full speed
/// instead of spinning against each other. Taken with `try_take` in a loop that keeps answering commands.
pub struct ComputeTurn {
    file: Option<File>,
    held: bool,
    taken: std::time::Instant,
}

impl ComputeTurn {
    /// The turn file; without one (no temporary folder) turns are not taken: never fatal.
    pub fn open() -> Self {
        let dir = registry_dir();
        let file = std::fs::create_dir_all(&dir).ok().and_then(|_| {
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(dir.join("turn"))
                .ok()
        });
        Self {
            file,
            held: false,
            taken: std::time::Instant::now(),
        }
    }

    /// Takes the turn if it is free (or already ours, or there is no turn file).
    pub fn try_take(&mut self) -> bool {
        if self.held {
            return true;
        }
        match &self.file {
            None => true,
            Some(f) => {
                self.held = f.try_lock().is_ok();
                if self.held {
                    self.taken = std::time::Instant::now();
                }
                self.held
            }
        }
    }

    /// How long the turn has been held (zero when it is not).
    pub fn held_for(&self) -> std::time::Duration {
        if self.held {
            self.taken.elapsed()
        } else {
            std::time::Duration::ZERO
        }
    }

    /// Gives the turn up; returns whether it was held.
    pub fn release(&mut self) -> bool {
        let was = self.held;
        if let (true, Some(f)) = (self.held, &self.file) {
            let _ = f.unlock();
        }
        self.held = false;
        was
    }
}

impl Drop for ComputeTurn {
    fn drop(&mut self) {
        self.release();
    }
}
