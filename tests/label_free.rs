//! Label-free quality (src/metrics/label_free.rs) against direct implementations of the
//! definitions, and "Suggest K" (src/cluster/suggest_k.rs) on data with a known K.
mod common;
use icicle_explorer::cluster::suggest_k::suggest_k;
use icicle_explorer::graph::{Adjacency, Knn, Normalization};
use icicle_explorer::metrics::label_free::{
    LabelFree, LabelFreeInput, agreement, balance, davies_bouldin, silhouette,
};
use tch::{Device, Kind, Tensor};

fn points(n: usize, d: usize, seed: i64) -> (Tensor, Vec<Vec<f64>>) {
    let _turn = common::rng_turn();
    tch::manual_seed(seed);
    let x = Tensor::randn([n as i64, d as i64], (Kind::Float, Device::Cpu));
    let rows = (0..n)
        .map(|i| {
            (0..d)
                .map(|j| x.double_value(&[i as i64, j as i64]))
                .collect()
        })
        .collect();
    (x, rows)
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// The silhouette straight from its definition (scikit-learn's conventions).
fn naive_silhouette(rows: &[Vec<f64>], labels: &[i64], k: usize) -> f64 {
    let n = rows.len();
    let mut total = 0.0;
    for i in 0..n {
        let mut sums = vec![0.0; k];
        let mut counts = vec![0usize; k];
        for j in 0..n {
            if j != i {
                sums[labels[j] as usize] += dist(&rows[i], &rows[j]);
                counts[labels[j] as usize] += 1;
            }
        }
        let own = labels[i] as usize;
        if counts[own] == 0 {
            continue; // a one-member cluster scores 0
        }
        let a = sums[own] / counts[own] as f64;
        let b = (0..k)
            .filter(|&c| c != own && counts[c] > 0)
            .map(|c| sums[c] / counts[c] as f64)
            .fold(f64::INFINITY, f64::min);
        total += (b - a) / a.max(b);
    }
    total / n as f64
}

fn naive_davies_bouldin(rows: &[Vec<f64>], labels: &[i64], k: usize) -> f64 {
    let d = rows[0].len();
    let members: Vec<Vec<&Vec<f64>>> = (0..k)
        .map(|c| {
            rows.iter()
                .zip(labels)
                .filter(|(_, l)| **l as usize == c)
                .map(|(r, _)| r)
                .collect()
        })
        .collect();
    let live: Vec<usize> = (0..k).filter(|&c| !members[c].is_empty()).collect();
    let centre = |c: usize| -> Vec<f64> {
        (0..d)
            .map(|j| members[c].iter().map(|r| r[j]).sum::<f64>() / members[c].len() as f64)
            .collect()
    };
    let centres: Vec<Vec<f64>> = (0..k)
        .map(|c| {
            if members[c].is_empty() {
                vec![]
            } else {
                centre(c)
            }
        })
        .collect();
    let spread: Vec<f64> = (0..k)
        .map(|c| {
            members[c].iter().map(|r| dist(r, &centres[c])).sum::<f64>()
                / members[c].len().max(1) as f64
        })
        .collect();
    live.iter()
        .map(|&i| {
            live.iter()
                .filter(|&&j| j != i)
                .map(|&j| (spread[i] + spread[j]) / dist(&centres[i], &centres[j]))
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .sum::<f64>()
        / live.len() as f64
}

#[test]
fn silhouette_and_davies_bouldin_match_their_definitions() {
    let (x, rows) = points(60, 3, 1);
    // Four clusters, one of them a single point, one left empty (K = 5).
    let labels: Vec<i64> = (0..60)
        .map(|i| if i == 0 { 4 } else { (i % 3) as i64 })
        .collect();
    let (ours, used) = silhouette(&x, &labels, 5, 1000, 0);
    assert_eq!(used, 60);
    assert!(
        (ours - naive_silhouette(&rows, &labels, 5)).abs() < 1e-9,
        "{ours}"
    );
    let db = davies_bouldin(&x, &labels, 5);
    assert!(
        (db - naive_davies_bouldin(&rows, &labels, 5)).abs() < 1e-9,
        "{db}"
    );
    // Separated blobs score high; a random split of them scores near 0.
    let blobs = Tensor::cat(&[&x * 0.1, &x * 0.1 + 10.0], 0);
    let truth: Vec<i64> = (0..120).map(|i| (i / 60) as i64).collect();
    assert!(silhouette(&blobs, &truth, 2, 1000, 0).0 > 0.9);
    let mixed: Vec<i64> = (0..120).map(|i| (i % 2) as i64).collect();
    assert!(silhouette(&blobs, &mixed, 2, 1000, 0).0.abs() < 0.1);
    assert!(davies_bouldin(&blobs, &truth, 2) < davies_bouldin(&blobs, &mixed, 2));
}

#[test]
fn a_large_set_is_sampled_with_its_seed() {
    let (x, _) = points(3000, 2, 2);
    let labels: Vec<i64> = (0..3000).map(|i| (i % 4) as i64).collect();
    let (a, used) = silhouette(&x, &labels, 4, 500, 7);
    assert_eq!(used, 500);
    assert_eq!(
        a,
        silhouette(&x, &labels, 4, 500, 7).0,
        "same seed, same sample"
    );
}

#[test]
fn balance_agreement_confidence_and_modularity() {
    assert!((balance(&[5, 5, 5, 5]) - 1.0).abs() < 1e-12);
    assert_eq!(balance(&[20, 0, 0, 0]), 0.0);
    let a: Vec<i64> = (0..40).map(|i| (i / 10) as i64).collect();
    let renamed: Vec<i64> = a.iter().map(|c| 3 - c).collect();
    assert!(
        (agreement(&a, &renamed, 4) - 1.0).abs() < 1e-12,
        "ARI ignores names"
    );
    // Four cliques of 10: the clique partition has modularity 0.75.
    let neighbors = (0..40)
        .flat_map(|i| {
            let g = i / 10;
            (g * 10..g * 10 + 10)
                .filter(move |&j| j != i)
                .map(|j| j as i64)
        })
        .collect();
    let g = Adjacency::from_knn(
        &Knn {
            n: 40,
            k: 9,
            neighbors,
        },
        Normalization::Row,
    );
    let (x, _) = points(40, 2, 3);
    let conf: Vec<f32> = (0..40).map(|i| if i < 10 { 0.3 } else { 0.9 }).collect();
    let lf = LabelFree::new(&LabelFreeInput {
        features: &x,
        clusters: &a,
        confidence: &conf,
        k: 5,
        graphs: Some((&g, &g)),
        heads: Some([&a, &renamed, &a]),
        seed: 0,
    });
    assert!((lf.modularity_b.unwrap() - 0.75).abs() < 1e-9);
    assert!((lf.head_agreement.unwrap() - 1.0).abs() < 1e-12);
    assert!((lf.uncertain - 0.25).abs() < 1e-12);
    assert!((lf.mean_confidence - 0.75).abs() < 1e-6);
    assert_eq!(lf.empty_clusters, 1);
    assert!(lf.line().contains("1 empty clusters"), "{}", lf.line());
}

#[test]
fn suggest_k_finds_three_well_separated_blobs() {
    let _turn = common::rng_turn();
    tch::manual_seed(11);
    let centres = [[0.0, 0.0], [12.0, 0.0], [0.0, 12.0]];
    let blobs: Vec<Tensor> = centres
        .iter()
        .map(|c| {
            Tensor::randn([100, 2], (Kind::Float, Device::Cpu))
                + Tensor::from_slice(&c.map(|v| v as f32)).view([1, 2])
        })
        .collect();
    let x = Tensor::cat(&blobs, 0);
    let mut ticks = 0;
    let s = suggest_k(&x, 2..=8, 0, &mut |_, _| {
        ticks += 1;
        true
    })
    .unwrap();
    assert_eq!(ticks, 7);
    assert_eq!(s.scores.len(), 7);
    assert_eq!(s.suggested, 3, "{}", s.why);
    assert_eq!(s.by_silhouette, 3);
    // The sweep runs beside trainings in the app: it must leave libtorch's process-wide
    // generator where a training seeded it.
    assert!(
        common::leaves_the_generator_alone(|| {
            suggest_k(&x, 2..=4, 0, &mut |_, _| true).unwrap();
        }),
        "Suggest K changed the draws of the generator a training seeded"
    );
    // Cancelling stops the sweep with an error that says so.
    let e = suggest_k(&x, 2..=8, 0, &mut |done, _| done < 2).unwrap_err();
    assert!(e.to_string().contains("cancelled"), "{e}");
    // A range beyond the data is refused.
    assert!(suggest_k(&x.narrow(0, 0, 5), 2..=8, 0, &mut |_, _| true).is_err());
}

/// Two 2-d blobs, 20 points each around (±5, 0), plus one point half-way, assigned to the left
/// blob; the graph is the exact 5-NN graph of the points.
fn two_blobs_and_a_bridge(scale: f64) -> (Tensor, Vec<i64>, Knn) {
    let mut rows = vec![];
    for i in 0..40 {
        let centre = if i < 20 { -5.0 } else { 5.0 };
        let (a, r) = (i as f64 * 2.4, 0.3 + 0.02 * (i % 20) as f64);
        rows.extend([(centre + r * a.cos()) * scale, r * a.sin() * scale]);
    }
    rows.extend([0.3 * scale, 0.0]);
    let x = Tensor::from_slice(&rows.iter().map(|&v| v as f32).collect::<Vec<_>>()).view([41, 2]);
    let clusters: Vec<i64> = (0..41).map(|i| i64::from((20..40).contains(&i))).collect();
    let knn =
        icicle_explorer::graph::knn(&x, 5, &icicle_explorer::progress::Progress::none()).unwrap();
    (x, clusters, knn)
}

#[test]
fn confidence_is_high_inside_a_blob_low_on_the_bridge_and_blind_to_scale_and_names() {
    let (x, clusters, knn) = two_blobs_and_a_bridge(1.0);
    let c = icicle_explorer::metrics::confidence(&x, &clusters, 2, &knn);
    assert_eq!(c.len(), 41);
    assert!(c.iter().all(|&v| (0.0..=1.0).contains(&v)), "{c:?}");
    // Inside a blob every neighbour agrees and the own centre is far nearer than the other.
    assert!(c[..40].iter().all(|&v| v > 0.95), "{c:?}");
    // Half-way its nearest neighbours are the right blob's, and it is barely nearer the left.
    assert!(c[40] < 0.5, "the bridge point: {}", c[40]);
    // Unlike a Student-t soft assignment, the features' scale changes nothing.
    let (x100, _, knn100) = two_blobs_and_a_bridge(100.0);
    let c100 = icicle_explorer::metrics::confidence(&x100, &clusters, 2, &knn100);
    for (a, b) in c.iter().zip(&c100) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    // Nor do the clusters' numbers, nor an empty cluster beside them.
    let renamed: Vec<i64> = clusters.iter().map(|&k| 2 - 2 * k).collect();
    let c_renamed = icicle_explorer::metrics::confidence(&x, &renamed, 3, &knn);
    for (a, b) in c.iter().zip(&c_renamed) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    // A cluster of −1 (an edited assignments.csv) gives no margin, and no panic.
    let mut edited = clusters.clone();
    edited[40] = -1;
    let c_edited = icicle_explorer::metrics::confidence(&x, &edited, 2, &knn);
    assert_eq!(c_edited.len(), 41);
    assert!(c_edited.iter().all(|&v| (0.0..=1.0).contains(&v)));
}
