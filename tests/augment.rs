//! Augmentations: shapes, value ranges, the no-op settings, and determinism under a seed.
mod common;
use icicle_explorer::config::Augment;
use icicle_explorer::data::augment::{
    color_jitter, random_blur, random_grayscale, resized_crop, test_view, view,
};
use tch::{Device, Kind, Tensor};

fn batch(c: i64) -> Tensor {
    tch::manual_seed(0);
    Tensor::rand([6, c, 12, 12], (Kind::Float, Device::Cpu))
}

fn full() -> Augment {
    Augment {
        crop_min_scale: 0.08,
        jitter_strength: 1.0,
        jitter_p: 0.8,
        grayscale_p: 0.2,
        flip: true,
        blur: true,
    }
}

fn in_unit_range(t: &Tensor) -> bool {
    t.min().double_value(&[]) >= 0.0 && t.max().double_value(&[]) <= 1.0 + 1e-6
}

#[test]
fn views_have_the_requested_size_and_stay_in_range() {
    let _rng = common::rng_turn();
    for c in [1, 3] {
        let x = batch(c);
        let v = view(&x, 16, &full());
        assert_eq!(v.size(), vec![6, c, 16, 16]);
        assert!(in_unit_range(&v));
        assert_eq!(test_view(&x, 12).size(), vec![6, c, 12, 12]);
        assert_eq!(test_view(&x, 24).size(), vec![6, c, 24, 24]);
    }
}

#[test]
fn same_seed_same_views_other_seed_other_views() {
    let _rng = common::rng_turn();
    let x = batch(3);
    tch::manual_seed(7);
    let a = view(&x, 12, &full());
    tch::manual_seed(7);
    let b = view(&x, 12, &full());
    tch::manual_seed(8);
    let c = view(&x, 12, &full());
    assert!(a.equal(&b));
    assert!(!a.equal(&c));
}

#[test]
fn crop_of_the_whole_image_without_flip_is_the_image() {
    let _rng = common::rng_turn();
    // Scale 1 and ratio within [3/4, 4/3] clamp to the full frame; the grid then samples the
    // pixel centres exactly, whatever the aspect ratio drawn.
    let x = batch(1);
    tch::manual_seed(1);
    let v = resized_crop(&x, 12, 1.0, false);
    assert!(v.allclose(&x, 1e-5, 1e-5, false));
}

#[test]
fn zero_jitter_is_identity_and_full_grayscale_equalises_channels() {
    let _rng = common::rng_turn();
    let x = batch(3);
    assert!(color_jitter(&x, 0.0, 1.0).allclose(&x, 1e-6, 1e-6, false));
    let g = random_grayscale(&x, 1.0);
    assert!(g.select(1, 0).equal(&g.select(1, 1)) && g.select(1, 1).equal(&g.select(1, 2)));
    // Gray images pass grayscale untouched and get brightness/contrast only.
    let x1 = batch(1);
    assert!(random_grayscale(&x1, 1.0).equal(&x1));
    let j = color_jitter(&x1, 1.0, 1.0);
    assert_eq!(j.size(), x1.size());
    assert!(in_unit_range(&j));
}

#[test]
fn blur_smooths_and_keeps_the_mean_roughly() {
    let _rng = common::rng_turn();
    let x = batch(3);
    tch::manual_seed(3);
    let b = random_blur(&x);
    assert_eq!(b.size(), x.size());
    // Blurring lowers the pixel-to-pixel variation of noise.
    let tv = |t: &Tensor| {
        (t.narrow(3, 1, 11) - t.narrow(3, 0, 11))
            .abs()
            .mean(Kind::Float)
            .double_value(&[])
    };
    assert!(tv(&b) <= tv(&x));
}
