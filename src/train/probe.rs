//! The route probe for small gray images: which of two representations of a seeded sample
//! clusters better without labels — the pixels (the CNN route trains from them, with pixel
//! neighbours as positives) or frozen EfficientNet-Lite0 features (the frozen route). Each
//! space gives a k-NN graph of the sample (k = 10) and its spectral partition into K clusters;
//! each partition is judged on both graphs (the sum of its modularities), so a partition only
//! its own space supports scores low. Seconds on a CPU (docs/BENCHMARKS.md).
use crate::cluster::spectral::{Start, modularity, spectral_labels};
use crate::config::DataShape;
use crate::data::Dataset;
use crate::data::folder::KEEP_UP_TO;
use crate::graph::{self, Adjacency, Normalization};
use crate::metrics::label_free::sample;
use crate::progress::Progress;
use anyhow::Result;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Images the probe looks at (a seeded sample above this).
pub const PROBE_SAMPLE: usize = 2000;
const PROBE_K: usize = 10;

/// What the probe measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteProbe {
    /// Modularity of each space's spectral K-partition on both spaces' k-NN graphs (summed).
    pub pixels: f64,
    pub pretrained: f64,
    pub items: usize,
}

impl RouteProbe {
    pub fn prefer_pretrained(&self) -> bool {
        self.pretrained > self.pixels
    }

    pub fn line(&self) -> String {
        format!(
            "route probe on {} images: modularity of each space's spectral partition on both \
             k-NN graphs, pixels {:.4}, pretrained features {:.4}: {} route",
            self.items,
            self.pixels,
            self.pretrained,
            if self.prefer_pretrained() {
                "frozen"
            } else {
                "CNN"
            }
        )
    }
}

/// Whether `ds` is data the probe decides for: gray images of `KEEP_UP_TO` px or less.
pub fn applies(ds: &Dataset) -> bool {
    ds.channels == 1 && ds.height.max(ds.width) <= KEEP_UP_TO
}

/// Runs the probe with K = `k` on a seeded sample of `ds`. The pretrained features come from
/// the feature cache (`cache`) when it holds every image's; when the sample is every image
/// they are computed for all and stored there, since the CNN route's fused positives use the
/// same ones.
pub fn run(
    ds: &Dataset,
    k: usize,
    seed: u64,
    device: Device,
    cache: Option<&Path>,
) -> Result<RouteProbe> {
    let _guard = tch::no_grad_guard();
    let idx = sample(ds.len(), PROBE_SAMPLE, seed);
    let rows = Tensor::from_slice(&idx).to_device(device);
    let all = ds.to_u8_tensor(device);
    let images = all.index_select(0, &rows);
    let n = idx.len() as i64;
    let pixels = super::frozen::normalize(&(images.view([n, -1]).to_kind(Kind::Float) / 255.0));
    let cfg = super::frozen::probe_config(device);
    let pretrained = if idx.len() == ds.len() {
        super::frozen::test_features_cached(ds, &all, &cfg, device, cache)?
    } else if let Some(every) = super::frozen::test_features_in_cache(ds, &cfg, device, cache) {
        every.index_select(0, &rows)
    } else {
        super::frozen::test_features(&images, &cfg, device)?
    };
    let k = k.min(idx.len().saturating_sub(1)).max(2);
    let part = |x: &Tensor| -> Result<(Adjacency, Vec<i64>)> {
        let knn = graph::knn(x, PROBE_K.min(idx.len() - 1), &Progress::none())?;
        let adj = Adjacency::from_knn(&knn, Normalization::Symmetric);
        // Its own generator: the app probes a folder while another run may be training.
        let labels = spectral_labels(&adj, k, Start::Own(seed), 10, device)?;
        Ok((adj, labels))
    };
    let (g_pix, l_pix) = part(&pixels)?;
    let (g_pre, l_pre) = part(&pretrained)?;
    // Each space's partition judged on both graphs: a partition that only its own space
    // supports scores low on the other's graph.
    let both = |l: &[i64]| modularity(&g_pix, l) + modularity(&g_pre, l);
    Ok(RouteProbe {
        pixels: both(&l_pix),
        pretrained: both(&l_pre),
        items: idx.len(),
    })
}

/// `ds.shape()` with the probe's answer where it applies (default preset only: the others
/// choose no route); the probe's line, to print, when it ran.
pub fn shape_for(
    ds: &Dataset,
    preset: crate::config::Preset,
    k: usize,
    seed: u64,
    device: Device,
    cache: Option<&Path>,
) -> Result<(DataShape, Option<String>)> {
    let mut shape = ds.shape();
    // Fewer images than clusters: nothing to probe, and the settings' check says why.
    if preset != crate::config::Preset::Default || !applies(ds) || ds.len() <= k.max(1) {
        return Ok((shape, None));
    }
    // On a thread that ends, so its OpenMP pool does not throttle the training that follows
    // (`crate::threads`).
    let p = crate::threads::on_fresh_thread(|| run(ds, k, seed, device, cache))?;
    shape.prefer_pretrained = Some(p.prefer_pretrained());
    Ok((shape, Some(p.line())))
}
