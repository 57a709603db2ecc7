//! The SCAN head on frozen features and the label-free final answer (issue 18).
mod common;
use common::candidate;
use icicle_explorer::cluster::{KMeansConfig, kmeans};
use icicle_explorer::config::{Config, Preset};
use icicle_explorer::graph::{self, Adjacency, Normalization};
use icicle_explorer::metrics::Evaluation;
use icicle_explorer::progress::Progress;
use icicle_explorer::train::answer::{How, choose};
use icicle_explorer::train::scan;
use tch::{Kind, Tensor};

/// libtorch's random generator is one per process: tests that seed it take turns.
static SEEDED: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn seeded() -> std::sync::MutexGuard<'static, ()> {
    SEEDED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Four tight blobs at the corners of a square; class c owns two opposite corners. An image's
/// test view lies in one of its class's blobs; its cached views visit both (as augmentations
/// of one object show it differently). Neighbours in the test view are pure, but K-means with
/// K = 2 pairs adjacent corners: one blob of each class per cluster.
fn opposite_corners(n_per_blob: i64, views: i64) -> (Tensor, Tensor, Vec<i64>) {
    tch::manual_seed(7);
    let d = 16;
    let centres = Tensor::zeros([4, d], (Kind::Float, tch::Device::Cpu));
    for (b, (x, y)) in [(10.0, 0.0), (-10.0, 0.0), (0.0, 10.0), (0.0, -10.0)]
        .into_iter()
        .enumerate()
    {
        let _ = centres.get(b as i64).get(0).fill_(x);
        let _ = centres.get(b as i64).get(1).fill_(y);
    }
    // Blobs 0 and 1 are class 0, blobs 2 and 3 class 1.
    let blob: Vec<i64> = (0..4).flat_map(|b| vec![b; n_per_blob as usize]).collect();
    let labels: Vec<i64> = blob.iter().map(|b| b / 2).collect();
    let n = blob.len() as i64;
    let at = |b: &Tensor| {
        centres.index_select(0, b) + Tensor::randn([n, d], (Kind::Float, tch::Device::Cpu)) * 0.3
    };
    let own = Tensor::from_slice(&blob);
    let test = at(&own);
    let class = Tensor::from_slice(&labels);
    let per_view: Vec<Tensor> = (0..views).map(|v| at(&(&class * 2 + (v % 2)))).collect();
    (Tensor::stack(&per_view, 1), test, labels)
}

fn acc(clusters: &[i64], labels: &[i64]) -> f64 {
    Evaluation::new(clusters, labels, 2, 2).unwrap().scores.acc
}

#[test]
fn the_scan_head_beats_kmeans_where_neighbours_are_pure_and_kmeans_is_not() {
    let _turn = seeded();
    let (views, test, labels) = opposite_corners(150, 4);
    let km = kmeans(&test, &KMeansConfig::new(2, 0), &Progress::none()).unwrap();
    let km_acc = acc(&km.labels, &labels);
    assert!(km_acc < 0.6, "K-means pairs adjacent corners: {km_acc}");
    let mut cfg = Config::preset(Preset::Default, 2);
    cfg.scan_steps = 300;
    cfg.selflabel_steps = 100;
    cfg.scan_neighbors = 10;
    let head = scan::train(&views, &test, &cfg, |_, _| Ok::<(), anyhow::Error>(())).unwrap();
    let (clusters, _) = icicle_explorer::train::argmax_confidence(&head.probs);
    let scan_acc = acc(&clusters, &labels);
    assert!(
        scan_acc > 0.95,
        "SCAN head {scan_acc} (K-means {km_acc}), losses {:?}",
        head.head_losses
    );
    assert_eq!(head.head_losses.len(), 5);
    // Same config and seed, same head.
    let again = scan::train(&views, &test, &cfg, |_, _| Ok::<(), anyhow::Error>(())).unwrap();
    assert!(head.probs.allclose(&again.probs, 1e-5, 1e-6, false));
}

#[test]
fn a_cancel_stops_the_scan_head() {
    let _turn = seeded();
    let (views, test, _) = opposite_corners(20, 2);
    let cfg = Config::preset(Preset::Default, 2);
    let r = scan::train(&views, &test, &cfg, |done, _| {
        if done > 0 {
            Err(anyhow::anyhow!("cancelled"))
        } else {
            Ok(())
        }
    });
    assert!(r.is_err());
}

/// Three well separated blobs and their k-NN graphs.
fn blobs() -> (Tensor, Adjacency, Adjacency, Vec<i64>) {
    tch::manual_seed(3);
    let labels: Vec<i64> = (0..3).flat_map(|c| vec![c; 60]).collect();
    let centres = Tensor::randn([3, 8], (Kind::Float, tch::Device::Cpu)) * 10.0;
    let x = centres.index_select(0, &Tensor::from_slice(&labels))
        + Tensor::randn([180, 8], (Kind::Float, tch::Device::Cpu)) * 0.5;
    let a = Adjacency::from_knn(
        &graph::knn(&x, 1, &Progress::none()).unwrap(),
        Normalization::Row,
    );
    let b = Adjacency::from_knn(
        &graph::knn(&x, 10, &Progress::none()).unwrap(),
        Normalization::Row,
    );
    (x, a, b, labels)
}

/// The default preset's `answer_min_modularity`: structured blobs pass it.
const DEFAULT_MIN: f64 = 0.8;
const AUTO: How = How::Auto {
    min_strength: DEFAULT_MIN,
};

#[test]
fn the_floor_answers_with_kmeans_when_the_heads_collapse() {
    let _turn = seeded();
    let (x, a, b, labels) = blobs();
    let km = kmeans(&x, &KMeansConfig::new(3, 0), &Progress::none()).unwrap();
    // Collapsed heads: everything in one cluster, or two clusters mixing the blobs.
    let collapsed = vec![0i64; 180];
    let mixed: Vec<i64> = (0..180).map(|i| (i % 2) as i64).collect();
    let cands = vec![
        candidate("stage-1", collapsed.clone()),
        candidate("q", mixed),
        candidate("stream-a", collapsed),
        candidate("kmeans", km.labels.clone()),
    ];
    let (i, answer) = choose(&cands, &x, (&a, &b), 3, 0, Some((&labels, 3)), AUTO);
    assert_eq!(answer.chosen, "kmeans", "{}", answer.why);
    assert_eq!(i, 3);
    assert_eq!(answer.candidates.len(), 4, "every candidate is scored");
    let km_acc = answer.candidates[3].scores.unwrap().acc;
    assert!(km_acc > 0.99, "{km_acc}");
    assert!(answer.why.contains("agrees most"), "{}", answer.why);
    // With the head fixed by the config, the head answers, and the rest are still scored.
    let (_, fixed) = choose(&cands, &x, (&a, &b), 3, 0, None, How::Head("q"));
    assert_eq!(fixed.chosen, "q");
    assert!(fixed.candidates.iter().all(|c| c.scores.is_none()));
}

#[test]
fn the_answer_is_the_clustering_the_others_agree_with() {
    let _turn = seeded();
    let (x, a, b, labels) = blobs();
    // K-means stuck in a bad optimum: two blobs merged, one split.
    let bad: Vec<i64> = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| match l {
            0 | 1 => 0,
            _ => 1 + (i % 2) as i64,
        })
        .collect();
    let cands = vec![
        candidate("kmeans", bad),
        candidate("stream-a", labels.clone()),
    ];
    let (_, answer) = choose(&cands, &x, (&a, &b), 3, 0, Some((&labels, 3)), AUTO);
    assert_eq!(answer.chosen, "stream-a", "{}", answer.why);
}

#[test]
fn a_weak_graph_answers_with_kmeans_however_much_the_graph_heads_agree() {
    let _turn = seeded();
    // No structure at all: Gaussian noise, so its k-NN graph has weak communities.
    let x = Tensor::randn([240, 8], (Kind::Float, tch::Device::Cpu));
    let knn = |k| {
        Adjacency::from_knn(
            &graph::knn(&x, k, &Progress::none()).unwrap(),
            Normalization::Row,
        )
    };
    let (a, b) = (knn(1), knn(10));
    let km = kmeans(&x, &KMeansConfig::new(3, 0), &Progress::none()).unwrap();
    // Heads that agree with each other perfectly (as heads trained on one graph do).
    let shared: Vec<i64> = (0..240).map(|i| (i % 3) as i64).collect();
    let cands = vec![
        candidate("q", shared.clone()),
        candidate("stream-a", shared.clone()),
        candidate("stream-b", shared),
        candidate("kmeans", km.labels.clone()),
    ];
    let (i, answer) = choose(&cands, &x, (&a, &b), 3, 0, None, AUTO);
    let strength = icicle_explorer::train::answer::graph_strength(&answer.candidates, 3).unwrap();
    assert!(
        strength < DEFAULT_MIN,
        "noise should make a weak graph: {strength}"
    );
    assert_eq!(answer.chosen, "kmeans", "{}", answer.why);
    assert_eq!(i, 3);
    assert!(answer.why.contains("weak"), "{}", answer.why);
    // With the gate off, the agreeing heads win, as before.
    let (_, open) = choose(
        &cands,
        &x,
        (&a, &b),
        3,
        0,
        None,
        How::Auto { min_strength: 0.0 },
    );
    assert_eq!(open.chosen, "q", "{}", open.why);
    // On the blobs the graph is strong and the gate stays shut.
    let (x, a, b, _) = blobs();
    let km = kmeans(&x, &KMeansConfig::new(3, 0), &Progress::none()).unwrap();
    let cands = vec![candidate("kmeans", km.labels)];
    let (_, judged) = choose(&cands, &x, (&a, &b), 3, 0, None, AUTO);
    let strength = icicle_explorer::train::answer::graph_strength(&judged.candidates, 3).unwrap();
    assert!(strength > 0.9, "{strength}");
}

/// The chosen answer smoothed over the k_b graph (`smooth_answer`): an image whose
/// neighbours are all in the other cluster joins them; the rest stay; the note says so and
/// the confidence is read off the smoothed clusters.
#[test]
fn smoothing_moves_an_image_to_the_cluster_its_neighbours_are_in() {
    let _g = seeded();
    let (x, _, _, labels) = blobs();
    let knn_b = graph::knn(&x, 10, &Progress::none()).unwrap();
    let mut clusters = labels.clone();
    // One image of blob 0 put in the other cluster by mistake.
    clusters[0] = (clusters[0] + 1) % 3;
    let mut c = candidate("kmeans", clusters);
    let moved = icicle_explorer::train::answer::smooth(&mut c, &knn_b, &x, 3);
    assert_eq!(moved, 1);
    assert_eq!(c.clusters, labels);
    assert_eq!(
        c.refined.as_deref(),
        Some("smoothed over the k_b graph (1 images moved)")
    );
    let expected = icicle_explorer::metrics::confidence(&x, &labels, 3, &knn_b);
    assert_eq!(c.confidence, expected);
    // Nothing to move: nothing changes, no note.
    let mut same = candidate("kmeans", labels.clone());
    assert_eq!(
        icicle_explorer::train::answer::smooth(&mut same, &knn_b, &x, 3),
        0
    );
    assert!(same.refined.is_none() && same.confidence == vec![1.0; labels.len()]);
}
