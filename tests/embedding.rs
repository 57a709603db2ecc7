//! t-SNE for the embedding view: separated groups stay separated, subsampling is seeded, too
//! little data is a clear error, and box and lasso selections pick exactly the points inside.
use icicle_explorer::embedding::{Embedding, inside_polygon, tsne, tsne_with_progress};
use icicle_explorer::progress::Progress;
use std::sync::{Arc, Mutex};

/// Three tight Gaussian-ish groups in 10-d, 40 points each, far apart.
fn blobs() -> (Vec<f32>, Vec<usize>) {
    let mut seed = 7u32;
    let mut noise = || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let (mut x, mut g) = (vec![], vec![]);
    for i in 0..120 {
        let group = i % 3;
        for d in 0..10 {
            let centre = if d == group { 20.0 } else { 0.0 };
            x.push(centre + noise());
        }
        g.push(group);
    }
    (x, g)
}

#[test]
fn groups_stay_apart_in_the_map() {
    let (x, g) = blobs();
    let e = tsne(&x, 10, 1000, 300, 1).unwrap();
    assert_eq!(e.items.len(), 120);
    assert!(!e.subsampled());
    // Every point's nearest neighbour in the map is from its own group.
    for p in 0..120 {
        let nearest = (0..120)
            .filter(|&q| q != p)
            .min_by(|&a, &b| {
                let d = |q: usize| {
                    (e.xy[q][0] - e.xy[p][0]).powi(2) + (e.xy[q][1] - e.xy[p][1]).powi(2)
                };
                d(a).total_cmp(&d(b))
            })
            .unwrap();
        assert_eq!(g[e.items[nearest]], g[e.items[p]], "point {p}");
    }
}

#[test]
fn subsample_is_seeded_and_sorted() {
    let (x, _) = blobs();
    let a = tsne(&x, 10, 50, 100, 3).unwrap();
    let b = tsne(&x, 10, 50, 100, 3).unwrap();
    assert_eq!(a, b, "same seed, same map");
    assert!(a.subsampled());
    assert_eq!((a.items.len(), a.total), (50, 120));
    assert!(a.items.windows(2).all(|w| w[0] < w[1]));
    let c = tsne(&x, 10, 50, 100, 4).unwrap();
    assert_ne!(a.items, c.items);
}

#[test]
fn bad_input_is_an_error() {
    assert!(
        tsne(&[0.0; 10], 3, 100, 100, 1)
            .unwrap_err()
            .to_string()
            .contains("rows of 3")
    );
    assert!(
        tsne(&[0.0; 20], 4, 100, 100, 1)
            .unwrap_err()
            .to_string()
            .contains("at least 8")
    );
}

/// Points on a 5×5 grid (x, y in 0..5), item i at (i % 5, i / 5), mapped items 100.. .
fn grid() -> Embedding {
    Embedding {
        items: (100..125).collect(),
        xy: (0..25).map(|i| [(i % 5) as f64, (i / 5) as f64]).collect(),
        total: 25,
    }
}

#[test]
fn box_selection_takes_the_points_inside_whatever_the_drag_direction() {
    let e = grid();
    let want = vec![106, 107, 111, 112];
    assert_eq!(e.items_in_box([0.5, 0.5], [2.5, 2.5]), want);
    assert_eq!(e.items_in_box([2.5, 2.5], [0.5, 0.5]), want);
    assert!(e.items_in_box([0.2, 0.2], [0.8, 0.8]).is_empty());
}

#[test]
fn lasso_selection_follows_a_concave_outline() {
    let e = grid();
    // An L-shaped lasso: the left column x≈0 and the bottom row y≈0, not the inner corner.
    let l = [
        [-0.5, -0.5],
        [4.5, -0.5],
        [4.5, 0.5],
        [0.5, 0.5],
        [0.5, 4.5],
        [-0.5, 4.5],
    ];
    let mut want: Vec<usize> = (100..105).collect();
    want.extend([105, 110, 115, 120]);
    assert_eq!(e.items_in_polygon(&l), want);
    assert!(!inside_polygon([1.0, 1.0], &l), "the notch is outside");
    // Orientation does not matter; two vertices enclose nothing.
    let mut rev = l.to_vec();
    rev.reverse();
    assert_eq!(e.items_in_polygon(&rev), want);
    assert!(e.items_in_polygon(&l[..2]).is_empty());
}

/// A cloud big enough for a deep neighbour tree: 1,500 points in 16-d around 10 centres.
fn cloud() -> Vec<f32> {
    let mut seed = 11u32;
    let mut noise = || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let mut x = vec![];
    for i in 0..1500 {
        for d in 0..16 {
            let centre = if d == i % 10 { 3.0 } else { 0.0 };
            x.push(centre + noise());
        }
    }
    x
}

#[test]
fn the_same_seed_draws_the_same_map_of_many_points() {
    // The map must not depend on anything but the features and the seed (the neighbour
    // search's random vantage points, thread scheduling): a reopened run shows the map again.
    let x = cloud();
    let a = tsne(&x, 16, 5000, 120, 9).unwrap();
    let b = tsne(&x, 16, 5000, 120, 9).unwrap();
    assert_eq!(a.items.len(), 1500);
    let moved = a.xy.iter().zip(&b.xy).filter(|(p, q)| p != q).count();
    assert_eq!(moved, 0, "{moved} of 1500 points moved between two runs");
}

#[test]
fn progress_counts_every_iteration_and_does_not_change_the_map() {
    let (x, _) = blobs();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let progress = Progress::new(move |what, done, total| {
        assert_eq!(what, "t-SNE");
        sink.lock().unwrap().push((done, total));
    });
    let with = tsne_with_progress(&x, 10, 1000, 80, 5, &progress).unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 80);
    assert_eq!(seen.first(), Some(&(1, 80)));
    assert_eq!(seen.last(), Some(&(80, 80)));
    assert!(seen.windows(2).all(|w| w[1].0 == w[0].0 + 1));
    assert_eq!(with, tsne(&x, 10, 1000, 80, 5).unwrap());
}
