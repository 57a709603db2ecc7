//! Every backbone, preset and ablation switch trains end to end on small data, gray and colour.
mod common;
use icicle_explorer::config::{BackboneKind, Config, Preset};
use icicle_explorer::data::{Dataset, FolderLayout, LoadOptions, Progress, load_folder};
use icicle_explorer::messages::RunResult;
use std::sync::Arc;

fn tiny(preset: Preset, k: usize) -> Config {
    let mut c = Config::preset(preset, k);
    c.backbone = BackboneKind::Small;
    c.input_size = 0;
    c.small_width = 8;
    c.ae_hidden = [16, 16, 32];
    c.batch = 32;
    c.epochs = 1;
    c.iterations = 2;
    c.eval_every = 1;
    c.kmeans_restarts = 1;
    c.k_b = 5;
    c.device = icicle_explorer::runtime::DeviceChoice::Cpu;
    c
}

fn train(ds: &Arc<Dataset>, cfg: Config) -> Box<RunResult> {
    let _one = common::rng_turn();
    let dir = tempfile::tempdir().unwrap();
    common::train_to_end(ds, cfg, dir.path())
}

fn digits_subset(n: usize) -> Arc<Dataset> {
    Arc::new(common::builtin_first("digits", n))
}

#[test]
fn every_preset_and_ablation_switch_runs() {
    let ds = digits_subset(200);
    for preset in [Preset::Reference, Preset::Paper, Preset::Default] {
        let r = train(&ds, tiny(preset, 10));
        assert_eq!(r.clusters.len(), 200, "{preset:?}");
    }
    for flag in [
        "no_instance_loss",
        "no_cluster_loss",
        "no_gcn",
        "single_scale",
    ] {
        let cfg = icicle_explorer::config::apply_override(
            &tiny(Preset::Default, 10),
            &format!("{flag}=true"),
        )
        .unwrap();
        let r = train(&ds, cfg);
        assert!(r.clusters.iter().all(|&c| (0..10).contains(&c)), "{flag}");
    }
    let mut pix = tiny(Preset::Default, 10);
    pix.graph_features = icicle_explorer::config::FeatureSpace::Pixels;
    train(&ds, pix);
}

#[test]
fn resnet_backbones_run_at_a_small_input_size() {
    let ds = digits_subset(64);
    for kind in [BackboneKind::Resnet18, BackboneKind::Resnet34] {
        let mut cfg = tiny(Preset::Reference, 4);
        cfg.backbone = kind;
        cfg.input_size = 32;
        let r = train(&ds, cfg);
        assert_eq!(r.feature_dim, 512, "{kind:?}: ResNet features are 512-d");
    }
}

#[test]
fn a_folder_of_colour_photos_clusters_by_shape_whatever_the_colour() {
    // Three shapes (horizontal stripes, vertical stripes, a centred square), each image in a
    // random colour with noise: colour jitter, hue and grayscale all apply, and the contrastive
    // loss must learn the shape, as it does on real photos, not the colour.
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 1u32;
    let mut rnd = || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (seed >> 24) as u8
    };
    type Shape = fn(u32, u32) -> bool;
    let shapes: [(&str, Shape); 3] = [
        ("horizontal", |_, y| y % 4 < 2),
        ("vertical", |x, _| x % 4 < 2),
        ("square", |x, y| {
            (4..12).contains(&x) && (4..12).contains(&y)
        }),
    ];
    for (name, on) in shapes {
        std::fs::create_dir_all(dir.path().join(name)).unwrap();
        for i in 0..PER_SHAPE {
            let colour = [rnd() / 2 + 128, rnd() / 2 + 128, rnd() / 2 + 128];
            let img = image::RgbImage::from_fn(16, 16, |x, y| {
                let base = if on(x, y) {
                    colour
                } else {
                    colour.map(|c| c / 4)
                };
                image::Rgb(base.map(|c| c.saturating_add(rnd() / 8)))
            });
            img.save(dir.path().join(name).join(format!("{i}.png")))
                .unwrap();
        }
    }
    let layout = FolderLayout {
        height: 16,
        width: 16,
        channels: None,
        labels: Default::default(),
    };
    let ds = Arc::new(
        load_folder(
            dir.path(),
            "shapes",
            layout,
            &LoadOptions::default(),
            &Progress::none(),
        )
        .unwrap(),
    );
    assert_eq!(ds.channels, 3);
    // Enough steps (≈190) for the cluster head to leave its uniform start; with fewer, Q is
    // uniform at stage 2 and every item lands in one cluster.
    let mut cfg = tiny(Preset::Default, 3);
    cfg.ae_hidden = Config::preset(Preset::Default, 3).ae_hidden;
    cfg.epochs = 20;
    cfg.iterations = 20;
    let r = train(&ds, cfg);
    let s = r.scores.unwrap();
    assert!(s.acc > 0.6, "well above chance (1/3) on shape: {s:?}");
}

const PER_SHAPE: u32 = 100;
