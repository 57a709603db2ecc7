//! The route probe for small gray images (issue 18): two synthetic gray sets that the probe
//! routes differently, and the default following its answer.
mod common;
use icicle_explorer::config::{BackboneKind, Preset, fitted};
use icicle_explorer::data::Dataset;
use icicle_explorer::train::probe;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::Device;

const SIDE: usize = 28;
const PER_CLASS: usize = 60;

fn dataset(name: &str, pixels: Vec<u8>, labels: Vec<i64>, classes: usize) -> Dataset {
    Dataset {
        name: name.into(),
        root: None,
        items: (0..labels.len()).map(|i| format!("#{i}")).collect(),
        height: SIDE,
        width: SIDE,
        channels: 1,
        pixels: pixels.into(),
        labels: Some(labels),
        class_names: (0..classes).map(|c| c.to_string()).collect(),
        skipped: vec![],
    }
}

/// Each class one fixed random block template, lightly noised: pixel neighbours are exactly
/// the class (a digit-like set, where the CNN route with pixel positives wins).
fn templates() -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let classes = 4;
    let t: Vec<Vec<u8>> = (0..classes)
        .map(|_| {
            let blocks: Vec<bool> = (0..49).map(|_| rng.r#gen::<bool>()).collect();
            (0..SIDE * SIDE)
                .map(|p| {
                    if blocks[(p / SIDE / 4) * 7 + (p % SIDE) / 4] {
                        220
                    } else {
                        30
                    }
                })
                .collect()
        })
        .collect();
    let (mut px, mut labels) = (vec![], vec![]);
    for (c, template) in t.iter().enumerate() {
        for _ in 0..PER_CLASS {
            px.extend(
                template
                    .iter()
                    .map(|&v| (v as i32 + rng.gen_range(-8..=8)) as u8),
            );
            labels.push(c as i64);
        }
    }
    dataset("templates", px, labels, classes)
}

/// Each class a stripe orientation (horizontal, vertical, two diagonals) at a random period,
/// phase and contrast, under heavy pixel noise: pixel distances are mostly noise and phase,
/// while a pretrained network's pooled features see the orientation.
fn noisy_stripes() -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let classes = 4;
    let (mut px, mut labels) = (vec![], vec![]);
    for c in 0..classes {
        for _ in 0..PER_CLASS {
            let period = rng.gen_range(4.0..7.0f64);
            let phase = rng.gen_range(0.0..std::f64::consts::TAU);
            let contrast = rng.gen_range(50.0..90.0f64);
            for p in 0..SIDE * SIDE {
                let (y, x) = ((p / SIDE) as f64, (p % SIDE) as f64);
                let u = match c {
                    0 => y,
                    1 => x,
                    2 => (x + y) / std::f64::consts::SQRT_2,
                    _ => (x - y) / std::f64::consts::SQRT_2,
                };
                let v = 128.0
                    + contrast * (std::f64::consts::TAU * u / period + phase).sin()
                    + rng.gen_range(-70.0..70.0);
                px.push(v.clamp(0.0, 255.0) as u8);
            }
            labels.push(c as i64);
        }
    }
    dataset("stripes", px, labels, classes)
}

#[test]
fn the_probe_routes_two_gray_sets_differently_and_the_default_follows() {
    let a = templates();
    let b = noisy_stripes();
    assert!(probe::applies(&a) && probe::applies(&b));
    let pa = probe::run(&a, 4, 0, Device::Cpu, None).unwrap();
    let pb = probe::run(&b, 4, 0, Device::Cpu, None).unwrap();
    assert!(!pa.prefer_pretrained(), "templates: {}", pa.line());
    assert!(pb.prefer_pretrained(), "noisy stripes: {}", pb.line());
    for (ds, frozen) in [(&a, false), (&b, true)] {
        let (shape, line) = probe::shape_for(ds, Preset::Default, 4, 0, Device::Cpu, None).unwrap();
        assert!(line.is_some());
        let (cfg, _) = fitted(Preset::Default, 4, shape, false, &[]).unwrap();
        assert_eq!(
            cfg.backbone == BackboneKind::EfficientnetLite0,
            frozen,
            "{}: {:?}",
            ds.name,
            cfg.backbone
        );
    }
    // The app probes a folder on a helper thread while another run may train: the probe
    // leaves libtorch's process-wide generator where that run seeded it.
    assert!(
        common::leaves_the_generator_alone(|| {
            probe::run(&a, 4, 0, Device::Cpu, None).unwrap();
        }),
        "the probe changed the draws of the generator a training seeded"
    );
    // Other presets choose no route: no probe.
    let (_, line) = probe::shape_for(&a, Preset::Paper, 4, 0, Device::Cpu, None).unwrap();
    assert!(line.is_none());
}

/// The pretrained features the probe computes are the ones a CNN-route run's fused positives
/// need: they are kept in the feature cache and read back on the next run of the same images.
#[test]
fn the_probe_keeps_its_pretrained_features_in_the_cache_and_reads_them_back() {
    let a = templates();
    let dir = tempfile::tempdir().unwrap();
    let cache = Some(dir.path());
    let uncached = probe::run(&a, 4, 0, Device::Cpu, None).unwrap();
    let first = probe::run(&a, 4, 0, Device::Cpu, cache).unwrap();
    assert_eq!(first, uncached, "the cache changed the probe's numbers");
    let files: Vec<_> = std::fs::read_dir(dir.path().join("features"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    let stored = tch::Tensor::read_safetensors(file).unwrap();
    let (_, test) = stored.iter().find(|(k, _)| k == "test").unwrap();
    assert_eq!(test.size()[0], a.len() as i64);

    // Read back, not recomputed: features planted in the file (each image given those of
    // the image half a class further on) change the probe's score.
    let planted = test.roll([PER_CLASS as i64 / 2], [0]);
    tch::Tensor::write_safetensors(&[("test", &planted)], file).unwrap();
    let from_file = probe::run(&a, 4, 0, Device::Cpu, cache).unwrap();
    assert_ne!(
        from_file.pretrained, uncached.pretrained,
        "the probe did not read its features from the cache"
    );

    // A damaged file is ignored and written again.
    std::fs::write(file, b"not a safetensors file").unwrap();
    let again = probe::run(&a, 4, 0, Device::Cpu, cache).unwrap();
    assert_eq!(again, uncached);
    assert!(tch::Tensor::read_safetensors(file).is_ok());

    // A cache folder that cannot be written (here a file stands where it should be) costs
    // the caching, not the probe.
    let blocked = dir.path().join("not-a-folder");
    std::fs::write(&blocked, b"a file").unwrap();
    let unwritable = probe::run(&a, 4, 0, Device::Cpu, Some(&blocked)).unwrap();
    assert_eq!(unwritable, uncached);
}
