//! The confusion matrix laid out by the matching: row i is class i, and the column facing it
//! is the cluster matched to class i, so a good clustering shows a bright diagonal.
use super::{Contingency, Matching};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// Cluster id of each column: matched clusters in class order, then unmatched ones.
    pub column_clusters: Vec<usize>,
    /// `counts[class][column]`.
    pub counts: Vec<Vec<u64>>,
}

impl Confusion {
    pub fn aligned(table: &Contingency, matching: &Matching) -> Self {
        let mut column_clusters: Vec<usize> = matching
            .class_to_cluster
            .iter()
            .flatten()
            .copied()
            .collect();
        for cluster in 0..table.clusters() {
            if matching.cluster_to_class[cluster].is_none() {
                column_clusters.push(cluster);
            }
        }
        let counts = (0..table.classes())
            .map(|class| {
                column_clusters
                    .iter()
                    .map(|&cl| table.counts[cl][class])
                    .collect()
            })
            .collect();
        Self {
            column_clusters,
            counts,
        }
    }
}
