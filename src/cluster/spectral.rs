//! Spectral partition of a k-NN graph and the modularity of a partition: stage 2 may start its
//! centres from the graph's partition instead of K-means on the embedding, and modularity —
//! label-free — says which of the two fits the graph better (docs/BENCHMARKS.md: on MNIST-test
//! the spectral partition scores 0.844 against 0.780 and is 25 points more accurate; on digits
//! K-means scores higher and is the more accurate one).
use super::{KMeansConfig, kmeans};
use crate::graph::Adjacency;
use crate::progress::Progress;
use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

/// Subspace iterations for the leading eigenvectors of the normalised adjacency.
const ITERATIONS: usize = 300;

/// Where the subspace iteration's random start comes from.
#[derive(Debug, Clone, Copy)]
pub enum Start {
    /// libtorch's process-wide generator, seeded: the partition a training computes on its
    /// own thread (stage 2's spectral start), as measured in docs/BENCHMARKS.md.
    Torch(u64),
    /// A generator of its own: for work beside a training (Suggest K and the route probe run
    /// on app helpers while a run may train), where reseeding libtorch's generator would
    /// change the training's draws and so its result for its seed.
    Own(u64),
}

impl Start {
    pub fn seed(self) -> u64 {
        match self {
            Start::Torch(s) | Start::Own(s) => s,
        }
    }
}

/// The leading `width`-dimensional eigenspace of D̃^-½ÃD̃^-½ (self-loops included) by lazy
/// subspace iteration with QR: its orthonormal basis N×width (columns near the eigenvectors,
/// in order, once converged) and the eigenvalues by Rayleigh–Ritz, descending.
pub fn leading_eigen(
    graph: &Adjacency,
    width: usize,
    start: Start,
    device: Device,
) -> (Tensor, Vec<f64>) {
    let sym = Adjacency {
        values: symmetric_values(graph),
        ..graph.clone()
    };
    let s = sym.to_sparse(device);
    let n = graph.n as i64;
    let width = width.min(graph.n) as i64;
    let _guard = tch::no_grad_guard();
    let mut v = match start {
        Start::Torch(seed) => {
            tch::manual_seed(seed as i64);
            Tensor::randn([n, width], (Kind::Float, device))
        }
        Start::Own(seed) => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let v: Vec<f32> = (0..n * width).map(|_| rng.gen_range(-1.0..1.0)).collect();
            Tensor::from_slice(&v).view([n, width]).to_device(device)
        }
    };
    for _ in 0..ITERATIONS {
        // (S + I) / 2: the same eigenvectors, eigenvalues in [0, 1], so the leading ones win.
        v = (s.mm(&v) + &v) * 0.5;
        v = Tensor::linalg_qr(&v, "reduced").0;
    }
    let small = v.tr().mm(&s.mm(&v)).to_kind(Kind::Double);
    let small = (&small + small.tr()) * 0.5;
    // eigh sorts ascending.
    let values = small.linalg_eigvalsh("L").flip([0]);
    let values: Vec<f64> = Vec::try_from(&values).expect("eigenvalues to f64");
    (v, values)
}

/// K clusters from the leading eigenvectors of D̃^-½ÃD̃^-½ (lazy power iteration with QR,
/// K-means on the row-normalised eigenvectors), as in normalised spectral clustering.
pub fn spectral_labels(
    graph: &Adjacency,
    k: usize,
    start: Start,
    restarts: usize,
    device: Device,
) -> Result<Vec<i64>> {
    let (v, _) = leading_eigen(graph, k + 5, start, device);
    let u = v.narrow(1, 0, k as i64);
    let u = &u / u.norm_scalaropt_dim(2.0, [1], true).clamp_min(1e-12);
    let km = kmeans(
        &u,
        &KMeansConfig {
            n_init: restarts,
            ..KMeansConfig::new(k, start.seed())
        },
        &Progress::none(),
    )?;
    Ok(km.labels)
}

/// D̃^-½ÃD̃^-½ values of the graph's pattern (self-loops included), whatever its own
/// normalisation.
fn symmetric_values(graph: &Adjacency) -> Vec<f32> {
    let deg: Vec<f32> = graph.degrees.iter().map(|&d| d as f32 + 1.0).collect();
    graph
        .rows
        .iter()
        .zip(&graph.cols)
        .map(|(&r, &c)| 1.0 / (deg[r as usize] * deg[c as usize]).sqrt())
        .collect()
}

/// Newman's modularity of `labels` on the graph's undirected edges (self-loops left out):
/// the share of edges inside clusters minus the share expected at random with the same
/// degrees. Higher means the partition follows the graph's communities better.
pub fn modularity(graph: &Adjacency, labels: &[i64]) -> f64 {
    let k = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    let two_m: f64 = graph.degrees.iter().map(|&d| d as f64).sum();
    if two_m == 0.0 {
        return 0.0;
    }
    let inside = graph
        .rows
        .iter()
        .zip(&graph.cols)
        .filter(|(r, c)| r != c && labels[**r as usize] == labels[**c as usize])
        .count() as f64;
    let mut cluster_degree = vec![0.0f64; k];
    for (i, &d) in graph.degrees.iter().enumerate() {
        cluster_degree[labels[i] as usize] += d as f64;
    }
    inside / two_m
        - cluster_degree
            .iter()
            .map(|d| (d / two_m).powi(2))
            .sum::<f64>()
}
