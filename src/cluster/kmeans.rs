//! K-means on tch tensors (any device): greedy k-means++ seeding as scikit-learn does it,
//! Lloyd iterations, several restarts keeping the lowest inertia. Used by the pixel baseline
//! and to initialise the cluster centres of stage 2.
use crate::progress::Progress;
use anyhow::{Result, bail};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KMeansConfig {
    pub k: usize,
    /// Restarts from different seeds; the one with the lowest inertia wins.
    pub n_init: usize,
    pub max_iter: usize,
    /// Convergence when the centres move less than tol × the mean feature variance (sklearn).
    pub tol: f64,
    pub seed: u64,
}

impl KMeansConfig {
    pub fn new(k: usize, seed: u64) -> Self {
        Self {
            k,
            n_init: 10,
            max_iter: 300,
            tol: 1e-4,
            seed,
        }
    }
}

pub struct KMeans {
    /// K×d on the input's device.
    pub centers: Tensor,
    pub labels: Vec<i64>,
    /// Soft-assignment confidence of each item: max_j q_ij with the Student-t kernel
    /// q_ij ∝ (1 + ‖x_i − μ_j‖²)⁻¹ (the same kernel stage 2 uses).
    pub confidence: Vec<f32>,
    pub inertia: f64,
    pub iterations: usize,
}

/// Squared distances from every row of `x` to every row of `c` (N×K), clamped at 0.
fn sq_dists(x: &Tensor, x_sq: &Tensor, c: &Tensor) -> Tensor {
    let c_sq = (c * c).sum_dim_intlist(1, false, Kind::Float);
    let mut d = x.mm(&c.tr());
    let _ = d.g_mul_scalar_(-2.0);
    let _ = d.g_add_(&x_sq.unsqueeze(1));
    let _ = d.g_add_(&c_sq.unsqueeze(0));
    d.clamp_min(0.0)
}

/// Nearest centre and squared distance for each row, in row blocks.
fn assign(x: &Tensor, x_sq: &Tensor, c: &Tensor) -> (Tensor, Tensor) {
    let n = x.size()[0];
    let k = c.size()[0];
    let block = ((32 << 20) / k.max(1)).max(1);
    let (mut labels, mut mins) = (Vec::new(), Vec::new());
    let mut s = 0;
    while s < n {
        let len = block.min(n - s);
        let d = sq_dists(&x.narrow(0, s, len), &x_sq.narrow(0, s, len), c);
        let (m, l) = d.min_dim(1, false);
        labels.push(l);
        mins.push(m);
        s += len;
    }
    (Tensor::cat(&labels, 0), Tensor::cat(&mins, 0))
}

fn to_f64_vec(t: &Tensor) -> Vec<f64> {
    Vec::try_from(&t.to_device(Device::Cpu).to_kind(Kind::Double).view([-1])).expect("1-d tensor")
}

/// Greedy k-means++ (sklearn's `_kmeans_plusplus`): each new centre is the best of
/// 2 + ln k candidates drawn proportionally to the squared distance to the nearest centre.
fn kmeans_pp(x: &Tensor, x_sq: &Tensor, k: usize, rng: &mut ChaCha8Rng) -> Tensor {
    let n = x.size()[0] as usize;
    let trials = 2 + (k as f64).ln() as usize;
    let first = rng.gen_range(0..n) as i64;
    let mut chosen = vec![first];
    let mut closest = to_f64_vec(&sq_dists(x, x_sq, &x.narrow(0, first, 1)));
    let mut pot: f64 = closest.iter().sum();
    for _ in 1..k {
        let mut cum = Vec::with_capacity(n);
        let mut acc = 0.0;
        for &d in &closest {
            acc += d;
            cum.push(acc);
        }
        let cands: Vec<i64> = (0..trials)
            .map(|_| {
                let r = rng.r#gen::<f64>() * pot;
                cum.partition_point(|&c| c < r).min(n - 1) as i64
            })
            .collect();
        let cand_rows = x.index_select(0, &Tensor::from_slice(&cands).to_device(x.device()));
        let d = to_f64_vec(&sq_dists(x, x_sq, &cand_rows).tr().contiguous());
        let mut best: Option<(f64, usize)> = None;
        for t in 0..trials {
            let p: f64 = (0..n).map(|i| d[t * n + i].min(closest[i])).sum();
            if best.is_none_or(|(bp, _)| p < bp) {
                best = Some((p, t));
            }
        }
        let (p, t) = best.expect("at least two trials");
        for (i, c) in closest.iter_mut().enumerate() {
            *c = c.min(d[t * n + i]);
        }
        pot = p;
        chosen.push(cands[t]);
    }
    x.index_select(0, &Tensor::from_slice(&chosen).to_device(x.device()))
}

fn lloyd(
    x: &Tensor,
    x_sq: &Tensor,
    mut centers: Tensor,
    cfg: &KMeansConfig,
    tol_abs: f64,
) -> (Tensor, usize) {
    let k = cfg.k as i64;
    let d = x.size()[1];
    let mut iterations = 0;
    for _ in 0..cfg.max_iter {
        iterations += 1;
        let (labels, mins) = assign(x, x_sq, &centers);
        let counts = labels.bincount::<Tensor>(None, k).to_kind(Kind::Float);
        let sums = Tensor::zeros([k, d], (Kind::Float, x.device())).index_add(0, &labels, x);
        let new = sums / counts.clamp_min(1.0).unsqueeze(1);
        // An empty cluster takes the point that is farthest from its centre, as sklearn does.
        let counts_v = to_f64_vec(&counts);
        let empty: Vec<usize> = (0..cfg.k).filter(|&j| counts_v[j] == 0.0).collect();
        if !empty.is_empty() {
            let (_, far) = mins.topk(empty.len() as i64, 0, true, true);
            for (slot, &j) in empty.iter().enumerate() {
                let row = x.index_select(0, &far.narrow(0, slot as i64, 1));
                new.narrow(0, j as i64, 1).copy_(&row);
            }
        }
        let shift = (&new - &centers)
            .square()
            .sum(Kind::Double)
            .double_value(&[]);
        centers = new;
        if shift <= tol_abs {
            break;
        }
    }
    (centers, iterations)
}

/// Clusters the rows of `x` (N×d). Deterministic for a given seed and device.
pub fn kmeans(x: &Tensor, cfg: &KMeansConfig, progress: &Progress) -> Result<KMeans> {
    let size = x.size();
    if size.len() != 2 {
        bail!("K-means needs an N×d matrix, got shape {size:?}");
    }
    let n = size[0] as usize;
    if cfg.k < 1 {
        bail!("clusters must be at least 1");
    }
    if cfg.k > n {
        bail!("clusters = {} is more than the {n} items", cfg.k);
    }
    if cfg.n_init < 1 || cfg.max_iter < 1 {
        bail!("n_init and max_iter must be at least 1");
    }
    let _guard = tch::no_grad_guard();
    let x = x.to_kind(Kind::Float).contiguous();
    let x_sq = (&x * &x).sum_dim_intlist(1, false, Kind::Float);
    let tol_abs = cfg.tol
        * x.var_dim(0, false, false)
            .mean(Kind::Double)
            .double_value(&[]);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut best: Option<(f64, Tensor, usize)> = None;
    for run in 0..cfg.n_init {
        progress.report("K-means restarts", run, cfg.n_init);
        let init = kmeans_pp(&x, &x_sq, cfg.k, &mut rng);
        let (centers, iterations) = lloyd(&x, &x_sq, init, cfg, tol_abs);
        let (_, mins) = assign(&x, &x_sq, &centers);
        let inertia = mins.sum(Kind::Double).double_value(&[]);
        if best.as_ref().is_none_or(|(b, _, _)| inertia < *b) {
            best = Some((inertia, centers, iterations));
        }
    }
    progress.report("K-means restarts", cfg.n_init, cfg.n_init);
    let (inertia, centers, iterations) = best.expect("n_init ≥ 1");
    let (labels, _) = assign(&x, &x_sq, &centers);
    let confidence = student_t_confidence(&x, &x_sq, &centers);
    Ok(KMeans {
        labels: Vec::try_from(&labels.to_device(Device::Cpu))?,
        confidence,
        centers,
        inertia,
        iterations,
    })
}

/// max_j q_ij with q_ij = (1 + ‖x_i − μ_j‖²)⁻¹ / Σ_j' (1 + ‖x_i − μ_j'‖²)⁻¹.
fn student_t_confidence(x: &Tensor, x_sq: &Tensor, centers: &Tensor) -> Vec<f32> {
    let q = (sq_dists(x, x_sq, centers) + 1.0).reciprocal();
    let q = &q / q.sum_dim_intlist(1, true, Kind::Float);
    let (m, _) = q.max_dim(1, false);
    Vec::try_from(&m.to_device(Device::Cpu)).expect("1-d")
}
