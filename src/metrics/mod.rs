//! Clustering metrics: one implementation used by the CLI, the GUI and the tests.
mod cases;
mod confidence;
mod confusion;
mod contingency;
pub mod label_free;
mod matching;
mod scores;

pub use cases::{ClusterCases, cluster_cases};
pub use confidence::confidence;
pub use confusion::Confusion;
pub use contingency::Contingency;
pub use label_free::LabelFree;
pub use matching::{Matching, best_matching, match_clusters};
pub use scores::{ari, nmi};

use anyhow::Result;
use serde::{Deserialize, Serialize};

/// ACC, NMI and ARI of one clustering against ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub acc: f64,
    pub nmi: f64,
    pub ari: f64,
}

/// Everything that is known about a clustering once the labels are known.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub scores: Scores,
    pub table: Contingency,
    pub matching: Matching,
    pub confusion: Confusion,
}

impl Evaluation {
    pub fn new(pred: &[i64], truth: &[i64], clusters: usize, classes: usize) -> Result<Self> {
        let table = Contingency::new(pred, truth, clusters, classes)?;
        let matching = best_matching(&table);
        let scores = Scores {
            acc: matching.matched as f64 / table.n as f64,
            nmi: nmi(&table),
            ari: ari(&table),
        };
        let confusion = Confusion::aligned(&table, &matching);
        Ok(Self {
            scores,
            table,
            matching,
            confusion,
        })
    }
}

/// Just the three numbers.
pub fn scores(pred: &[i64], truth: &[i64], clusters: usize, classes: usize) -> Result<Scores> {
    Ok(Evaluation::new(pred, truth, clusters, classes)?.scores)
}
