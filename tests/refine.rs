//! Merge–split refinement of a partition at fixed K (`cluster::refine`), the Fiedler vector it
//! cuts along, and how the final answer uses it (`answer::refine`).
mod common;
use common::candidate;
use icicle_explorer::cluster::refine::merge_split;
use icicle_explorer::cluster::spectral::{fiedler, modularity};
use icicle_explorer::graph::{Adjacency, Knn, Normalization};
use icicle_explorer::metrics::Evaluation;
use icicle_explorer::train::answer;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A k-NN graph of `classes` communities of `size` nodes: each node lists `k` others, all of
/// its own class but one in `leak` draws. Returns the graph and the true classes.
fn communities(
    classes: usize,
    size: usize,
    k: usize,
    leak: f64,
    seed: u64,
) -> (Adjacency, Vec<i64>) {
    let n = classes * size;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut neighbors = Vec::with_capacity(n * k);
    for i in 0..n {
        let c = i / size;
        let mut picked: Vec<usize> = vec![];
        while picked.len() < k {
            let j = if rng.gen_bool(leak) {
                rng.gen_range(0..n)
            } else {
                c * size + rng.gen_range(0..size)
            };
            if j != i && !picked.contains(&j) {
                picked.push(j);
            }
        }
        neighbors.extend(picked.iter().map(|&j| j as i64));
    }
    let truth = (0..n).map(|i| (i / size) as i64).collect();
    (
        Adjacency::from_knn(&Knn { n, k, neighbors }, Normalization::Row),
        truth,
    )
}

/// Class 0 in two halves (clusters 0 and 1), classes 1 and 2 together (cluster 2), the rest
/// as they are.
fn halved_and_merged(truth: &[i64]) -> Vec<i64> {
    truth
        .iter()
        .enumerate()
        .map(|(i, &c)| match c {
            0 => (i % 2) as i64,
            1 | 2 => 2,
            c => c,
        })
        .collect()
}

fn acc(clusters: &[i64], truth: &[i64], k: usize) -> f64 {
    Evaluation::new(clusters, truth, k, k).unwrap().scores.acc
}

/// The mistake K-fixed clusterings make on real sets (Fashion-MNIST's streams, MNIST's 1s):
/// one class spent on two clusters, two classes in one. No single image's move fixes it; a
/// merge and a split together do, and modularity says so.
#[test]
fn a_split_class_and_a_merged_pair_are_undone_together() {
    let (g, truth) = communities(5, 60, 8, 0.02, 1);
    let wrong = halved_and_merged(&truth);
    assert!(acc(&wrong, &truth, 5) < 0.81);
    let r = merge_split(&g, &wrong, 5, 7);
    assert_eq!(acc(&r.clusters, &truth, 5), 1.0, "moves: {}", r.describe());
    assert_eq!(r.moves.len(), 1, "{}", r.describe());
    assert!(r.modularity_after > r.modularity_before + 0.05);
    assert!((r.modularity_after - modularity(&g, &r.clusters)).abs() < 1e-12);
    // The gains it reports are what modularity says.
    let gained: f64 = r.moves.iter().map(|m| m.gain).sum();
    assert!((r.modularity_before + gained - r.modularity_after).abs() < 1e-9);
}

#[test]
fn a_partition_that_follows_the_communities_is_left_alone() {
    let (g, truth) = communities(4, 50, 8, 0.05, 2);
    let r = merge_split(&g, &truth, 4, 7);
    assert!(r.moves.is_empty(), "{}", r.describe());
    assert_eq!(r.clusters, truth);
    assert_eq!(r.describe(), "");
}

#[test]
fn the_refinement_is_reproducible_from_its_seed() {
    let (g, truth) = communities(6, 40, 6, 0.15, 3);
    let start: Vec<i64> = (0..truth.len()).map(|i| ((i * 7) % 6) as i64).collect();
    let a = merge_split(&g, &start, 6, 11);
    let b = merge_split(&g, &start, 6, 11);
    assert_eq!(a, b);
}

#[test]
fn the_fiedler_vector_separates_two_communities_joined_by_a_few_edges() {
    let (g, truth) = communities(2, 40, 6, 0.03, 4);
    let f = fiedler(&g, 5);
    let median = {
        let mut s = f.clone();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    let side: Vec<i64> = f.iter().map(|&x| (x >= median) as i64).collect();
    assert!(acc(&side, &truth, 2) >= 0.95, "{f:?}");
}

#[test]
fn the_fiedler_vector_puts_small_components_after_the_largest() {
    // Two communities and two nodes that only know each other.
    let (g, _) = communities(2, 30, 5, 0.0, 6);
    let n = g.n;
    let mut neighbors = vec![];
    for i in 0..n {
        let row: Vec<i64> = g
            .rows
            .iter()
            .zip(&g.cols)
            .filter(|(r, c)| **r == i as i64 && **c != i as i64)
            .map(|(_, &c)| c)
            .take(5)
            .collect();
        neighbors.extend(row.iter().copied().chain(std::iter::repeat(row[0])).take(5));
    }
    neighbors.extend([n as i64 + 1; 5]);
    neighbors.extend([n as i64; 5]);
    let g2 = Adjacency::from_knn(
        &Knn {
            n: n + 2,
            k: 5,
            neighbors,
        },
        Normalization::Row,
    );
    let f = fiedler(&g2, 1);
    let max_main = f[..n].iter().copied().fold(f64::MIN, f64::max);
    assert!(f[n] > max_main && f[n + 1] > max_main);
}

/// The answer's refinement works on the heads and leaves K-means, the floor, as it is; on a
/// weak graph it does nothing (the gate answers K-means there).
#[test]
fn the_answer_refines_the_heads_not_kmeans_and_not_on_a_weak_graph() {
    let (g, truth) = communities(5, 60, 8, 0.02, 8);
    let wrong = halved_and_merged(&truth);
    // A head that found the communities makes the graph read as strong, as on the gray sets.
    let mut cands = vec![
        candidate("stream-b", wrong.clone()),
        candidate("kmeans", wrong.clone()),
        candidate("stage-1", truth.clone()),
    ];
    let notes = answer::refine(&mut cands, &g, 5, 42, 0.8);
    assert_eq!(acc(&cands[0].clusters, &truth, 5), 1.0, "{notes:?}");
    assert!(cands[0].refined.as_deref().is_some_and(|m| !m.is_empty()));
    assert_eq!(cands[1].clusters, wrong);
    assert_eq!(cands[1].refined, None);
    assert_eq!(cands[2].clusters, truth);
    assert_eq!(cands[2].refined.as_deref(), Some(""));

    // Nearly random edges: no community structure to trust.
    let (weak, _) = communities(5, 60, 8, 0.9, 9);
    let mut cands = vec![candidate("stream-b", wrong.clone())];
    let notes = answer::refine(&mut cands, &weak, 5, 42, 0.8);
    assert_eq!(cands[0].clusters, wrong);
    assert_eq!(cands[0].refined, None);
    assert!(notes[0].contains("weak"), "{notes:?}");
}
