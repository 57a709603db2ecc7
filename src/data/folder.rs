//! Any folder of images. Class subfolders give ground-truth labels (sorted names → ids); a flat
//! folder, or one with images beside its subfolders, is unlabelled. Files that are not readable
//! images are skipped and listed, never fatal unless nothing is left.
use super::convert;
use super::dataset::{Dataset, Skipped};
use crate::progress::Progress;
use anyhow::{Context, Result, bail};
use image::ImageDecoder as _;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// One file found under the root.
#[derive(Debug, Clone)]
pub struct FoundFile {
    pub rel: String,
    pub abs: PathBuf,
    pub class: Option<String>,
    pub len: u64,
    pub modified_ns: u128,
}

/// The files of a folder, in a stable (sorted) order, and whether they carry labels.
#[derive(Debug, Clone)]
pub struct Scan {
    pub root: PathBuf,
    pub files: Vec<FoundFile>,
    pub labelled: bool,
    /// What the scan could not list (symlink loops, unreadable subfolders, broken links),
    /// with the reason: skipped like unreadable images, never the end of the load.
    pub unlisted: Vec<Skipped>,
}

fn hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// The files under `root` that may be images (others are listed as skipped), and whether
/// their subfolders are labels (`labels`).
pub fn scan(root: &Path, labels: Labels) -> Result<Scan> {
    if !root.exists() {
        bail!("folder {} does not exist", root.display());
    }
    if !root.is_dir() {
        bail!("{} is not a folder", root.display());
    }
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !hidden(e.file_name()));
    let mut unlisted = Vec::new();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // The root itself unreadable is fatal; one bad entry under it is not.
                if e.depth() == 0 {
                    return Err(e).with_context(|| format!("cannot list {}", root.display()));
                }
                let path = e
                    .path()
                    .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
                    .unwrap_or_else(|| "?".into());
                let reason = if e.loop_ancestor().is_some() {
                    "symlink loop (points to a folder above it): not followed".to_string()
                } else {
                    format!(
                        "cannot list: {}",
                        e.io_error().map_or(e.to_string(), |io| io.to_string())
                    )
                };
                unlisted.push(Skipped { path, reason });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let rel_path = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let comps: Vec<String> = rel_path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if !looks_like_image(entry.path()) {
            unlisted.push(Skipped {
                path: comps.join("/"),
                reason: "not an image (unknown format)".into(),
            });
            continue;
        }
        let meta = entry.metadata().ok();
        files.push(FoundFile {
            rel: comps.join("/"),
            abs: entry.path().to_path_buf(),
            class: (comps.len() >= 2).then(|| comps[0].clone()),
            len: meta.as_ref().map_or(0, |m| m.len()),
            modified_ns: meta
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos()),
        });
    }
    if files.is_empty() {
        match unlisted.len() {
            0 => bail!("folder {} contains no files", root.display()),
            n => bail!(
                "no readable images in {}: all {n} files were skipped (first: {}: {})",
                root.display(),
                unlisted[0].path,
                unlisted[0].reason
            ),
        }
    }
    let mut classes: Vec<&str> = files.iter().filter_map(|f| f.class.as_deref()).collect();
    classes.sort_unstable();
    classes.dedup();
    let labelled = match labels {
        Labels::None => false,
        Labels::Subfolders => true,
        Labels::Auto => {
            files.iter().all(|f| f.class.is_some())
                && classes.len() >= 2
                && !classes.iter().all(|c| date_like(c))
        }
    };
    if labelled {
        // Only with `subfolders`: images beside the class folders have no class.
        let (inside, outside): (Vec<FoundFile>, Vec<FoundFile>) =
            files.into_iter().partition(|f| f.class.is_some());
        unlisted.extend(outside.into_iter().map(|f| Skipped {
            path: f.rel,
            reason: "outside the class subfolders (labels = subfolders)".into(),
        }));
        files = inside;
        if files.is_empty() {
            bail!(
                "{}: labels = subfolders, but no image is in a subfolder",
                root.display()
            );
        }
    }
    Ok(Scan {
        root: root.to_path_buf(),
        files,
        labelled,
        unlisted,
    })
}

/// Whether a folder's class subfolders are ground-truth labels.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Labels {
    /// Labelled when every image is in a subfolder, there are at least two, and they are not
    /// named like dates (an album's `2023/`, `2024-07/` are not classes).
    #[default]
    Auto,
    /// The first subfolder level is the class; images outside any subfolder are skipped.
    Subfolders,
    /// Never labelled, whatever the subfolders.
    None,
}

impl Labels {
    pub fn name(self) -> &'static str {
        match self {
            Labels::Auto => "auto",
            Labels::Subfolders => "subfolders",
            Labels::None => "none",
        }
    }
}

/// A folder name like a date or a year (`2023`, `2023-07`, `2023_07_14`, `1999 summer` is not).
fn date_like(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 4
        && (name.starts_with("19") || name.starts_with("20"))
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4..]
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.' | b' '))
}

/// An image by its extension, or, without a known one, by its first bytes (a README,
/// COPYRIGHT, Thumbs.db or desktop.ini is not).
fn looks_like_image(path: &Path) -> bool {
    if image::ImageFormat::from_path(path).is_ok() || super::heif::extension(path) {
        return true;
    }
    let mut head = [0u8; 32];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    n > 0 && (image::guess_format(&head[..n]).is_ok() || super::heif::sniff(&head[..n]))
}

/// How to lay out a folder's images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderLayout {
    /// Pixels; `AUTO` (0) on both decides from the files (`auto_side`).
    pub height: usize,
    pub width: usize,
    /// 1 or 3; `None` picks 3 when any image has colour, else 1.
    pub channels: Option<usize>,
    /// Whether class subfolders are labels.
    pub labels: Labels,
}

/// A layout side that is decided from the files (`auto_side`).
pub const AUTO: usize = 0;
/// Under `AUTO`, images no larger than this keep their own side (digits 8, MNIST 28, emoji
/// 64): a small CNN trains at it, and blowing them up would only cost time.
pub const KEEP_UP_TO: usize = 64;
/// Files whose headers `auto_side` reads, spread evenly over the folder.
const PROBE_FILES: usize = 256;

/// The side a folder is decoded at under `AUTO`: the largest side of its images when none is
/// above `KEEP_UP_TO`, else `large` (the pretrained backbone's input side: larger images are
/// decoded straight to it, never small and blown up). Reads headers only, of up to
/// `PROBE_FILES` files; a file whose size cannot be read from its header (HEIC) counts as large.
pub fn auto_side(scan: &Scan, large: usize) -> usize {
    let n = scan.files.len();
    let step = n.div_ceil(PROBE_FILES).max(1);
    let mut side = 0;
    for f in scan.files.iter().step_by(step) {
        let dims = image::ImageReader::open(&f.abs)
            .and_then(|r| r.with_guessed_format())
            .ok()
            .and_then(|r| r.into_dimensions().ok());
        match dims {
            Some((w, h)) => side = side.max(w.max(h) as usize),
            None => return large,
        }
        if side > KEEP_UP_TO {
            return large;
        }
    }
    if side == 0 { large } else { side }
}

/// Files decoded per round: memory holds one round's images, whatever the folder's size.
const ROUND: usize = 1024;

/// Decodes every file of `scan` into memory (never on a UI thread: callers run this on a
/// worker). Folders loaded with a decode cache stream to the cache file instead
/// (`cache::decode_to`).
pub fn decode(
    scan: &Scan,
    name: &str,
    layout: FolderLayout,
    progress: &Progress,
) -> Result<Dataset> {
    let mut pixels = Vec::new();
    let (mut ds, collapse) = decode_with(scan, name, layout, progress, &mut |px| {
        pixels.extend_from_slice(px);
        Ok(())
    })?;
    if collapse {
        let rgb = 3 * ds.height * ds.width;
        pixels = pixels
            .chunks_exact(rgb)
            .flat_map(convert::rgb_planes_to_gray)
            .collect();
    }
    ds.pixels = pixels.into();
    ds.check()?;
    Ok(ds)
}

/// Decodes every file of `scan` in parallel, a round of files at a time, and hands each
/// readable image's pixels (C×H×W; three planes unless gray was asked for) to `sink` in file
/// order. Returns the dataset without its pixels, and whether the planes handed over are
/// colour that must become gray (no image had colour and channels were left to choose).
pub fn decode_with(
    scan: &Scan,
    name: &str,
    layout: FolderLayout,
    progress: &Progress,
    sink: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<(Dataset, bool)> {
    let (h, w) = (layout.height, layout.width);
    // Decode to RGB unless gray was asked for; colour is collapsed later if no image had any.
    let decode_channels = layout.channels.unwrap_or(3);
    let total = scan.files.len();
    let done = AtomicUsize::new(0);
    progress.report("decoding images", 0, total);
    let mut skipped = scan.unlisted.clone();
    let mut kept: Vec<usize> = Vec::with_capacity(total);
    let mut any_colour = false;
    for start in (0..total).step_by(ROUND) {
        let end = (start + ROUND).min(total);
        let results: Vec<std::result::Result<(Vec<u8>, bool), String>> = scan.files[start..end]
            .par_iter()
            .map(|f| {
                let r = decode_one(&f.abs, f.len, (w as u32, h as u32)).map(|img| {
                    (
                        convert::to_chw(&img, h, w, decode_channels),
                        img.color().has_color(),
                    )
                });
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d.is_multiple_of(64) || d == total {
                    progress.report("decoding images", d, total);
                }
                r
            })
            .collect();
        for (i, r) in (start..end).zip(results) {
            match r {
                Ok((px, colour)) => {
                    any_colour |= colour;
                    sink(&px)?;
                    kept.push(i);
                }
                Err(reason) => skipped.push(Skipped {
                    path: scan.files[i].rel.clone(),
                    reason,
                }),
            }
        }
    }
    if kept.is_empty() {
        let first = skipped
            .first()
            .map(|s| format!(" (first: {}: {})", s.path, s.reason))
            .unwrap_or_default();
        bail!(
            "no readable images in {}: all {} files were skipped{first}",
            scan.root.display(),
            skipped.len()
        );
    }
    let channels = layout.channels.unwrap_or(if any_colour { 3 } else { 1 });
    let collapse = channels != decode_channels;
    let items: Vec<String> = kept.iter().map(|&i| scan.files[i].rel.clone()).collect();
    let (labels, class_names) = if scan.labelled {
        let mut names: Vec<String> = kept
            .iter()
            .filter_map(|&i| scan.files[i].class.clone())
            .collect();
        names.sort();
        names.dedup();
        let labels = kept
            .iter()
            .map(|&i| {
                let c = scan.files[i].class.as_ref().expect("labelled scan");
                names.binary_search(c).expect("name collected above") as i64
            })
            .collect();
        (Some(labels), names)
    } else {
        (None, Vec::new())
    };
    let ds = Dataset {
        name: name.to_string(),
        root: Some(scan.root.clone()),
        items,
        height: h,
        width: w,
        channels,
        pixels: Default::default(),
        labels,
        class_names,
        skipped,
    };
    Ok((ds, collapse))
}

/// One file as an upright image, decoded no larger than needed for `target` (w, h) where the
/// format allows (JPEG: DCT scaling).
fn decode_one(
    path: &Path,
    len: u64,
    target: (u32, u32),
) -> std::result::Result<image::DynamicImage, String> {
    if len == 0 {
        return Err("empty file (0 bytes)".into());
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot open: {e}"))?;
    if super::heif::sniff(&bytes) {
        return super::heif::decode(&bytes);
    }
    let reader = image::ImageReader::new(std::io::Cursor::new(&bytes[..]))
        .with_guessed_format()
        .map_err(|e| format!("cannot read: {e}"))?;
    let cannot = |e: image::ImageError| format!("cannot decode: {e}");
    match reader.format() {
        None => return Err("not an image (unknown format)".into()),
        Some(image::ImageFormat::Jpeg) => {
            // Phone photos are stored sideways with an EXIF tag saying how to turn them; a
            // quarter turn swaps which side must reach the target's width.
            let orientation =
                image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&bytes[..]))
                    .and_then(|mut d| d.orientation())
                    .unwrap_or(image::metadata::Orientation::NoTransforms);
            use image::metadata::Orientation::*;
            let (tw, th) = match orientation {
                Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH => (target.1, target.0),
                _ => target,
            };
            // A file libjpeg-turbo declines is decoded in full below (CMYK, oddities).
            if let Ok(Some(mut img)) = super::jpeg::decode_scaled(&bytes, tw, th) {
                img.apply_orientation(orientation);
                return Ok(img);
            }
        }
        Some(_) => {}
    }
    let mut decoder = reader.into_decoder().map_err(cannot)?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    // The same memory limit as `ImageReader::decode` (a header claiming 100000×100000).
    image::Limits::default()
        .reserve(decoder.total_bytes())
        .map_err(cannot)?;
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(cannot)?;
    img.apply_orientation(orientation);
    Ok(img)
}
