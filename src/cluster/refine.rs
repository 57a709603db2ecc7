//! Merge–split refinement of a partition at fixed K, under modularity on a k-NN graph.
//!
//! A clustering with K fixed often spends one cluster on two halves of one class and merges
//! two classes into another (Fashion-MNIST's GCN streams: sandals split in two, shirts and
//! pullovers together). Neither mistake can be undone by moving single images: it takes a
//! merge and a split at once. So each round takes the best pair — merge clusters i and j,
//! split cluster s in two along its Fiedler vector — when the two together raise the
//! partition's modularity on the graph, and stops when no pair does (at most K rounds).
//! Label-free; measured on the saved runs of the gray sets in docs/BENCHMARKS.md ("Merge and
//! split under modularity"): Fashion-MNIST-test's streams +5 to +9 points, MNIST-test's 0 to
//! +4, digits unchanged.
use super::spectral::fiedler;
use crate::graph::{Adjacency, Normalization};

/// One round: clusters `merged.1` joined to `merged.0`, and the part of `split` cut off
/// along its Fiedler vector renumbered `merged.1` (K stays K).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Move {
    pub merged: (usize, usize),
    pub split: usize,
    /// The modularity the round added.
    pub gain: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Refined {
    pub clusters: Vec<i64>,
    pub moves: Vec<Move>,
    pub modularity_before: f64,
    pub modularity_after: f64,
}

impl Refined {
    /// "merged 3+7 and split 2; …" for the log and metrics.json; "" when nothing moved.
    pub fn describe(&self) -> String {
        self.moves
            .iter()
            .map(|m| format!("merged {}+{} and split {}", m.merged.0, m.merged.1, m.split))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A split's side holds at least this share of the cluster: the cut is meant to find two
/// groups, not to shave outliers (which modularity penalises anyway).
const MIN_SIDE: f64 = 0.1;

/// A cluster's best two-way cut along its Fiedler vector: the modularity it would add and
/// the members (global indices) of the side that moves out.
struct Split {
    gain: f64,
    out: Vec<u32>,
}

/// Refines `clusters` (values in 0..k) by merge–split rounds on `graph` (its pattern; the
/// values are ignored). `seed` fixes the Fiedler vectors' start.
pub fn merge_split(graph: &Adjacency, clusters: &[i64], k: usize, seed: u64) -> Refined {
    let two_m: f64 = graph.degrees.iter().map(|&d| d as f64).sum();
    let mut labels = clusters.to_vec();
    let before = super::spectral::modularity(graph, &labels);
    let mut moves = Vec::new();
    if two_m == 0.0 || k < 3 || labels.len() != graph.n {
        return Refined {
            clusters: labels,
            moves,
            modularity_before: before,
            modularity_after: before,
        };
    }
    let mut splits: Vec<Option<Split>> = (0..k).map(|_| None).collect();
    let mut fresh = vec![false; k];
    for round in 0..k {
        // Edges between clusters (each undirected edge once per direction, so e[i][j] counts
        // it once for i ≠ j) and the clusters' total degrees.
        let mut e = vec![vec![0.0f64; k]; k];
        for (&r, &c) in graph.rows.iter().zip(&graph.cols) {
            if r < c {
                let (a, b) = (labels[r as usize] as usize, labels[c as usize] as usize);
                e[a][b] += 1.0;
                e[b][a] += 1.0;
            }
        }
        let mut deg = vec![0.0f64; k];
        for (i, &d) in graph.degrees.iter().enumerate() {
            deg[labels[i] as usize] += d as f64;
        }
        for s in 0..k {
            if !fresh[s] {
                splits[s] = best_split(graph, &labels, s, two_m, seed ^ (round * k + s) as u64);
                fresh[s] = true;
            }
        }
        let mut best: Option<(f64, usize, usize, usize)> = None;
        for i in 0..k {
            for j in i + 1..k {
                // ΔQ of a merge: the edges between, minus what equal degrees would give.
                let merge = 2.0 * e[i][j] / two_m - 2.0 * deg[i] * deg[j] / (two_m * two_m);
                for (s, split) in splits.iter().enumerate() {
                    let Some(split) = split else { continue };
                    if s == i || s == j {
                        continue;
                    }
                    let gain = merge + split.gain;
                    if best.is_none_or(|b| gain > b.0) {
                        best = Some((gain, i, j, s));
                    }
                }
            }
        }
        let Some((gain, i, j, s)) = best.filter(|b| b.0 > 1e-9) else {
            break;
        };
        for l in labels.iter_mut() {
            if *l == j as i64 {
                *l = i as i64;
            }
        }
        for &n in &splits[s].as_ref().expect("chosen split exists").out {
            labels[n as usize] = j as i64;
        }
        for c in [i, j, s] {
            fresh[c] = false;
        }
        moves.push(Move {
            merged: (i, j),
            split: s,
            gain,
        });
    }
    let after = super::spectral::modularity(graph, &labels);
    Refined {
        clusters: labels,
        moves,
        modularity_before: before,
        modularity_after: after,
    }
}

/// Cluster `s`'s best cut by a sweep along its Fiedler vector: nodes join side one in the
/// vector's order, the cut updated edge by edge, and the modularity gain
/// −2·cut/2m + 2·d₁·d₂/(2m)² (whole-graph degrees) kept at its best with both sides ≥ MIN_SIDE.
fn best_split(graph: &Adjacency, labels: &[i64], s: usize, two_m: f64, seed: u64) -> Option<Split> {
    let nodes: Vec<u32> = (0..labels.len())
        .filter(|&i| labels[i] == s as i64)
        .map(|i| i as u32)
        .collect();
    let n = nodes.len();
    let lo = ((n as f64 * MIN_SIDE).ceil() as usize).max(1);
    if n < 4 || lo * 2 > n {
        return None;
    }
    let sub = graph.subgraph(&nodes, Normalization::Symmetric);
    let f = fiedler(&sub, seed);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| f[a].total_cmp(&f[b]).then(a.cmp(&b)));
    // The subgraph's neighbour lists (rows sorted, self-loops skipped).
    let mut offsets = vec![0usize; n + 1];
    for &r in &sub.rows {
        offsets[r as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let total: f64 = nodes
        .iter()
        .map(|&v| graph.degrees[v as usize] as f64)
        .sum();
    let mut side_one = vec![false; n];
    let (mut cut, mut d1) = (0.0f64, 0.0f64);
    let mut best: Option<(f64, usize)> = None;
    for (t, &u) in order.iter().enumerate().take(n - lo) {
        for &v in &sub.cols[offsets[u]..offsets[u + 1]] {
            let v = v as usize;
            if v != u {
                cut += if side_one[v] { -1.0 } else { 1.0 };
            }
        }
        side_one[u] = true;
        d1 += graph.degrees[nodes[u] as usize] as f64;
        if t + 1 >= lo {
            let gain = -2.0 * cut / two_m + 2.0 * d1 * (total - d1) / (two_m * two_m);
            if best.is_none_or(|b| gain > b.0) {
                best = Some((gain, t + 1));
            }
        }
    }
    let (gain, cut_at) = best?;
    // The smaller side moves out (either would do; fewer relabelled images).
    let out: Vec<u32> = if cut_at * 2 <= n {
        order[..cut_at].iter().map(|&u| nodes[u]).collect()
    } else {
        order[cut_at..].iter().map(|&u| nodes[u]).collect()
    };
    Some(Split { gain, out })
}
