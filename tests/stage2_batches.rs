//! Mini-batch stage 2 (src/train/stage2_graphs.rs, src/graph/partition.rs): the symmetric
//! neighbour lists, induced subgraphs, breadth-first parts, and that a batch holding every
//! node is exactly the full graph.
mod common;
use icicle_explorer::config::{Config, Preset};
use icicle_explorer::graph::partition::{bfs_parts, kept_edges};
use icicle_explorer::graph::{Adjacency, Knn, Neighbours, Normalization, knn};
use icicle_explorer::progress::Progress;
use icicle_explorer::train::stage2::Stage2;
use icicle_explorer::train::stage2_graphs::Stage2Graphs;
use tch::{Device, Kind, Tensor};

/// `groups` Gaussian blobs of `size` points in 8 dimensions, far apart.
fn blobs(groups: usize, size: usize, seed: i64) -> Tensor {
    tch::manual_seed(seed);
    let centres = Tensor::randn([groups as i64, 8], (Kind::Float, Device::Cpu)) * 20.0;
    let noise = Tensor::randn([(groups * size) as i64, 8], (Kind::Float, Device::Cpu));
    centres.repeat_interleave_self_int(size as i64, 0, None) + noise
}

#[test]
fn neighbour_lists_are_the_symmetric_union_without_self() {
    // 0 lists 1 and 2; 1 lists 0 and 0's duplicate; 2 lists itself (an exact duplicate).
    let knn = Knn {
        n: 3,
        k: 2,
        neighbors: vec![1, 2, 0, 0, 2, 0],
    };
    let g = Neighbours::from_knn(&knn);
    assert_eq!(g.of(0), &[1, 2]);
    assert_eq!(g.of(1), &[0]);
    assert_eq!(g.of(2), &[0]);
    assert_eq!(g.undirected_edges(), 2);
}

#[test]
fn the_subgraph_of_every_node_is_the_whole_graph_and_a_part_renormalises() {
    let _rng = common::rng_turn();
    let x = blobs(3, 20, 1);
    let k = knn(&x, 5, &Progress::none()).unwrap();
    let g = Neighbours::from_knn(&k);
    for norm in [Normalization::Row, Normalization::Symmetric] {
        let all: Vec<u32> = (0..60).collect();
        assert_eq!(
            Adjacency::induced(&g, &all, norm),
            Adjacency::from_knn(&k, norm)
        );
    }
    // A subset in any order: row r is node nodes[r], edges leaving the subset are gone and
    // each row is a mean over what is left (row normalisation sums to 1).
    let nodes: Vec<u32> = vec![7, 3, 25, 0, 11];
    let sub = Adjacency::induced(&g, &nodes, Normalization::Row);
    let dense = sub.to_dense();
    for (r, row) in dense.iter().enumerate() {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        for (c, &v) in row.iter().enumerate() {
            let edge = r == c || g.of(nodes[r] as usize).contains(&nodes[c]);
            assert_eq!(v > 0.0, edge, "({r}, {c})");
        }
    }
}

#[test]
fn breadth_first_parts_cover_every_node_once_and_keep_most_edges() {
    let _rng = common::rng_turn();
    let x = blobs(10, 100, 2);
    let k = knn(&x, 10, &Progress::none()).unwrap();
    let g = Neighbours::from_knn(&k);
    let parts = bfs_parts(&g, 100);
    let mut seen: Vec<u32> = parts.iter().flatten().copied().collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..1000).collect::<Vec<u32>>());
    assert!(parts.iter().all(|p| p.len() <= 100));
    assert_eq!(parts.len(), 10);
    // Ten blobs, ten parts of a blob's size: breadth-first growth follows the blobs.
    let kept = kept_edges(&g, &parts);
    assert!(kept > 0.9, "kept {kept}");
    // Random parts of the same size would keep about a tenth.
    let random: Vec<Vec<u32>> = (0..10)
        .map(|p| (0..100).map(|i| (i * 10 + p) as u32).collect())
        .collect();
    assert!(kept_edges(&g, &random) < 0.3);
}

/// A stage-2 model and its data over 3 blobs, with `batch` nodes a mini-batch.
fn setup(batch: usize) -> (Config, Tensor, Knn, Knn, Stage2) {
    let cfg = Config {
        full_graph_up_to: 0,
        stage2_batch: batch,
        target_every: 1,
        partition_targets: 0.5,
        ..Config::preset(Preset::Default, 3)
    };
    let x = blobs(3, 40, 3);
    let (ka, kb) = (
        knn(&x, 1, &Progress::none()).unwrap(),
        knn(&x, 10, &Progress::none()).unwrap(),
    );
    tch::manual_seed(5);
    let s2 = Stage2::new(&cfg, 120, 8, Device::Cpu);
    let adj_b = Adjacency::from_knn(&kb, cfg.normalization);
    s2.init_centres(&x, &cfg, &adj_b, None).unwrap();
    (cfg, x, ka, kb, s2)
}

#[test]
fn a_batch_holding_every_node_is_the_full_graph() {
    let _rng = common::rng_turn();
    // 16 parts of 8 ≥ 120 nodes: one batch is the whole graph, in breadth-first order.
    let (cfg, x, ka, kb, s2) = setup(128);
    let mut full = Stage2Graphs::Full {
        a: Adjacency::from_knn(&ka, cfg.normalization).to_sparse(Device::Cpu),
        b: Adjacency::from_knn(&kb, cfg.normalization).to_sparse(Device::Cpu),
    };
    let mut batched = Stage2Graphs::batched(
        &cfg,
        Neighbours::from_knn(&ka),
        Neighbours::from_knn(&kb),
        Device::Cpu,
    );
    let (_, t_full, _) = full.step(&s2, &x, &cfg, 1);
    let (_, t_batch, heads) = batched.step(&s2, &x, &cfg, 1);
    assert!(heads.is_none());
    for (a, b) in [
        (t_full.total, t_batch.total),
        (t_full.kl_q.unwrap(), t_batch.kl_q.unwrap()),
        (t_full.kl_a.unwrap(), t_batch.kl_a.unwrap()),
        (t_full.kl_b.unwrap(), t_batch.kl_b.unwrap()),
    ] {
        assert!((a - b).abs() < 1e-5 * a.abs().max(1.0), "{a} vs {b}");
    }
    let (hf, hb) = (full.heads(&s2, &x, &cfg), batched.heads(&s2, &x, &cfg));
    for (f, b) in [
        (&hf.log_q, &hb.log_q),
        (hf.log_a.as_ref().unwrap(), hb.log_a.as_ref().unwrap()),
        (hf.log_b.as_ref().unwrap(), hb.log_b.as_ref().unwrap()),
    ] {
        let diff = (f - b).abs().max().double_value(&[]);
        assert!(diff < 1e-4, "heads differ by {diff}");
    }
}

#[test]
fn small_batches_train_and_cover_every_node() {
    let _rng = common::rng_turn();
    let (cfg, x, ka, kb, s2) = setup(32);
    let mut g = Stage2Graphs::batched(
        &cfg,
        Neighbours::from_knn(&ka),
        Neighbours::from_knn(&kb),
        Device::Cpu,
    );
    assert!(g.describe(120).contains("parts"), "{}", g.describe(120));
    let mut opt = icicle_explorer::train::adam::Adam::new(&s2.vs, 1e-2);
    let mut losses = vec![];
    for it in 1..=30 {
        let (loss, terms, _) = g.step(&s2, &x, &cfg, it);
        opt.zero_grad();
        loss.backward();
        opt.step();
        losses.push(terms.total);
    }
    assert!(losses.iter().all(|l| l.is_finite()));
    let heads = g.heads(&s2, &x, &cfg);
    // Every node got its heads (rows of log-probabilities: each sums to 1 in probability).
    let sums = heads
        .log_a
        .unwrap()
        .exp()
        .sum_dim_intlist(1, false, Kind::Float);
    let off = (sums - 1.0).abs().max().double_value(&[]);
    assert!(off < 1e-4, "{off}");
    // The blobs are found: one cluster per blob.
    let labels = Vec::<i64>::try_from(heads.log_q.argmax(1, false)).unwrap();
    for b in 0..3 {
        let first = labels[b * 40];
        assert!(labels[b * 40..(b + 1) * 40].iter().all(|&l| l == first));
    }
}

#[test]
fn mini_batch_settings_are_checked_by_name() {
    for (cfg, field) in [
        (
            Config {
                stage2_part: 0,
                ..Config::preset(Preset::Default, 3)
            },
            "stage2_part",
        ),
        (
            Config {
                stage2_batch: 16,
                stage2_part: 32,
                ..Config::preset(Preset::Default, 3)
            },
            "stage2_part",
        ),
    ] {
        let e = format!("{:#}", cfg.validate(100).unwrap_err());
        assert!(e.contains(field), "{e}");
    }
}
