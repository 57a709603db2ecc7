//! `icicle ablate`: the full method and the paper's variants (Tables 4–6) on one dataset,
//! stage 1 shared where the variant allows; prints the table and writes ablations.csv.
use super::data_args::{self, DataArgs};
use crate::config::{Config, Preset, apply_override};
use crate::messages::{Event, Stage};
use crate::runtime::DeviceChoice;
use crate::train::Stop;
use crate::train::ablate::{AblationRow, ablate};
use anyhow::{Result, anyhow};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct AblateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of clusters K (default: the dataset's number of classes).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..))]
    pub clusters: Option<u32>,
    #[arg(long, value_enum, default_value_t = Preset::Default)]
    pub preset: Preset,
    /// Change one setting of every variant (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    #[arg(long, value_enum)]
    pub device: Option<DeviceChoice>,
    /// Output folder: one run folder per variant and ablations.csv
    /// (default: runs/<dataset>-ablations-<time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: &AblateArgs) -> Result<()> {
    let ds = Arc::new(a.data.load()?);
    let k = data_args::clusters_or_classes(a.clusters, &ds)?;
    let mut cfg = Config::preset(a.preset, k);
    let cuda = a
        .device
        .unwrap_or_default()
        .resolve()
        .is_ok_and(|d| d.is_cuda());
    for why in crate::config::fit_to_data(&mut cfg, ds.shape(), cuda) {
        println!("default: {why}");
    }
    if let Some(d) = a.device {
        cfg.device = d;
    }
    for s in &a.sets {
        cfg = apply_override(&cfg, s)?;
    }
    cfg.validate(ds.len())?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| data_args::default_run_dir(&ds, "-ablations"));
    println!(
        "ablations of IcicleGCN ({:?} preset) on {} ({} images), K = {k}, into {}",
        cfg.preset,
        ds.name,
        ds.len(),
        out.display()
    );
    let (_tx, rx) = crossbeam_channel::unbounded();
    let rows = ablate(
        ds.clone(),
        &a.data.record(),
        &cfg,
        &out,
        crate::data::cache::default_dir(),
        &rx,
        &|variant, e| {
            if let Event::StageChanged { stage, .. } = e {
                let name = match stage {
                    Stage::Extract => "extracting features",
                    Stage::One => "stage 1",
                    Stage::Graphs => "graphs",
                    Stage::Two => "stage 2",
                };
                println!("[{variant}] {name}");
            }
        },
        |r| println!("[{}] done: {}", r.variant, row_text(r)),
    )
    .map_err(|s| match s {
        Stop::Failed(e) => e,
        Stop::Cancelled { .. } => anyhow!("cancelled"),
    })?;
    println!();
    println!(
        "{:<18} {:<40} {:>6} {:>6} {:>6} {:>10} {:>7}",
        "variant", "", "ACC", "NMI", "ARI", "silhouette", "time"
    );
    for r in &rows {
        let f = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
        println!(
            "{:<18} {:<40} {:>6} {:>6} {:>6} {:>10.3} {:>6.0}s{}",
            r.variant,
            r.description,
            f(r.scores.map(|s| s.acc)),
            f(r.scores.map(|s| s.nmi)),
            f(r.scores.map(|s| s.ari)),
            r.label_free.silhouette,
            r.seconds,
            if r.shared_stage1 {
                " (stage 1 of full)"
            } else {
                ""
            }
        );
    }
    println!("table in {}", out.join("ablations.csv").display());
    Ok(())
}

fn row_text(r: &AblationRow) -> String {
    match r.scores {
        Some(s) => format!(
            "ACC {:.4} NMI {:.4} ARI {:.4}, silhouette {:.3} ({:.0} s)",
            s.acc, s.nmi, s.ari, r.label_free.silhouette, r.seconds
        ),
        None => format!(
            "silhouette {:.3} ({:.0} s)",
            r.label_free.silhouette, r.seconds
        ),
    }
}
