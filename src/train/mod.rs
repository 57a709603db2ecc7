//! Training: the two IcicleGCN stages, their losses, optimizer and checkpoints, and the run
//! that ties them together and reports through `messages::Event`.
pub mod ablate;
pub mod adam;
pub mod answer;
pub mod checkpoint;
pub mod frozen;
pub mod graph_space;
mod inputs;
pub mod losses;
pub mod probe;
mod results;
mod retrain;
mod run;
pub mod scan;
pub mod stage1;
pub mod stage2;
pub mod stage2_graphs;
pub mod step_clock;
mod trainer;

pub use run::{Stop, run};

use tch::{Device, Tensor};

/// Argmax cluster and its probability for each row of a probability (or log-probability,
/// `log = true`) matrix.
pub fn argmax_confidence(p: &Tensor) -> (Vec<i64>, Vec<f32>) {
    let (m, i) = p.max_dim(1, false);
    (
        Vec::try_from(&i.to_device(Device::Cpu)).expect("1-d"),
        Vec::try_from(&m.to_device(Device::Cpu).to_kind(tch::Kind::Float)).expect("1-d"),
    )
}

/// A seed for one step, so a resumed run draws the same augmentations as an uninterrupted one.
pub(crate) fn step_seed(seed: u64, stage: u64, epoch: usize, step: usize) -> i64 {
    let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
    for v in [stage, epoch as u64, step as u64] {
        h = (h ^ v).wrapping_mul(0x100_0000_01B3).rotate_left(29);
    }
    (h >> 1) as i64
}
