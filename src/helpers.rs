//! The helper threads running in this process, so that it can end safely while some still do.
//!
//! When `main` returns, C++ static destructors tear down libtorch's global context; a helper
//! still inside libtorch then crashes the process (a segfault, or a panic "Invalid (backend,
//! op) pair" from a destroyed map), as closing the app during a preview did. And a helper that
//! writes a file (an export, corrections.json) would be cut off. So helpers register here while
//! they run, and the app's end `settle`s: it waits for every writer, gives the others a moment,
//! and if some still compute, ends the process without running the destructors.
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a helper does, which decides whether the process may end without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Writes files the person expects to find (exports, corrections, run records): always
    /// waited for, so no work is lost.
    Writer,
    /// Computes something for the screen (t-SNE, a preview, Suggest K): abandoned when it
    /// outlasts the grace period.
    Compute,
}

struct Registry {
    running: Vec<(u64, String, Kind)>,
    next: u64,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    running: Vec::new(),
    next: 0,
});
static CHANGED: Condvar = Condvar::new();

fn registry() -> MutexGuard<'static, Registry> {
    // A helper that panicked while holding the lock left a consistent list (each change is
    // one push or remove), so the poison is ignored.
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running helper's entry; dropping it (the helper ending, by return or panic) removes it.
pub struct Running(u64);

impl Running {
    pub fn register(name: &str, kind: Kind) -> Self {
        let mut r = registry();
        let id = r.next;
        r.next += 1;
        r.running.push((id, name.to_string(), kind));
        Running(id)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        registry().running.retain(|(id, ..)| *id != self.0);
        CHANGED.notify_all();
    }
}

/// Names of the helpers running now.
pub fn running() -> Vec<String> {
    registry()
        .running
        .iter()
        .map(|(_, n, _)| n.clone())
        .collect()
}

/// Waits until no writer runs, and no helper at all or `grace` has passed. Returns the names
/// of the helpers still computing (empty when every helper has ended).
pub fn settle(grace: Duration) -> Vec<String> {
    let deadline = Instant::now() + grace;
    let mut r = registry();
    let mut told = false;
    loop {
        let writers: Vec<&str> = r
            .running
            .iter()
            .filter(|(_, _, k)| *k == Kind::Writer)
            .map(|(_, n, _)| n.as_str())
            .collect();
        let now = Instant::now();
        if r.running.is_empty() || (writers.is_empty() && now >= deadline) {
            return r.running.iter().map(|(_, n, _)| n.clone()).collect();
        }
        if !writers.is_empty() && now >= deadline && !told {
            eprintln!("finishing before closing: {}", writers.join(", "));
            told = true;
        }
        let wait = if writers.is_empty() {
            deadline - now
        } else {
            Duration::from_millis(500)
        };
        r = CHANGED
            .wait_timeout(r, wait)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

/// Returns once every helper has ended; when some still compute after `grace` (writers are
/// always waited for), ends the process at once instead, with status 0, without the static
/// destructors that would pull libtorch from under them (their results were for a window that
/// is gone).
pub fn settle_or_exit(grace: Duration) {
    let left = settle(grace);
    if left.is_empty() {
        return;
    }
    eprintln!("closing while still computing: {}", left.join(", "));
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process without running atexit handlers or destructors; every
    // file this process writes goes through `atomic` (renamed into place when complete) and
    // the writers have ended above, so nothing half-written is left behind.
    unsafe { libc::_exit(0) }
}
