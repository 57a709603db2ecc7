//! Corrections carried past the k-NN graph by a linear classifier on the run's features (the
//! stage-2 input it clustered). Label spreading moves only an image's graph neighbours; a
//! person's corrections also say where the boundary between two clusters lies in feature
//! space. Two multinomial logistic regressions are fitted on the L2-normalised features, one
//! to the run's clusters and one with the corrections, every corrected image weighted
//! [`WEIGHT`] times. An untouched image moves to the second one's class only where the two
//! disagree: what the corrections changed, not where a linear model cannot follow the run's
//! clusters (a fit to the run's own clusters misses 1–5 % of them). Then it depends on the
//! run's graph:
//! - **a graph strong enough to trust** (the run answered by its heads): the second fit learns
//!   the spread clusters, and an image moves only where at least [`SUPPORT`] of its graph
//!   neighbours are in that class already (the corrections applied): a boundary learned from a
//!   few images must not sweep a region the graph does not join to it. Chosen offline on seeds
//!   1 and 2 of every set, checked on seed 42 (docs/BENCHMARKS.md, "Corrections carried past
//!   the graph by the features"): without the support condition Fashion-MNIST-test lost up to
//!   2.3 points against relabelling only; with it no run lost more than 0.2.
//! - **a weak graph** (the run answered by K-means on these very features, because its graph
//!   was too weak to trust): the graph is no judge, and nothing was spread over it; the
//!   second fit learns the run's clusters with the corrections applied, and an image moves
//!   where that fit gives the new cluster at least [`MAJORITY`] of its probability. Without
//!   that condition emoji gained a point more and a 106-photo folder lost up to 17
//!   (docs/BENCHMARKS.md, "Corrections on a weak graph").
use super::facts::Corrections;
use super::spread::Features;
use crate::graph::Knn;
use crate::train::adam::Adam;
use tch::{Device, Kind, Tensor, nn};

/// How many times a corrected image counts against one the run placed.
const WEIGHT: f64 = 20.0;
/// The share of an image's graph neighbours that must already be in the class it would move to.
const SUPPORT: f64 = 0.3;
/// On a weak graph: the probability the corrected fit must give the class an image moves to.
const MAJORITY: f32 = 0.5;
/// Full-batch Adam steps from zero weights, at most; the fit is convex, and 300 steps at 0.05
/// land where scikit-learn's L-BFGS does on the dev sets (same moves within a few images).
const STEPS: usize = 300;
/// The fit stops early once no partial derivative of its objective is above this (checked every
/// ten steps; scikit-learn's own tolerance is 10⁻⁴). The bench's fits get there in 50–280
/// steps, most in 60–140, and every preview of the bench is within 0.3 point of the 300 steps'
/// but one (emoji at 200 corrections, +0.5), in a third to a half of the time
/// (docs/BENCHMARKS.md, "The preview's fits stop when converged").
const TOL: f64 = 1e-3;
const LR: f64 = 0.05;
/// At most this many images (every corrected one, and an even stride of the rest) are fitted
/// on, so a preview of a 70,000-image run stays in seconds; every image is then predicted.
const FIT_ROWS: usize = 20_000;

/// The fit to the run's own clusters, every image's argmax: what a linear model on these
/// features makes of the run before any correction. It depends on the run alone, so a
/// [`super::Basis`] computes it once for every preview of the run. `None` when the shapes do not
/// match N or K < 2.
pub fn fit_to_run(features: Features<'_>, run: &[i64], k: usize) -> Option<Vec<i64>> {
    let (x, rows) = prepared(features, run.len(), k, |_| false)?;
    let fitted = x.index_select(0, &rows_tensor(&rows));
    let targets: Vec<i64> = rows.iter().map(|&i| run[i]).collect();
    let fit = fit(&fitted, &targets, &vec![1.0; rows.len()], k, &x).0;
    (fit.len() == run.len()).then_some(fit)
}

/// Moves untouched images of `clusters` (the spread preview, corrected images included) where
/// the corrections move the linear boundary, on the run's `features` and `graph`. `run` is the
/// run's assignment before any correction and `before` the fit to it ([`fit_to_run`]). Returns
/// how many images it moved; does nothing (0) when the shapes do not match N or nobody
/// required a cluster.
pub fn carry(
    features: Features<'_>,
    run: &[i64],
    before: &[i64],
    clusters: &mut [i64],
    k: usize,
    corr: &Corrections,
    graph: &Knn,
) -> usize {
    let n = run.len();
    let required = corr.required();
    if required.is_empty() || clusters.len() != n || before.len() != n {
        return 0;
    }
    let Some((x, rows)) = prepared(features, n, k, |i| required.contains_key(&i)) else {
        return 0;
    };
    let fitted = x.index_select(0, &rows_tensor(&rows));
    let weights: Vec<f32> = rows
        .iter()
        .map(|i| {
            if required.contains_key(i) {
                WEIGHT as f32
            } else {
                1.0
            }
        })
        .collect();
    // The run's clusters with the corrections applied: what a neighbour stands for, and on a
    // weak graph what the fit learns.
    let mut placed = run.to_vec();
    for (&i, &c) in &required {
        placed[i] = c as i64;
    }
    let weak_graph = features.weak_graph;
    let learned = if weak_graph { &placed[..] } else { &*clusters };
    let targets: Vec<i64> = rows.iter().map(|&i| learned[i]).collect();
    let (after, sure) = fit(&fitted, &targets, &weights, k, &x);
    if after.len() != n || sure.len() != n {
        return 0;
    }
    let mut moved = 0;
    for i in 0..n.min(graph.n) {
        if corr.images.contains_key(&i) || after[i] == before[i] || after[i] == clusters[i] {
            continue;
        }
        let nb = graph.of(i);
        let agree = nb
            .iter()
            .filter(|&&j| placed.get(j as usize) == Some(&after[i]))
            .count();
        let carried = if weak_graph {
            sure[i] >= MAJORITY
        } else {
            !nb.is_empty() && agree as f64 >= SUPPORT * nb.len() as f64
        };
        if carried {
            clusters[i] = after[i];
            moved += 1;
        }
    }
    moved
}

/// The L2-normalised features as an N × dim tensor, and the rows a fit learns from: an even
/// stride of at most [`FIT_ROWS`], and every row `also` names. `None` when the shapes do not
/// match N or K < 2.
fn prepared(
    features: Features<'_>,
    n: usize,
    k: usize,
    also: impl Fn(usize) -> bool,
) -> Option<(Tensor, Vec<usize>)> {
    let Features { x, dim, .. } = features;
    if dim == 0 || n == 0 || x.len() != n * dim || k < 2 {
        return None;
    }
    let x = Tensor::from_slice(x).view([n as i64, dim as i64]);
    let x = &x / x.norm_scalaropt_dim(2, [1], true).clamp_min(1e-12);
    let stride = n.div_ceil(FIT_ROWS);
    let rows = (0..n).filter(|&i| i % stride == 0 || also(i)).collect();
    Some((x, rows))
}

fn rows_tensor(rows: &[usize]) -> Tensor {
    Tensor::from_slice(&rows.iter().map(|&i| i as i64).collect::<Vec<_>>())
}

/// A softmax regression of `targets` on the rows of `x` (each row weighted), with
/// scikit-learn's default L2 penalty (C = 1: half the squared weights against the summed
/// weighted cross-entropy), and its argmax on every row of `all` with that class's
/// probability. Deterministic: zero start, full batch, no random draws.
///
/// The gradient comes in closed form (`gradient`), not from autograd: on a 10,000-image run
/// the recorded log-softmax, gather and their backward cost more than the two matrix
/// products. Adam receives it through a surrogate ⟨W, G⟩ whose gradient is G exactly, so the
/// update is the optimizer's.
fn fit(
    x: &Tensor,
    targets: &[i64],
    weights: &[f32],
    k: usize,
    all: &Tensor,
) -> (Vec<i64>, Vec<f32>) {
    let dim = x.size()[1];
    let vs = nn::VarStore::new(Device::Cpu);
    let w = vs.root().zeros("w", &[dim, k as i64]);
    let b = vs.root().zeros("b", &[k as i64]);
    let mut adam = Adam::new(&vs, LR);
    let total: f64 = weights.iter().map(|&v| v as f64).sum();
    let t = Tensor::from_slice(targets).clamp(0, k as i64 - 1);
    // Classes × images: softmax over the classes of each image then runs along the long
    // contiguous axis (PyTorch's softmax over a last axis of 10 costs 20× more).
    let onehot_t = t.one_hot(k as i64).to_kind(Kind::Float).tr().contiguous();
    let sw = (Tensor::from_slice(weights) / total).unsqueeze(0);
    let xt = x.tr().contiguous();
    for step in 0..STEPS {
        let (gw, gb) = gradient(x, &xt, &w, &b, &onehot_t, &sw, total);
        if step % 10 == 0 && largest(&gw).max(largest(&gb)) < TOL {
            break;
        }
        adam.zero_grad();
        ((&w * &gw).sum(Kind::Float) + (&b * &gb).sum(Kind::Float)).backward();
        adam.step();
    }
    let _no_grad = tch::no_grad_guard();
    let (sure, pred) = (all.matmul(&w) + &b)
        .softmax(-1, Kind::Float)
        .max_dim(-1, false);
    (
        Vec::<i64>::try_from(&pred).unwrap_or_default(),
        Vec::<f32>::try_from(&sure).unwrap_or_default(),
    )
}

fn largest(t: &Tensor) -> f64 {
    f64::try_from(t.abs().max()).unwrap_or(f64::INFINITY)
}

/// The fit's objective's gradient in closed form, (∂W, ∂b), without recording a graph: with
/// R = (P − Y)·w / Σw, ∂W = XᵀR + W / Σw and ∂b = Σᵢ Rᵢ. Computed as classes × images
/// (`xt` = Xᵀ, `onehot_t` = Yᵀ, `sw` = the row weights over Σw as 1 × N).
fn gradient(
    x: &Tensor,
    xt: &Tensor,
    w: &Tensor,
    b: &Tensor,
    onehot_t: &Tensor,
    sw: &Tensor,
    total: f64,
) -> (Tensor, Tensor) {
    let _no_grad = tch::no_grad_guard();
    let p_t = (w.tr().matmul(xt) + b.unsqueeze(1)).softmax(0, Kind::Float);
    let r_t = (p_t - onehot_t) * sw;
    (
        r_t.matmul(x).tr() + w / total,
        r_t.sum_dim_intlist(1, false, Kind::Float),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fit's objective: Σ wᵢ·CE(xᵢW + b, yᵢ) / Σw + ½‖W‖² / Σw (`sw` = w / Σw, a column).
    fn objective(
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        onehot: &Tensor,
        sw: &Tensor,
        total: f64,
    ) -> Tensor {
        let logp = (x.matmul(w) + b).log_softmax(-1, Kind::Float);
        -(logp * onehot * sw).sum(Kind::Float) + (w * w).sum(Kind::Float) * (0.5 / total)
    }

    #[test]
    fn closed_form_gradient_matches_autograd() {
        // Fixed values, no draws: libtorch's process-wide generator stays the trainings'.
        let (n, d, k) = (50, 7, 4);
        let wave = |len: i64, f: f64| (Tensor::arange(len, (Kind::Float, Device::Cpu)) * f).sin();
        let x = wave(n * d, 0.37).view([n, d]);
        let w = (wave(d * k, 1.3).view([d, k]) * 2.0).set_requires_grad(true);
        let b = wave(k, 2.1).set_requires_grad(true);
        let t = Tensor::arange(n, (Kind::Int64, Device::Cpu)).remainder(k);
        let onehot = t.one_hot(k).to_kind(Kind::Float);
        let weights = wave(n, 0.7).abs() * 20.0 + 1.0;
        let total = f64::try_from(weights.sum(Kind::Double)).unwrap();
        let auto = Tensor::run_backward(
            &[objective(
                &x,
                &w,
                &b,
                &onehot,
                &(&weights / total).unsqueeze(1),
                total,
            )],
            &[&w, &b],
            false,
            false,
        );
        let sw = (weights / total).unsqueeze(0);
        let (gw, gb) = gradient(
            &x,
            &x.tr().contiguous(),
            &w,
            &b,
            &onehot.tr().contiguous(),
            &sw,
            total,
        );
        for (a, c) in auto.iter().zip([gw, gb]) {
            let err = f64::try_from((a - &c).abs().max()).unwrap();
            assert!(err < 1e-5, "closed form off by {err}");
        }
    }
}
