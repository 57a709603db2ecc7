//! `graph_features = auto`: whether stage 2's k-NN graphs are built on the learned features
//! alone or on the learned features beside frozen pretrained ones (`FeatureSpace::Fused`).
//! After stage 1, on a seeded sample: the K-means partition of the learned features is judged
//! on the pretrained features' k-NN graph, against the pretrained features' own K-means
//! partition. Where the learned partition explains nearly all of the pretrained graph's
//! community structure (MNIST, digits) the pretrained features add nothing; where it explains
//! much less (Fashion-MNIST: textures and collars the small CNN did not learn), the pretrained
//! neighbours carry what the learned ones miss, and fused graphs are purer. Seconds on a CPU.
use crate::cluster::kmeans::{KMeansConfig, kmeans};
use crate::cluster::spectral::modularity;
use crate::config::{Config, NeighborSpace};
use crate::data::Dataset;
use crate::graph::{self, Adjacency, Normalization};
use crate::metrics::label_free::sample;
use crate::progress::Progress;
use anyhow::Result;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Fuse when the learned partition explains less than this share of the pretrained graph's
/// modularity, after a stage 1 whose positives were pixel neighbours (measured,
/// docs/BENCHMARKS.md session 21: MNIST-test 92.6-95.3 % and digits 96.6-97.5 % above,
/// Fashion-MNIST-test 76.1-81.1 % below, on three seeds each).
pub const FUSE_BELOW: f64 = 0.87;
/// The same after a stage 1 whose positives were neighbours in the pixels beside the
/// pretrained features: the learned features then hold more of the pretrained structure
/// (session 22: Fashion-MNIST-test 91.4-92.0 %, MNIST-test 95.5-95.8 %).
pub const FUSE_BELOW_AFTER_FUSED_POSITIVES: f64 = 0.94;

/// The threshold for a run of `cfg`.
pub fn fuse_below(cfg: &Config) -> f64 {
    if cfg.neighbor_features == NeighborSpace::Fused
        && cfg.neighbor_k > 0
        && !cfg.backbone.is_frozen()
    {
        FUSE_BELOW_AFTER_FUSED_POSITIVES
    } else {
        FUSE_BELOW
    }
}
/// Images the check looks at (a seeded sample above this).
pub const CHECK_SAMPLE: usize = 10_000;
const CHECK_K: usize = 10;

/// What the check measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpaceCheck {
    /// Modularity on the pretrained graph of the learned features' partition over that of
    /// the pretrained features' own partition.
    pub explained: f64,
    pub items: usize,
    /// The share below which the graphs are fused (`fuse_below`).
    pub below: f64,
}

impl SpaceCheck {
    pub fn fuse(&self) -> bool {
        self.explained < self.below
    }

    pub fn line(&self) -> String {
        format!(
            "graph features: on {} images the learned features' partition explains {:.1} % of \
             the pretrained k-NN graph's modularity ({} {:.0} %): {}",
            self.items,
            100.0 * self.explained,
            if self.fuse() { "below" } else { "not below" },
            100.0 * self.below,
            if self.fuse() {
                "graphs on the learned and pretrained features together"
            } else {
                "graphs on the learned features"
            }
        )
    }
}

/// The share of `pretrained`'s k-NN graph modularity that the K-means K-partition of
/// `learned` reaches (rows are images; both any scale, compared by cosine). 1 (nothing to
/// add) for fewer than three images, where there is no graph to judge on.
pub fn explained(learned: &Tensor, pretrained: &Tensor, k: usize, seed: u64) -> Result<f64> {
    let n = learned.size()[0] as usize;
    if n < 3 {
        return Ok(1.0);
    }
    let k = k.min(n.saturating_sub(1)).max(2);
    let unit = |x: &Tensor| x / x.norm_scalaropt_dim(2.0, [-1], true).clamp_min(1e-12);
    let (learned, pretrained) = (unit(learned), unit(pretrained));
    let knn = graph::knn(&pretrained, CHECK_K.min(n - 1), &Progress::none())?;
    let g_pre = Adjacency::from_knn(&knn, Normalization::Symmetric);
    // K-means has a generator of its own: the check does not move the training's draws.
    let part = |x: &Tensor| -> Result<Vec<i64>> {
        Ok(kmeans(x, &KMeansConfig::new(k, seed), &Progress::none())?.labels)
    };
    let (l_learned, l_pre) = (part(&learned)?, part(&pretrained)?);
    let own = modularity(&g_pre, &l_pre);
    Ok(if own > 0.0 {
        modularity(&g_pre, &l_learned) / own
    } else {
        1.0
    })
}

/// Stage 2's graph features for `graph_features = auto`: the check on a seeded sample of
/// the run's images (`x` the learned features of every image, `images` the u8 images), then
/// `x` or the fused features. The pretrained features of a sample that holds every image
/// are reused for the fusion.
/// `known`: the pretrained features of every image when the run already has them (stage 1's
/// fused positives), so they are not computed twice; `cache`: the feature cache, where the
/// features of every image are kept when the fusion needs them.
#[allow(clippy::too_many_arguments)]
pub fn choose(
    x: &Tensor,
    ds: &Dataset,
    images: &Tensor,
    cache: Option<&Path>,
    k: usize,
    seed: u64,
    below: f64,
    known: Option<&Tensor>,
    device: Device,
) -> Result<(SpaceCheck, Tensor)> {
    let _guard = tch::no_grad_guard();
    let n = x.size()[0] as usize;
    let idx = sample(n, CHECK_SAMPLE, seed);
    let rows = Tensor::from_slice(&idx).to_device(x.device());
    let cfg = super::frozen::probe_config(device);
    let pre = match known {
        Some(all) => all.index_select(0, &rows.to_device(all.device())),
        None => super::frozen::test_features(&images.index_select(0, &rows), &cfg, device)?,
    };
    let check = SpaceCheck {
        explained: explained(&x.index_select(0, &rows), &centred(&pre), k, seed)?,
        items: idx.len(),
        below,
    };
    if !check.fuse() {
        return Ok((check, x.shallow_clone()));
    }
    let pre = match known {
        Some(all) => all.shallow_clone(),
        None if idx.len() == n => pre,
        None => pretrained(ds, images, device, cache)?,
    };
    Ok((check, fuse(x, &pre)))
}

/// Weight of the pretrained block in fused graph features (both blocks unit length first):
/// on Fashion-MNIST-test's three default runs, 10-NN purity 0.75 → 0.79 at 0.7, 0.78 at 1.0
/// and 1.4 (docs/BENCHMARKS.md, session 21).
pub const FUSED_PRETRAINED_WEIGHT: f64 = 0.7;

/// The pretrained features' activations share a large mean that would swamp their cosine.
fn centred(p: &Tensor) -> Tensor {
    p - p.mean_dim(0, true, Kind::Float)
}

/// `x` beside `pretrained` (centred), each block scaled to unit length and the pretrained one
/// weighted `FUSED_PRETRAINED_WEIGHT`: Euclidean k-NN on it ranks by cos_x + w² cos_pretrained.
pub fn fuse(x: &Tensor, pretrained: &Tensor) -> Tensor {
    let unit = |t: &Tensor| t / t.norm_scalaropt_dim(2.0, [-1], true).clamp_min(1e-12);
    Tensor::cat(
        &[
            unit(x),
            unit(&centred(pretrained)) * FUSED_PRETRAINED_WEIGHT,
        ],
        1,
    )
}

/// Stage 2's graph features for `graph_features = fused`: `x` beside EfficientNet-Lite0's
/// features of every image (the route probe's encoder and side).
pub fn fused(
    x: &Tensor,
    ds: &Dataset,
    images: &Tensor,
    device: Device,
    cache: Option<&Path>,
) -> Result<Tensor> {
    Ok(fuse(x, &pretrained(ds, images, device, cache)?))
}

/// EfficientNet-Lite0's features of every image's test view (the route probe's encoder and
/// side), as the check and the fusion use them; from the feature cache when it has them.
pub fn pretrained(
    ds: &Dataset,
    images: &Tensor,
    device: Device,
    cache: Option<&Path>,
) -> Result<Tensor> {
    let _guard = tch::no_grad_guard();
    let cfg = super::frozen::probe_config(device);
    super::frozen::test_features_cached(ds, images, &cfg, device, cache)
}
