//! Spectral partition and modularity (src/cluster/spectral.rs), used to start stage 2's
//! centres from the graph when that partition fits the graph better.
mod common;
use icicle_explorer::cluster::spectral::{Start, modularity, spectral_labels};
use icicle_explorer::graph::{Adjacency, Knn, Normalization};
use tch::Device;

/// `groups` disjoint cliques of `size` nodes, each node's k = size − 1 neighbours its clique.
fn cliques(groups: usize, size: usize) -> Adjacency {
    let n = groups * size;
    let mut neighbors = Vec::new();
    for i in 0..n {
        let g = i / size;
        neighbors.extend(
            (g * size..(g + 1) * size)
                .filter(|&j| j != i)
                .map(|j| j as i64),
        );
    }
    let knn = Knn {
        n,
        k: size - 1,
        neighbors,
    };
    Adjacency::from_knn(&knn, Normalization::Row)
}

#[test]
fn modularity_of_two_triangles_is_one_half() {
    let g = cliques(2, 3);
    // Inside: all 12 edge ends; each cluster holds half the degree: 1 − 2·(1/2)² = 0.5.
    assert!((modularity(&g, &[0, 0, 0, 1, 1, 1]) - 0.5).abs() < 1e-12);
    assert!(modularity(&g, &[0; 6]).abs() < 1e-12, "one cluster: 0");
    assert!(
        modularity(&g, &[0, 1, 0, 1, 0, 1]) < 0.0,
        "against the communities"
    );
}

#[test]
fn spectral_partition_finds_the_communities_and_scores_higher() {
    let _rng = common::rng_turn();
    let g = cliques(4, 8);
    let labels = spectral_labels(&g, 4, Start::Own(0), 3, Device::Cpu).unwrap();
    for c in 0..4 {
        let first = labels[c * 8];
        assert!(
            labels[c * 8..(c + 1) * 8].iter().all(|&l| l == first),
            "clique {c}: {labels:?}"
        );
    }
    let mut distinct = labels.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{labels:?}");
    let wrong: Vec<i64> = (0..32).map(|i| (i % 4) as i64).collect();
    assert!(modularity(&g, &labels) > modularity(&g, &wrong));
    assert!((modularity(&g, &labels) - 0.75).abs() < 1e-9);
}

#[test]
fn presets_choose_stage_two_starts_and_old_configs_still_read() {
    use icicle_explorer::config::{CentreInit, Config, Preset};
    assert_eq!(
        Config::preset(Preset::Reference, 10).centre_init,
        CentreInit::Kmeans
    );
    assert_eq!(
        Config::preset(Preset::Paper, 10).centre_init,
        CentreInit::Kmeans
    );
    let default = Config::preset(Preset::Default, 10);
    assert_eq!(default.centre_init, CentreInit::Auto);
    assert_eq!(default.partition_targets, 0.5);
    assert_eq!(Config::preset(Preset::Reference, 10).partition_targets, 0.0);
    // A config.toml written before the field existed reads as the reference's K-means.
    let auto = Config {
        centre_init: CentreInit::Auto,
        ..Config::preset(Preset::Default, 10)
    };
    assert!(auto.to_toml().contains("centre_init = \"auto\""));
    let text: String = auto
        .to_toml()
        .lines()
        .filter(|l| !l.starts_with("centre_init"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        Config::from_toml(&text).unwrap().centre_init,
        CentreInit::Kmeans
    );
}

/// Stage 2's KL(target ‖ stream a) on random features over 4 cliques, started from the
/// graph's spectral partition, with target weight `lambda`; and that term recomputed from the
/// definition (1 − λ)·P + λ·onehot(partition).
fn kl_a_and_expected(lambda: f64) -> (f64, f64) {
    use icicle_explorer::config::{CentreInit, Config, Preset};
    use icicle_explorer::train::{losses, stage2::Stage2};
    let _rng = common::rng_turn();
    let g = cliques(4, 8);
    let cfg = Config {
        centre_init: CentreInit::Spectral,
        partition_targets: lambda,
        ..Config::preset(Preset::Default, 4)
    };
    tch::manual_seed(7);
    let x = tch::Tensor::randn([32, 16], (tch::Kind::Float, Device::Cpu));
    let s2 = Stage2::new(&cfg, 32, 16, Device::Cpu);
    s2.init_centres(&x, &cfg, &g, None).unwrap();
    let adj = g.to_sparse(Device::Cpu);
    let (_, terms, heads) = tch::no_grad(|| s2.forward(&x, &adj, &adj, &cfg));
    let p = losses::target_distribution(&heads.log_q.exp());
    let partition = cliques_onehot(&s2);
    let target = p * (1.0 - lambda) + partition * lambda;
    let expected = losses::kl_batchmean(&target, heads.log_a.as_ref().unwrap());
    (terms.kl_a.unwrap(), expected.double_value(&[]))
}

/// The spectral partition stage 2 started from, one-hot (it finds the 4 cliques).
fn cliques_onehot(s2: &icicle_explorer::train::stage2::Stage2) -> tch::Tensor {
    let anchor = s2
        .anchor
        .as_ref()
        .expect("partition_targets > 0 keeps the partition");
    let labels = Vec::<i64>::try_from(anchor.argmax(1, false)).unwrap();
    for c in 0..4 {
        assert!(
            labels[c * 8..(c + 1) * 8]
                .iter()
                .all(|&l| l == labels[c * 8])
        );
    }
    anchor.shallow_clone()
}

#[test]
fn partition_targets_mix_the_starting_partition_into_the_target() {
    for lambda in [1.0, 0.5] {
        let (got, expected) = kl_a_and_expected(lambda);
        assert!(
            (got - expected).abs() < 1e-6,
            "λ = {lambda}: {got} vs {expected}"
        );
    }
}

#[test]
fn the_starting_partition_is_saved_with_the_stage_two_model() {
    use icicle_explorer::config::{Config, Preset};
    use icicle_explorer::train::stage2::Stage2;
    let _rng = common::rng_turn();
    let cfg = Config {
        partition_targets: 0.5,
        ..Config::preset(Preset::Default, 4)
    };
    let s2 = Stage2::new(&cfg, 32, 16, Device::Cpu);
    let x = tch::Tensor::randn([32, 16], (tch::Kind::Float, Device::Cpu));
    s2.init_centres(&x, &cfg, &cliques(4, 8), None).unwrap();
    let vars = s2.vs.variables();
    let anchor = vars.get("anchor").expect("anchor is a variable");
    assert!(!anchor.requires_grad());
    assert_eq!(anchor.size(), [32, 4]);
    // One-hot rows.
    assert_eq!(anchor.sum(tch::Kind::Float).double_value(&[]), 32.0);
}
