//! The frozen-feature path's first step: the pretrained encoder's features of `views`
//! augmented views and of the test view of every image, computed once in batches (only one
//! batch is ever at the encoder's side) and cached on disk, so stage 1 trains ISM + JC-SLIM
//! on stored vectors instead of running a CNN per step, and later runs reuse the work.
//!
//! The cache key covers everything the numbers depend on: the dataset's pixels and size, the
//! encoder (and for TorchScript the file's size and time), tap, side, views, augmentations and
//! seed. An unreadable or mismatched cache file is ignored and rewritten.
use crate::config::{BackboneKind, Config};
use crate::data::{Dataset, augment};
use crate::model::pretrained::Pretrained;
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

const MAGIC: &str = "icicle-frozen-features-v1";
/// Images per encoder batch at `side`: small batches at large sides keep the activations in
/// cache (EfficientNet-Lite0 at 224: 158 images/s with 16, 90 with 64; docs/BENCHMARKS.md).
pub fn batch(side: i64) -> i64 {
    if side <= 64 { 32 } else { 16 }
}

/// Raw (unnormalised) encoder features, or with `finetune_blocks` the activation maps before
/// the fine-tuned blocks (D becomes C×H×W).
pub struct ViewFeatures {
    /// N×V×D: one row per augmented view.
    pub views: Tensor,
    /// N×D: the deterministic test view (resize only).
    pub test: Tensor,
    /// Where they are cached, if anywhere.
    pub file: Option<PathBuf>,
    /// Read from the cache instead of computed.
    pub from_cache: bool,
}

/// The side the encoder sees: `input_size`, or 224 (ImageNet's) when it is 0.
pub fn side(cfg: &Config) -> i64 {
    if cfg.input_size > 0 {
        cfg.input_size as i64
    } else {
        224
    }
}

/// The cache key of `cfg`'s features of `ds`.
pub fn cache_key(ds: &Dataset, cfg: &Config) -> String {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(format!(
        "{}|{}x{}x{}x{}|",
        ds.name,
        ds.len(),
        ds.channels,
        ds.height,
        ds.width
    ));
    h.update(&ds.pixels[..]);
    h.update(cfg.backbone.name());
    if cfg.backbone == BackboneKind::Torchscript {
        let file = Path::new(cfg.backbone_file.trim());
        let meta = std::fs::metadata(file).ok();
        h.update(format!(
            "{}|{:?}|{:?}",
            file.canonicalize().unwrap_or(file.to_path_buf()).display(),
            meta.as_ref().map(|m| m.len()),
            meta.and_then(|m| m.modified().ok())
        ));
    } else {
        h.update(format!("tap{}", cfg.backbone_tap));
        if cfg.finetune_blocks > 0 {
            h.update(format!("|before-block{}", first_tuned(cfg)));
        }
    }
    h.update(format!(
        "|side{}|views{}|seed{}|{:?}",
        side(cfg),
        cfg.views,
        cfg.seed,
        cfg.augment
    ));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The first fine-tuned block (1-based); the cache holds the activations after the one before.
pub fn first_tuned(cfg: &Config) -> usize {
    crate::model::efficientnet::BLOCKS + 1 - cfg.finetune_blocks
}

/// The last fine-tuned block: the tap's, or 16 for the head (which is tuned too).
pub fn last_tuned(cfg: &Config) -> usize {
    match cfg.backbone_tap {
        0 => crate::model::efficientnet::BLOCKS,
        tap => tap,
    }
}

pub fn cache_file(dir: &Path, key: &str) -> PathBuf {
    dir.join("features").join(format!("{key}.safetensors"))
}

fn read_cache(file: &Path, n: i64, v: i64) -> Option<(Tensor, Tensor)> {
    let tensors = Tensor::read_safetensors(file).ok()?;
    let get = |name: &str| tensors.iter().find(|(k, _)| k == name).map(|(_, t)| t);
    let (views, test) = (get("views")?, get("test")?);
    let (vs, ts) = (views.size(), test.size());
    (vs.len() >= 3 && vs[0] == n && vs[1] == v && ts.len() == vs.len() - 1)
        .then_some(())
        .filter(|_| ts[0] == n && ts[1..] == vs[2..])
        .map(|_| (views.shallow_clone(), test.shallow_clone()))
}

fn write_cache(file: &Path, tensors: &[(&str, &Tensor)]) -> Result<()> {
    let dir = file.parent().context("cache file has no folder")?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create cache folder {}", dir.display()))?;
    // tch writes to a path and can throw; write beside the target, then rename, so a failed
    // or interrupted write never leaves a half file under the real name.
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .suffix(".safetensors")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    Tensor::write_safetensors(tensors, tmp.path())
        .with_context(|| format!("cannot write feature cache {}", file.display()))?;
    tmp.persist(file)
        .with_context(|| format!("cannot move the feature cache to {}", file.display()))?;
    Ok(())
}

/// Features of every image of `images` (N×C×H×W u8 on the run's device), from the cache when
/// it has them. `tick(done, total)` runs after each batch; an error from it (a cancel) stops
/// the extraction.
pub fn extract<E>(
    ds: &Dataset,
    images: &Tensor,
    cfg: &Config,
    device: Device,
    cache_dir: Option<&Path>,
    mut tick: impl FnMut(usize, usize) -> std::result::Result<(), E>,
) -> std::result::Result<ViewFeatures, E>
where
    E: From<anyhow::Error>,
{
    let n = ds.len() as i64;
    let v = cfg.views as i64;
    let file = cache_dir.map(|d| cache_file(d, &cache_key(ds, cfg)));
    if let Some((views, test)) = file.as_deref().and_then(|f| read_cache(f, n, v)) {
        crate::data::cache_budget::touch(file.as_deref().expect("read from it"));
        return Ok(ViewFeatures {
            views: views.to_device(device),
            test: test.to_device(device),
            file,
            from_cache: true,
        });
    }
    let encoder = Pretrained::open(cfg, device)?;
    let encode = |x: &Tensor| match cfg.finetune_blocks {
        0 => encoder.features(x),
        _ => encoder.activation(x, first_tuned(cfg) - 1),
    };
    let side = side(cfg);
    let bs = batch(side);
    let batches = (n + bs - 1) / bs;
    let total = (batches * (v + 1)) as usize;
    let (mut views_out, mut test_out) = (Vec::new(), Vec::new());
    let mut done = 0;
    tick(0, total)?;
    for b in 0..batches {
        let len = bs.min(n - b * bs);
        let x = images.narrow(0, b * bs, len).to_kind(Kind::Float) / 255.0;
        test_out.push(encode(&augment::test_view(&x, side))?.contiguous());
        done += 1;
        tick(done, total)?;
        let mut per_view = Vec::with_capacity(cfg.views);
        for view in 0..cfg.views {
            // One seed per (batch, view): the same config always caches the same numbers.
            tch::manual_seed(super::step_seed(cfg.seed, 3, view, b as usize));
            per_view.push(encode(&augment::view(&x, side, &cfg.augment))?.contiguous());
            done += 1;
            tick(done, total)?;
        }
        views_out.push(Tensor::stack(&per_view, 1));
    }
    let views = Tensor::cat(&views_out, 0);
    let test = Tensor::cat(&test_out, 0);
    if test.numel() == 0 {
        return Err(anyhow::anyhow!("{}: zero-size features", encoder.describe()).into());
    }
    if let Some(f) = &file {
        write_cache(
            f,
            &[
                ("views", &views.to_device(Device::Cpu)),
                ("test", &test.to_device(Device::Cpu)),
            ],
        )?;
        if let Some(dir) = cache_dir {
            crate::data::cache_budget::after_write(dir, f);
        }
    }
    Ok(ViewFeatures {
        views,
        test,
        file,
        from_cache: false,
    })
}

/// What a frozen config extracts, for messages: encoder, tap, side.
pub fn describe(cfg: &Config) -> String {
    let encoder = match cfg.backbone {
        BackboneKind::Torchscript => format!("TorchScript {}", cfg.backbone_file.trim()),
        _ if cfg.finetune_blocks > 0 => format!(
            "EfficientNet-Lite0 {}, {} fine-tuned (cached: block {} maps)",
            crate::model::efficientnet::tap_name(cfg.backbone_tap),
            match (first_tuned(cfg), last_tuned(cfg)) {
                (a, b) if a == b => format!("block {a}"),
                (a, b) => format!("blocks {a}–{b}"),
            },
            first_tuned(cfg) - 1
        ),
        _ => format!(
            "EfficientNet-Lite0 {}",
            crate::model::efficientnet::tap_name(cfg.backbone_tap)
        ),
    };
    format!("{encoder} at side {}", side(cfg))
}

/// The encoder the gray-route probe and fused graph features use: EfficientNet-Lite0's head at
/// side 64 on a CPU (small gray images gain nothing from more, at a ninth of 192's cost), the
/// GPU's frozen side on a GPU.
pub fn probe_config(device: Device) -> Config {
    let mut cfg = Config::preset(crate::config::Preset::Default, 2);
    cfg.backbone = BackboneKind::EfficientnetLite0;
    cfg.backbone_tap = 0;
    cfg.input_size = if device.is_cuda() {
        crate::config::frozen_side(true)
    } else {
        64
    };
    cfg
}

/// EfficientNet-Lite0's test-view features of every image of `ds` at `tap` and `side`
/// (normalised), with the config that describes them: K-means on pretrained features.
pub fn pretrained_features(
    ds: &Dataset,
    tap: usize,
    side_px: usize,
    device: Device,
) -> Result<(Tensor, Config)> {
    let mut cfg = Config::preset(crate::config::Preset::Default, 2);
    cfg.backbone = BackboneKind::EfficientnetLite0;
    cfg.backbone_tap = tap;
    cfg.input_size = side_px;
    cfg.validate(ds.len())?;
    let x = test_features(&ds.to_u8_tensor(device), &cfg, device)?;
    Ok((x, cfg))
}

/// The test view's features only (no augmentation, no cache), normalised: what K-means on
/// pretrained features and `icicle baseline --features pretrained` use.
pub fn test_features(images: &Tensor, cfg: &Config, device: Device) -> Result<Tensor> {
    let encoder = Pretrained::open(cfg, device)?;
    let side = side(cfg);
    let (n, bs) = (images.size()[0], batch(side));
    let mut out = Vec::new();
    for b in 0..(n + bs - 1) / bs {
        let x = images
            .narrow(0, b * bs, bs.min(n - b * bs))
            .to_kind(Kind::Float)
            / 255.0;
        out.push(encoder.features(&augment::test_view(&x, side))?);
    }
    Ok(normalize(&Tensor::cat(&out, 0)))
}

/// `test_features` of every image of `ds` (`images`, its N×C×H×W u8 tensor), read from the
/// feature cache when it holds them, else computed and stored there: the route probe, stage
/// 1's fused positives and the graph check of a small gray set need them on every run, and a
/// person often runs the same images again with other settings.
pub fn test_features_cached(
    ds: &Dataset,
    images: &Tensor,
    cfg: &Config,
    device: Device,
    cache_dir: Option<&Path>,
) -> Result<Tensor> {
    if let Some(t) = test_features_in_cache(ds, cfg, device, cache_dir) {
        return Ok(t);
    }
    let test = test_features(images, cfg, device)?;
    if let Some(dir) = cache_dir {
        let f = cache_file(dir, &test_cache_key(ds, cfg));
        // A cache that cannot be written (full disk, read-only home) only costs the next run
        // this extraction again: the features are here, the run goes on.
        match write_cache(&f, &[("test", &test.to_device(Device::Cpu))]) {
            Ok(()) => crate::data::cache_budget::after_write(dir, &f),
            Err(e) => eprintln!("warning: {e:#}; the pretrained features are not cached"),
        }
    }
    Ok(test)
}

/// What `test_features_cached` would read from the cache, if it holds it; computes nothing.
pub fn test_features_in_cache(
    ds: &Dataset,
    cfg: &Config,
    device: Device,
    cache_dir: Option<&Path>,
) -> Option<Tensor> {
    let f = cache_file(cache_dir?, &test_cache_key(ds, cfg));
    let t = read_test(&f, ds.len() as i64)?;
    crate::data::cache_budget::touch(&f);
    Some(t.to_device(device))
}

/// The cache key of `test_features_cached`: the frozen key of the same encoder, marked as the
/// test view alone (views, seed and augmentations do not change it, but are fixed here anyway).
fn test_cache_key(ds: &Dataset, cfg: &Config) -> String {
    let mut h = Sha256::new();
    h.update(cache_key(ds, cfg));
    h.update("|test view only, normalised");
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn read_test(file: &Path, n: i64) -> Option<Tensor> {
    let tensors = Tensor::read_safetensors(file).ok()?;
    let (_, t) = tensors.into_iter().find(|(k, _)| k == "test")?;
    (t.dim() == 2 && t.size()[0] == n && t.kind() == Kind::Float).then_some(t)
}

/// Rows scaled to unit L2 norm times √D: Euclidean k-NN on them ranks by cosine (as the
/// measurements in issue 9 used), and entries keep a mean square of 1 for the MLPs' losses.
pub fn normalize(x: &Tensor) -> Tensor {
    let d = *x.size().last().expect("features have a last dim") as f64;
    let norm = x.norm_scalaropt_dim(2.0, [-1], true).clamp_min(1e-12);
    x / norm * d.sqrt()
}
