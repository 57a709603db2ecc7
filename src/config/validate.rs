//! Field-by-field validation; every message starts with the field's name.
use super::{BackboneKind, Config, Preset};
use anyhow::{Result, bail};

fn unit(name: &str, v: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&v) || v.is_nan() {
        bail!("{name} = {v}: must be between 0 and 1");
    }
    Ok(())
}

fn positive(name: &str, v: f64) -> Result<()> {
    if !(v > 0.0 && v.is_finite()) {
        bail!("{name} = {v}: must be a positive number");
    }
    Ok(())
}

fn non_negative(name: &str, v: f64) -> Result<()> {
    if !(v >= 0.0 && v.is_finite()) {
        bail!("{name} = {v}: must be zero or positive");
    }
    Ok(())
}

pub fn check(c: &Config, items: usize) -> Result<()> {
    if c.clusters < 2 {
        bail!("clusters = {}: K must be at least 2", c.clusters);
    }
    if c.clusters > items {
        bail!(
            "clusters = {}: K must not exceed the number of images ({items})",
            c.clusters
        );
    }
    if c.start_head == super::StartHead::Scan && c.backbone.is_frozen() {
        if c.scan_neighbors == 0 || c.scan_neighbors >= items {
            bail!(
                "scan_neighbors = {}: must be at least 1 and below the {items} images",
                c.scan_neighbors
            );
        }
        non_negative("scan_entropy", c.scan_entropy)?;
        if c.scan_steps == 0 {
            bail!("scan_steps = 0: the SCAN head needs at least one step");
        }
        unit("selflabel_threshold", c.selflabel_threshold)?;
    }
    unit("answer_min_modularity", c.answer_min_modularity)?;
    unit("correct_keep", c.correct_keep)?;
    if c.batch < 2 {
        bail!(
            "batch = {}: the contrastive losses need at least 2 images per batch",
            c.batch
        );
    }
    if c.batch > items {
        bail!(
            "batch = {}: larger than the {items} images (batches are full, drop_last)",
            c.batch
        );
    }
    for (name, k) in [("k_a", c.k_a), ("k_b", c.k_b)] {
        if k < 1 {
            bail!("{name} = {k}: must be at least 1");
        }
        if k >= items {
            bail!("{name} = {k}: must be smaller than the {items} images");
        }
    }
    if c.neighbor_k >= items {
        bail!(
            "neighbor_k = {}: must be smaller than the {items} images (0 = off)",
            c.neighbor_k
        );
    }
    positive("lr", c.lr)?;
    positive("stage2_lr", c.stage2_lr)?;
    non_negative("gcn_lr", c.gcn_lr)?;
    positive("tau_i", c.tau_i)?;
    positive("tau_c", c.tau_c)?;
    for (n, v) in [
        ("sigma", c.sigma),
        ("gamma", c.gamma),
        ("ae_weight", c.ae_weight),
        ("partition_targets", c.partition_targets),
    ] {
        unit(n, v)?;
    }
    if c.preset == Preset::Paper && c.sigma + c.gamma > 1.0 + 1e-12 {
        bail!(
            "sigma + gamma = {}: under the paper preset the AE weight is 1 − σ − γ, so σ + γ must not exceed 1",
            c.sigma + c.gamma
        );
    }
    for (n, v) in [("alpha", c.alpha), ("beta", c.beta), ("eta", c.eta)] {
        non_negative(n, v)?;
    }
    let a = &c.augment;
    if !(a.crop_min_scale > 0.0 && a.crop_min_scale <= 1.0) {
        bail!(
            "augment.crop_min_scale = {}: must be in (0, 1]",
            a.crop_min_scale
        );
    }
    non_negative("augment.jitter_strength", a.jitter_strength)?;
    unit("augment.jitter_p", a.jitter_p)?;
    unit("augment.grayscale_p", a.grayscale_p)?;
    if !(0.0..=180.0).contains(&a.rotate_degrees) {
        bail!(
            "augment.rotate_degrees = {}: must be in [0, 180]",
            a.rotate_degrees
        );
    }
    if c.feature_dim < 2 {
        bail!("feature_dim = {}: must be at least 2", c.feature_dim);
    }
    if let Some(h) = c.ae_hidden.iter().find(|&&h| h < 1) {
        bail!(
            "ae_hidden = {:?}: every layer needs at least 1 unit (found {h})",
            c.ae_hidden
        );
    }
    if c.small_width < 4 {
        bail!("small_width = {}: must be at least 4", c.small_width);
    }
    if c.input_size != 0 && !(8..=512).contains(&c.input_size) {
        bail!(
            "input_size = {}: must be 0 (native) or between 8 and 512",
            c.input_size
        );
    }
    if c.backbone_tap > crate::model::efficientnet::BLOCKS {
        bail!(
            "backbone_tap = {}: must be 0 (the head) or a block from 1 to {}",
            c.backbone_tap,
            crate::model::efficientnet::BLOCKS
        );
    }
    if c.finetune_blocks > 0 {
        let max = super::MAX_FINETUNE_BLOCKS;
        if c.backbone != BackboneKind::EfficientnetLite0 {
            bail!(
                "finetune_blocks = {}: only the efficientnet-lite0 backbone can be fine-tuned \
                 (backbone is {})",
                c.finetune_blocks,
                c.backbone.name()
            );
        }
        if c.finetune_blocks > max {
            bail!(
                "finetune_blocks = {}: at most {max} (blocks 13–16 and the head)",
                c.finetune_blocks
            );
        }
        let first = crate::model::efficientnet::BLOCKS - c.finetune_blocks + 1;
        if c.backbone_tap != 0 && c.backbone_tap < first {
            bail!(
                "finetune_blocks = {}: fine-tunes blocks {first}–16, after backbone_tap = {}; \
                 use the head (0) or a tap from {first}",
                c.finetune_blocks,
                c.backbone_tap
            );
        }
        positive("finetune_lr", c.finetune_lr)?;
    }
    if c.backbone.is_frozen() && c.views < 2 {
        bail!(
            "views = {}: a frozen backbone needs at least 2 augmented views per image",
            c.views
        );
    }
    if c.backbone == BackboneKind::Torchscript && c.backbone_file.trim().is_empty() {
        bail!("backbone_file is empty: backbone = \"torchscript\" needs the path of a .pt model");
    }
    if c.checkpoint_every < 1 {
        bail!("checkpoint_every = 0: must be at least 1");
    }
    if c.eval_every < 1 {
        bail!("eval_every = 0: must be at least 1");
    }
    if c.stage2_batch < 8 {
        bail!(
            "stage2_batch = {}: a mini-batch needs at least 8 nodes",
            c.stage2_batch
        );
    }
    if c.stage2_part < 1 || c.stage2_part > c.stage2_batch {
        bail!(
            "stage2_part = {}: must be between 1 and stage2_batch ({})",
            c.stage2_part,
            c.stage2_batch
        );
    }
    if c.kmeans_restarts < 1 {
        bail!("kmeans_restarts = 0: must be at least 1");
    }
    Ok(())
}
