//! A disk cache of decoded folder datasets, so a folder of photos is decoded once.
//! Keyed by the folder, the layout, and every file's path, size and modification time: any
//! change to the folder gives a new key. A corrupt or unreadable cache entry is ignored.
use super::dataset::Dataset;
use super::folder::{FolderLayout, Scan};
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

// 2: transparent pixels composited on white (version 1 dropped alpha).
const MAGIC: &[u8; 10] = b"ICICLEDS2\n";

/// `$ICICLE_CACHE_DIR`, else `$XDG_CACHE_HOME/icicle-explorer`, else `~/.cache/icicle-explorer`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("ICICLE_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("icicle-explorer"))
}

pub fn key(scan: &Scan, layout: FolderLayout) -> String {
    let mut h = Sha256::new();
    h.update(MAGIC);
    let root = scan
        .root
        .canonicalize()
        .unwrap_or_else(|_| scan.root.clone());
    h.update(root.to_string_lossy().as_bytes());
    h.update(format!("{}x{}x{:?}", layout.height, layout.width, layout.channels).as_bytes());
    for f in &scan.files {
        h.update(f.rel.as_bytes());
        h.update(f.len.to_le_bytes());
        h.update(f.modified_ns.to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn path_for(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.icds"))
}

pub fn store(path: &Path, ds: &Dataset) -> Result<()> {
    let header = serde_json::to_vec(ds)?;
    crate::atomic::write_with(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&(header.len() as u64).to_le_bytes())?;
        w.write_all(&header)?;
        w.write_all(&ds.pixels)?;
        Ok(())
    })
}

pub fn fetch(path: &Path) -> Result<Dataset> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() < MAGIC.len() + 8 || &bytes[..MAGIC.len()] != MAGIC {
        bail!("{} is not a dataset cache file", path.display());
    }
    let off = MAGIC.len();
    let hlen = u64::from_le_bytes(bytes[off..off + 8].try_into().expect("8 bytes")) as usize;
    let body = off + 8;
    if bytes.len() < body + hlen {
        bail!("{} is truncated", path.display());
    }
    let mut ds: Dataset = serde_json::from_slice(&bytes[body..body + hlen])
        .with_context(|| format!("{} has a corrupt header", path.display()))?;
    ds.pixels = bytes[body + hlen..].to_vec();
    ds.check()
        .with_context(|| format!("{} is inconsistent", path.display()))?;
    Ok(ds)
}
