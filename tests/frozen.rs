//! The frozen-feature path: cached view features (reuse, invalidation, a corrupt cache
//! file), TorchScript backbones and their errors, and a whole run through the worker.
mod common;
use icicle_explorer::config::{BackboneKind, Config, NeighborSpace, Preset};
use icicle_explorer::data::Dataset;
use icicle_explorer::messages::{Command, Event, Job, RunResult, Stage};
use icicle_explorer::model::pretrained::Pretrained;
use icicle_explorer::priority::Priority;
use icicle_explorer::runtime::DeviceChoice;
use icicle_explorer::train::frozen;
use icicle_explorer::worker::Worker;
use std::path::Path;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

fn digits(n: usize) -> Dataset {
    common::builtin_first("digits", n)
}

fn frozen_config(tap: usize, views: usize) -> Config {
    let mut cfg = Config::preset(Preset::Default, 10);
    cfg.backbone = BackboneKind::EfficientnetLite0;
    cfg.backbone_tap = tap;
    cfg.input_size = 32;
    cfg.views = views;
    cfg.device = DeviceChoice::Cpu;
    cfg
}

fn images(ds: &Dataset) -> Tensor {
    ds.to_u8_tensor(Device::Cpu)
}

fn extract(ds: &Dataset, cfg: &Config, cache: Option<&Path>) -> frozen::ViewFeatures {
    frozen::extract(ds, &images(ds), cfg, Device::Cpu, cache, |_, _| {
        Ok::<(), anyhow::Error>(())
    })
    .unwrap()
}

#[test]
fn features_are_cached_and_reused_and_a_changed_setting_recomputes() {
    let _rng = common::rng_turn();
    let ds = digits(70);
    let dir = tempfile::tempdir().unwrap();
    let cfg = frozen_config(3, 2);
    let first = extract(&ds, &cfg, Some(dir.path()));
    assert!(!first.from_cache);
    assert_eq!(first.views.size(), [70, 2, 24]);
    assert_eq!(first.test.size(), [70, 24]);
    // Views differ from each other and from the test view: augmentation happened.
    let v0 = first.views.select(1, 0);
    assert!(
        (&v0 - first.views.select(1, 1))
            .abs()
            .max()
            .double_value(&[])
            > 1e-3
    );
    let again = extract(&ds, &cfg, Some(dir.path()));
    assert!(again.from_cache, "second extraction reads the cache");
    assert!(again.views.equal(&first.views) && again.test.equal(&first.test));
    // Without a cache the same seed computes the same numbers.
    let fresh = extract(&ds, &cfg, None);
    assert!(fresh.views.allclose(&first.views, 1e-5, 1e-5, false));

    for (what, changed) in [
        ("tap", frozen_config(4, 2)),
        ("views", frozen_config(3, 3)),
        (
            "seed",
            Config {
                seed: 7,
                ..cfg.clone()
            },
        ),
        (
            "side",
            Config {
                input_size: 40,
                ..cfg.clone()
            },
        ),
    ] {
        assert_ne!(
            frozen::cache_key(&ds, &changed),
            frozen::cache_key(&ds, &cfg),
            "{what}"
        );
        assert!(
            !extract(&ds, &changed, Some(dir.path())).from_cache,
            "{what}"
        );
    }
    let other = digits(69);
    assert_ne!(
        frozen::cache_key(&other, &cfg),
        frozen::cache_key(&ds, &cfg)
    );

    // A corrupt cache file is ignored and rewritten.
    let file = first.file.unwrap();
    std::fs::write(&file, b"not a safetensors file").unwrap();
    let redone = extract(&ds, &cfg, Some(dir.path()));
    assert!(!redone.from_cache);
    assert!(extract(&ds, &cfg, Some(dir.path())).from_cache);
}

#[test]
fn a_cancel_during_extraction_stops_it() {
    let _rng = common::rng_turn();
    let ds = digits(200);
    let cfg = frozen_config(2, 2);
    let mut calls = 0;
    let r = frozen::extract(&ds, &images(&ds), &cfg, Device::Cpu, None, |done, total| {
        calls += 1;
        assert!(done <= total);
        if done == 2 {
            anyhow::bail!("cancelled")
        }
        Ok(())
    });
    assert_eq!(r.err().unwrap().to_string(), "cancelled");
    assert_eq!(calls, 3, "ticks at 0, 1 and 2 of 7 batches × 3 passes");
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn a_torchscript_backbone_gives_its_features() {
    let net = Pretrained::script(&fixture("tiny_encoder.pt"), Device::Cpu).unwrap();
    let expected = Tensor::read_safetensors(fixture("tiny_encoder_expected.safetensors")).unwrap();
    let get = |n: &str| &expected.iter().find(|(k, _)| k == n).unwrap().1;
    let out = net.features(get("input")).unwrap();
    assert!(out.allclose(get("output"), 1e-5, 1e-6, false));
    // Gray input is repeated to RGB, as for EfficientNet.
    let gray = Tensor::rand([2, 1, 8, 8], (Kind::Float, Device::Cpu));
    assert_eq!(net.features(&gray).unwrap().size(), [2, 6]);
}

#[test]
fn a_wrong_torchscript_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.pt");
    std::fs::write(&text, "hello").unwrap();
    let e = format!(
        "{:#}",
        Pretrained::script(&text, Device::Cpu).err().unwrap()
    );
    assert!(
        e.contains("notes.pt") && e.contains("not a TorchScript model"),
        "{e}"
    );
    let missing = dir.path().join("missing.pt");
    let e = format!(
        "{:#}",
        Pretrained::script(&missing, Device::Cpu).err().unwrap()
    );
    assert!(
        e.contains("missing.pt") && e.contains("no such file"),
        "{e}"
    );
    // The EfficientNet weights file is safetensors, not TorchScript.
    let weights = icicle_explorer::model::efficientnet::default_weights();
    let e = format!(
        "{:#}",
        Pretrained::script(&weights, Device::Cpu).err().unwrap()
    );
    assert!(e.contains("not a TorchScript model"), "{e}");
}

/// Trains `cfg` on `ds` through the worker: (info notes, extraction progress ticks, result).
fn finish(
    ds: &Arc<Dataset>,
    cfg: &Config,
    dir: &Path,
    cache: &Path,
    resume: bool,
) -> (Vec<String>, usize, RunResult) {
    let w = Worker::spawn(Priority::Normal, || {});
    w.send(Command::Start(Box::new(Job {
        dataset: ds.clone(),
        config: cfg.clone(),
        run_dir: dir.to_path_buf(),
        resume,
        feature_cache: Some(cache.to_path_buf()),
        correct_from: None,
    })));
    let (mut notes, mut extract_ticks) = (vec![], 0);
    loop {
        match w.events.recv().unwrap() {
            Event::Info(i) => notes.push(i),
            Event::Progress {
                stage: Stage::Extract,
                ..
            } => extract_ticks += 1,
            Event::Finished(r) => {
                assert_eq!(r.clusters.len(), ds.len());
                return (notes, extract_ticks, *r);
            }
            Event::Failed(e) => panic!("{e}"),
            Event::Cancelled { .. } => panic!("cancelled"),
            _ => {}
        }
    }
}

fn run(ds: &Arc<Dataset>, cfg: &Config, dir: &Path, cache: &Path) -> (Vec<String>, usize, f64) {
    let (notes, ticks, r) = finish(ds, cfg, dir, cache, false);
    assert_eq!(r.feature_dim, 40, "block 5 of EfficientNet-Lite0");
    (notes, ticks, r.scores.unwrap().acc)
}

#[test]
fn a_frozen_run_trains_on_cached_features_and_reuses_them() {
    let _rng = common::rng_turn();
    let ds = Arc::new(digits(300));
    let mut cfg = frozen_config(5, 3);
    cfg.epochs = 60;
    cfg.iterations = 20;
    cfg.batch = 50;
    let (a, b, cache) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let (notes, ticks, acc) = run(&ds, &cfg, a.path(), cache.path());
    assert!(ticks >= 5 * 4, "progress per batch and view: {ticks}");
    assert!(notes.iter().any(|n| n.contains("computed")), "{notes:?}");
    assert!(acc > 0.2, "ACC {acc}");
    let (notes, _, acc2) = run(&ds, &cfg, b.path(), cache.path());
    assert!(
        notes.iter().any(|n| n.contains("read from the cache")),
        "{notes:?}"
    );
    assert_eq!(acc, acc2, "same config and seed, same result");
    let saved = std::fs::read_to_string(a.path().join("config.toml")).unwrap();
    assert!(
        saved.contains("backbone = \"efficientnet-lite0\""),
        "{saved}"
    );
}

#[test]
fn fine_tuning_trains_the_last_blocks_on_cached_maps_and_resumes() {
    use icicle_explorer::model::efficientnet::EfficientNetLite0;
    let _rng = common::rng_turn();
    let ds = Arc::new(digits(200));
    let mut cfg = frozen_config(0, 2);
    cfg.finetune_blocks = 1;
    cfg.epochs = 3;
    cfg.iterations = 5;
    cfg.batch = 50;
    cfg.validate(ds.len()).unwrap();
    let (dir, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, _, r) = finish(&ds, &cfg, dir.path(), cache.path(), false);
    assert_eq!(r.feature_dim, 1280, "the head, through the tuned block");
    // The cache holds block 15's maps (192 channels, 1×1 at side 32), not pooled features.
    let file = frozen::cache_file(cache.path(), &frozen::cache_key(&ds, &cfg));
    let cached = Tensor::read_safetensors(&file).unwrap();
    let views = &cached.iter().find(|(k, _)| k == "views").unwrap().1;
    assert_eq!(views.size(), [200, 2, 192, 1, 1]);
    // The tuned block moved away from its ImageNet weights.
    let ck = dir.path().join("checkpoints/stage1.safetensors");
    let (saved, _): (_, serde_json::Value) =
        icicle_explorer::train::checkpoint::load(&ck, Device::Cpu).unwrap();
    let tuned = saved
        .get("model.tail.blocks.15.project.w")
        .unwrap_or_else(|| panic!("{:?}", saved.keys().collect::<Vec<_>>()));
    let net = EfficientNetLite0::load(
        &icicle_explorer::model::efficientnet::default_weights(),
        Device::Cpu,
    )
    .unwrap();
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let _ = net.trainable_tail(&vs.root(), 15, 0);
    let start = &vs.variables()["blocks.15.project.w"];
    assert!(
        (tuned - start).abs().max().double_value(&[]) > 1e-6,
        "fine-tuning changed block 16"
    );
    // Stage 2 again from the saved stage 1, tail included.
    std::fs::remove_file(dir.path().join("checkpoints/stage2.safetensors")).unwrap();
    let (_, _, again) = finish(&ds, &cfg, dir.path(), cache.path(), true);
    assert_eq!(again.clusters.len(), 200);
}

#[test]
fn fine_tuning_settings_are_checked() {
    let mut cfg = frozen_config(0, 2);
    cfg.finetune_blocks = 5;
    let e = cfg.validate(100).unwrap_err().to_string();
    assert!(e.contains("finetune_blocks = 5"), "{e}");
    cfg.finetune_blocks = 2;
    cfg.backbone_tap = 10;
    let e = cfg.validate(100).unwrap_err().to_string();
    assert!(e.contains("backbone_tap = 10"), "{e}");
    cfg.backbone_tap = 16;
    cfg.validate(100).unwrap();
    cfg.backbone = BackboneKind::Small;
    let e = cfg.validate(100).unwrap_err().to_string();
    assert!(e.contains("only the efficientnet-lite0"), "{e}");
}

/// A small-CNN run whose stage-1 positives are found in the pixels beside pretrained features
/// keeps those features in the feature cache, and the next run of the same images reads them
/// there instead of running EfficientNet-Lite0 again.
#[test]
fn fused_positives_keep_their_pretrained_features_in_the_cache() {
    let _rng = common::rng_turn();
    let ds = Arc::new(digits(200));
    let mut cfg = Config::preset(Preset::Default, 10);
    cfg.device = DeviceChoice::Cpu;
    cfg.neighbor_features = NeighborSpace::Fused;
    cfg.neighbor_k = 5;
    cfg.warmup_epochs = 0;
    cfg.epochs = 2;
    cfg.iterations = 5;
    cfg.batch = 50;
    cfg.validate(ds.len()).unwrap();
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let cache = dirs[3].path();
    let (_, _, first) = finish(&ds, &cfg, dirs[0].path(), cache, false);
    let files: Vec<_> = std::fs::read_dir(cache.join("features"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let stored = Tensor::read_safetensors(&files[0]).unwrap();
    let (_, test) = stored.iter().find(|(k, _)| k == "test").unwrap();
    assert_eq!(
        test.size(),
        [200, 1280],
        "EfficientNet-Lite0's head, every image"
    );
    let (_, _, second) = finish(&ds, &cfg, dirs[1].path(), cache, false);
    assert_eq!(first.clusters, second.clusters, "same features, same run");
    // Read, not recomputed: other features planted in the file give other positives.
    Tensor::write_safetensors(&[("test", &test.flip([0]))], &files[0]).unwrap();
    let (_, _, planted) = finish(&ds, &cfg, dirs[2].path(), cache, false);
    assert_ne!(
        first.clusters, planted.clusters,
        "the run did not read its pretrained features from the cache"
    );
}
