//! Corrections as facts about images (issue 19): they survive a write and a read, contradictions
//! are refused with the images named, and the label-spreading preview carries a correction to
//! the images around it.
use icicle_explorer::correct::{Corrections, preview};
use icicle_explorer::graph::Knn;

fn items(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("img/{i}.png")).collect()
}

#[test]
fn corrections_are_facts_about_images_and_survive_a_reopen() {
    let names = items(10);
    let mut c = Corrections::default();
    c.move_to(&[1, 2], 3, &names);
    c.not_in(&[4], 0, &names);
    c.keep_together(&[5, 6], &names);
    c.keep_together(&[6, 7], &names);
    c.rename(3, "cats");
    c.validate(&names, 4).unwrap();
    assert_eq!(c.images[&1].path, "img/1.png");
    let g = c.images[&5].group;
    assert!(
        g.is_some() && c.images[&7].group == g,
        "groups that share an image join"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrections.json");
    c.write(&path).unwrap();
    assert_eq!(Corrections::read(&path).unwrap(), c);
    assert_eq!(Corrections::read_run(dir.path()).unwrap(), c);
    // Moving an image to a cluster it was excluded from lifts the exclusion.
    c.move_to(&[4], 0, &names);
    assert!(c.images[&4].not_in.is_empty());
    c.remove(4);
    assert!(!c.images.contains_key(&4));
}

#[test]
fn contradictions_are_refused_naming_the_images() {
    let names = items(6);
    // Kept together, but moved to different clusters.
    let mut c = Corrections::default();
    c.keep_together(&[0, 1], &names);
    c.move_to(&[0], 1, &names);
    c.move_to(&[1], 2, &names);
    let e = format!("{:#}", c.validate(&names, 3).unwrap_err());
    assert!(e.contains("img/0.png") && e.contains("img/1.png"), "{e}");
    // Kept with a group in cluster 1, but excluded from cluster 1.
    let mut c = Corrections::default();
    c.keep_together(&[2, 3], &names);
    c.move_to(&[2], 1, &names);
    c.not_in(&[3], 1, &names);
    let e = format!("{:#}", c.validate(&names, 3).unwrap_err());
    assert!(e.contains("img/3.png") && e.contains("excluded"), "{e}");
    // A cluster beyond K, and a file that no longer matches its index.
    let mut c = Corrections::default();
    c.move_to(&[0], 5, &names);
    assert!(format!("{:#}", c.validate(&names, 3).unwrap_err()).contains("K = 3"));
    let mut c = Corrections::default();
    c.move_to(&[0], 1, &names);
    let mut other = names.clone();
    other[0] = "img/renamed.png".into();
    assert!(format!("{:#}", c.validate(&other, 3).unwrap_err()).contains("img/renamed.png"));
}

/// Two groups of 20 images on chains, and a clump of 6 assigned to the wrong cluster, whose
/// neighbours are each other (and one image of the cluster it belongs to).
fn graph_with_a_wrong_clump() -> (Knn, Vec<i64>) {
    let n = 46;
    let mut nb = vec![];
    for i in 0..n {
        let (lo, hi) = match i {
            0..20 => (0, 20),
            20..40 => (20, 40),
            _ => (40, 46),
        };
        let next = if i + 1 < hi { i + 1 } else { lo };
        let prev = if i > lo { i - 1 } else { hi - 1 };
        // One bridge from the clump to the cluster it belongs to.
        let prev = if i == 45 { 20 } else { prev };
        nb.extend([next as i64, prev as i64]);
    }
    let mut clusters: Vec<i64> = (0..n).map(|i| if i < 20 { 0 } else { 1 }).collect();
    for c in clusters.iter_mut().skip(40) {
        *c = 0; // really cluster 1's, put in 0
    }
    (
        Knn {
            n,
            k: 2,
            neighbors: nb,
        },
        clusters,
    )
}

#[test]
fn the_preview_spreads_a_correction_to_its_neighbours_only() {
    let (g, clusters) = graph_with_a_wrong_clump();
    let names = items(46);
    let mut c = Corrections::default();
    c.move_to(&[42], 1, &names);
    let p = preview(&g, &clusters, 2, &c);
    assert_eq!(
        p.clusters[42], 1,
        "the corrected image is where the person put it"
    );
    assert_eq!(p.moved, vec![40, 41, 43, 44, 45], "its clump follows");
    assert!(p.clusters[..40] == clusters[..40], "nothing else moves");
    // "Not in this cluster" on one image of the clump moves it (and its clump) too.
    let mut c = Corrections::default();
    c.not_in(&[40], 0, &names);
    let p = preview(&g, &clusters, 2, &c);
    assert_eq!(p.clusters[40], 1);
    // No corrections, no change.
    let p = preview(&g, &clusters, 2, &Corrections::default());
    assert!(p.moved.is_empty() && p.clusters == clusters);
}
