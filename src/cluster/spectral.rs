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

/// Lanczos steps for a Fiedler vector: enough for its eigenvalue's gap on clusters of a
/// k-NN graph (thousands of nodes), where the power iteration above needs far more.
const LANCZOS_STEPS: usize = 80;

/// The graph's Fiedler vector for normalised cuts: the second eigenvector of D^-½AD^-½
/// (self-loops left out), scaled by D^-½, so that sorting nodes by it and cutting where a
/// criterion is best is the classic spectral bipartition (Shi & Malik). Computed on the
/// largest connected component by Lanczos with full reorthogonalisation, the known leading
/// eigenvector √d projected out (one start vector cannot find a repeated eigenvalue twice);
/// nodes of the smaller components come after it in the order, one component after another,
/// so a cut between components is among those a sweep tries. Generator of its own: refining
/// a run's answer must not move libtorch's draws.
pub fn fiedler(graph: &Adjacency, seed: u64) -> Vec<f64> {
    let n = graph.n;
    let mut offsets = vec![0usize; n + 1];
    for &r in &graph.rows {
        offsets[r as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let neighbours = |i: usize| {
        graph.cols[offsets[i]..offsets[i + 1]]
            .iter()
            .map(|&j| j as usize)
            .filter(move |&j| j != i)
    };
    // Connected components, largest first.
    let mut comp = vec![usize::MAX; n];
    let mut sizes = vec![];
    for s in 0..n {
        if comp[s] != usize::MAX {
            continue;
        }
        let c = sizes.len();
        let (mut stack, mut size) = (vec![s], 0);
        comp[s] = c;
        while let Some(u) = stack.pop() {
            size += 1;
            for v in neighbours(u) {
                if comp[v] == usize::MAX {
                    comp[v] = c;
                    stack.push(v);
                }
            }
        }
        sizes.push(size);
    }
    let largest = (0..sizes.len()).max_by_key(|&c| (sizes[c], usize::MAX - c));
    let Some(largest) = largest else {
        return vec![];
    };
    let members: Vec<usize> = (0..n).filter(|&i| comp[i] == largest).collect();
    let mut f = vec![0.0f64; n];
    let values = lanczos_second(&members, &comp, largest, graph, &neighbours, seed);
    let top = values.iter().copied().fold(0.0f64, |a, b| a.max(b.abs()));
    for (&i, &v) in members.iter().zip(&values) {
        f[i] = v;
    }
    for i in 0..n {
        if comp[i] != largest {
            f[i] = top + 1.0 + comp[i] as f64;
        }
    }
    f
}

/// The second eigenvector of D^-½AD^-½ on one connected component (`members`), scaled by
/// D^-½: Lanczos on the complement of √d.
fn lanczos_second<I: Iterator<Item = usize>>(
    members: &[usize],
    comp: &[usize],
    which: usize,
    graph: &Adjacency,
    neighbours: &impl Fn(usize) -> I,
    seed: u64,
) -> Vec<f64> {
    let m = members.len();
    if m < 3 {
        return (0..m).map(|i| i as f64).collect();
    }
    let mut local = vec![usize::MAX; graph.n];
    for (r, &i) in members.iter().enumerate() {
        local[i] = r;
    }
    let deg: Vec<f64> = members
        .iter()
        .map(|&i| neighbours(i).filter(|&j| comp[j] == which).count() as f64)
        .collect();
    let inv_sqrt: Vec<f64> = deg.iter().map(|d| 1.0 / d.sqrt()).collect();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut top: Vec<f64> = deg.iter().map(|d| d.sqrt()).collect();
    let t = norm(&top);
    top.iter_mut().for_each(|x| *x /= t);
    let matvec = |v: &[f64]| -> Vec<f64> {
        (0..m)
            .map(|r| {
                neighbours(members[r])
                    .map(|j| local[j])
                    .filter(|&c| c != usize::MAX)
                    .map(|c| v[c] * inv_sqrt[c])
                    .sum::<f64>()
                    * inv_sqrt[r]
            })
            .collect()
    };
    let orthogonalise = |w: &mut Vec<f64>, basis: &[Vec<f64>]| {
        // Twice: one pass of Gram–Schmidt loses orthogonality in floating point.
        for _ in 0..2 {
            for q in std::iter::once(&top).chain(basis) {
                let c = dot(w, q);
                w.iter_mut().zip(q).for_each(|(x, y)| *x -= c * y);
            }
        }
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut q: Vec<f64> = (0..m).map(|_| rng.gen_range(-1.0..1.0)).collect();
    orthogonalise(&mut q, &[]);
    let qn = norm(&q);
    q.iter_mut().for_each(|x| *x /= qn);
    let steps = LANCZOS_STEPS.min(m - 1);
    let (mut basis, mut alpha, mut beta) = (vec![q], vec![], vec![]);
    for j in 0..steps {
        let mut w = matvec(&basis[j]);
        alpha.push(dot(&w, &basis[j]));
        orthogonalise(&mut w, &basis);
        let b = norm(&w);
        if b < 1e-10 || j + 1 == steps {
            break;
        }
        beta.push(b);
        w.iter_mut().for_each(|x| *x /= b);
        basis.push(w);
    }
    // The tridiagonal matrix's leading eigenvector, back in the graph's coordinates.
    let s = alpha.len();
    let mut t = vec![0.0f64; s * s];
    for i in 0..s {
        t[i * s + i] = alpha[i];
        if i + 1 < s {
            t[i * s + i + 1] = beta[i];
            t[(i + 1) * s + i] = beta[i];
        }
    }
    let _guard = tch::no_grad_guard();
    let (_, vecs) = Tensor::from_slice(&t)
        .view([s as i64, s as i64])
        .linalg_eigh("L");
    // eigh sorts ascending: the last column is the largest.
    let y: Vec<f64> = Vec::try_from(&vecs.select(1, s as i64 - 1)).expect("eigenvector to f64");
    (0..m)
        .map(|r| basis.iter().zip(&y).map(|(q, c)| q[r] * c).sum::<f64>() * inv_sqrt[r])
        .collect()
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
