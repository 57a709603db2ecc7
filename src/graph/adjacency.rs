//! From k-NN lists to the normalised sparse adjacency a GCN layer multiplies by:
//! union symmetrisation (i~j if either lists the other), self-loops, then D̃⁻¹Ã (row, as the
//! reference code) or D̃^-½ÃD̃^-½ (symmetric, as the paper's equations).
use super::knn::Knn;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Normalization {
    /// D̃⁻¹Ã: each row sums to 1, a mean over the node and its neighbours (reference code).
    #[default]
    Row,
    /// D̃^-½ÃD̃^-½ (the paper's equations).
    Symmetric,
}

/// A normalised adjacency in coordinate form (rows sorted, columns sorted within a row).
#[derive(Debug, Clone, PartialEq)]
pub struct Adjacency {
    pub n: usize,
    pub rows: Vec<i64>,
    pub cols: Vec<i64>,
    pub values: Vec<f32>,
    /// Undirected edges after symmetrisation, self-loops not counted.
    pub undirected_edges: usize,
    /// Neighbours per node after symmetrisation, self-loop not counted.
    pub degrees: Vec<usize>,
}

/// Symmetric neighbour lists without self, sorted, in one flat array (CSR): i~j if either
/// k-NN list holds the other. Compact enough for a million nodes (offsets + 4 bytes an edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbours {
    offsets: Vec<usize>,
    targets: Vec<u32>,
}

impl Neighbours {
    pub fn from_knn(knn: &Knn) -> Self {
        // Count, then fill: no per-node vectors (a million small allocations).
        let mut count = vec![0usize; knn.n + 1];
        for i in 0..knn.n {
            for &j in knn.of(i) {
                let j = j as usize;
                if j != i {
                    count[i + 1] += 1;
                    count[j + 1] += 1;
                }
            }
        }
        for i in 0..knn.n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let mut targets = vec![0u32; count[knn.n]];
        for i in 0..knn.n {
            for &j in knn.of(i) {
                let j = j as usize;
                if j != i {
                    targets[fill[i]] = j as u32;
                    fill[i] += 1;
                    targets[fill[j]] = i as u32;
                    fill[j] += 1;
                }
            }
        }
        // Sort and drop duplicates (mutual neighbours appear twice) row by row, compacting.
        let mut offsets = Vec::with_capacity(knn.n + 1);
        offsets.push(0);
        let mut w = 0;
        for i in 0..knn.n {
            let row = &mut targets[count[i]..count[i + 1]];
            row.sort_unstable();
            let mut last = None;
            for r in count[i]..count[i + 1] {
                let j = targets[r];
                if last != Some(j) {
                    targets[w] = j;
                    w += 1;
                    last = Some(j);
                }
            }
            offsets.push(w);
        }
        targets.truncate(w);
        targets.shrink_to_fit();
        Self { offsets, targets }
    }

    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn of(&self, i: usize) -> &[u32] {
        &self.targets[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Undirected edges, self-loops not counted.
    pub fn undirected_edges(&self) -> usize {
        self.targets.len() / 2
    }
}

impl Adjacency {
    pub fn from_knn(knn: &Knn, norm: Normalization) -> Self {
        Self::whole(&Neighbours::from_knn(knn), norm)
    }

    /// The normalised adjacency of the whole graph.
    pub fn whole(graph: &Neighbours, norm: Normalization) -> Self {
        let n = graph.len();
        Self::build(n, norm, |i| graph.of(i).iter().map(|&j| j as usize))
    }

    /// The normalised adjacency of the subgraph induced by `nodes` (Cluster-GCN): node
    /// `nodes[r]` is row r, edges leaving the subset are dropped, and the degrees are those
    /// inside it, so each row is again a mean (or symmetric mean) over what the batch holds.
    pub fn induced(graph: &Neighbours, nodes: &[u32], norm: Normalization) -> Self {
        let local: std::collections::HashMap<u32, usize> =
            nodes.iter().enumerate().map(|(r, &i)| (i, r)).collect();
        Self::build(nodes.len(), norm, |r| {
            graph
                .of(nodes[r] as usize)
                .iter()
                .filter_map(|j| local.get(j).copied())
        })
    }

    /// The subgraph of this adjacency induced by `nodes` (node `nodes[r]` is row r), with the
    /// same normalisation; degrees are those inside the subset. For work on one cluster of a
    /// partition, where only the whole graph's matrix is at hand.
    pub fn subgraph(&self, nodes: &[u32], norm: Normalization) -> Self {
        let mut offsets = vec![0usize; self.n + 1];
        for &r in &self.rows {
            offsets[r as usize + 1] += 1;
        }
        for i in 0..self.n {
            offsets[i + 1] += offsets[i];
        }
        let local: std::collections::HashMap<i64, usize> = nodes
            .iter()
            .enumerate()
            .map(|(r, &i)| (i as i64, r))
            .collect();
        Self::build(nodes.len(), norm, |r| {
            let i = nodes[r] as usize;
            self.cols[offsets[i]..offsets[i + 1]]
                .iter()
                .filter(move |&&j| j != i as i64)
                .filter_map(|j| local.get(j).copied())
        })
    }

    /// Rows from each node's neighbours (without self, any order, no duplicates): sorts them,
    /// adds the self-loop and normalises.
    fn build<I: Iterator<Item = usize>>(
        n: usize,
        norm: Normalization,
        neighbours: impl Fn(usize) -> I,
    ) -> Self {
        // Degrees first (the symmetric normalisation needs both ends'), then the rows; one
        // scratch list, not one vector per node.
        let degrees: Vec<usize> = (0..n).map(|i| neighbours(i).count()).collect();
        let undirected_edges = degrees.iter().sum::<usize>() / 2;
        let nnz = n + 2 * undirected_edges;
        let (mut rows, mut cols, mut values) = (
            Vec::with_capacity(nnz),
            Vec::with_capacity(nnz),
            Vec::with_capacity(nnz),
        );
        // Degree with the self-loop: D̃ of Ã = A + I.
        let dt = |i: usize| (degrees[i] + 1) as f64;
        let mut list = Vec::new();
        for i in 0..n {
            list.clear();
            list.extend(neighbours(i));
            list.push(i);
            list.sort_unstable();
            for &j in &list {
                rows.push(i as i64);
                cols.push(j as i64);
                values.push(match norm {
                    Normalization::Row => (1.0 / dt(i)) as f32,
                    Normalization::Symmetric => (1.0 / (dt(i) * dt(j)).sqrt()) as f32,
                });
            }
        }
        Self {
            n,
            rows,
            cols,
            values,
            undirected_edges,
            degrees,
        }
    }

    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// The matrix as a coalesced sparse COO tensor on `device`, for `adj.mm(dense)`.
    pub fn to_sparse(&self, device: Device) -> Tensor {
        let idx = Tensor::stack(
            &[
                Tensor::from_slice(&self.rows),
                Tensor::from_slice(&self.cols),
            ],
            0,
        );
        let n = self.n as i64;
        Tensor::sparse_coo_tensor_indices_size(
            &idx,
            &Tensor::from_slice(&self.values),
            [n, n],
            (Kind::Float, Device::Cpu),
            true,
        )
        .to_device(device)
    }

    /// The same matrix, dense (small graphs and tests only).
    pub fn to_dense(&self) -> Vec<Vec<f32>> {
        let mut m = vec![vec![0.0; self.n]; self.n];
        for ((&r, &c), &v) in self.rows.iter().zip(&self.cols).zip(&self.values) {
            m[r as usize][c as usize] = v;
        }
        m
    }
}
