//! Spectral partition and modularity (src/cluster/spectral.rs), used to start stage 2's
//! centres from the graph when that partition fits the graph better.
use icicle_explorer::cluster::spectral::{modularity, spectral_labels};
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
    let g = cliques(4, 8);
    let labels = spectral_labels(&g, 4, 0, 3, Device::Cpu).unwrap();
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
fn presets_start_stage_two_from_kmeans_and_old_configs_still_read() {
    use icicle_explorer::config::{CentreInit, Config, Preset};
    assert_eq!(
        Config::preset(Preset::Reference, 10).centre_init,
        CentreInit::Kmeans
    );
    assert_eq!(
        Config::preset(Preset::Paper, 10).centre_init,
        CentreInit::Kmeans
    );
    assert_eq!(
        Config::preset(Preset::Default, 10).centre_init,
        CentreInit::Kmeans
    );
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
