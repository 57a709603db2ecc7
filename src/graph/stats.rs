//! What a k-NN graph looks like: size, degrees and, with labels, how pure its edges are.
use super::adjacency::Adjacency;
use super::knn::Knn;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphStats {
    pub k: usize,
    pub nodes: usize,
    pub directed_edges: usize,
    pub undirected_edges: usize,
    pub mean_degree: f64,
    pub max_degree: usize,
    /// Share of directed k-NN edges that join two items of the same class.
    pub purity: Option<f64>,
}

/// Share of the directed k-NN edges i→j with label(i) = label(j).
pub fn edge_purity(knn: &Knn, labels: &[i64]) -> f64 {
    let same = (0..knn.n)
        .map(|i| {
            knn.of(i)
                .iter()
                .filter(|&&j| labels[j as usize] == labels[i])
                .count()
        })
        .sum::<usize>();
    same as f64 / (knn.n * knn.k) as f64
}

/// Each item's class by a vote of its k-NN neighbours' labels (itself left out; ties go to the
/// smaller class; `None` for an item whose neighbours are all unlabelled or out of range). With
/// the true labels it is the most that any spreading over this graph could recover: a person
/// who had corrected every neighbour of an image would move it no further than this.
pub fn neighbour_vote(knn: &Knn, labels: &[i64], classes: usize) -> Vec<Option<usize>> {
    let mut votes = vec![0usize; classes];
    (0..knn.n)
        .map(|i| {
            votes.iter_mut().for_each(|v| *v = 0);
            for &j in knn.of(i) {
                let c = labels.get(j as usize).copied().unwrap_or(-1);
                if j as usize != i && (0..classes as i64).contains(&c) {
                    votes[c as usize] += 1;
                }
            }
            // First maximum: the smaller class wins a tie.
            let best = (0..classes).rev().max_by_key(|&c| votes[c])?;
            (votes[best] > 0).then_some(best)
        })
        .collect()
}

pub fn graph_stats(knn: &Knn, adj: &Adjacency, labels: Option<&[i64]>) -> GraphStats {
    GraphStats {
        k: knn.k,
        nodes: knn.n,
        directed_edges: knn.n * knn.k,
        undirected_edges: adj.undirected_edges,
        mean_degree: adj.degrees.iter().sum::<usize>() as f64 / adj.n.max(1) as f64,
        max_degree: adj.degrees.iter().copied().max().unwrap_or(0),
        purity: labels.map(|l| edge_purity(knn, l)),
    }
}
