//! A disk cache of decoded folder datasets, so a folder of photos is decoded once — and,
//! memory-mapped, is not held in RAM: a folder is decoded straight into its cache file, a
//! round of images at a time, and its pixels are read from the map.
//! Keyed by the folder, the layout, and every file's path, size and modification time: any
//! change to the folder gives a new key. A corrupt or unreadable cache entry is ignored.
use super::dataset::Dataset;
use super::folder::{self, FolderLayout, Scan};
use super::pixels::Pixels;
use crate::progress::Progress;
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

// 3: pixels first (memory-mapped in place), the JSON header and its length after them, the
// magic last. (2: transparent pixels composited on white; 1 dropped alpha.)
const MAGIC: &[u8; 10] = b"ICICLEDS3\n";

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
    h.update(
        format!(
            "{}x{}x{:?}x{:?}",
            layout.height, layout.width, layout.channels, layout.labels
        )
        .as_bytes(),
    );
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

/// Writes `ds` (pixels in memory) as a cache file.
pub fn store(path: &Path, ds: &Dataset) -> Result<()> {
    crate::atomic::write_with(path, |w| {
        w.write_all(&ds.pixels)?;
        write_tail(w, ds)
    })
}

fn write_tail(w: &mut dyn Write, ds: &Dataset) -> Result<()> {
    let header = serde_json::to_vec(ds)?;
    w.write_all(&header)?;
    w.write_all(&(header.len() as u64).to_le_bytes())?;
    w.write_all(MAGIC)?;
    Ok(())
}

/// A write to the cache file failed (as opposed to the decoding itself).
#[derive(Debug)]
pub struct CacheWriteError(pub std::io::Error);

impl std::fmt::Display for CacheWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write the decode cache: {}", self.0)
    }
}

impl std::error::Error for CacheWriteError {}

/// Decodes the folder straight into the cache file at `path` (a round of images in memory at
/// a time) and returns the dataset mapped from it. A failed write is a `CacheWriteError`
/// (the caller may decode into memory instead); a temporary file is never left behind.
pub fn decode_to(
    path: &Path,
    scan: &Scan,
    name: &str,
    layout: FolderLayout,
    progress: &Progress,
) -> Result<Dataset> {
    let io = |e: std::io::Error| anyhow::Error::new(CacheWriteError(e));
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    let (ds, collapse) = {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        let r = folder::decode_with(scan, name, layout, progress, &mut |px| {
            w.write_all(px).map_err(io)
        })?;
        w.flush().map_err(io)?;
        r
    };
    let tmp = if collapse {
        // No image had colour: keep the first of the three equal planes of each.
        let mut gray = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        {
            let plane = ds.height * ds.width;
            let mut r = std::io::BufReader::new(std::fs::File::open(tmp.path()).map_err(io)?);
            let mut w = std::io::BufWriter::new(gray.as_file_mut());
            let mut rgb = vec![0u8; 3 * plane];
            for _ in 0..ds.len() {
                r.read_exact(&mut rgb).map_err(io)?;
                w.write_all(&rgb[..plane]).map_err(io)?;
            }
            w.flush().map_err(io)?;
        }
        gray
    } else {
        tmp
    };
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        write_tail(&mut w, &ds).map_err(|e| match e.downcast::<std::io::Error>() {
            Ok(e) => io(e),
            Err(e) => e,
        })?;
        w.flush().map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    let mut mapped = fetch(path)?;
    mapped.name = name.to_string();
    Ok(mapped)
}

/// A cache file, its pixels mapped (not read) and checked against its header.
pub fn fetch(path: &Path) -> Result<Dataset> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Safety: cache files are written under a temporary name and renamed into place, never
    // modified afterwards; a file replaced meanwhile keeps its old contents mapped.
    let map = unsafe { memmap2::Mmap::map(&file) }
        .with_context(|| format!("cannot map {}", path.display()))?;
    let n = map.len();
    if n < MAGIC.len() + 8 || &map[n - MAGIC.len()..] != MAGIC {
        bail!("{} is not a dataset cache file", path.display());
    }
    let hlen_at = n - MAGIC.len() - 8;
    let hlen = u64::from_le_bytes(map[hlen_at..hlen_at + 8].try_into().expect("8 bytes")) as usize;
    if hlen > hlen_at {
        bail!("{} is truncated", path.display());
    }
    let body = hlen_at - hlen;
    let mut ds: Dataset = serde_json::from_slice(&map[body..hlen_at])
        .with_context(|| format!("{} has a corrupt header", path.display()))?;
    ds.pixels = Pixels::Mapped {
        map: std::sync::Arc::new(map),
        path: path.to_path_buf(),
        len: body,
    };
    ds.check()
        .with_context(|| format!("{} is inconsistent", path.display()))?;
    Ok(ds)
}
