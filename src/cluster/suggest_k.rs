//! Help choosing K without labels: K-means for every K of a range on the given features,
//! scored by silhouette (higher is better) and Davies–Bouldin (lower), and the eigengap of
//! the features' k-NN graph (the largest drop λ_K − λ_{K+1} of its normalised adjacency's
//! spectrum). Each criterion names its K; the suggestion is the K most of them name.
use super::spectral::{Start, leading_eigen};
use super::{KMeansConfig, kmeans};
use crate::graph::{self, Adjacency, Normalization};
use crate::metrics::label_free::{SILHOUETTE_SAMPLE, davies_bouldin, sample, silhouette};
use crate::progress::Progress;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// Neighbours per image of the graph whose spectrum gives the eigengap.
pub const GRAPH_K: usize = 10;
/// Images the sweep clusters (a seeded sample of larger sets): 29 values of K × 3 restarts
/// stay within a minute on a 2-core CPU.
pub const SWEEP_SAMPLE: usize = 5000;
/// K-means restarts per K: enough to be stable, few enough for a sweep.
pub const RESTARTS: usize = 3;

/// The scores of one K.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KScore {
    pub k: usize,
    pub silhouette: f64,
    pub davies_bouldin: f64,
    /// λ_K − λ_{K+1} of the graph's normalised adjacency.
    pub eigengap: f64,
    pub inertia: f64,
}

/// The sweep and what it suggests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub scores: Vec<KScore>,
    pub by_silhouette: usize,
    pub by_davies_bouldin: usize,
    pub by_eigengap: usize,
    pub suggested: usize,
    /// Why, in one sentence.
    pub why: String,
    /// Images the scores were computed on (a seeded sample of large sets).
    pub items: usize,
}

/// Sweeps K over `range` on the rows of `x`. `tick(done, total)` runs after each K and
/// returns false to cancel (then the result is an error saying so).
pub fn suggest_k(
    x: &Tensor,
    range: std::ops::RangeInclusive<usize>,
    seed: u64,
    tick: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Suggestion> {
    let n = x.size()[0] as usize;
    let (lo, hi) = (*range.start(), *range.end());
    if lo < 2 || hi < lo {
        bail!("K range {lo}..{hi}: needs 2 ≤ from ≤ to");
    }
    if hi + 1 >= n {
        bail!(
            "K range {lo}..{hi}: needs more than {} images, got {n}",
            hi + 1
        );
    }
    let idx = sample(n, SWEEP_SAMPLE, seed);
    let xs = x.index_select(0, &Tensor::from_slice(&idx).to_device(x.device()));
    let items = idx.len();
    let knn = graph::knn(&xs, GRAPH_K.min(items - 1), &Progress::none())?;
    let adj = Adjacency::from_knn(&knn, Normalization::Symmetric);
    let (_, eig) = leading_eigen(&adj, hi + 2, Start::Own(seed), x.device());
    let total = hi - lo + 1;
    let mut scores = Vec::with_capacity(total);
    for (i, k) in (lo..=hi).enumerate() {
        let km = kmeans(
            &xs,
            &KMeansConfig {
                n_init: RESTARTS,
                ..KMeansConfig::new(k, seed)
            },
            &Progress::none(),
        )?;
        scores.push(KScore {
            k,
            silhouette: silhouette(&xs, &km.labels, k, SILHOUETTE_SAMPLE, seed).0,
            davies_bouldin: davies_bouldin(&xs, &km.labels, k),
            eigengap: eig.get(k - 1).zip(eig.get(k)).map_or(0.0, |(a, b)| a - b),
            inertia: km.inertia,
        });
        if !tick(i + 1, total) {
            bail!("cancelled after {} of {total} values of K", i + 1);
        }
    }
    let best = |key: &dyn Fn(&KScore) -> f64| {
        scores
            .iter()
            .max_by(|a, b| key(a).total_cmp(&key(b)))
            .map_or(lo, |s| s.k)
    };
    let by_silhouette = best(&|s| s.silhouette);
    let by_davies_bouldin = best(&|s| -s.davies_bouldin);
    let by_eigengap = best(&|s| s.eigengap);
    let votes = [by_silhouette, by_davies_bouldin, by_eigengap];
    let count = |k: usize| votes.iter().filter(|&&v| v == k).count();
    // The K most criteria name; when all three differ, the silhouette's (the most used).
    let suggested = *votes
        .iter()
        .max_by_key(|&&k| (count(k), k == by_silhouette))
        .expect("three votes");
    let why = match count(suggested) {
        3 => format!("silhouette, Davies–Bouldin and the eigengap all pick K = {suggested}"),
        2 => {
            let who: Vec<&str> = [
                ("silhouette", by_silhouette),
                ("Davies–Bouldin", by_davies_bouldin),
                ("the eigengap", by_eigengap),
            ]
            .iter()
            .filter(|(_, k)| *k == suggested)
            .map(|(n, _)| *n)
            .collect();
            format!(
                "{} and {} pick K = {suggested} (silhouette {by_silhouette}, Davies–Bouldin \
                 {by_davies_bouldin}, eigengap {by_eigengap})",
                who[0], who[1]
            )
        }
        _ => format!(
            "the criteria disagree (silhouette {by_silhouette}, Davies–Bouldin \
             {by_davies_bouldin}, eigengap {by_eigengap}): the silhouette's K = {suggested}"
        ),
    };
    Ok(Suggestion {
        scores,
        by_silhouette,
        by_davies_bouldin,
        by_eigengap,
        suggested,
        why,
        items,
    })
}
