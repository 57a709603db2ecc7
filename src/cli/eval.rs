//! `icicle eval DIR`: recompute a run's metrics from its assignments.csv.
use crate::metrics::Evaluation;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A run directory (from `icicle train` or `icicle baseline`).
    pub dir: PathBuf,
}

pub fn run(a: &EvalArgs) -> Result<()> {
    let path = a.dir.join("assignments.csv");
    let mut rdr =
        csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let cluster_col =
        col("cluster").with_context(|| format!("{}: no cluster column", path.display()))?;
    let label_col = col("label").with_context(|| {
        format!(
            "{}: no label column, so there is nothing to score against",
            path.display()
        )
    })?;
    let (mut clusters, mut names) = (vec![], vec![]);
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let c: i64 = rec[cluster_col].parse().with_context(|| {
            format!(
                "{}: row {}: cluster '{}' is not a number",
                path.display(),
                i + 2,
                &rec[cluster_col]
            )
        })?;
        clusters.push(c);
        names.push(rec[label_col].to_string());
    }
    if clusters.is_empty() {
        bail!("{} has no rows", path.display());
    }
    let mut classes = names.clone();
    classes.sort();
    classes.dedup();
    let labels: Vec<i64> = names
        .iter()
        .map(|n| classes.binary_search(n).expect("collected") as i64)
        .collect();
    let k = (*clusters.iter().max().expect("non-empty") + 1).max(2) as usize;
    let e = Evaluation::new(&clusters, &labels, k, classes.len())?;
    println!(
        "{}: {} items, {} clusters used, {} classes",
        a.dir.display(),
        clusters.len(),
        k,
        classes.len()
    );
    println!(
        "ACC {:.4}  NMI {:.4}  ARI {:.4}",
        e.scores.acc, e.scores.nmi, e.scores.ari
    );
    Ok(())
}
