//! Atomic file writes: write a temporary file beside the target, flush it, then rename it over
//! the target, so a crash or a full disk never leaves a half-written checkpoint or export.
use anyhow::{Context, Result};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Fault injection for tests: every atomic write longer than this many bytes fails as on a
/// full disk. Off (u64::MAX) unless a test sets it, or the environment variable
/// `ICICLE_FAIL_WRITES_AFTER` does for a whole process (the CLI test).
static FAIL_AFTER: AtomicU64 = AtomicU64::new(u64::MAX);
static FROM_ENV: std::sync::Once = std::sync::Once::new();

/// Makes writes longer than `bytes` fail (None: never), for tests of what a full disk does.
pub fn fail_writes_after(bytes: Option<u64>) {
    FROM_ENV.call_once(|| {});
    FAIL_AFTER.store(bytes.unwrap_or(u64::MAX), Ordering::SeqCst);
}

fn limit() -> u64 {
    FROM_ENV.call_once(|| {
        if let Some(n) = std::env::var("ICICLE_FAIL_WRITES_AFTER")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            FAIL_AFTER.store(n, Ordering::SeqCst);
        }
    });
    FAIL_AFTER.load(Ordering::SeqCst)
}

/// A writer that fails like a full disk once `left` bytes are used up.
struct Limited<'a> {
    inner: &'a mut dyn Write,
    left: u64,
}

impl Write for Limited<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "No space left on device (injected)",
            ));
        }
        let n = self.inner.write(buf)?;
        self.left -= n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `path` through `fill`; the file appears whole or not at all.
pub fn write_with(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create folder {}", dir.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        let mut limited = Limited {
            inner: &mut w,
            left: limit(),
        };
        fill(&mut limited).with_context(|| format!("while writing {}", path.display()))?;
        w.flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    // tempfile creates 0600; results are for sharing, so give them the usual 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot sync {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot move the finished file to {}", path.display()))?;
    Ok(())
}

/// Writes `bytes` to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |w| Ok(w.write_all(bytes)?))
}
