//! "More like these": once a person has moved images from one cluster to another, the images
//! still in the clusters they came from, ranked by how much more they look like the moved ones
//! and their new cluster than like the cluster they are in. A review list, not a move: it
//! answers "I fixed 5 of 100, how do I find the other 95?" with the person deciding each one.
//!
//! Spreading a correction moves images on its own and so must be timid where neighbourhoods
//! are impure; a ranked list the person checks need not be. Chosen by measurement
//! (docs/BENCHMARKS.md, "More like these"): of the nine rankings compared, the blend of the moved images'
//! mean and the new cluster's centre, against the image's own cluster's centre, put the most
//! right images in the top ten on both emoji and Fashion-MNIST-test.
use anyhow::{Result, bail};

/// A "Move to cluster …": the images, where they were, where they went. "More like these"
/// looks in `from` for more like `images`.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub images: Vec<usize>,
    /// The clusters the images were in before the move (as the person saw them).
    pub from: Vec<usize>,
    pub to: usize,
}

impl Move {
    /// Moving `images` to cluster `to` from `seen`, the clusters the person sees them in (one
    /// per image, -1 for none); `None` when they are all in `to` already.
    pub fn of(images: &[usize], to: usize, seen: &[i64]) -> Option<Move> {
        let mut from: Vec<usize> = seen
            .iter()
            .copied()
            .filter(|&c| c >= 0 && c != to as i64)
            .map(|c| c as usize)
            .collect();
        from.sort_unstable();
        from.dedup();
        (!from.is_empty()).then(|| Move {
            images: images.to_vec(),
            from,
            to,
        })
    }

    /// "from cluster 3" or "from clusters 3, 5".
    pub fn from_text(&self) -> String {
        let c: Vec<String> = self.from.iter().map(|c| c.to_string()).collect();
        let s = if c.len() > 1 { "s" } else { "" };
        format!("from cluster{s} {}", c.join(", "))
    }
}

/// Each candidate with its score, most alike first (ties by index, so the order is
/// reproducible). Candidates are the images whose cluster in `assignment` (the clusters as the
/// person sees them, corrections applied; -1 for none) is in the move's `from`, less its
/// images and those `skip` names (images already corrected). Scores above 0 are nearer the blend than
/// their own cluster's centre. Rows of `features` (N×`dim`) are compared at unit length.
pub fn more_like(
    features: &[f32],
    dim: usize,
    assignment: &[i64],
    m: &Move,
    skip: &dyn Fn(usize) -> bool,
) -> Result<Vec<(usize, f32)>> {
    let (examples, from, to) = (&m.images, &m.from, m.to);
    if dim == 0 || !features.len().is_multiple_of(dim) {
        bail!("features of width {dim} do not divide into rows");
    }
    let n = features.len() / dim;
    if n != assignment.len() {
        bail!("{n} feature rows for {} images", assignment.len());
    }
    if examples.is_empty() {
        bail!("no images to look for more like");
    }
    if let Some(&bad) = examples.iter().find(|&&i| i >= n) {
        bail!("image {bad} has no features (the run has {n})");
    }
    if from.iter().all(|&c| c == to) {
        bail!("the images are all in cluster {to} already: pick some from other clusters");
    }
    let unit = |i: usize| {
        let row = &features[i * dim..(i + 1) * dim];
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        row.iter().map(move |v| v / norm)
    };
    let k = assignment
        .iter()
        .copied()
        .max()
        .unwrap_or(-1)
        .max(to as i64)
        + 1;
    let mut centres = vec![vec![0f32; dim]; k as usize];
    let mut sizes = vec![0usize; k as usize];
    for (i, &c) in assignment.iter().enumerate() {
        if c >= 0 {
            sizes[c as usize] += 1;
            for (s, v) in centres[c as usize].iter_mut().zip(unit(i)) {
                *s += v;
            }
        }
    }
    for (c, s) in centres.iter_mut().zip(&sizes) {
        c.iter_mut().for_each(|v| *v /= (*s).max(1) as f32);
    }
    // Half the moved images' mean, half their new cluster's centre: the examples say what the
    // person means, the cluster steadies it when they are few.
    let mut target = vec![0f32; dim];
    for &e in examples {
        for (t, v) in target.iter_mut().zip(unit(e)) {
            *t += v / examples.len() as f32;
        }
    }
    for (t, c) in target.iter_mut().zip(&centres[to]) {
        *t = 0.5 * (*t + c);
    }
    let given: std::collections::HashSet<usize> = examples.iter().copied().collect();
    let dot = |i: usize, w: &[f32]| unit(i).zip(w).map(|(a, b)| a * b).sum::<f32>();
    let mut ranked: Vec<(usize, f32)> = (0..n)
        .filter(|&i| {
            assignment[i] >= 0
                && from.contains(&(assignment[i] as usize))
                && assignment[i] != to as i64
                && !given.contains(&i)
                && !skip(i)
        })
        .map(|i| {
            (
                i,
                dot(i, &target) - dot(i, &centres[assignment[i] as usize]),
            )
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(ranked)
}
