//! Corrections as facts about images (issue 19): they survive a write and a read, contradictions
//! are refused with the images named, and the preview carries a correction to the images
//! around it in the graph and across the boundary it moves in the features.
use icicle_explorer::correct::{Corrections, preview};
use icicle_explorer::graph::Knn;

fn items(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("img/{i}.png")).collect()
}

/// `n` images on the unit circle, image i at `angle(i)` degrees.
fn on_circle(n: usize, angle: impl Fn(usize) -> f32) -> Vec<f32> {
    (0..n)
        .flat_map(|i| {
            let a = angle(i).to_radians();
            [a.cos(), a.sin()]
        })
        .collect()
}

/// 2-d features for the preview, on a graph the run trusted or a weak one.
fn in_plane(x: &[f32], weak_graph: bool) -> Option<icicle_explorer::correct::Features<'_>> {
    Some(icicle_explorer::correct::Features {
        x,
        dim: 2,
        weak_graph,
    })
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
    let p = preview(&g, &clusters, 2, &c, None);
    assert_eq!(
        p.clusters[42], 1,
        "the corrected image is where the person put it"
    );
    // Its neighbours follow (45 also has the bridge's vote); two hops away the images'
    // hold on their cluster outweighs one correction's vote.
    assert_eq!(p.moved, vec![41, 43, 45], "its neighbours follow");
    assert!(p.clusters[..40] == clusters[..40], "nothing else moves");
    // Two corrections in the clump carry all of it.
    let mut c = Corrections::default();
    c.move_to(&[41, 44], 1, &names);
    let p = preview(&g, &clusters, 2, &c, None);
    assert_eq!(p.moved, vec![40, 42, 43, 45], "the whole clump follows");
    assert!(p.clusters[..40] == clusters[..40], "nothing else moves");
    // "Not in this cluster" on one image of the clump moves it (and its clump) too.
    let mut c = Corrections::default();
    c.not_in(&[40], 0, &names);
    let p = preview(&g, &clusters, 2, &c, None);
    assert_eq!(p.clusters[40], 1);
    // No corrections, no change.
    let p = preview(&g, &clusters, 2, &Corrections::default(), None);
    assert!(p.moved.is_empty() && p.clusters == clusters);
}

/// Images on an arc of 2-D features: cluster 0 near 0°, cluster 1 near 90°, and three groups
/// the run put in cluster 0 — `w1` (55–60°) and `w2` (63–68°), each a ring in the graph with
/// one neighbour in cluster 1 (and one image of cluster 0 pointing at each of its images) but
/// not joined to each other, and `v` (63–68°, beside `w2` in feature space) whose graph
/// neighbours are all in cluster 0.
fn arc_with_two_wrong_groups() -> (Vec<f32>, Knn, Vec<i64>, [std::ops::Range<usize>; 3]) {
    let (w1, w2, v) = (40..46, 46..52, 52..56);
    let n = 56;
    let angle = |i: usize| -> f32 {
        match i {
            0..20 => i as f32 * 0.5,
            20..40 => 85.0 + (i - 20) as f32 * 0.5,
            40..46 => 55.0 + (i - 40) as f32,
            _ => 63.0 + ((i - 46) % 6) as f32,
        }
    };
    let features = on_circle(n, angle);
    let mut nb = vec![];
    for i in 0..n {
        let ring = |lo: usize, hi: usize| {
            let next = if i + 1 < hi { i + 1 } else { lo };
            let prev = if i > lo { i - 1 } else { hi - 1 };
            (next as i64, prev as i64)
        };
        let (a, b, c) = match i {
            // Twelve of cluster 0's images point at the wrong groups, which hold them there.
            0..12 => (ring(0, 20).0, ring(0, 20).1, 40 + i as i64),
            12..20 => (ring(0, 20).0, ring(0, 20).1, ((i + 2) % 20) as i64),
            20..40 => (ring(20, 40).0, ring(20, 40).1, (20 + (i + 2) % 20) as i64),
            40..46 => (ring(40, 46).0, ring(40, 46).1, 20 + (i - 40) as i64),
            46..52 => (ring(46, 52).0, ring(46, 52).1, 30 + (i - 46) as i64),
            _ => (0, 1, 2 + (i - 52) as i64),
        };
        nb.extend([a, b, c]);
    }
    let clusters: Vec<i64> = (0..n).map(|i| i64::from((20..40).contains(&i))).collect();
    let g = Knn {
        n,
        k: 3,
        neighbors: nb,
    };
    (features, g, clusters, [w1, w2, v])
}

/// With no correction the preview moves nothing and keeps every cluster, whatever the graph.
fn nothing_moves_without_corrections(
    g: &Knn,
    clusters: &[i64],
    x: Option<icicle_explorer::correct::Features<'_>>,
) {
    let p = preview(g, clusters, 2, &Corrections::default(), x);
    assert!(p.moved.is_empty() && p.clusters == clusters);
}

/// With the run's features the preview carries two corrections past the graph's reach: a
/// group in the same region of feature space that the graph does not join to the corrected
/// images follows, because the corrections moved the linear boundary over it and its own graph
/// neighbours give it some support; a group in the same place whose neighbours are all in the
/// old cluster stays.
#[test]
fn with_features_the_preview_carries_corrections_across_the_boundary_they_move() {
    let (features, g, clusters, [w1, w2, v]) = arc_with_two_wrong_groups();
    let names = items(clusters.len());
    let mut c = Corrections::default();
    c.move_to(&[40, 41], 1, &names);
    let moved = |p: &icicle_explorer::correct::Preview, r: &std::ops::Range<usize>| {
        r.clone().filter(|i| p.clusters[*i] == 1).count()
    };
    let graph_only = preview(&g, &clusters, 2, &c, None);
    assert_eq!(
        moved(&graph_only, &w1),
        2,
        "the graph holds the rest of the ring in 0"
    );
    assert_eq!(
        moved(&graph_only, &w2),
        0,
        "and does not reach the other ring"
    );
    let with = preview(&g, &clusters, 2, &c, in_plane(&features, false));
    assert_eq!(
        moved(&with, &w1),
        6,
        "the boundary moved over the corrected ring"
    );
    assert_eq!(moved(&with, &w2), 6, "and over the second one");
    assert_eq!(
        moved(&with, &v),
        0,
        "no support among its neighbours: stays"
    );
    assert!(
        with.clusters[..40] == clusters[..40],
        "the clusters' cores stay"
    );
    // No corrections, no change, features or not.
    nothing_moves_without_corrections(&g, &clusters, in_plane(&features, false));
}

/// The run's half of a preview (`Basis`: the spreading with no correction, the fit to the
/// run's clusters) is computed once and serves every later preview of the run: each says what a
/// preview from scratch says, whatever the corrections, on a strong graph and a weak one.
#[test]
fn a_preview_on_the_runs_basis_says_what_one_from_scratch_says() {
    use icicle_explorer::correct::{Basis, preview_with};
    let (features, g, clusters, _) = arc_with_two_wrong_groups();
    let names = items(clusters.len());
    let mut edits = vec![Corrections::default()];
    let mut c = Corrections::default();
    c.move_to(&[40, 41], 1, &names);
    edits.push(c.clone());
    c.move_to(&[47], 1, &names);
    c.move_to(&[25], 0, &names);
    edits.push(c.clone());
    c.keep_together(&[3, 30], &names);
    edits.push(c);
    for weak in [false, true] {
        let x = in_plane(&features, weak);
        let basis = Basis::of_run(&g, &clusters, 2, x);
        let mut moved = 0;
        for corr in &edits {
            let fresh = preview(&g, &clusters, 2, corr, x);
            assert_eq!(
                preview_with(&basis, &g, &clusters, 2, corr, x),
                fresh,
                "weak graph {weak}, {corr:?}"
            );
            moved += fresh.moved.len();
        }
        assert!(
            moved > 0,
            "the corrections move something (weak graph {weak})"
        );
    }
}

#[test]
fn split_in_two_separates_two_clumps_and_records_both_halves() {
    // Cluster 2 holds two clumps of features: 6 images near (0, 0), 3 near (10, 10); image 9
    // is in another cluster and must not be touched.
    let mut features = vec![];
    for i in 0..6 {
        features.extend([0.1 * i as f32, 0.0]);
    }
    for i in 0..3 {
        features.extend([10.0, 10.0 + 0.1 * i as f32]);
    }
    features.extend([5.0, 5.0]);
    let members: Vec<usize> = (0..9).collect();
    let (kept, moved) = icicle_explorer::correct::split_in_two(&features, 2, &members, 42).unwrap();
    assert_eq!(kept, vec![0, 1, 2, 3, 4, 5], "the larger clump stays");
    assert_eq!(moved, vec![6, 7, 8], "the smaller clump moves");

    let names = items(10);
    let mut c = Corrections::default();
    c.split(2, 0, (&kept, &moved), &names);
    c.validate(&names, 3).unwrap();
    assert!(kept.iter().all(|i| c.images[i].cluster == Some(2)));
    assert!(moved.iter().all(|i| c.images[i].cluster == Some(0)));
    assert!(!c.images.contains_key(&9));

    for bad in [vec![3], vec![]] {
        let e = icicle_explorer::correct::split_in_two(&features, 2, &bad, 42).unwrap_err();
        assert!(format!("{e:#}").contains("cannot be split"), "{e:#}");
    }
    let same = vec![1.0f32; 8];
    let e = icicle_explorer::correct::split_in_two(&same, 2, &[0, 1, 2, 3], 42).unwrap_err();
    assert!(format!("{e:#}").contains("same features"), "{e:#}");
}

#[test]
fn a_cluster_is_merged_or_split_as_the_person_sees_it_after_earlier_corrections() {
    // The run put images 0..4 in cluster 0 and 4..8 in cluster 1. The person moved image 0 to
    // cluster 1 and said image 1 is not in cluster 0.
    let clusters: Vec<i64> = vec![0, 0, 0, 0, 1, 1, 1, 1];
    let names = items(8);
    let mut c = Corrections::default();
    c.move_to(&[0], 1, &names);
    c.not_in(&[1], 0, &names);
    assert_eq!(c.members(0, &clusters), vec![2, 3]);
    assert_eq!(c.members(1, &clusters), vec![0, 4, 5, 6, 7]);
    // Image 1 is in no cluster the person can see (excluded, no other named).
    assert_eq!(c.assignment(&clusters), vec![1, -1, 0, 0, 1, 1, 1, 1]);
    // Merging cluster 1 into 2 takes the moved image with it, and leaves cluster 0's alone.
    c.merge(1, 2, &clusters, &names);
    assert_eq!(c.members(2, &clusters), vec![0, 4, 5, 6, 7]);
    assert_eq!(c.images[&0].cluster, Some(2));
    assert!(!c.images.contains_key(&2));
}

/// Two clusters on a circle: cluster 0 holds 30 images around the x axis and, nearer to it
/// than to cluster 1 (around y), a clump of 10 leaning towards y; cluster 1 holds 30 around y.
/// Image 30 (the clump's first) is the one the person moves.
fn a_clump_that_belongs_elsewhere() -> (Vec<f32>, Vec<i64>) {
    let mut x = vec![];
    let mut clusters = vec![];
    let at = |deg: f32| [deg.to_radians().cos(), deg.to_radians().sin()];
    for i in 0..30 {
        x.extend(at(-10.0 + i as f32 * 0.7));
        clusters.push(0);
    }
    for i in 0..10 {
        x.extend(at(33.0 + i as f32 * 0.3));
        clusters.push(0);
    }
    for i in 0..30 {
        x.extend(at(80.0 + i as f32 * 0.7));
        clusters.push(1);
    }
    (x, clusters)
}

#[test]
fn more_like_these_lists_the_rest_of_a_moved_clump_first() {
    use icicle_explorer::correct::{alike::Move, more_like};
    let mv = |images: Vec<usize>, from: Vec<usize>| Move {
        images,
        from,
        to: 1,
    };
    let (x, clusters) = a_clump_that_belongs_elsewhere();
    let names = items(clusters.len());
    let mut c = Corrections::default();
    c.move_to(&[30], 1, &names);
    let assignment = c.assignment(&clusters);
    // The move as the app records it: from where the image was, to where it went.
    let recorded = Move::of(&[30], 1, &[0]).unwrap();
    assert_eq!(recorded, mv(vec![30], vec![0]));
    assert_eq!(recorded.from_text(), "from cluster 0");
    assert_eq!(Move::of(&[40, 41], 1, &[1, 1]), None, "already there");
    assert_eq!(
        Move::of(&[0, 40], 2, &c.assigned(&[0, 40], &clusters))
            .unwrap()
            .from_text(),
        "from clusters 0, 1"
    );
    let ranked = more_like(&x, 2, &assignment, &mv(vec![30], vec![0]), &|_| false).unwrap();
    // Every other image of cluster 0 is ranked, the moved one and cluster 1's are not.
    assert_eq!(ranked.len(), 39);
    let top: Vec<usize> = ranked.iter().take(9).map(|&(i, _)| i).collect();
    let mut sorted = top.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (31..40).collect::<Vec<_>>(), "{ranked:?}");
    assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1));
    // Images already corrected are left out; so is a list for nothing outside the target.
    let skipped = more_like(&x, 2, &assignment, &mv(vec![30], vec![0]), &|i| i == 31).unwrap();
    assert!(skipped.iter().all(|&(i, _)| i != 31) && skipped.len() == 38);
    for (examples, from, what) in [
        (vec![], vec![0], "no images"),
        (vec![30], vec![1], "all in cluster 1 already"),
        (vec![70], vec![0], "no features"),
    ] {
        let e = more_like(&x, 2, &assignment, &mv(examples, from), &|_| false).unwrap_err();
        assert!(format!("{e:#}").contains(what), "{e:#}");
    }
    let e = more_like(&x, 3, &assignment, &mv(vec![30], vec![0]), &|_| false).unwrap_err();
    assert!(format!("{e:#}").contains("do not divide"), "{e:#}");
}

/// Ten images of cluster 0 (0–9° on the unit circle), ten of cluster 1 (80–89°) and four the
/// run put in cluster 0 at 45–48°, which the person moves to 1. The graph is weak: the three
/// neighbours of every image of cluster 0 are among the four moved ones, though nothing in the
/// features joins them.
fn weak_graph_with_four_outliers() -> (Vec<f32>, Knn, Vec<i64>) {
    let angle = |i: usize| -> f32 {
        match i {
            0..10 => i as f32,
            10..20 => 70.0 + i as f32,
            _ => 25.0 + i as f32,
        }
    };
    let features = on_circle(24, angle);
    let mut nb = vec![];
    for i in 0..24i64 {
        nb.extend(match i {
            0..10 => [20 + i % 4, 20 + (i + 1) % 4, 20 + (i + 2) % 4],
            10..20 => [10 + (i - 9) % 10, 10 + (i - 8) % 10, 10 + (i - 7) % 10],
            _ => [20 + (i + 1) % 4, 20 + (i + 2) % 4, 20 + (i + 3) % 4],
        });
    }
    let clusters = (0..24).map(|i| i64::from((10..20).contains(&i))).collect();
    let g = Knn {
        n: 24,
        k: 3,
        neighbors: nb,
    };
    (features, g, clusters)
}

/// Over a weak graph (the run answered by K-means on its features) the corrections do not
/// spread: what floods along the graph's edges elsewhere — here the whole of cluster 0, whose
/// neighbours are the four moved images — stays put, and an image moves only where the features
/// fitted with the corrections give its new cluster a majority. With no correction nothing
/// moves, whatever the graph.
#[test]
fn on_a_weak_graph_corrections_follow_the_features_not_the_graph() {
    let (features, g, clusters) = weak_graph_with_four_outliers();
    let names = items(clusters.len());
    let mut c = Corrections::default();
    c.move_to(&[20, 21, 22, 23], 1, &names);
    let strong = preview(&g, &clusters, 2, &c, in_plane(&features, false));
    let flooded = (0..10).filter(|&i| strong.clusters[i] == 1).count();
    assert!(
        flooded >= 5,
        "over the graph the moved images pull cluster 0 along ({flooded} of 10)"
    );
    let weak = preview(&g, &clusters, 2, &c, in_plane(&features, true));
    assert_eq!(
        weak.clusters[20..],
        [1; 4],
        "the corrections themselves hold"
    );
    assert!(
        weak.moved.is_empty(),
        "nothing in the features joins cluster 0 to them: {:?}",
        weak.moved
    );
    nothing_moves_without_corrections(&g, &clusters, in_plane(&features, true));

    // The arc's third group, beside the moved ring in the features but held in cluster 0 by all
    // its graph neighbours: over a trusted graph it stays (the test above); over a weak one the
    // features decide, and it follows.
    let (features, g, clusters, [w1, w2, v]) = arc_with_two_wrong_groups();
    let mut c = Corrections::default();
    c.move_to(&[40, 41], 1, &items(clusters.len()));
    let weak = preview(&g, &clusters, 2, &c, in_plane(&features, true));
    for r in [w1, w2, v] {
        assert!(
            r.clone().all(|i| weak.clusters[i] == 1),
            "{r:?}: {:?}",
            &weak.clusters[r.clone()]
        );
    }
    assert!(
        weak.clusters[..40] == clusters[..40],
        "the clusters' cores stay"
    );
}

/// The spreading alone smooths: an image of cluster 0 whose graph neighbours are all in
/// cluster 1 moves there with no correction at all. The preview lists what the corrections
/// change, so a correction elsewhere does not take the credit for that image (it stays where
/// the run put it), while the corrected image's own ring follows it as before.
#[test]
fn the_preview_moves_only_what_the_corrections_change() {
    // Two rings of ten (clusters 0 and 1) and image 20, in cluster 0, pointing into ring 1.
    let mut nb = vec![];
    for i in 0..21i64 {
        nb.extend(match i {
            0..10 => [(i + 1) % 10, (i + 9) % 10],
            10..20 => [10 + (i - 9) % 10, 10 + (i - 1) % 10],
            _ => [10, 11],
        });
    }
    let g = Knn {
        n: 21,
        k: 2,
        neighbors: nb,
    };
    let clusters: Vec<i64> = (0..21).map(|i| i64::from((10..20).contains(&i))).collect();
    let alone = icicle_explorer::correct::spread::spread(&g, &clusters, 2, &Corrections::default());
    assert_eq!(alone[20], 1, "the spreading alone moves it");
    let mut c = Corrections::default();
    c.move_to(&[0, 1, 2, 3, 4, 5, 6], 1, &items(21));
    let p = preview(&g, &clusters, 2, &c, None);
    assert_eq!(
        p.clusters[20], 0,
        "not the corrections' doing: {:?}",
        p.moved
    );
    assert!(
        p.moved.iter().all(|&i| (7..10).contains(&i)) && !p.moved.is_empty(),
        "the rest of the corrected ring follows: {:?}",
        p.moved
    );
}

/// On a weak graph a move needs a majority: three clusters on the unit circle (0–9°, 120–129°,
/// 240–249°) and two images at 30–31° the run put in cluster 0, which the person moves to 1.
/// Fitted with them, the classifier's boundary between 0 and 1 moves into cluster 0: images 4
/// to 9 change side, but image 4's new cluster gets only 0.49 of its probability (the other
/// two share the rest), so it stays; 6 to 9 (0.52–0.57) follow.
#[test]
fn on_a_weak_graph_a_move_needs_the_majority_of_the_probability() {
    let n = 32;
    let angle = |i: usize| -> f32 {
        match i {
            0..10 => i as f32,
            10..20 => 110.0 + i as f32,
            20..30 => 220.0 + i as f32,
            _ => i as f32,
        }
    };
    let features = on_circle(n, angle);
    // A ring through every image: no support to speak of, and nothing spreads on a weak graph.
    let g = Knn {
        n,
        k: 1,
        neighbors: (0..n as i64).map(|i| (i + 1) % n as i64).collect(),
    };
    let clusters: Vec<i64> = (0..n)
        .map(|i| match i {
            10..20 => 1,
            20..30 => 2,
            _ => 0,
        })
        .collect();
    let mut c = Corrections::default();
    c.move_to(&[30, 31], 1, &items(n));
    let p = preview(&g, &clusters, 3, &c, in_plane(&features, true));
    assert_eq!(p.clusters[4], 0, "no majority for cluster 1: stays");
    assert!(
        (6..10).all(|i| p.clusters[i] == 1),
        "a majority: they follow ({:?})",
        p.moved
    );
    assert!(p.clusters[..4].iter().all(|&c| c == 0));
    assert!(p.clusters[10..30] == clusters[10..30]);
}
