//! Our EfficientNet-Lite0 (src/model/efficientnet.rs) against an independent PyTorch forward
//! pass from the original weights (fixture made by scripts/make_efficientnet_fixture.py), and
//! its ImageNet top-1 class on four known photos. Needs the converted weights that
//! `make setup` writes to .venv/models.
use icicle_explorer::model::efficientnet::{
    self, BLOCK_CHANNELS, BLOCKS, EfficientNetLite0, HEAD_DIM,
};
use tch::{Device, Kind, Tensor};

fn fixture() -> Vec<(String, Tensor)> {
    Tensor::read_safetensors(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/efficientnet_lite0.safetensors"
    ))
    .unwrap()
}

fn get<'a>(f: &'a [(String, Tensor)], name: &str) -> &'a Tensor {
    &f.iter().find(|(k, _)| k == name).unwrap().1
}

fn net() -> EfficientNetLite0 {
    EfficientNetLite0::load(&efficientnet::default_weights(), Device::Cpu)
        .expect("weights (run `make setup`)")
}

/// Largest |ours − torch| relative to the largest |torch| of the tensor.
fn rel_err(ours: &Tensor, theirs: &Tensor) -> f64 {
    assert_eq!(ours.size(), theirs.size());
    let diff = (ours - theirs).abs().max().double_value(&[]);
    diff / theirs.abs().max().double_value(&[]).max(1e-6)
}

fn input(f: &[(String, Tensor)], name: &str) -> Tensor {
    get(f, name).to_kind(Kind::Float) / 255.0
}

#[test]
fn every_block_and_the_head_match_pytorch() {
    let f = fixture();
    let net = net();
    // 224×224 photos (even side) and a 57×57 random image (odd side: asymmetric SAME padding).
    for name in ["photos", "odd"] {
        let x = input(&f, name);
        for tap in 1..=BLOCKS {
            let ours = net.features(&x, tap);
            assert_eq!(ours.size()[1] as usize, BLOCK_CHANNELS[tap - 1]);
            let e = rel_err(&ours, get(&f, &format!("{name}.block{}", tap - 1)));
            assert!(e < 1e-4, "{name}, block {tap}: relative error {e}");
        }
        let head = net.features(&x, 0);
        assert_eq!(head.size()[1] as usize, HEAD_DIM);
        let e = rel_err(&head, get(&f, &format!("{name}.head")));
        assert!(e < 1e-4, "{name}, head: relative error {e}");
        let e = rel_err(&net.logits(&x), get(&f, &format!("{name}.logits")));
        assert!(e < 1e-4, "{name}, logits: relative error {e}");
    }
}

#[test]
fn known_photos_get_their_imagenet_class() {
    let f = fixture();
    let logits = net().logits(&input(&f, "photos"));
    let top1: Vec<i64> = Vec::try_from(logits.argmax(1, false)).unwrap();
    // scikit-image's chelsea (a cat), coffee, rocket; scikit-learn's china (a temple roof).
    let accepted: [&[i64]; 4] = [
        &[281, 282, 285], // tabby, tiger cat, Egyptian cat
        &[967, 968, 504], // espresso, cup, coffee mug
        &[657, 744, 812], // missile, projectile, space shuttle
        &[698, 832, 663], // palace, stupa, monastery
    ];
    for (i, (got, ok)) in top1.iter().zip(accepted).enumerate() {
        assert!(
            ok.contains(got),
            "photo {i}: top-1 class {got}, expected one of {ok:?}"
        );
    }
}

#[test]
fn gray_images_are_repeated_to_rgb() {
    let net = net();
    let g = Tensor::rand([2, 1, 40, 40], (Kind::Float, Device::Cpu));
    let rgb = g.repeat([1, 3, 1, 1]);
    let e = rel_err(&net.features(&g, 5), &net.features(&rgb, 5));
    assert!(e < 1e-6, "{e}");
}

#[test]
fn a_missing_or_wrong_weights_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.safetensors");
    let e = EfficientNetLite0::load(&missing, Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("nope.safetensors") && e.contains("make setup"),
        "{e}"
    );
    let wrong = dir.path().join("wrong.safetensors");
    Tensor::write_safetensors(
        &[("x", Tensor::zeros([2], (Kind::Float, Device::Cpu)))],
        &wrong,
    )
    .unwrap();
    let e = format!(
        "{:#}",
        EfficientNetLite0::load(&wrong, Device::Cpu).err().unwrap()
    );
    assert!(e.contains("wrong.safetensors"), "{e}");
}

#[test]
fn a_fresh_trainable_tail_gives_the_frozen_features_and_takes_gradients() {
    let net = net();
    let x = Tensor::rand([2, 3, 64, 64], (Kind::Float, Device::Cpu));
    let vs = tch::nn::VarStore::new(Device::Cpu);
    for (from, tap) in [(15, 0), (12, 0), (12, 14)] {
        let tail = net.trainable_tail(&(vs.root() / format!("t{from}_{tap}")), from, tap);
        let ours = tail.forward(&net.activation(&x, from));
        let frozen = net.features(&x, tap);
        assert!(
            rel_err(&ours, &frozen) < 1e-5,
            "tail after block {from} to tap {tap}"
        );
    }
    let tail = net.trainable_tail(&(vs.root() / "g"), 15, 0);
    tail.forward(&net.activation(&x, 15))
        .sum(Kind::Float)
        .backward();
    let vars = vs.variables();
    for name in ["g.blocks.15.project.w", "g.head.w", "g.head.b"] {
        let g = vars[name].grad();
        assert!(g.defined(), "{name} has a gradient");
        assert!(g.abs().sum(Kind::Float).double_value(&[]) > 0.0, "{name}");
    }
}
