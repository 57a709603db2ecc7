//! Presets, validation of every field, and --set overrides.
use icicle_explorer::config::{Config, Preset, apply_override};
use icicle_explorer::graph::Normalization;

fn set(c: &Config, kv: &str) -> Config {
    apply_override(c, kv).unwrap()
}

#[test]
fn presets_differ_where_the_spec_says() {
    let r = Config::preset(Preset::Reference, 10);
    let p = Config::preset(Preset::Paper, 10);
    let d = Config::preset(Preset::Default, 10);
    assert!(
        r.cluster_views_from_a && !p.cluster_views_from_a && !d.cluster_views_from_a,
        "D1"
    );
    assert!(
        !r.recon_both_views && p.recon_both_views && d.recon_both_views,
        "D2"
    );
    assert_eq!(
        (r.sigma, r.gamma, r.ae_weight),
        (0.5, 0.2, 0.5),
        "D3 reference"
    );
    assert_eq!((p.sigma, p.gamma, p.ae_weight), (0.4, 0.2, 0.4), "D3 paper");
    assert!(r.share_gcn_weights && !p.share_gcn_weights, "D4");
    assert_eq!(
        (r.normalization, p.normalization),
        (Normalization::Row, Normalization::Symmetric),
        "D5"
    );
    assert_eq!((r.k_a, r.k_b, p.k_b, d.k_b), (1, 15, 10, 10), "D6");
    assert_eq!((r.alpha, r.beta, r.eta), (0.1, 0.05, 0.01), "D9");
    assert_eq!((r.batch, p.batch), (100, 128), "D10");
    assert!(!r.log_space && p.log_space && d.log_space, "D18");
    for c in [&r, &p, &d] {
        c.validate(10_000).unwrap();
        assert_eq!(
            Config::from_toml(&c.to_toml()).unwrap(),
            *c,
            "config.toml round trip"
        );
    }
}

#[test]
fn every_invalid_field_is_named() {
    let d = Config::preset(Preset::Default, 10);
    let p = Config::preset(Preset::Paper, 10);
    let cases: Vec<(Config, usize, &str)> = vec![
        (set(&d, "clusters=1"), 1000, "clusters"),
        (d.clone(), 5, "clusters"),
        (set(&d, "batch=1"), 1000, "batch"),
        (set(&d, "batch=5000"), 1000, "batch"),
        (set(&d, "k_a=0"), 1000, "k_a"),
        (set(&d, "k_b=1000"), 1000, "k_b"),
        (set(&d, "lr=0"), 1000, "lr"),
        (set(&d, "stage2_lr=-1"), 1000, "stage2_lr"),
        (set(&d, "tau_i=0"), 1000, "tau_i"),
        (set(&d, "tau_c=-0.5"), 1000, "tau_c"),
        (set(&d, "sigma=1.5"), 1000, "sigma"),
        (set(&d, "gamma=-0.1"), 1000, "gamma"),
        (set(&d, "ae_weight=2"), 1000, "ae_weight"),
        (
            set(&set(&p, "sigma=0.9"), "gamma=0.3"),
            1000,
            "sigma + gamma",
        ),
        (set(&d, "alpha=-1"), 1000, "alpha"),
        (set(&d, "beta=-1"), 1000, "beta"),
        (set(&d, "eta=-1"), 1000, "eta"),
        (
            set(&d, "augment.crop_min_scale=0"),
            1000,
            "augment.crop_min_scale",
        ),
        (set(&d, "augment.jitter_p=2"), 1000, "augment.jitter_p"),
        (
            set(&d, "augment.rotate_degrees=200"),
            1000,
            "augment.rotate_degrees",
        ),
        (
            set(&d, "augment.grayscale_p=-1"),
            1000,
            "augment.grayscale_p",
        ),
        (
            set(&d, "augment.jitter_strength=-1"),
            1000,
            "augment.jitter_strength",
        ),
        (set(&d, "feature_dim=1"), 1000, "feature_dim"),
        (set(&d, "ae_hidden=[0, 5, 5]"), 1000, "ae_hidden"),
        (set(&d, "small_width=2"), 1000, "small_width"),
        (set(&d, "input_size=4"), 1000, "input_size"),
        (set(&d, "checkpoint_every=0"), 1000, "checkpoint_every"),
        (set(&d, "eval_every=0"), 1000, "eval_every"),
        (set(&d, "kmeans_restarts=0"), 1000, "kmeans_restarts"),
    ];
    for (c, n, field) in cases {
        let e = c.validate(n).unwrap_err().to_string();
        assert!(e.starts_with(field), "{field}: {e}");
    }
    // σ + γ > 1 is fine outside the paper preset (the reference's weights sum to 1.2).
    set(&set(&d, "sigma=0.9"), "gamma=0.3")
        .validate(1000)
        .unwrap();
}

#[test]
fn set_overrides_fields_by_name_and_rejects_nonsense() {
    let d = Config::preset(Preset::Default, 10);
    let c = set(
        &set(&set(&d, "sigma=0.4"), "augment.blur=true"),
        "normalization=symmetric",
    );
    assert_eq!(c.sigma, 0.4);
    assert!(c.augment.blur);
    assert_eq!(c.normalization, Normalization::Symmetric);
    assert_eq!(set(&d, "lr=1").lr, 1.0, "integers are accepted for floats");
    assert_eq!(set(&d, "head=q").head, icicle_explorer::config::Head::Q);
    for (kv, words) in [
        ("sigmaa=1", "unknown field"),
        ("sigma", "key=value"),
        ("sigma=abc", "expected a float"),
        ("epochs=1.5", "expected a integer"),
        ("normalization=diagonal", "normalization"),
        ("nope.x=1", "no section"),
    ] {
        let e = format!("{:#}", apply_override(&d, kv).unwrap_err());
        assert!(e.contains(words), "{kv}: {e}");
    }
}

#[test]
fn default_preset_fits_its_epochs_to_the_dataset() {
    use icicle_explorer::config::{
        BackboneKind, DEFAULT_STAGE1_STEPS, DataShape, SMALL_CNN_MAX_EPOCHS, fit_to_data,
    };
    let shape = |items, side, channels| DataShape {
        items,
        side,
        channels,
        prefer_pretrained: None,
    };
    let mut d = Config::preset(Preset::Default, 10);
    let why: Vec<String> = fit_to_data(&mut d, shape(1797, 8, 1), false)
        .into_iter()
        .map(|c| c.text)
        .collect();
    assert_eq!(
        d.epochs, SMALL_CNN_MAX_EPOCHS,
        "a small set on the small CNN: fewer epochs"
    );
    assert!(why.iter().any(|w| w.contains("gray images")), "{why:?}");
    assert_eq!(
        (d.neighbor_k, d.iterations),
        (10, 100),
        "gray: neighbour positives; the small CNN's streams settle within 100 iterations"
    );
    assert_eq!(
        d.neighbor_features,
        icicle_explorer::config::NeighborSpace::Fused,
        "gray on the small CNN: neighbours in the pixels beside pretrained features"
    );
    assert!(
        why.iter()
            .any(|w| w.contains("pixels beside frozen pretrained")),
        "{why:?}"
    );
    assert_eq!(
        (d.augment.flip, d.augment.rotate_degrees),
        (false, icicle_explorer::config::SMALL_GRAY_ROTATION),
        "gray on the small CNN: views turned, never mirrored"
    );
    assert!(why.iter().any(|w| w.contains("never mirrored")), "{why:?}");
    assert_eq!(
        d.graph_features,
        icicle_explorer::config::FeatureSpace::Auto,
        "gray on the small CNN: graphs fused with pretrained features where the check says"
    );
    assert!(
        why.iter().any(|w| w.contains("beside frozen pretrained")),
        "{why:?}"
    );
    fit_to_data(&mut d, shape(10_000, 28, 1), false);
    assert_eq!(d.iterations, 100, "large sets: fewer stage-2 iterations");
    assert_eq!(d.epochs, DEFAULT_STAGE1_STEPS.div_ceil(10_000 / 64));
    assert_eq!(d.backbone, BackboneKind::Small);
    fit_to_data(&mut d, shape(10_000, 32, 1), true);
    assert_eq!(
        (d.backbone, d.input_size),
        (BackboneKind::Resnet34, 224),
        "GPU: the paper's backbone"
    );
    assert_eq!(
        d.augment,
        Config::preset(Preset::Default, 10).augment,
        "GPU: today's augmentations (the turned views are measured on the small CNN only)"
    );
    assert_eq!(
        d.graph_features,
        icicle_explorer::config::FeatureSpace::Backbone,
        "GPU: graphs on the learned features (the fusion is measured on the small CNN only)"
    );
    let why: Vec<String> = fit_to_data(&mut d, shape(1906, 64, 3), false)
        .into_iter()
        .map(|c| c.text)
        .collect();
    assert_eq!(
        (d.backbone, d.backbone_tap, d.input_size),
        (BackboneKind::EfficientnetLite0, 0, 128),
        "colour: the frozen pretrained backbone"
    );
    assert!(
        why.iter().any(|w| w.contains("EfficientNet-Lite0")),
        "{why:?}"
    );
    assert_eq!(d.neighbor_k, 0, "nothing of the gray choice left");
    assert_eq!(
        d.neighbor_features,
        icicle_explorer::config::NeighborSpace::Pixels,
        "nothing of the gray choice left"
    );
    assert_eq!(
        d.ae_hidden,
        Config::preset(Preset::Default, 10).ae_hidden,
        "frozen features keep the preset's AE"
    );
    assert_eq!(d.head, icicle_explorer::config::Head::Q, "frozen: Q");
    assert_eq!(
        (d.iterations, d.epochs),
        (200, DEFAULT_STAGE1_STEPS.div_ceil(1906 / 64)),
        "a small set on the frozen path: the preset's schedule"
    );
    assert_eq!(
        d.augment,
        Config::preset(Preset::Default, 10).augment,
        "colour: the preset's augmentations (mirrored, not turned)"
    );
    assert_eq!(
        d.graph_features,
        icicle_explorer::config::FeatureSpace::Backbone,
        "frozen path: its features are the pretrained ones already"
    );
    // Back to gray after colour: the CNN again, nothing of the colour choice left.
    fit_to_data(&mut d, shape(1797, 8, 1), false);
    assert_eq!((d.backbone, d.input_size), (BackboneKind::Small, 0));
    assert_eq!(d.head, icicle_explorer::config::Head::StreamA);
    assert_eq!(
        d.ae_hidden,
        icicle_explorer::config::SMALL_CNN_AE,
        "the small CNN: a narrower AE"
    );
    assert!(!d.augment.flip && d.augment.rotate_degrees > 0.0);
    let mut r = Config::preset(Preset::Reference, 10);
    fit_to_data(&mut r, shape(1797, 8, 3), false);
    assert_eq!(
        r,
        Config::preset(Preset::Reference, 10),
        "other presets untouched"
    );
}

#[test]
fn the_default_routes_photos_and_probed_gray_sets_to_the_frozen_backbone() {
    use icicle_explorer::config::{BackboneKind, DataShape, fit_to_data};
    let shape = |side, channels, prefer_pretrained| DataShape {
        items: 2000,
        side,
        channels,
        prefer_pretrained,
    };
    let mut d = Config::preset(Preset::Default, 10);
    // Gray photos above 64 px: the frozen path at its side, not a CNN at 128.
    fit_to_data(&mut d, shape(128, 1, None), false);
    assert_eq!(
        (d.backbone, d.input_size),
        (BackboneKind::EfficientnetLite0, 128)
    );
    // Small gray images: the probe decides.
    fit_to_data(&mut d, shape(28, 1, Some(true)), false);
    assert_eq!(
        (d.backbone, d.input_size),
        (BackboneKind::EfficientnetLite0, 64)
    );
    assert_eq!(d.neighbor_k, 0);
    fit_to_data(&mut d, shape(28, 1, Some(false)), false);
    assert_eq!((d.backbone, d.neighbor_k), (BackboneKind::Small, 10));
    assert_eq!(
        d.final_answer,
        icicle_explorer::config::FinalAnswer::Auto,
        "the default answers with the label-free choice"
    );
}

#[test]
fn printed_choices_are_what_runs_overrides_included() {
    use icicle_explorer::config::{DataShape, fitted};
    let shape = DataShape {
        items: 1797,
        side: 8,
        channels: 1,
        prefer_pretrained: None,
    };
    let sets = vec!["epochs=150".to_string()];
    let (cfg, lines) = fitted(Preset::Default, 10, shape, false, &sets).unwrap();
    assert_eq!(cfg.epochs, 150);
    let epochs: Vec<&String> = lines.iter().filter(|l| l.contains("epochs")).collect();
    assert!(
        epochs
            .iter()
            .all(|l| !l.starts_with("default:") || !l.contains("stage-1 epochs")),
        "the default's epoch count is not printed as what runs: {lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("replaced by --set epochs=150")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l == "set: epochs=150"), "{lines:?}");
}

/// The answer's merge–split refinement is the default's (measured), not the paper's or the
/// released code's, and the default says so where it runs, and not where it is switched off.
#[test]
fn only_the_default_refines_its_answer_and_says_so() {
    use icicle_explorer::config::{DataShape, fitted};
    assert!(!Config::preset(Preset::Reference, 10).refine_answer);
    assert!(!Config::preset(Preset::Paper, 10).refine_answer);
    assert!(Config::preset(Preset::Default, 10).refine_answer);
    let shape = DataShape {
        items: 1797,
        side: 8,
        channels: 1,
        prefer_pretrained: None,
    };
    let (cfg, lines) = fitted(Preset::Default, 10, shape, false, &[]).unwrap();
    assert!(cfg.refine_answer);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("default:") && l.contains("merge-split")),
        "{lines:?}"
    );
    let off = vec!["refine_answer=false".to_string()];
    let (cfg, lines) = fitted(Preset::Default, 10, shape, false, &off).unwrap();
    assert!(!cfg.refine_answer);
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("default:") && l.contains("merge-split")),
        "{lines:?}"
    );
    // A config saved before the setting existed loads with it off: its run is reproduced.
    let mut old = Config::preset(Preset::Default, 10).to_toml();
    old = old
        .lines()
        .filter(|l| !l.starts_with("refine_answer"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!Config::from_toml(&old).unwrap().refine_answer);
}

#[test]
fn the_default_fits_a_folder_smaller_than_a_batch_or_a_neighbourhood() {
    use icicle_explorer::config::{DataShape, fit_to_data};
    for (items, channels) in [(40, 1), (40, 3), (8, 1), (8, 3)] {
        let shape = DataShape {
            items,
            side: if channels == 3 { 128 } else { 8 },
            channels,
            prefer_pretrained: None,
        };
        let mut d = Config::preset(Preset::Default, 2);
        let why = fit_to_data(&mut d, shape, false);
        // The preset's batch (64), k_b (10) and SCAN neighbours (20) would be refused.
        d.validate(items)
            .unwrap_or_else(|e| panic!("{items} images, {channels} channels: {e:#}"));
        assert_eq!(d.batch, items);
        assert!(d.k_b < items && d.k_a < items && d.scan_neighbors < items);
        let lines: Vec<String> = why.iter().map(|c| c.text.clone()).collect();
        assert!(
            lines
                .iter()
                .any(|l| l.contains("fewer than the preset's batch")),
            "{lines:?}"
        );
    }
    // Enough images: the preset's counts stay.
    let mut d = Config::preset(Preset::Default, 10);
    fit_to_data(
        &mut d,
        DataShape {
            items: 1797,
            side: 8,
            channels: 1,
            prefer_pretrained: None,
        },
        false,
    );
    assert_eq!((d.batch, d.k_b, d.scan_neighbors), (64, 10, 20));
}
