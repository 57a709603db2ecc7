//! A 2-d t-SNE map of a run's learned features (bhtsne, Barnes-Hut), for the embedding view.
//! It takes seconds to a minute, so callers run it on a worker thread, and above `max_points`
//! it maps a seeded random subsample. The map depends only on the features and the seed: the
//! start is drawn from the seed, and bhtsne's neighbour search is exact (see BENCHMARKS for
//! why this is bhtsne 0.7 rather than linfa-tsne, whose bhtsne 0.4 search was not).
use crate::progress::Progress;
use anyhow::{Result, bail};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};

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

fn euclidean(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

/// Maps the rows of `features` (N×dim, row-major) to 2-d.
pub fn tsne(
    features: &[f32],
    dim: usize,
    max_points: usize,
    iterations: usize,
    seed: u64,
) -> Result<Embedding> {
    tsne_with_progress(
        features,
        dim,
        max_points,
        iterations,
        seed,
        &Progress::none(),
    )
}

/// As `tsne`, reporting ("t-SNE", iterations done, iterations) after every iteration.
pub fn tsne_with_progress(
    features: &[f32],
    dim: usize,
    max_points: usize,
    iterations: usize,
    seed: u64,
    progress: &Progress,
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
    let rows: Vec<&[f32]> = items
        .iter()
        .map(|&i| &features[i * dim..(i + 1) * dim])
        .collect();
    // Perplexity 30 (the usual choice) where there are enough points; bhtsne needs 3·p < n.
    let perplexity = 30.0f32.min((n as f32 - 1.0) / 3.0 - 1.0).max(1.0);
    // The usual tiny Gaussian start (σ = 1e-4), drawn from the seed instead of bhtsne's
    // thread-local generator.
    let start: Vec<f32> = (0..n * 2)
        .map(|_| {
            let (u1, u2): (f32, f32) = (rng.r#gen::<f32>().max(f32::MIN_POSITIVE), rng.r#gen());
            1e-4 * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
        })
        .collect();
    // Early exaggeration for the first half, at most 250 iterations (as linfa-tsne did).
    let lying = (iterations / 2).clamp(1, 250);
    // One thread: bhtsne's parallel sums change with thread scheduling, so with more threads
    // the same seed drew a different map at each launch. One thread keeps it reproducible on
    // every machine and is fast enough (10,000 points, 300 iterations: about 12 s here).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "icicle-tsne-fit".into())
        .build()?;
    let fit = pool.install(|| {
        // Nothing the fit touches outlives a panic but the progress sink, which only reports.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut t = bhtsne::tSNE::<f32, &[f32], 2>::new(&rows);
            t.perplexity(perplexity)
                .epoch_callback(|epoch, _| progress.report("t-SNE", epoch + 1, iterations))
                .epochs(iterations)
                .stop_lying_epoch(lying)
                .momentum_switch_epoch(lying)
                .initial_embedding(start)
                .barnes_hut(0.5, |a, b| euclidean(a, b));
            t.embedding()
        }))
    });
    let y = fit.map_err(|_| anyhow::anyhow!("t-SNE failed on {n} points of dimension {dim}"))?;
    let xy = y
        .chunks_exact(2)
        .map(|p| [p[0] as f64, p[1] as f64])
        .collect();
    Ok(Embedding { items, xy, total })
}
