//! A 2-d t-SNE map of a run's learned features (linfa-tsne, Barnes-Hut), for the embedding
//! view. It is single-threaded and slow (≈ 8 s for 2,000 points here), so callers run it on a
//! worker thread, and above `max_points` it maps a seeded random subsample.
use anyhow::{Result, bail};
use linfa::traits::Transformer;
use linfa_tsne::TSneParams;
use ndarray::Array2;
use rand::SeedableRng;
use rand::seq::index::sample;

#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// The item index of each mapped point (sorted).
    pub items: Vec<usize>,
    pub xy: Vec<[f64; 2]>,
    /// How many items there were in all (more than `items.len()` when subsampled).
    pub total: usize,
}

impl Embedding {
    pub fn subsampled(&self) -> bool {
        self.items.len() < self.total
    }

    /// The items whose points lie in the axis-aligned box with corners `a` and `b`.
    pub fn items_in_box(&self, a: [f64; 2], b: [f64; 2]) -> Vec<usize> {
        let (x0, x1) = (a[0].min(b[0]), a[0].max(b[0]));
        let (y0, y1) = (a[1].min(b[1]), a[1].max(b[1]));
        self.items_where(|p| (x0..=x1).contains(&p[0]) && (y0..=y1).contains(&p[1]))
    }

    /// The items whose points lie inside the closed lasso path `polygon` (any shape, the
    /// last vertex joins the first; fewer than 3 vertices enclose nothing).
    pub fn items_in_polygon(&self, polygon: &[[f64; 2]]) -> Vec<usize> {
        if polygon.len() < 3 {
            return vec![];
        }
        self.items_where(|p| inside_polygon(p, polygon))
    }

    fn items_where(&self, keep: impl Fn([f64; 2]) -> bool) -> Vec<usize> {
        self.items
            .iter()
            .zip(&self.xy)
            .filter(|(_, xy)| keep(**xy))
            .map(|(i, _)| *i)
            .collect()
    }
}

/// Even-odd rule: a ray from `p` to +x crosses the polygon's edges an odd number of times.
pub fn inside_polygon(p: [f64; 2], polygon: &[[f64; 2]]) -> bool {
    let mut inside = false;
    let mut j = polygon.len() - 1;
    for i in 0..polygon.len() {
        let (a, b) = (polygon[i], polygon[j]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if p[0] < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// Maps the rows of `features` (N×dim, row-major) to 2-d.
pub fn tsne(
    features: &[f32],
    dim: usize,
    max_points: usize,
    iterations: usize,
    seed: u64,
) -> Result<Embedding> {
    if dim == 0 || !features.len().is_multiple_of(dim) {
        bail!("features: {} values are not rows of {dim}", features.len());
    }
    let total = features.len() / dim;
    if total < 8 {
        bail!("t-SNE needs at least 8 items, the run has {total}");
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut items: Vec<usize> = if total > max_points {
        sample(&mut rng, total, max_points.max(8)).into_vec()
    } else {
        (0..total).collect()
    };
    items.sort_unstable();
    let n = items.len();
    let mut x = Array2::<f64>::zeros((n, dim));
    for (r, &i) in items.iter().enumerate() {
        for c in 0..dim {
            x[[r, c]] = features[i * dim + c] as f64;
        }
    }
    // Perplexity 30 (the usual choice) where there are enough points; bhtsne needs 3·p < n.
    let perplexity = 30.0f64.min((n as f64 - 1.0) / 3.0 - 1.0).max(1.0);
    let y = TSneParams::embedding_size_with_rng(2, rand::rngs::SmallRng::seed_from_u64(seed))
        .perplexity(perplexity)
        .approx_threshold(0.5)
        .max_iter(iterations)
        .transform(x)
        .map_err(|e| anyhow::anyhow!("t-SNE failed: {e}"))?;
    let xy = y.rows().into_iter().map(|r| [r[0], r[1]]).collect();
    Ok(Embedding { items, xy, total })
}
