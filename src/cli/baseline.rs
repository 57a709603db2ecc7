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
}

pub fn run(a: &BaselineArgs) -> Result<()> {
    let device = a.device.resolve()?;
    let ds = a.data.load()?;
    let k = data_args::clusters_or_classes(a.clusters, &ds)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| data_args::default_run_dir(&ds, "-baseline"));
    println!(
        "K-means on pixels: {} ({} images, {}×{}×{}), K = {k}, device {}",
        ds.name,
        ds.len(),
        ds.channels,
        ds.height,
        ds.width,
        crate::runtime::device_name(device)
    );
    let bar = progress_bar::loader();
    let result = baseline::run(&ds, k, a.seed, device, &bar.progress)?;
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
