//! Datasets: the registry (datasets.toml), the embedded sets, IDX files and image folders,
//! all loaded into one in-memory `Dataset`.
pub mod cache;
pub mod cache_budget;
pub mod convert;
mod dataset;
pub mod embedded;
pub mod folder;
mod heif;
pub mod idx;
pub mod jpeg;
pub mod pixels;
pub mod registry;

pub use crate::progress::Progress;
pub use dataset::{Dataset, Skipped};
pub use folder::FolderLayout;
pub use registry::{DatasetEntry, Registry, Source};

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Where decoded folders are cached; `None` turns the cache off.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub cache_dir: Option<PathBuf>,
}

impl LoadOptions {
    /// The user's cache folder (see `cache::default_dir`).
    pub fn with_default_cache() -> Self {
        Self {
            cache_dir: cache::default_dir(),
        }
    }
}

/// Loads a registry entry.
pub fn load_entry(
    entry: &DatasetEntry,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<Dataset> {
    if let Err(why) = entry.availability() {
        bail!("dataset \"{}\" is not available here: {why}", entry.name);
    }
    let mut ds = match &entry.source {
        Source::Embedded(key) => {
            let e = embedded::get(key).with_context(|| format!("no embedded asset {key}"))?;
            progress.report("unpacking", 0, 1);
            let images = idx::parse(e.images).with_context(|| format!("embedded {key} images"))?;
            let labels = idx::parse(e.labels).with_context(|| format!("embedded {key} labels"))?;
            let ds = from_idx(&entry.name, vec![(images, labels)], entry)?;
            progress.report("unpacking", 1, 1);
            ds
        }
        Source::Idx(parts) => {
            let mut arrays = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                progress.report("reading IDX files", i, parts.len());
                arrays.push((idx::read_file(&p.images)?, idx::read_file(&p.labels)?));
            }
            progress.report("reading IDX files", parts.len(), parts.len());
            from_idx(&entry.name, arrays, entry)
                .with_context(|| format!("dataset \"{}\"", entry.name))?
        }
        Source::Folder(path) => {
            let layout = FolderLayout {
                height: entry.image_size.0,
                width: entry.image_size.1,
                channels: Some(entry.channels),
                labels: folder::Labels::Auto,
            };
            load_folder(path, &entry.name, layout, opts, progress)?
        }
    };
    if ds.labels.is_some()
        && !entry.class_names.is_empty()
        && matches!(entry.source, Source::Embedded(_) | Source::Idx(_))
    {
        ds.class_names = entry.class_names.clone();
    }
    ds.check()?;
    Ok(ds)
}

/// Loads a folder of images, through the decode cache when one is configured.
pub fn load_folder(
    root: &Path,
    name: &str,
    layout: FolderLayout,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<Dataset> {
    progress.report("scanning folder", 0, 0);
    let scan = folder::scan(root, layout.labels)?;
    let mut layout = layout;
    if layout.height == folder::AUTO || layout.width == folder::AUTO {
        let large = crate::config::frozen_side(tch::Cuda::is_available());
        let side = folder::auto_side(&scan, large);
        (layout.height, layout.width) = (side, side);
    }
    let cached = opts
        .cache_dir
        .as_ref()
        .map(|d| cache::path_for(d, &cache::key(&scan, layout)));
    if let Some(Ok(mut ds)) = cached.as_deref().map(cache::fetch) {
        cache_budget::touch(cached.as_deref().expect("fetched from it"));
        ds.name = name.to_string();
        progress.report("decoding images", ds.len(), ds.len());
        return Ok(ds);
    }
    if let Some(path) = &cached {
        match cache::decode_to(path, &scan, name, layout, progress) {
            Ok(ds) => {
                if let Some(dir) = &opts.cache_dir {
                    cache_budget::after_write(dir, path);
                }
                return Ok(ds);
            }
            // A cache that cannot be written only costs memory and time: decode into memory.
            Err(e) if e.is::<cache::CacheWriteError>() => {
                eprintln!("warning: {e:#}; decoding into memory instead")
            }
            Err(e) => return Err(e),
        }
    }
    folder::decode(&scan, name, layout, progress)
}

/// Concatenates IDX parts (images N×H×W, labels N), resizing to the entry's size if it differs.
fn from_idx(
    name: &str,
    parts: Vec<(idx::IdxArray, idx::IdxArray)>,
    entry: &DatasetEntry,
) -> Result<Dataset> {
    let (h, w) = entry.image_size;
    if entry.channels != 1 {
        bail!(
            "IDX images are gray: channels must be 1, not {}",
            entry.channels
        );
    }
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (images, lab) in parts {
        let (images, lab) = idx::images_and_labels(images, lab)?;
        let (ih, iw) = (images.dims[1], images.dims[2]);
        if (ih, iw) == (h, w) {
            pixels.extend_from_slice(&images.data);
        } else {
            for img in images.data.chunks_exact(ih * iw) {
                pixels.extend(convert::to_chw(&convert::gray_image(img, ih, iw), h, w, 1));
            }
        }
        labels.extend(lab);
    }
    let max_label = labels.iter().copied().max().unwrap_or(0);
    let classes = entry.classes.max(max_label as usize + 1);
    if entry.classes > 0 && max_label as usize >= entry.classes {
        bail!(
            "label {max_label} found, but the registry says classes = {}",
            entry.classes
        );
    }
    let class_names = (0..classes).map(|c| c.to_string()).collect();
    let n = labels.len();
    Ok(Dataset {
        name: name.to_string(),
        root: None,
        items: (0..n).map(|i| format!("#{i}")).collect(),
        height: h,
        width: w,
        channels: 1,
        pixels: pixels.into(),
        labels: Some(labels),
        class_names,
        skipped: vec![],
    })
}
pub mod augment;
