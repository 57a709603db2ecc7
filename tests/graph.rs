//! k-NN graphs and adjacency normalisation.
mod common;
use icicle_explorer::data::Progress;
use icicle_explorer::graph::knn::{Knn, knn_blocked};
use icicle_explorer::graph::{
    Adjacency, Normalization, edge_purity, graph_stats, knn, neighbour_vote,
};
use tch::{Device, Kind, Tensor};

fn brute_force(x: &[Vec<f32>], k: usize) -> Vec<Vec<usize>> {
    (0..x.len())
        .map(|i| {
            let mut d: Vec<(f32, usize)> = (0..x.len())
                .filter(|&j| j != i)
                .map(|j| {
                    (
                        x[i].iter().zip(&x[j]).map(|(a, b)| (a - b) * (a - b)).sum(),
                        j,
                    )
                })
                .collect();
            d.sort_by(|a, b| a.partial_cmp(b).unwrap());
            d[..k].iter().map(|p| p.1).collect()
        })
        .collect()
}

#[test]
fn blocked_knn_equals_brute_force_for_any_block_size() {
    tch::manual_seed(3);
    let x = Tensor::randn([97, 6], (Kind::Float, Device::Cpu));
    let rows: Vec<Vec<f32>> = Vec::try_from(&x).unwrap();
    let expect = brute_force(&rows, 5);
    for block in [1, 7, 32, 97, 500] {
        let g = knn_blocked(&x, 5, block, &Progress::none()).unwrap();
        for (i, e) in expect.iter().enumerate() {
            let got: Vec<usize> = g.of(i).iter().map(|&j| j as usize).collect();
            assert_eq!(&got, e, "block {block}, row {i}");
        }
    }
}

#[test]
fn self_is_excluded_by_index_even_with_exact_duplicates() {
    // Rows 0, 1 and 2 are identical: each must list the other two, never itself.
    let x = Tensor::from_slice(&[1.0f32, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0, 5.0]).view([4, 2]);
    let g = knn(&x, 2, &Progress::none()).unwrap();
    for i in 0..3 {
        let mut n: Vec<i64> = g.of(i).to_vec();
        n.sort();
        let mut expect: Vec<i64> = (0..3).filter(|&j| j != i as i64).collect();
        expect.sort();
        assert_eq!(n, expect, "row {i}");
    }
}

#[test]
fn k_must_be_smaller_than_n() {
    let x = Tensor::zeros([3, 2], (Kind::Float, Device::Cpu));
    let e = knn(&x, 3, &Progress::none()).unwrap_err().to_string();
    assert!(e.contains("k = 3"), "{e}");
    assert!(knn(&x, 0, &Progress::none()).is_err());
}

/// 0→1, 1→0, 2→1, 3→2: after union symmetrisation the path 0–1–2–3.
fn path4() -> Knn {
    Knn {
        n: 4,
        k: 1,
        neighbors: vec![1, 0, 1, 2],
    }
}

#[test]
fn union_symmetrisation_self_loops_and_row_normalisation() {
    let a = Adjacency::from_knn(&path4(), Normalization::Row);
    assert_eq!(a.undirected_edges, 3);
    assert_eq!(a.degrees, vec![1, 2, 2, 1]);
    let third = 1.0 / 3.0;
    let expect = [
        [0.5, 0.5, 0.0, 0.0],
        [third, third, third, 0.0],
        [0.0, third, third, third],
        [0.0, 0.0, 0.5, 0.5],
    ];
    for (r, row) in a.to_dense().iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            assert!((v - expect[r][c] as f32).abs() < 1e-6, "({r},{c}) {v}");
        }
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}

#[test]
fn symmetric_normalisation_is_d_inv_sqrt_a_d_inv_sqrt() {
    let a = Adjacency::from_knn(&path4(), Normalization::Symmetric);
    let m = a.to_dense();
    let d = [2.0f32, 3.0, 3.0, 2.0]; // degrees with self-loops
    for r in 0..4 {
        for c in 0..4 {
            let linked = r == c || (r as i32 - c as i32).abs() == 1;
            let expect = if linked {
                1.0 / (d[r] * d[c]).sqrt()
            } else {
                0.0
            };
            assert!((m[r][c] - expect).abs() < 1e-6, "({r},{c})");
            assert!((m[r][c] - m[c][r]).abs() < 1e-7, "symmetric");
        }
    }
}

#[test]
fn sparse_tensor_product_equals_dense_product() {
    let a = Adjacency::from_knn(&path4(), Normalization::Row);
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]).view([4, 2]);
    let sparse = a.to_sparse(Device::Cpu).mm(&x);
    let dense: Vec<f32> = a.to_dense().into_iter().flatten().collect();
    let dense = Tensor::from_slice(&dense).view([4, 4]).mm(&x);
    assert!(sparse.allclose(&dense, 1e-6, 1e-6, false));
}

#[test]
fn sparse_product_carries_gradients_to_the_dense_side() {
    let a = Adjacency::from_knn(&path4(), Normalization::Row).to_sparse(Device::Cpu);
    let w = Tensor::ones([4, 2], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    a.mm(&w).sum(Kind::Float).backward();
    // Column sums of the row-normalised matrix: 0.5+1/3, 1/2+2/3... each node's total weight.
    let g: Vec<f32> = Vec::try_from(&w.grad().select(1, 0)).unwrap();
    let third = 1.0f32 / 3.0;
    let expect = [
        0.5 + third,
        0.5 + 2.0 * third,
        0.5 + 2.0 * third,
        0.5 + third,
    ];
    for (a, b) in g.iter().zip(expect) {
        assert!((a - b).abs() < 1e-6);
    }
}

#[test]
fn edge_purity_and_stats() {
    let g = path4();
    let labels = [0, 0, 1, 1];
    // edges 0→1 same, 1→0 same, 2→1 different, 3→2 same
    assert!((edge_purity(&g, &labels) - 0.75).abs() < 1e-12);
    let s = graph_stats(
        &g,
        &Adjacency::from_knn(&g, Normalization::Row),
        Some(&labels),
    );
    assert_eq!(
        (s.directed_edges, s.undirected_edges, s.max_degree),
        (4, 3, 2)
    );
    assert!((s.mean_degree - 1.5).abs() < 1e-12);
}

#[test]
fn the_neighbour_vote_takes_the_majority_of_the_neighbours_labels_never_the_items_own() {
    // 0: neighbours 1, 2, 3 (labels 1, 1, 0) -> 1, though 0 itself is class 0.
    // 1: neighbours 0, 2, 3 (0, 1, 0) -> 0.   2: 3, 4, 1 (0, 2, 1) -> a tie, the smaller: 0.
    // 3: itself, an index past the labels, and 2 (1) -> 1.   4: itself and 9 only -> no vote.
    let g = Knn {
        n: 5,
        k: 3,
        neighbors: vec![1, 2, 3, 0, 2, 3, 3, 4, 1, 3, 9, 2, 4, 9, 4],
    };
    let labels = [0, 1, 1, 0, -1];
    assert_eq!(
        neighbour_vote(&g, &labels, 2),
        vec![Some(1), Some(0), Some(0), Some(1), None]
    );
    // Item 4 labelled 2: item 2's vote is a three-way tie (0, 2, 1), still won by 0.
    assert_eq!(neighbour_vote(&g, &[0, 1, 1, 0, 2], 3)[2], Some(0));
}

#[test]
fn digits_pixel_graph_purity_matches_sklearn() {
    // sklearn NearestNeighbors on the same pixels: 0.988314 (k=1), 0.965109 (k=10);
    // tests/fixtures/digits_fixtures.py. Ties between equal distances may break differently.
    let ds = common::load_builtin("digits");
    let x = ds.pixel_features(Device::Cpu);
    let labels = ds.labels.as_ref().unwrap();
    for (k, expect) in [(1, 0.988314), (10, 0.965109)] {
        let p = edge_purity(&knn(&x, k, &Progress::none()).unwrap(), labels);
        assert!((p - expect).abs() < 2e-3, "k={k}: {p} vs {expect}");
    }
}
