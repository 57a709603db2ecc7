//! Augmentations: shapes, value ranges, the no-op settings, and determinism under a seed.
mod common;
use icicle_explorer::config::Augment;
use icicle_explorer::data::augment::{
    color_jitter, random_blur, random_grayscale, resized_crop, rotated_crop, test_view, view,
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
        rotate_degrees: 0.0,
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
fn no_rotation_draws_and_crops_exactly_as_before() {
    let _rng = common::rng_turn();
    let x = batch(1);
    tch::manual_seed(3);
    let a = resized_crop(&x, 10, 0.3, true);
    tch::manual_seed(3);
    let b = rotated_crop(&x, 10, 0.3, true, 0.0);
    assert!(a.equal(&b));
}

/// 16×16 images: a centred round blob (rotation leaves it as it is) and a centred horizontal
/// bar (rotation turns it).
fn disc_and_bar() -> Tensor {
    let mut v = vec![0f32; 2 * 16 * 16];
    for y in 0..16 {
        for x in 0..16 {
            let (dy, dx) = (y as f32 - 7.5, x as f32 - 7.5);
            v[y * 16 + x] = (-(dx * dx + dy * dy) / 18.0).exp();
            if dy.abs() <= 1.0 && dx.abs() <= 6.0 {
                v[256 + y * 16 + x] = 1.0;
            }
        }
    }
    Tensor::from_slice(&v).view([2, 1, 16, 16])
}

#[test]
fn rotation_turns_a_bar_and_leaves_a_round_blob() {
    let _rng = common::rng_turn();
    let x = disc_and_bar().repeat([32, 1, 1, 1]);
    tch::manual_seed(5);
    // Whole-image crops (scale 1), no flip: only the rotation changes them.
    let v = rotated_crop(&x, 16, 1.0, false, 90.0);
    let diff = (&v - &x)
        .abs()
        .mean_dim(&[1i64, 2, 3][..], false, Kind::Float);
    let diff: Vec<f32> = Vec::try_from(&diff).unwrap();
    let disc = diff.iter().step_by(2).cloned().fold(0f32, f32::max);
    let bar: f32 = diff.iter().skip(1).step_by(2).sum::<f32>() / 32.0;
    assert!(disc < 0.02, "a round blob moved by {disc}");
    assert!(bar > 0.08, "a bar stayed where it was ({bar})");
    // Its ink stays in the frame: a turned bar keeps about its area.
    let mass = |t: &Tensor| t.narrow(0, 1, 1).sum(Kind::Float).double_value(&[]);
    assert!((mass(&v) / mass(&x) - 1.0).abs() < 0.15);
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
