//! Lowering a background thread's CPU priority, so the desktop app stays smooth while
//! training, t-SNE and decoding use every core.
//!
//! On Linux the nice value belongs to a thread, not the process, and threads inherit it from
//! the thread that creates them: libtorch's OpenMP team and rayon's pool, started from a
//! lowered thread, are lowered too. The UI thread keeps nice 0, so when both want a core
//! the scheduler gives the UI about nine times the share (weights 1024 against 110), and
//! when the UI is idle the background work still gets the whole machine.

/// How many nice steps background work sits below the thread that starts it (the UI's own
/// nice value, 0 unless the app was started with `nice`).
pub const BACKGROUND_STEPS: i32 = 10;

/// How a worker thread competes with the UI thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// As the process was started (the CLI: nothing to stay responsive for).
    Normal,
    /// Yields to the UI thread (the app's training worker and helper threads).
    Background,
}

impl Priority {
    /// Applies this priority to the calling thread. Failing to lower it only costs
    /// smoothness, so the error is returned for logging, never fatal.
    pub fn apply_to_current_thread(self) -> std::io::Result<()> {
        match self {
            Priority::Normal => Ok(()),
            Priority::Background => {
                set_current_thread_nice(background_nice(current_thread_nice().unwrap_or(0)))
            }
        }
    }
}

/// The nice value for background work started from a thread at `nice` (19 is the lowest).
pub fn background_nice(nice: i32) -> i32 {
    (nice + BACKGROUND_STEPS).min(19)
}

#[cfg(target_os = "linux")]
fn set_current_thread_nice(nice: i32) -> std::io::Result<()> {
    // SAFETY: plain syscalls on the calling thread's own id; no memory is passed.
    let r = unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice)
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn set_current_thread_nice(_nice: i32) -> std::io::Result<()> {
    // Per-thread nice is a Linux property; elsewhere the threads keep the default priority.
    Ok(())
}

/// The calling thread's nice value (Linux), read back for tests and the frame log.
#[cfg(target_os = "linux")]
pub fn current_thread_nice() -> Option<i32> {
    // /proc/thread-self/stat: field 19 is the nice value; the command name (field 2) may hold
    // spaces, so count from the closing parenthesis.
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(16)?.parse().ok()
}

#[cfg(not(target_os = "linux"))]
pub fn current_thread_nice() -> Option<i32> {
    None
}
