//! "Split in two": a cluster's members divided by 2-means on their features (the stage-2
//! input the run clustered), the larger half kept, the smaller half sent to another cluster.
use anyhow::{Result, bail};
use tch::Tensor;

/// The two halves of `members` (indices into the N×`dim` row-major `features`): (kept, moved),
/// kept the larger. 2-means with 10 restarts seeded by `seed`, so a split is reproducible.
pub fn split_in_two(
    features: &[f32],
    dim: usize,
    members: &[usize],
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if members.len() < 2 {
        bail!(
            "a cluster of {} image(s) cannot be split in two",
            members.len()
        );
    }
    if dim == 0 || !features.len().is_multiple_of(dim) {
        bail!("features of width {dim} do not divide into rows");
    }
    let n = features.len() / dim;
    if let Some(&bad) = members.iter().find(|&&i| i >= n) {
        bail!("image {bad} has no features (the run has {n})");
    }
    let rows: Vec<f32> = members
        .iter()
        .flat_map(|&i| features[i * dim..(i + 1) * dim].iter().copied())
        .collect();
    let x = Tensor::from_slice(&rows).view([members.len() as i64, dim as i64]);
    let km = crate::cluster::kmeans(
        &x,
        &crate::cluster::KMeansConfig::new(2, seed),
        &crate::progress::Progress::none(),
    )?;
    let (mut a, mut b) = (vec![], vec![]);
    for (&i, &l) in members.iter().zip(&km.labels) {
        if l == 0 { a.push(i) } else { b.push(i) }
    }
    if a.is_empty() || b.is_empty() {
        bail!("the cluster's images all have the same features: nothing to split");
    }
    Ok(if a.len() >= b.len() { (a, b) } else { (b, a) })
}
