//! The user's cache folder kept under a size budget. Decoded folders (`*.icds`) and frozen
//! features (`features/*.safetensors`) are rebuilt on a miss, so when a new entry takes the
//! folder over its budget the least recently used entries go first (a hit refreshes an
//! entry's modification time). Without this every folder, side and seed tried adds its
//! entry for good: 10,000 Fashion-MNIST images at 8 views are 460 MB of features.
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The budget unless `ICICLE_CACHE_MAX_GB` says otherwise: room for a 70,000-image set's
/// decoded pixels and features at a few sides, small beside a photo folder.
pub const DEFAULT_GB: f64 = 10.0;
pub const ENV: &str = "ICICLE_CACHE_MAX_GB";

/// The budget in bytes (`None`: no limit, `ICICLE_CACHE_MAX_GB=0`).
pub fn budget() -> Result<Option<u64>> {
    match std::env::var(ENV) {
        Err(_) => Ok(Some(gb_to_bytes(DEFAULT_GB))),
        Ok(v) => parse_gb(&v),
    }
}

/// `v` gigabytes (10⁹ bytes) as a budget; 0 turns the limit off.
pub fn parse_gb(v: &str) -> Result<Option<u64>> {
    let gb: f64 = v
        .trim()
        .parse()
        .ok()
        .filter(|g: &f64| g.is_finite() && *g >= 0.0)
        .with_context(|| format!("{ENV}={v:?}: expected a number of gigabytes (0 for no limit)"))?;
    Ok((gb > 0.0).then(|| gb_to_bytes(gb)))
}

fn gb_to_bytes(gb: f64) -> u64 {
    (gb * 1e9) as u64
}

/// One cache entry.
#[derive(Clone, Debug)]
pub struct Entry {
    pub path: PathBuf,
    pub bytes: u64,
    pub used: SystemTime,
    /// A decoded folder (else frozen features).
    pub decoded: bool,
}

/// The entries under `dir`, least recently used first. Temporary files of writes in progress
/// (another process may be writing one) and anything else are left out.
pub fn entries(dir: &Path) -> Vec<Entry> {
    let mut out = Vec::new();
    for (sub, ext, decoded) in [
        (dir.to_path_buf(), "icds", true),
        (dir.join("features"), "safetensors", false),
    ] {
        let Ok(rd) = std::fs::read_dir(&sub) else {
            continue;
        };
        for e in rd.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || path.extension().and_then(|x| x.to_str()) != Some(ext) {
                continue;
            }
            let Ok(meta) = e.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            out.push(Entry {
                path,
                bytes: meta.len(),
                used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                decoded,
            });
        }
    }
    out.sort_by(|a, b| a.used.cmp(&b.used).then_with(|| a.path.cmp(&b.path)));
    out
}

/// Marks an entry as just used (best effort: a read-only cache still works, only its order
/// of eviction is off).
pub fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().write(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// What a prune removed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pruned {
    pub removed: usize,
    pub bytes: u64,
}

/// Removes the least recently used entries of `dir` until they total at most `budget` bytes,
/// never `keep` (the entry just written, which alone may exceed the budget). A removal that
/// fails (an entry another process removed first) is skipped.
pub fn prune(dir: &Path, budget: u64, keep: Option<&Path>) -> Pruned {
    let all = entries(dir);
    let mut total: u64 = all.iter().map(|e| e.bytes).sum();
    let mut pruned = Pruned::default();
    for e in all {
        if total <= budget {
            break;
        }
        if keep.is_some_and(|k| same_file(k, &e.path)) {
            continue;
        }
        // Unlinking a decoded folder another process has mapped is safe: the mapping stays.
        if std::fs::remove_file(&e.path).is_ok() {
            total -= e.bytes;
            pruned.removed += 1;
            pruned.bytes += e.bytes;
        }
    }
    pruned
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// After writing `written` into the cache `dir`: keeps the folder under the budget, and says
/// on stderr what it removed (or why it could not read the budget).
pub fn after_write(dir: &Path, written: &Path) {
    match budget() {
        Ok(Some(b)) => {
            let p = prune(dir, b, Some(written));
            if p.removed > 0 {
                eprintln!(
                    "cache: removed {} least recently used entr{} ({}) to stay under {} in {}",
                    p.removed,
                    if p.removed == 1 { "y" } else { "ies" },
                    human(p.bytes),
                    human(b),
                    dir.display()
                );
            }
        }
        Ok(None) => {}
        Err(e) => eprintln!("warning: {e:#}; the cache is not trimmed"),
    }
}

/// Removes every entry of `dir` (temporary files of writes in progress excepted).
pub fn clear(dir: &Path) -> Result<Pruned> {
    let mut pruned = Pruned::default();
    for e in entries(dir) {
        match std::fs::remove_file(&e.path) {
            Ok(()) => {
                pruned.removed += 1;
                pruned.bytes += e.bytes;
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => bail!("cannot remove {}: {err}", e.path.display()),
        }
    }
    Ok(pruned)
}

/// Bytes for people: "4.6 GB", "72 kB".
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    match b {
        b if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.0} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.0} kB", b / 1e3),
        _ => format!("{bytes} B"),
    }
}
