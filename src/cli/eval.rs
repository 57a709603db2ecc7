//! `icicle eval DIR`: recompute a run's metrics from its assignments.csv: ACC/NMI/ARI where
//! it has labels, and the label-free scores from its features.npy and its k-NN graphs
//! (graph_a.npy and graph_b.npy; rebuilt from the features in runs saved before them).
use crate::graph::{self, Adjacency};
use crate::metrics::Evaluation;
use crate::metrics::label_free::{LabelFree, LabelFreeInput};
use crate::progress::Progress;
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
    let label_col = col("label");
    let (mut clusters, mut names) = (vec![], vec![]);
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let num = |c: usize, what: &str| {
            rec[c].parse::<f64>().with_context(|| {
                format!(
                    "{}: row {}: {what} '{}' is not a number",
                    path.display(),
                    i + 2,
                    &rec[c]
                )
            })
        };
        clusters.push(num(cluster_col, "cluster")? as i64);
        if let Some(l) = label_col {
            names.push(rec[l].to_string());
        }
    }
    if clusters.is_empty() {
        bail!("{} has no rows", path.display());
    }
    let k = (*clusters.iter().max().expect("non-empty") + 1).max(2) as usize;
    println!(
        "{}: {} items, {} clusters used",
        a.dir.display(),
        clusters.len(),
        k
    );
    if label_col.is_some() {
        let mut classes = names.clone();
        classes.sort();
        classes.dedup();
        let labels: Vec<i64> = names
            .iter()
            .map(|n| classes.binary_search(n).expect("collected") as i64)
            .collect();
        let e = Evaluation::new(&clusters, &labels, k, classes.len())?;
        println!(
            "{} classes: ACC {:.4}  NMI {:.4}  ARI {:.4}",
            classes.len(),
            e.scores.acc,
            e.scores.nmi,
            e.scores.ari
        );
    }
    let npy = a.dir.join("features.npy");
    if !npy.is_file() {
        if label_col.is_none() {
            bail!(
                "{}: no label column and no features.npy, so there is nothing to score",
                path.display()
            );
        }
        return Ok(());
    }
    let (v, cols) = crate::rundir::read_features(&npy, clusters.len())?;
    let rows = clusters.len();
    // The run's own graph scales and seed, when it has a config.
    let cfg = std::fs::read_to_string(a.dir.join("config.toml"))
        .ok()
        .and_then(|t| crate::config::Config::from_toml(&t).ok());
    let (k_a, k_b, seed) = cfg.as_ref().map_or((1, 10, 42), |c| (c.k_a, c.k_b, c.seed));
    let k = cfg.as_ref().map_or(k, |c| c.clusters.max(k));
    let x = tch::Tensor::from_slice(&v).view([rows as i64, cols as i64]);
    // The run's own graphs where it saved them: they may not be the features' (a run with
    // `graph_features = fused` or `pixels` built them elsewhere).
    let graph_of = |kk: usize, saved: &str| -> Result<graph::Knn> {
        let file = a.dir.join(saved);
        if file.is_file() {
            crate::rundir::read_neighbours(&file, rows)
        } else {
            graph::knn(&x, kk.min(rows - 1), &Progress::none())
        }
    };
    let (knn_a, knn_b) = (graph_of(k_a, "graph_a.npy")?, graph_of(k_b, "graph_b.npy")?);
    let (ga, gb) = (
        Adjacency::from_knn(&knn_a, graph::Normalization::Row),
        Adjacency::from_knn(&knn_b, graph::Normalization::Row),
    );
    // Read off the clusters as they are in the file (which may have been edited), as a run does.
    let confidence = crate::metrics::confidence(&x, &clusters, k, &knn_b);
    let lf = LabelFree::new(&LabelFreeInput {
        features: &x,
        clusters: &clusters,
        confidence: &confidence,
        k,
        graphs: Some((&ga, &gb)),
        heads: None,
        seed,
    });
    println!("label-free (graphs k = {k_a} and {k_b}): {}", lf.line());
    Ok(())
}
