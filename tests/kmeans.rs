//! K-means and the pixel baseline.
use icicle_explorer::baseline;
use icicle_explorer::cluster::{KMeansConfig, kmeans};
mod common;
use icicle_explorer::data::Progress;
use icicle_explorer::metrics::scores;
use tch::{Device, Kind, Tensor};

fn blobs() -> (Tensor, Vec<i64>) {
    tch::manual_seed(1);
    let centres = [[0.0f32, 0.0], [10.0, 0.0], [0.0, 10.0]];
    let mut parts = vec![];
    let mut labels = vec![];
    for (c, centre) in centres.iter().enumerate() {
        parts.push(
            Tensor::randn([40, 2], (Kind::Float, Device::Cpu)) * 0.5 + Tensor::from_slice(centre),
        );
        labels.extend(std::iter::repeat_n(c as i64, 40));
    }
    (Tensor::cat(&parts, 0), labels)
}

#[test]
fn separated_blobs_are_recovered_exactly() {
    let (x, truth) = blobs();
    let km = kmeans(&x, &KMeansConfig::new(3, 0), &Progress::none()).unwrap();
    let s = scores(&km.labels, &truth, 3, 3).unwrap();
    assert_eq!(s.acc, 1.0);
    assert!(km.confidence.iter().all(|&c| c > 1.0 / 3.0 && c <= 1.0));
    assert_eq!(km.centers.size(), vec![3, 2]);
}

#[test]
fn same_seed_same_result_other_seed_may_differ() {
    let (x, _) = blobs();
    let a = kmeans(&x, &KMeansConfig::new(5, 42), &Progress::none()).unwrap();
    let b = kmeans(&x, &KMeansConfig::new(5, 42), &Progress::none()).unwrap();
    assert_eq!(a.labels, b.labels);
    assert_eq!(a.inertia, b.inertia);
}

#[test]
fn degenerate_data_gives_valid_labels_not_a_panic() {
    // Five identical points and K = 3: seeding finds no spread, clusters start empty.
    let x = Tensor::ones([5, 4], (Kind::Float, Device::Cpu));
    let km = kmeans(&x, &KMeansConfig::new(3, 0), &Progress::none()).unwrap();
    assert!(km.labels.iter().all(|&l| (0..3).contains(&l)));
    assert_eq!(km.inertia, 0.0);
}

#[test]
fn invalid_k_is_an_error() {
    let x = Tensor::ones([5, 4], (Kind::Float, Device::Cpu));
    assert!(kmeans(&x, &KMeansConfig::new(6, 0), &Progress::none()).is_err());
    assert!(kmeans(&x, &KMeansConfig::new(0, 0), &Progress::none()).is_err());
}

#[test]
fn digits_baseline_matches_sklearn_kmeans() {
    // sklearn KMeans(10, n_init=10) on the same pixels: ACC 0.792–0.797 over seeds 0–4
    // (tests/fixtures/digits_fixtures.py).
    let ds = common::load_builtin("digits");
    let b = baseline::run(&ds, 10, 0, Device::Cpu, &Progress::none()).unwrap();
    let s = b.evaluation.unwrap().scores;
    assert!((0.77..=0.82).contains(&s.acc), "ACC {}", s.acc);
    assert!(s.nmi > 0.70 && s.ari > 0.60, "{s:?}");
}
