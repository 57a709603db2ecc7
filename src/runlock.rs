//! One training process per run folder: `run.lock` in the folder, held with the operating
//! system's advisory file lock while a run trains there. The kernel drops the lock when its
//! process ends, however it ends, so a lock left by a killed process is simply taken over;
//! the file names the holder (pid, command, start time) for the error a second process gets.
use anyhow::{Context, Result, bail};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

pub const FILE: &str = "run.lock";

/// Held while a run trains in its folder; released on drop (or when the process ends).
#[derive(Debug)]
pub struct RunLock {
    file: File,
}

impl RunLock {
    /// Locks `dir` (created if missing) for this process, or says who holds it.
    pub fn acquire(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create run folder {}", dir.display()))?;
        let path = dir.join(FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                bail!(
                    "{} is in use: another training process is running in it ({}). Wait for \
                     it to finish or stop it, or train into another folder.",
                    dir.display(),
                    if holder.is_empty() {
                        "holder unknown"
                    } else {
                        holder
                    }
                );
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        // Ours now (a previous holder's text, if any, was from a process that has ended).
        let who = format!(
            "pid {}, {}, since {}",
            std::process::id(),
            std::env::args().collect::<Vec<_>>().join(" "),
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
        );
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| file.write_all(who.as_bytes()))
            .and_then(|_| file.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Self { file })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // The file stays (removing it would race with a process opening it); unlocking is
        // what frees the folder.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}
