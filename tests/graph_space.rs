//! `graph_features = auto` (session 21): the label-free check that decides whether stage 2's
//! graphs are built on the learned features alone or beside frozen pretrained ones, and the
//! fused features themselves.
use icicle_explorer::graph;
use icicle_explorer::progress::Progress;
use icicle_explorer::train::graph_space::{
    FUSE_BELOW, FUSE_BELOW_AFTER_FUSED_POSITIVES, FUSED_PRETRAINED_WEIGHT, explained, fuse,
    fuse_below,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

const PER_GROUP: usize = 60;

/// Rows `group_of(label)` clustered around one random centre per group, with Gaussian noise.
fn blobs(
    labels: &[usize],
    group_of: impl Fn(usize) -> usize,
    dim: usize,
    noise: f64,
    seed: u64,
) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Box-Muller: one standard normal draw.
    let mut normal = move || {
        let (u, v): (f64, f64) = (rng.r#gen::<f64>().max(1e-12), rng.r#gen());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    };
    let groups = labels.iter().map(|&l| group_of(l)).max().unwrap() + 1;
    let centres: Vec<Vec<f32>> = (0..groups)
        .map(|_| (0..dim).map(|_| 3.0 * normal() as f32).collect())
        .collect();
    let rows: Vec<f32> = labels
        .iter()
        .flat_map(|&l| {
            let c = &centres[group_of(l)];
            c.iter()
                .map(|&v| v + (noise * normal()) as f32)
                .collect::<Vec<_>>()
        })
        .collect();
    Tensor::from_slice(&rows).view([labels.len() as i64, dim as i64])
}

fn labels(classes: usize) -> Vec<usize> {
    (0..classes * PER_GROUP).map(|i| i % classes).collect()
}

#[test]
fn learned_features_that_hold_every_class_are_not_fused() {
    let y = labels(6);
    let learned = blobs(&y, |l| l, 16, 0.5, 1);
    let pretrained = blobs(&y, |l| l, 48, 0.5, 2);
    let share = explained(&learned, &pretrained, 6, 42).unwrap();
    assert!(
        share > FUSE_BELOW_AFTER_FUSED_POSITIVES,
        "explained {share}"
    );
}

#[test]
fn learned_features_that_merge_classes_the_pretrained_ones_separate_are_fused() {
    // The learned space sees three groups of two classes each; the pretrained one all six.
    let y = labels(6);
    let learned = blobs(&y, |l| l / 2, 16, 0.5, 1);
    let pretrained = blobs(&y, |l| l, 48, 0.5, 2);
    let share = explained(&learned, &pretrained, 6, 42).unwrap();
    assert!(share < FUSE_BELOW, "explained {share}");
}

#[test]
fn too_few_images_to_judge_are_not_fused_and_do_not_panic() {
    let y = labels(1)[..2].to_vec();
    let x = blobs(&y, |l| l, 4, 0.5, 1);
    assert_eq!(explained(&x, &x, 10, 42).unwrap(), 1.0);
}

fn purity(x: &Tensor, y: &[usize]) -> f64 {
    let knn = graph::knn(x, 5, &Progress::none()).unwrap();
    let hits = knn
        .neighbors
        .chunks(knn.k)
        .enumerate()
        .map(|(i, nb)| nb.iter().filter(|&&j| y[j as usize] == y[i]).count())
        .sum::<usize>();
    hits as f64 / (y.len() * knn.k) as f64
}

#[test]
fn fused_features_are_two_unit_blocks_and_keep_neighbours_both_spaces_agree_on() {
    // Each space merges a different pair of classes: only together do they tell all four apart.
    let y = labels(4);
    let learned = blobs(&y, |l| if l == 3 { 2 } else { l }, 16, 0.5, 1);
    let pretrained = blobs(&y, |l| if l == 1 { 0 } else { l }, 48, 0.5, 2) + 5.0;
    let f = fuse(&learned, &pretrained);
    assert_eq!(f.size(), [y.len() as i64, 64]);
    let norm = |t: Tensor| t.norm_scalaropt_dim(2.0, [-1], false);
    let a = norm(f.narrow(1, 0, 16));
    let b = norm(f.narrow(1, 16, 48));
    assert!((a - 1.0).abs().max().double_value(&[]) < 1e-4);
    assert!((b - FUSED_PRETRAINED_WEIGHT).abs().max().double_value(&[]) < 1e-4);
    // The pretrained block is centred first: an offset every row shares changes nothing.
    let shifted = fuse(&learned, &(&pretrained + 40.0));
    assert!((&shifted - &f).abs().max().double_value(&[]) < 1e-4);
    let (pl, pp, pf) = (
        purity(&learned, &y),
        purity(&pretrained, &y),
        purity(&f, &y),
    );
    assert!(
        pf > 0.95 && pf > pl + 0.2 && pf > pp + 0.2,
        "purity learned {pl}, pretrained {pp}, fused {pf}"
    );
}

/// A stage 1 trained on neighbours in the pixels beside the pretrained features has learned
/// more of their structure, so the check asks more of it before leaving them out.
#[test]
fn the_threshold_follows_where_stage_one_found_its_positives() {
    use icicle_explorer::config::{BackboneKind, Config, NeighborSpace, Preset};
    let mut cfg = Config::preset(Preset::Default, 10);
    cfg.backbone = BackboneKind::Small;
    cfg.neighbor_k = 10;
    cfg.neighbor_features = NeighborSpace::Fused;
    assert_eq!(fuse_below(&cfg), FUSE_BELOW_AFTER_FUSED_POSITIVES);
    cfg.neighbor_features = NeighborSpace::Pixels;
    assert_eq!(fuse_below(&cfg), FUSE_BELOW);
    cfg.neighbor_features = NeighborSpace::Fused;
    cfg.neighbor_k = 0;
    assert_eq!(
        fuse_below(&cfg),
        FUSE_BELOW,
        "no positives: the paper's pairs"
    );
    cfg.neighbor_k = 10;
    cfg.backbone = BackboneKind::EfficientnetLite0;
    assert_eq!(
        fuse_below(&cfg),
        FUSE_BELOW,
        "frozen path: positives in its own features"
    );
    const { assert!(FUSE_BELOW < FUSE_BELOW_AFTER_FUSED_POSITIVES) };
}
