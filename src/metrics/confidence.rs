//! How sure each image's cluster is, measured the same way whatever answered: the share of its
//! k nearest neighbours (the run's k_b graph) in its cluster, its own vote weighted by its
//! margin in the features, 1 − d(own centre) / d(nearest other centre).
//!
//! Why not the answer's own probabilities: they are not comparable between answers and mostly
//! not probabilities at all. The Student-t soft assignments of Q and of K-means depend on the
//! features' scale and stay near 1/K on unit-length or high-dimensional features (MNIST-test at
//! ACC 0.97 read "uncertain" for every image), and a merge–split refined answer keeps the
//! probabilities of clusters it merged away. Measured on the saved runs of every dev set
//! (docs/BENCHMARKS.md, "One confidence for every answer"): this ranks correct above wrong
//! images as well or better (ROC AUC 0.71–0.99 against 0.64–0.99) and its mean follows the
//! run's accuracy (0.91–0.92 at MNIST-test's 0.96–0.97, 0.67–0.68 at emoji's 0.44–0.47).
use crate::graph::Knn;
use tch::{Device, Kind, Tensor};

/// Each image's confidence in `clusters[i]` (K = `k`), in 0..=1: (neighbours of i in graph
/// `knn` that share its cluster + its margin in `features` (N×D)) / (its neighbours + 1).
pub fn confidence(features: &Tensor, clusters: &[i64], k: usize, knn: &Knn) -> Vec<f32> {
    let n = clusters.len();
    if n == 0 {
        return vec![];
    }
    let k = k.max(
        clusters
            .iter()
            .map(|&c| c.max(0) as usize + 1)
            .max()
            .unwrap_or(1),
    );
    // A negative cluster (an edited assignments.csv) has no centre: its images get no margin.
    let margins =
        if clusters.iter().all(|&c| c >= 0) && features.size().first() == Some(&(n as i64)) {
            margins(features, clusters, k)
        } else {
            vec![0.0; n]
        };
    (0..n)
        .map(|i| {
            let neighbours = if i < knn.n { knn.of(i) } else { &[] };
            let (mut same, mut all) = (0usize, 0usize);
            for &j in neighbours {
                let j = j as usize;
                if j != i && j < n {
                    all += 1;
                    same += usize::from(clusters[j] == clusters[i]);
                }
            }
            (same as f32 + margins[i]) / (all as f32 + 1.0)
        })
        .collect()
}

/// 1 − d_own / d_next per image, distances to the clusters' mean features; 1 where no other
/// cluster has members. Computed where the features are (the GPU in a CUDA run).
fn margins(features: &Tensor, clusters: &[i64], k: usize) -> Vec<f32> {
    let n = clusters.len();
    let x = features.to_kind(Kind::Float);
    let c = Tensor::from_slice(clusters).to_device(x.device());
    let one_hot = c.one_hot(k as i64).to_kind(Kind::Float); // N×K
    let counts = one_hot.sum_dim_intlist(0, false, Kind::Float); // K
    let centres = one_hot.tr().matmul(&x) / counts.clamp_min(1.0).unsqueeze(1);
    let x_sq = (&x * &x).sum_dim_intlist(1, true, Kind::Float);
    let c_sq = (&centres * &centres).sum_dim_intlist(1, false, Kind::Float);
    let d2 = (x_sq - x.matmul(&centres.tr()) * 2.0 + c_sq.unsqueeze(0)).clamp_min(0.0);
    // Empty clusters are no one's nearest other centre.
    let empty = counts.eq(0.0).unsqueeze(0).expand_as(&d2);
    let d2 = d2.masked_fill(&empty, f64::INFINITY);
    let own = d2.gather(1, &c.unsqueeze(1), false).squeeze_dim(1);
    let next = d2
        .masked_fill(&one_hot.to_kind(Kind::Bool), f64::INFINITY)
        .min_dim(1, false)
        .0;
    let to_vec = |t: &Tensor| Vec::<f32>::try_from(&t.to_device(Device::Cpu)).ok();
    let (Some(own), Some(next)) = (to_vec(&own), to_vec(&next)) else {
        return vec![0.0; n];
    };
    own.iter()
        .zip(&next)
        .map(|(&o, &m)| {
            if !m.is_finite() {
                1.0
            } else if m <= 0.0 {
                0.0
            } else {
                (1.0 - (o / m).sqrt()).clamp(0.0, 1.0)
            }
        })
        .collect()
}
