//! "One folder per cluster": copies every image into `<dest>/cluster_NN/`. Originals are only
//! read, never moved; nothing existing is overwritten (the destination must be new or empty).
//! Images from IDX data, which have no files, are written as PNGs from their pixels.
use crate::data::Dataset;
use crate::progress::Progress;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderExport {
    pub dest: PathBuf,
    pub folders: usize,
    pub files: usize,
    /// Items that could not be written, with the reason (e.g. an original that vanished).
    pub failed: Vec<(String, String)>,
}

/// The folder name of cluster `c` among `k`: `cluster_07`, zero-padded so they sort, then the
/// name the person gave it (`cluster_07 sneakers`), made safe for any file system.
pub fn folder_name(c: usize, k: usize, name: &str) -> String {
    let width = k.saturating_sub(1).max(1).to_string().len().max(2);
    let safe: String = name
        .trim()
        .chars()
        .map(|ch| {
            if ch.is_control() || "/\\:*?\"<>|".contains(ch) {
                '_'
            } else {
                ch
            }
        })
        .take(60)
        .collect();
    let safe = safe.trim().trim_matches('.');
    if safe.is_empty() {
        format!("cluster_{c:0width$}")
    } else {
        format!("cluster_{c:0width$} {safe}")
    }
}

pub fn export_cluster_folders(
    ds: &Dataset,
    clusters: &[i64],
    dest: &Path,
    names: &std::collections::BTreeMap<usize, String>,
    progress: &Progress,
) -> Result<FolderExport> {
    let name = |c: usize| names.get(&c).map_or("", |s| s.as_str());
    if clusters.len() != ds.len() {
        bail!("{} items but {} cluster ids", ds.len(), clusters.len());
    }
    if dest.exists() {
        let mut entries =
            std::fs::read_dir(dest).with_context(|| format!("cannot read {}", dest.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: choose a new or empty folder (nothing is overwritten)",
                dest.display()
            );
        }
    }
    let k = clusters
        .iter()
        .map(|&c| c.max(0) as usize + 1)
        .max()
        .unwrap_or(1);
    let mut used = vec![false; k];
    for &c in clusters {
        used[c.max(0) as usize] = true;
    }
    for (c, _) in used.iter().enumerate().filter(|(_, u)| **u) {
        let d = dest.join(folder_name(c, k, name(c)));
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let mut out = FolderExport {
        dest: dest.to_path_buf(),
        folders: used.iter().filter(|u| **u).count(),
        files: 0,
        failed: vec![],
    };
    for (i, &c) in clusters.iter().enumerate() {
        if i % 256 == 0 {
            progress.report("exporting", i, ds.len());
        }
        let folder = dest.join(folder_name(c.max(0) as usize, k, name(c.max(0) as usize)));
        match write_item(ds, i, &folder) {
            Ok(()) => out.files += 1,
            Err(e) => out.failed.push((ds.items[i].clone(), format!("{e:#}"))),
        }
    }
    progress.report("exporting", ds.len(), ds.len());
    Ok(out)
}

/// A file name unique within one cluster folder: the item's relative path with `/` → `__`.
fn target_name(item: &str, fallback_ext: &str) -> String {
    let flat = item.trim_start_matches('#').replace(['/', '\\'], "__");
    if Path::new(&flat).extension().is_some() {
        flat
    } else {
        format!("{flat}.{fallback_ext}")
    }
}

fn write_item(ds: &Dataset, i: usize, folder: &Path) -> Result<()> {
    let item = &ds.items[i];
    match &ds.root {
        Some(root) => {
            let src = root.join(item);
            let dst = folder.join(target_name(item, "img"));
            create_new_copy(&src, &dst)
        }
        None => {
            let dst = folder.join(target_name(&format!("{i:06}"), "png"));
            let img = crate::data::convert::to_image(ds, i);
            let mut bytes = std::io::Cursor::new(Vec::new());
            img.write_to(&mut bytes, image::ImageFormat::Png)?;
            create_new_write(&dst, bytes.get_ref())
        }
    }
}

/// Copies `src` to a `dst` that must not exist yet (create_new: never overwrite).
fn create_new_copy(src: &Path, dst: &Path) -> Result<()> {
    let mut from =
        std::fs::File::open(src).with_context(|| format!("cannot read {}", src.display()))?;
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dst)
        .with_context(|| format!("cannot create {}", dst.display()))?;
    std::io::copy(&mut from, &mut to).with_context(|| format!("cannot write {}", dst.display()))?;
    Ok(())
}

fn create_new_write(dst: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dst)
        .with_context(|| format!("cannot create {}", dst.display()))?;
    to.write_all(bytes)
        .with_context(|| format!("cannot write {}", dst.display()))
}
