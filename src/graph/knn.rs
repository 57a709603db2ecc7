//! Exact Euclidean k-nearest neighbours, computed in row blocks on the tensor's device so that
//! no N×N matrix ever exists (a dense 60k×60k float matrix alone would be 14 GB).
use crate::progress::Progress;
use anyhow::{Result, bail};
use tch::{Device, Kind, Tensor};

/// Directed k-NN lists: `neighbors[i*k .. (i+1)*k]` are item i's k nearest, nearest first.
/// Self is excluded by index, so exact duplicates of an item still count as its neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knn {
    pub n: usize,
    pub k: usize,
    pub neighbors: Vec<i64>,
}

impl Knn {
    pub fn of(&self, i: usize) -> &[i64] {
        &self.neighbors[i * self.k..(i + 1) * self.k]
    }
}

/// Tile side: a tile of distances is at most 4096² floats (64 MB), whatever N is.
const TILE: usize = 4096;

/// Tile side used for `n` items.
pub fn block_rows(n: usize) -> usize {
    TILE.min(n.max(1))
}

/// k nearest neighbours of every row of `x` (N×d) among all other rows.
pub fn knn(x: &Tensor, k: usize, progress: &Progress) -> Result<Knn> {
    knn_blocked(
        x,
        k,
        block_rows(x.size().first().copied().unwrap_or(0) as usize),
        progress,
    )
}

/// Keeps, per row, the k smallest scores seen so far (`best_*` rows `r0..r0+m`).
fn merge(best_d: &mut Tensor, best_i: &mut Tensor, r0: i64, scores: &Tensor, col0: i64, k: i64) {
    let m = scores.size()[0];
    let kk = k.min(scores.size()[1]);
    let (v, i) = scores.topk(kk, 1, false, false);
    let cand_d = Tensor::cat(&[best_d.narrow(0, r0, m), v], 1);
    let cand_i = Tensor::cat(&[best_i.narrow(0, r0, m), i + col0], 1);
    let (nv, pos) = cand_d.topk(k, 1, false, true);
    best_d.narrow(0, r0, m).copy_(&nv);
    best_i
        .narrow(0, r0, m)
        .copy_(&cand_i.gather(1, &pos, false));
}

/// `knn` with an explicit tile side. The distance matrix is symmetric, so only tiles on and
/// above the diagonal are computed (half the multiply-adds); each serves the rows of both sides.
pub fn knn_blocked(x: &Tensor, k: usize, tile: usize, progress: &Progress) -> Result<Knn> {
    let size = x.size();
    if size.len() != 2 {
        bail!("k-NN needs an N×d feature matrix, got shape {size:?}");
    }
    let n = size[0] as usize;
    if k == 0 {
        bail!("k must be at least 1");
    }
    if k >= n {
        bail!("k = {k} must be smaller than the number of items ({n})");
    }
    let _guard = tch::no_grad_guard();
    let device = x.device();
    let x = x.to_kind(Kind::Float).contiguous();
    let sq = (&x * &x).sum_dim_intlist(1, false, Kind::Float);
    let (n64, k64) = (n as i64, k as i64);
    // Per-row ranking only needs ‖x_j‖² − 2x_i·x_j: ‖x_i‖² is the same for the whole row.
    let mut best_d = Tensor::full([n64, k64], f64::INFINITY, (Kind::Float, device));
    let mut best_i = Tensor::full([n64, k64], -1, (Kind::Int64, device));
    let tile = tile.max(1);
    let starts: Vec<usize> = (0..n).step_by(tile).collect();
    let pairs = starts.len() * (starts.len() + 1) / 2;
    let mut done = 0;
    for (ti, &a) in starts.iter().enumerate() {
        let la = tile.min(n - a) as i64;
        let xa = x.narrow(0, a as i64, la);
        let sqa = sq.narrow(0, a as i64, la);
        for &b in &starts[ti..] {
            let lb = tile.min(n - b) as i64;
            let xb = x.narrow(0, b as i64, lb);
            let mut g = xa.mm(&xb.tr());
            let _ = g.g_mul_scalar_(-2.0);
            if a != b {
                let for_b = (&g + sqa.unsqueeze(1)).tr();
                merge(&mut best_d, &mut best_i, b as i64, &for_b, a as i64, k64);
            }
            let _ = g.g_add_(&sq.narrow(0, b as i64, lb).unsqueeze(0));
            if a == b {
                // Self is excluded by index, so exact duplicates remain each other's neighbours.
                let _ = g.diagonal(0, 0, 1).fill_(f64::INFINITY);
            }
            merge(&mut best_d, &mut best_i, a as i64, &g, b as i64, k64);
            done += 1;
            progress.report("k-NN graph", done, pairs);
        }
    }
    let neighbors: Vec<i64> = Vec::try_from(&best_i.to_device(Device::Cpu).view([-1]))?;
    Ok(Knn { n, k, neighbors })
}
