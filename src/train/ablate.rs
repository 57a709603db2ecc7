//! The paper's ablations (Tables 4–6) on any data: the full method and its variants without the
//! instance loss, without the cluster loss, without the GCN and with a single graph scale.
//! Variants that change only stage 2 reuse the full run's stage 1 (its folder is copied without
//! the stage-2 checkpoint and resumed with the switch set). Each variant is an ordinary run
//! folder under the output folder; the table is also written as ablations.csv.
use super::run::{Stop, run};
use crate::config::Config;
use crate::data::Dataset;
use crate::messages::{Command, Event, Job};
use crate::metrics::{LabelFree, Scores};
use anyhow::{Context, Result};
use crossbeam_channel::Receiver;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// (folder name, what the paper calls it, the config switch; "" = the full method).
pub const VARIANTS: [(&str, &str, &str); 5] = [
    ("full", "full method", ""),
    (
        "no-instance-loss",
        "without the instance loss (Table 4)",
        "no_instance_loss",
    ),
    (
        "no-cluster-loss",
        "without the cluster loss (Table 4)",
        "no_cluster_loss",
    ),
    ("no-gcn", "without the GCNs (Table 5)", "no_gcn"),
    (
        "single-scale",
        "single graph scale (Table 6)",
        "single_scale",
    ),
];

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct AblationRow {
    pub variant: &'static str,
    pub description: &'static str,
    pub dir: PathBuf,
    pub scores: Option<Scores>,
    pub label_free: LabelFree,
    pub seconds: f64,
    /// Stage 1 came from the full run.
    pub shared_stage1: bool,
}

/// Whether a switch changes stage 2 only (so the full run's stage 1 serves it).
fn stage2_only(switch: &str) -> bool {
    matches!(switch, "no_gcn" | "single_scale")
}

fn with_switch(cfg: &Config, switch: &str) -> Config {
    let mut c = cfg.clone();
    match switch {
        "no_instance_loss" => c.no_instance_loss = true,
        "no_cluster_loss" => c.no_cluster_loss = true,
        "no_gcn" => c.no_gcn = true,
        "single_scale" => c.single_scale = true,
        _ => {}
    }
    c
}

/// Copies a finished run's folder without its stage-2 checkpoint, for a stage-2 variant.
fn copy_stage1(from: &Path, to: &Path) -> Result<()> {
    let ck = to.join("checkpoints");
    std::fs::create_dir_all(&ck).with_context(|| format!("cannot create {}", ck.display()))?;
    let src = from.join("config.toml");
    std::fs::copy(&src, to.join("config.toml"))
        .with_context(|| format!("cannot copy {} to {}", src.display(), to.display()))?;
    let src = super::checkpoint::path(from, "stage1");
    std::fs::copy(&src, super::checkpoint::path(to, "stage1"))
        .with_context(|| format!("cannot copy {}", src.display()))?;
    Ok(())
}

/// Trains every variant on `ds` into `out/<variant>`, in order; `emit(variant, event)` sees
/// every event of every run; a `Cancel` on `rx` stops the variant in progress and the rest.
#[allow(clippy::too_many_arguments)]
pub fn ablate(
    ds: Arc<Dataset>,
    record: &crate::rundir::DataRecord,
    cfg: &Config,
    out: &Path,
    feature_cache: Option<PathBuf>,
    rx: &Receiver<Command>,
    emit: &dyn Fn(&'static str, Event),
    mut on_row: impl FnMut(&AblationRow),
) -> std::result::Result<Vec<AblationRow>, Stop> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let full_dir = out.join(VARIANTS[0].0);
    let mut rows = vec![];
    for (variant, description, switch) in VARIANTS {
        let dir = out.join(variant);
        let shared = stage2_only(switch);
        if shared {
            copy_stage1(&full_dir, &dir)?;
        } else {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        // So the app can reopen each variant like any run.
        record.write(&dir)?;
        let job = Job {
            dataset: ds.clone(),
            config: with_switch(cfg, switch),
            run_dir: dir.clone(),
            resume: shared,
            feature_cache: feature_cache.clone(),
            correct_from: None,
        };
        let r = run(&job, rx, &|e| emit(variant, e))?;
        let row = AblationRow {
            variant,
            description,
            dir,
            scores: r.scores,
            label_free: r.label_free,
            seconds: r.wall_seconds,
            shared_stage1: shared,
        };
        on_row(&row);
        rows.push(row);
    }
    write_csv(&out.join("ablations.csv"), &rows)?;
    Ok(rows)
}

/// ablations.csv: one row per variant, labelled scores where there are labels.
pub fn write_csv(path: &Path, rows: &[AblationRow]) -> Result<()> {
    crate::atomic::write_with(path, |w| {
        writeln!(
            w,
            "variant,acc,nmi,ari,silhouette,modularity_b,head_agreement,seconds,stage1_from_full"
        )?;
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
        for r in rows {
            writeln!(
                w,
                "{},{},{},{},{:.6},{},{},{:.1},{}",
                r.variant,
                opt(r.scores.map(|s| s.acc)),
                opt(r.scores.map(|s| s.nmi)),
                opt(r.scores.map(|s| s.ari)),
                r.label_free.silhouette,
                opt(r.label_free.modularity_b),
                opt(r.label_free.head_agreement),
                r.seconds,
                r.shared_stage1
            )?;
        }
        Ok(())
    })
}
