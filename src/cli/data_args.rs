//! `--dataset NAME | --folder PATH` and friends, shared by every command that reads images.
use super::progress_bar;
use crate::data::folder::Labels;
use crate::data::{Dataset, LoadOptions, Registry};
use crate::rundir::DataRecord;
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

/// Which images, and how a folder of them is read: the flags every command that reads images
/// shares, `icicle gui` included.
#[derive(Debug, Clone, Args)]
pub struct DataSource {
    /// A dataset from the registry (see `icicle datasets`); without it or --folder, the
    /// registry's default (the app: the data it had open last).
    #[arg(long, conflicts_with = "folder")]
    pub dataset: Option<String>,
    /// Any folder of images; class subfolders give ground-truth labels.
    #[arg(long)]
    pub folder: Option<PathBuf>,
    /// Side (pixels) --folder images are decoded at: auto (images of 64 px or less keep their
    /// side, larger ones go straight to the pretrained backbone's side: 128 on a CPU, 224 on a
    /// GPU), or 4 to 512.
    #[arg(long, default_value = "auto", value_parser = crate::rundir::parse_side)]
    pub size: u32,
    /// Channels for --folder images: auto (colour if any image has colour), 1 or 3.
    #[arg(long, default_value = "auto", value_parser = ["auto", "1", "3"])]
    pub channels: String,
    /// Whether --folder's subfolders are classes: auto (when every image is in one, there are
    /// at least two, and they are not named like dates), subfolders, or none.
    #[arg(long, value_enum, default_value_t = Labels::Auto)]
    pub labels: Labels,
}

impl Default for DataSource {
    /// As with no flags given: nothing named, everything auto.
    fn default() -> Self {
        Self {
            dataset: None,
            folder: None,
            size: 0,
            channels: "auto".into(),
            labels: Labels::Auto,
        }
    }
}

impl DataSource {
    /// The data source these flags name, as a run directory records it; `None` when they name
    /// neither a dataset nor a folder.
    pub fn named(&self) -> Option<DataRecord> {
        (self.dataset.is_some() || self.folder.is_some()).then(|| self.record())
    }

    pub fn record(&self) -> DataRecord {
        DataRecord {
            dataset: self.dataset.clone(),
            folder: self.folder.clone(),
            size: self.size,
            channels: self.channels.clone(),
            labels: self.labels,
        }
    }
}

impl From<DataRecord> for DataSource {
    fn from(r: DataRecord) -> Self {
        Self {
            dataset: r.dataset,
            folder: r.folder,
            size: r.size,
            channels: r.channels,
            labels: r.labels,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    #[command(flatten)]
    pub source: DataSource,
    /// Dataset registry to read instead of ./datasets.toml or the built-in one.
    #[arg(long, value_name = "FILE")]
    pub registry: Option<PathBuf>,
    /// Decode folders afresh instead of using the decoded-image cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl DataArgs {
    pub fn load(&self) -> Result<Dataset> {
        let opts = if self.no_cache {
            LoadOptions::default()
        } else {
            LoadOptions::with_default_cache()
        };
        let progress = progress_bar::loader();
        let registry = Registry::discover(self.registry.as_deref())?;
        let ds = self.record().load(&registry, &opts, &progress.progress)?;
        progress.finish();
        report_skipped(&ds);
        Ok(ds)
    }

    /// The data source these flags name, as a run directory records it.
    pub fn record(&self) -> DataRecord {
        self.source.record()
    }
}

fn report_skipped(ds: &Dataset) {
    if ds.skipped.is_empty() {
        return;
    }
    eprintln!(
        "skipped {} file(s) that are not readable images:",
        ds.skipped.len()
    );
    for s in ds.skipped.iter().take(10) {
        eprintln!("  {}: {}", s.path, s.reason);
    }
    if ds.skipped.len() > 10 {
        eprintln!("  … and {} more", ds.skipped.len() - 10);
    }
}

/// K from `--clusters`, else the dataset's number of classes.
pub fn clusters_or_classes(clusters: Option<u32>, ds: &Dataset) -> Result<usize> {
    match clusters {
        Some(k) => Ok(k as usize),
        None if ds.num_classes() >= 2 => Ok(ds.num_classes()),
        None => bail!(
            "{} has no labels: say how many clusters with --clusters K",
            ds.name
        ),
    }
}

/// `runs/<dataset><suffix>-<local time>`.
pub fn default_run_dir(ds: &Dataset, suffix: &str) -> PathBuf {
    run_dir_under(std::path::Path::new("runs"), ds, suffix)
}

/// `<root>/<dataset><suffix>-<local time>`: where a new run of `ds` goes.
pub fn run_dir_under(root: &std::path::Path, ds: &Dataset, suffix: &str) -> PathBuf {
    root.join(format!(
        "{}{suffix}-{}",
        ds.name,
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    ))
}
