//! `icicle ablate`: the full method and the paper's variants (Tables 4–6) on one dataset,
//! stage 1 shared where the variant allows; prints the table and writes ablations.csv.
use super::data_args::{self, DataArgs};
use super::train::RunSettings;
use crate::messages::{Event, Stage};
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
    /// K, preset, `--set` and device, as for `icicle train`; they apply to every variant.
    #[command(flatten)]
    pub settings: RunSettings,
    /// Output folder: one run folder per variant and ablations.csv
    /// (default: runs/<dataset>-ablations-<time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: &AblateArgs) -> Result<()> {
    let ds = Arc::new(a.data.load()?);
    let cfg = a.settings.fresh_config(&ds)?;
    let cfg = a.settings.apply(cfg, ds.len())?;
    let k = cfg.clusters;
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
