//! Training: the two IcicleGCN stages, their losses, optimizer and checkpoints, and the run
//! that ties them together and reports through `messages::Event`.
pub mod adam;
pub mod checkpoint;
pub mod losses;
mod results;
mod run;
pub mod stage1;
pub mod stage2;

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
