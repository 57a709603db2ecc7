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

/// Distance-matrix entries per block: 32M floats = 128 MB, whatever N is.
const BLOCK_ELEMENTS: usize = 32 << 20;

/// Rows per block for `n` items.
pub fn block_rows(n: usize) -> usize {
    (BLOCK_ELEMENTS / n.max(1)).clamp(1, n.max(1))
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

/// `knn` with an explicit number of rows per block.
pub fn knn_blocked(x: &Tensor, k: usize, block: usize, progress: &Progress) -> Result<Knn> {
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
    let sq_row = sq.unsqueeze(0);
    let xt = x.tr();
    let block = block.max(1);
    let mut neighbors = Vec::with_capacity(n * k);
    for start in (0..n).step_by(block) {
        let len = block.min(n - start);
        let xb = x.narrow(0, start as i64, len as i64);
        // ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b, built in place to keep one b×N buffer.
        let mut d = xb.mm(&xt);
        let _ = d.g_mul_scalar_(-2.0);
        let _ = d.g_add_(&sq_row);
        let _ = d.g_add_(&sq.narrow(0, start as i64, len as i64).unsqueeze(1));
        let own = Tensor::arange_start(start as i64, (start + len) as i64, (Kind::Int64, device))
            .unsqueeze(1);
        let _ = d.scatter_value_(1, &own, f64::INFINITY);
        let (_, idx) = d.topk(k as i64, 1, false, true);
        let idx: Vec<i64> = Vec::try_from(&idx.to_device(Device::Cpu).view([-1]))?;
        neighbors.extend(idx);
        progress.report("k-NN graph", start + len, n);
    }
    Ok(Knn { n, k, neighbors })
}
