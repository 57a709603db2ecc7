//! Per-cluster case lists, as in the paper's Fig. 4: for the class a cluster is matched to,
//! the items it got right, the items of that class it missed, and the intruders it took in.
use super::Matching;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterCases {
    pub cluster: usize,
    /// The class this cluster is matched to; `None` when K exceeds the number of classes.
    pub class: Option<usize>,
    /// Items of the matched class placed in this cluster.
    pub successes: Vec<usize>,
    /// Items of the matched class placed in another cluster.
    pub false_negatives: Vec<usize>,
    /// Items of other classes placed in this cluster (all of its items when unmatched).
    pub false_positives: Vec<usize>,
}

/// Builds every cluster's lists; each list is sorted by confidence, most confident first
/// (ties by item index, so the order is reproducible).
pub fn cluster_cases(
    pred: &[i64],
    truth: &[i64],
    confidence: &[f32],
    matching: &Matching,
) -> Vec<ClusterCases> {
    let k = matching.cluster_to_class.len();
    let mut out: Vec<ClusterCases> = (0..k)
        .map(|cluster| ClusterCases {
            cluster,
            class: matching.cluster_to_class[cluster],
            successes: vec![],
            false_negatives: vec![],
            false_positives: vec![],
        })
        .collect();
    for (i, (&p, &t)) in pred.iter().zip(truth).enumerate() {
        let (p, t) = (p as usize, t as usize);
        if matching.cluster_to_class[p] == Some(t) {
            out[p].successes.push(i);
        } else {
            out[p].false_positives.push(i);
            if let Some(home) = matching.class_to_cluster[t] {
                out[home].false_negatives.push(i);
            }
        }
    }
    let by_confidence = |a: &usize, b: &usize| {
        confidence[*b]
            .partial_cmp(&confidence[*a])
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(b))
    };
    for c in &mut out {
        c.successes.sort_by(by_confidence);
        c.false_negatives.sort_by(by_confidence);
        c.false_positives.sort_by(by_confidence);
    }
    out
}
