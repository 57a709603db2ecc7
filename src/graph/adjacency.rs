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

/// Symmetric neighbour lists without self, sorted.
fn union_lists(knn: &Knn) -> Vec<Vec<u32>> {
    let mut lists = vec![Vec::new(); knn.n];
    for i in 0..knn.n {
        for &j in knn.of(i) {
            let j = j as usize;
            if j != i {
                lists[i].push(j as u32);
                lists[j].push(i as u32);
            }
        }
    }
    for l in &mut lists {
        l.sort_unstable();
        l.dedup();
    }
    lists
}

impl Adjacency {
    pub fn from_knn(knn: &Knn, norm: Normalization) -> Self {
        let lists = union_lists(knn);
        let degrees: Vec<usize> = lists.iter().map(Vec::len).collect();
        let undirected_edges = degrees.iter().sum::<usize>() / 2;
        let nnz = knn.n + 2 * undirected_edges;
        let (mut rows, mut cols, mut values) = (
            Vec::with_capacity(nnz),
            Vec::with_capacity(nnz),
            Vec::with_capacity(nnz),
        );
        // Degree with the self-loop: D̃ of Ã = A + I.
        let dt = |i: usize| (degrees[i] + 1) as f64;
        for (i, list) in lists.iter().enumerate() {
            // Merge the self-loop into the sorted neighbour list.
            let pos = list.partition_point(|&j| (j as usize) < i);
            let with_self = list[..pos]
                .iter()
                .map(|&j| j as usize)
                .chain(std::iter::once(i))
                .chain(list[pos..].iter().map(|&j| j as usize));
            for j in with_self {
                rows.push(i as i64);
                cols.push(j as i64);
                values.push(match norm {
                    Normalization::Row => (1.0 / dt(i)) as f32,
                    Normalization::Symmetric => (1.0 / (dt(i) * dt(j)).sqrt()) as f32,
                });
            }
        }
        Self {
            n: knn.n,
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
