//! What stage 1 trains on: the frozen path's cached views (or fine-tuning maps), each image's
//! positive partners (`neighbor_k`), and the features stage 2 and the graphs use.
use super::frozen;
use super::stage1::Stage1;
use super::trainer::{Res, Stop, Trainer};
use crate::config::{Config, NeighborSpace};
use crate::data::Dataset;
use crate::graph;
use crate::messages::{Event, Job, Stage};
use crate::progress::Progress;
use std::path::Path;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// The frozen path's features, normalised (`frozen::normalize`), ready for stage 1; or, when
/// fine-tuning, the raw activation maps the tail starts from.
pub(super) struct FrozenFeatures {
    /// N×V×D (N×V×C×H×W maps when fine-tuning).
    pub(super) views: Tensor,
    /// N×D (N×C×H×W) of the test view.
    pub(super) test: Tensor,
}

impl FrozenFeatures {
    /// Two different cached views, of the images `idx` and of their partners `partner`
    /// (the same images, or neighbours); the step's seed is set.
    pub(super) fn view_pair(&self, idx: &Tensor, partner: &Tensor) -> (Tensor, Tensor) {
        let s = self.views.size();
        let (b, v) = (idx.size()[0], s[1]);
        let dev = idx.device();
        let va = Tensor::randint(v, [b], (Kind::Int64, dev));
        let vb = (&va + Tensor::randint(v - 1, [b], (Kind::Int64, dev)) + 1).remainder(v);
        let mut one = s.clone();
        one.remove(1);
        one[0] = b;
        let pick = |rows: &Tensor, which: &Tensor| {
            let rows = self.views.index_select(0, rows).view([b, v, -1]);
            let d = rows.size()[2];
            rows.gather(1, &which.view([b, 1, 1]).expand([b, 1, d], false), false)
                .view(one.as_slice())
        };
        (pick(idx, &va), pick(partner, &vb))
    }
}

/// Each image's positive candidates for stage 1: itself and its `neighbor_k` nearest
/// neighbours (N×(k+1)), or `None` when `neighbor_k` is 0; beside them the pretrained
/// features of every image when the neighbours were found with them (the graph check reuses
/// them).
pub(super) fn positives(
    cfg: &Config,
    s1: &Stage1,
    frozen: Option<&FrozenFeatures>,
    ds: &Dataset,
    images: &Tensor,
    cache: Option<&Path>,
) -> anyhow::Result<(Option<Tensor>, Option<Tensor>)> {
    if cfg.neighbor_k == 0 {
        return Ok((None, None));
    }
    let mut pretrained = None;
    let n = images.size()[0];
    let x = match frozen {
        Some(f) => stage2_input(s1, Some(f), images),
        None => {
            let px = images.view([n, -1]).to_kind(Kind::Float) / 255.0;
            match cfg.neighbor_features {
                NeighborSpace::Pixels => px,
                NeighborSpace::Fused => {
                    let pre = super::graph_space::pretrained(ds, images, images.device(), cache)?;
                    let x = super::graph_space::fuse(&px, &pre);
                    pretrained = Some(pre);
                    x
                }
            }
        }
    };
    let knn = graph::knn(&x, cfg.neighbor_k, &Progress::none())?;
    let nb = Tensor::from_slice(&knn.neighbors)
        .view([n, cfg.neighbor_k as i64])
        .to_device(images.device());
    let own = Tensor::arange(n, (Kind::Int64, images.device())).view([n, 1]);
    Ok((Some(Tensor::cat(&[own, nb], 1)), pretrained))
}

/// One uniformly chosen positive candidate per image of the batch `idx`.
pub(super) fn partners(positives: Option<&Tensor>, idx: &Tensor) -> Tensor {
    match positives {
        None => idx.shallow_clone(),
        Some(p) => {
            let cand = p.index_select(0, idx);
            let s = cand.size();
            let pick = Tensor::randint(s[1], [s[0], 1], (Kind::Int64, idx.device()));
            cand.gather(1, &pick, false).squeeze_dim(1)
        }
    }
}

/// What stage 2 (and the stage-1 evaluation) works on: the test view's representation.
pub(super) fn stage2_input(
    s1: &Stage1,
    frozen: Option<&FrozenFeatures>,
    images: &Tensor,
) -> Tensor {
    match frozen {
        Some(f) if s1.tail.is_some() => s1.tail_features_all(&f.test),
        Some(f) => f.test.shallow_clone(),
        None => s1.features(images),
    }
}

/// Runs the frozen encoder over every image (or reads its cache), reporting progress.
pub(super) fn extract_features(
    t: &mut Trainer,
    images: &Tensor,
    device: Device,
) -> Res<FrozenFeatures> {
    let (cfg, job): (&Config, &Job) = (t.cfg, t.job);
    let ds = &*job.dataset;
    let batches = ds.len().div_ceil(frozen::batch(frozen::side(cfg)) as usize);
    (t.emit)(Event::StageChanged {
        stage: Stage::Extract,
        total_steps: batches * (cfg.views + 1),
    });
    let started = Instant::now();
    let f = frozen::extract(
        ds,
        images,
        cfg,
        device,
        job.feature_cache.as_deref(),
        |done, total| {
            t.poll()?;
            t.progress(Stage::Extract, done, total, started, 0);
            Ok::<(), Stop>(())
        },
    )?;
    let what = format!("{}, {} views", frozen::describe(cfg), cfg.views);
    (t.emit)(Event::Info(match (&f.file, f.from_cache) {
        (Some(file), true) => format!("features of {what} read from the cache {}", file.display()),
        (Some(file), false) => format!(
            "features of {what} computed in {:.1} s, cached in {}",
            started.elapsed().as_secs_f64(),
            file.display()
        ),
        (None, _) => format!(
            "features of {what} computed in {:.1} s (no cache folder)",
            started.elapsed().as_secs_f64()
        ),
    }));
    if cfg.finetune_blocks > 0 {
        // Maps for the fine-tuned tail; its pooled output is normalised per step.
        return Ok(FrozenFeatures {
            views: f.views,
            test: f.test,
        });
    }
    Ok(FrozenFeatures {
        views: frozen::normalize(&f.views),
        test: frozen::normalize(&f.test),
    })
}
