use super::data_args::{self, DataArgs};
use super::progress_bar;
use crate::baseline;
use crate::runtime::DeviceChoice;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of clusters K (default: the dataset's number of classes).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..))]
    pub clusters: Option<u32>,
    /// Run directory for assignments.csv, metrics.json and confusion.csv
    /// (default: runs/<dataset>-baseline-<time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// What K-means clusters: the pixels, or the frozen EfficientNet-Lite0's features of each
    /// image (test view, L2-normalised) at `--tap` and `--side`.
    #[arg(long, value_enum, default_value_t = BaselineFeatures::Pixels)]
    pub features: BaselineFeatures,
    /// EfficientNet-Lite0 feature tap for `--features pretrained`: 0 = head, 1..=16 = block.
    #[arg(long, default_value_t = 0)]
    pub tap: usize,
    /// Side the images are resized to for `--features pretrained`.
    #[arg(long, default_value_t = 224)]
    pub side: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BaselineFeatures {
    Pixels,
    Pretrained,
}

/// The features K-means runs on, and their name for messages.
fn features(
    a: &BaselineArgs,
    ds: &crate::data::Dataset,
    device: tch::Device,
) -> Result<(tch::Tensor, String)> {
    match a.features {
        BaselineFeatures::Pixels => Ok((ds.pixel_features(device), "pixels".into())),
        BaselineFeatures::Pretrained => {
            use crate::train::frozen;
            let (x, cfg) = frozen::pretrained_features(ds, a.tap, a.side, device)?;
            Ok((x, format!("features of {}", frozen::describe(&cfg))))
        }
    }
}

pub fn run(a: &BaselineArgs) -> Result<()> {
    let device = a.device.resolve()?;
    let ds = a.data.load()?;
    let k = data_args::clusters_or_classes(a.clusters, &ds)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| data_args::default_run_dir(&ds, "-baseline"));
    let started = std::time::Instant::now();
    let (x, what) = features(a, &ds, device)?;
    let feature_secs = started.elapsed().as_secs_f64();
    println!(
        "K-means on {what}: {} ({} images, {}×{}×{}), K = {k}, device {}",
        ds.name,
        ds.len(),
        ds.channels,
        ds.height,
        ds.width,
        crate::runtime::device_name(device)
    );
    let bar = progress_bar::loader();
    let mut result = baseline::run_on(&ds, &x, k, a.seed, device, &bar.progress)?;
    result.wall_seconds += feature_secs;
    bar.finish();
    result
        .write(&out, &ds)
        .with_context(|| format!("cannot write results to {}", out.display()))?;
    match &result.evaluation {
        Some(e) => println!(
            "ACC {:.4}  NMI {:.4}  ARI {:.4}  ({:.1} s)",
            e.scores.acc, e.scores.nmi, e.scores.ari, result.wall_seconds
        ),
        None => println!(
            "no labels: clustered without metrics ({:.1} s)",
            result.wall_seconds
        ),
    }
    println!("results in {}", out.display());
    Ok(())
}
