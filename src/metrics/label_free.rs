//! How good a clustering is without labels: cohesion on the features (silhouette), fit to the
//! k-NN graphs (modularity), agreement of the three heads (ARI between them), confidence and
//! cluster-size balance. The app, `icicle train`/`eval` and metrics.json show the same numbers.
use super::{Contingency, ari};
use crate::cluster::spectral::modularity;
use crate::graph::Adjacency;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// Silhouettes are computed on at most this many images (a seeded sample above it, as
/// scikit-learn's `sample_size`): the cost is quadratic.
pub const SILHOUETTE_SAMPLE: usize = 2000;
/// Below this confidence (`metrics::confidence`: about half its neighbours in its cluster) an
/// image counts as uncertain.
pub const LOW_CONFIDENCE: f32 = 0.5;

/// One-line meanings, for tooltips and `--help`.
pub const MEANINGS: [(&str, &str); 7] = [
    (
        "silhouette",
        "Mean over images of (b − a) / max(a, b), a = mean distance to its own cluster, b = to the nearest other; −1…1, higher = tighter, better separated clusters",
    ),
    (
        "modularity a / b",
        "Share of k-NN edges inside clusters minus the share expected at random, on graph a (k_a) and b (k_b); higher = the clusters follow the graph",
    ),
    (
        "head agreement",
        "Mean ARI between the clusterings of Q, stream a and stream b; 1 = the three heads agree, near 0 = unrelated",
    ),
    (
        "mean confidence",
        "Mean of each image's confidence: the share of its k_b nearest neighbours in its cluster, its own vote weighted by how much nearer its cluster's centre is than the next (1 = certain; in stage 1, before the graphs, the head's top probability)",
    ),
    (
        "uncertain",
        "Share of images whose confidence is below 0.5 (about half their neighbours elsewhere)",
    ),
    (
        "balance",
        "Entropy of the cluster sizes / log K: 1 = equal sizes, 0 = everything in one cluster",
    ),
    (
        "empty",
        "Clusters with no image (K may be larger than the data supports)",
    ),
];

/// The label-free scores of one clustering.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LabelFree {
    pub silhouette: f64,
    /// How many images the silhouette was computed on.
    pub silhouette_items: usize,
    /// Modularity on graph a and graph b (absent before the graphs exist, in stage 1).
    pub modularity_a: Option<f64>,
    pub modularity_b: Option<f64>,
    /// Mean ARI between the heads (stage 2 with the GCN only).
    pub head_agreement: Option<f64>,
    pub mean_confidence: f64,
    /// Share of images below `LOW_CONFIDENCE`.
    pub uncertain: f64,
    pub balance: f64,
    pub empty_clusters: usize,
}

/// What the label-free scores are computed from.
pub struct LabelFreeInput<'a> {
    /// N×D features the clusters are judged on.
    pub features: &'a Tensor,
    pub clusters: &'a [i64],
    pub confidence: &'a [f32],
    pub k: usize,
    pub graphs: Option<(&'a Adjacency, &'a Adjacency)>,
    /// The clusterings of Q, stream a and stream b.
    pub heads: Option<[&'a [i64]; 3]>,
    /// Seeds the silhouette sample.
    pub seed: u64,
}

/// Mean confidence and the share of images below `LOW_CONFIDENCE` (0 and 0 for no images).
pub fn confidence_summary(confidence: &[f32]) -> (f64, f64) {
    let n = confidence.len().max(1) as f64;
    let mean = confidence.iter().map(|&c| c as f64).sum::<f64>() / n;
    let low = confidence.iter().filter(|&&c| c < LOW_CONFIDENCE).count() as f64 / n;
    (mean, low)
}

impl LabelFree {
    pub fn new(input: &LabelFreeInput) -> Self {
        let (silhouette, silhouette_items) = silhouette(
            input.features,
            input.clusters,
            input.k,
            SILHOUETTE_SAMPLE,
            input.seed,
        );
        let (mean_confidence, uncertain) = confidence_summary(input.confidence);
        let mut sizes = vec![0usize; input.k];
        for &c in input.clusters {
            sizes[c as usize] += 1;
        }
        Self {
            silhouette,
            silhouette_items,
            modularity_a: input.graphs.map(|(a, _)| modularity(a, input.clusters)),
            modularity_b: input.graphs.map(|(_, b)| modularity(b, input.clusters)),
            head_agreement: input.heads.map(|[q, a, b]| {
                (agreement(q, a, input.k) + agreement(q, b, input.k) + agreement(a, b, input.k))
                    / 3.0
            }),
            mean_confidence,
            uncertain,
            balance: balance(&sizes),
            empty_clusters: sizes.iter().filter(|&&s| s == 0).count(),
        }
    }

    /// The numbers as (name, value) pairs, in `MEANINGS` order, for plots and printing.
    pub fn named(&self) -> Vec<(&'static str, f64)> {
        let mut v = vec![("silhouette", self.silhouette)];
        if let (Some(a), Some(b)) = (self.modularity_a, self.modularity_b) {
            v.push(("modularity a", a));
            v.push(("modularity b", b));
        }
        if let Some(h) = self.head_agreement {
            v.push(("head agreement", h));
        }
        v.push(("mean confidence", self.mean_confidence));
        v.push(("uncertain", self.uncertain));
        v.push(("balance", self.balance));
        v
    }

    /// One line for the CLI.
    pub fn line(&self) -> String {
        let mut s: Vec<String> = self
            .named()
            .iter()
            .map(|(n, v)| format!("{n} {v:.3}"))
            .collect();
        if self.silhouette_items > 0 {
            s[0] = format!("{} (on {} images)", s[0], self.silhouette_items);
        }
        if self.empty_clusters > 0 {
            s.push(format!("{} empty clusters", self.empty_clusters));
        }
        s.join(", ")
    }
}

/// ARI of two clusterings of the same images into at most `k` clusters each.
pub fn agreement(a: &[i64], b: &[i64], k: usize) -> f64 {
    Contingency::new(a, b, k, k).map(|t| ari(&t)).unwrap_or(0.0)
}

/// Normalised entropy of cluster sizes (1 = equal, 0 = one cluster holds all).
pub fn balance(sizes: &[usize]) -> f64 {
    let n: usize = sizes.iter().sum();
    if n == 0 || sizes.len() < 2 {
        return 0.0;
    }
    let h: f64 = sizes
        .iter()
        .filter(|&&s| s > 0)
        .map(|&s| {
            let p = s as f64 / n as f64;
            -p * p.ln()
        })
        .sum();
    // One cluster gives −0.0; print it as 0.
    if h <= 0.0 {
        0.0
    } else {
        h / (sizes.len() as f64).ln()
    }
}

/// Indices of a seeded sample of at most `max` of `n` items (all of them, in order, if fewer).
pub fn sample(n: usize, max: usize, seed: u64) -> Vec<i64> {
    let mut idx: Vec<i64> = (0..n as i64).collect();
    if n > max {
        idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        idx.truncate(max);
        idx.sort_unstable();
    }
    idx
}

/// Mean silhouette (Euclidean) of `labels` on the rows of `x`, over a seeded sample of at
/// most `max` rows, with scikit-learn's conventions: a one-member cluster scores 0, and fewer
/// than two clusters in the sample give 0. Returns (silhouette, rows used).
pub fn silhouette(x: &Tensor, labels: &[i64], k: usize, max: usize, seed: u64) -> (f64, usize) {
    let _guard = tch::no_grad_guard();
    let idx = sample(labels.len(), max, seed);
    let s = idx.len();
    let rows = Tensor::from_slice(&idx).to_device(x.device());
    let xs = x.index_select(0, &rows).to_kind(Kind::Double);
    let lab: Vec<i64> = idx.iter().map(|&i| labels[i as usize]).collect();
    let lt = Tensor::from_slice(&lab).to_device(x.device());
    let onehot = lt.one_hot(k as i64).to_kind(Kind::Double);
    let counts = onehot.sum_dim_intlist([0i64].as_slice(), false, Kind::Double);
    if counts.gt(0.0).sum(Kind::Int64).int64_value(&[]) < 2 {
        return (0.0, s);
    }
    // Sums of distances from each sampled row to each cluster: S×K.
    let d = Tensor::cdist(&xs, &xs, 2.0, None::<i64>);
    let sums = d.mm(&onehot);
    let own_count = onehot.mm(&counts.unsqueeze(1)).squeeze_dim(1);
    let own_sum = (&sums * &onehot).sum_dim_intlist([1i64].as_slice(), false, Kind::Double);
    let a = &own_sum / (&own_count - 1.0).clamp_min(1.0);
    // Mean distance to every other non-empty cluster; own and empty clusters excluded.
    let means = &sums / counts.clamp_min(1.0).unsqueeze(0);
    let excluded = onehot
        .gt(0.0)
        .logical_or(&counts.eq(0.0).unsqueeze(0).expand_as(&sums));
    let b = means
        .masked_fill(&excluded, f64::INFINITY)
        .min_dim(1, false)
        .0;
    let sil = (&b - &a) / a.maximum(&b).clamp_min(1e-300);
    let sil = sil.masked_fill(&own_count.le(1.0), 0.0);
    (sil.mean(Kind::Double).double_value(&[]), s)
}

/// Davies–Bouldin index of `labels` on the rows of `x` (lower = better separated): the mean
/// over clusters of the worst (s_i + s_j) / d(c_i, c_j), s = mean distance to the centroid.
/// Empty clusters are left out; fewer than two clusters give 0.
pub fn davies_bouldin(x: &Tensor, labels: &[i64], k: usize) -> f64 {
    let _guard = tch::no_grad_guard();
    let x = x.to_kind(Kind::Double);
    let lt = Tensor::from_slice(labels).to_device(x.device());
    let onehot = lt.one_hot(k as i64).to_kind(Kind::Double);
    let counts = onehot.sum_dim_intlist([0i64].as_slice(), false, Kind::Double);
    let present = counts.gt(0.0);
    let live = present.sum(Kind::Int64).int64_value(&[]);
    if live < 2 {
        return 0.0;
    }
    let centroids = onehot.tr().mm(&x) / counts.clamp_min(1.0).unsqueeze(1);
    let to_own = (&x - onehot.mm(&centroids)).norm_scalaropt_dim(2.0, [1], false);
    let spread = onehot.tr().mm(&to_own.unsqueeze(1)).squeeze_dim(1) / counts.clamp_min(1.0);
    let between = Tensor::cdist(&centroids, &centroids, 2.0, None::<i64>);
    let ratio = (spread.unsqueeze(1) + spread.unsqueeze(0)) / between.clamp_min(1e-12);
    let pair_ok = present.unsqueeze(1).logical_and(&present.unsqueeze(0));
    let eye = Tensor::eye(k as i64, (Kind::Bool, x.device()));
    let ratio = ratio.masked_fill(&pair_ok.logical_not().logical_or(&eye), f64::NEG_INFINITY);
    let worst = ratio.max_dim(1, false).0.masked_select(&present);
    worst.mean(Kind::Double).double_value(&[])
}
