//! ISM, the instance-level similarity module: a projector g(·) from h to a low-dimensional,
//! L2-normalised space where L_CIS pulls two views of one image together.
use super::init;
use tch::{Tensor, nn, nn::Module};

pub struct Projector {
    l1: nn::Linear,
    l2: nn::Linear,
}

impl Projector {
    pub fn new(p: &nn::Path, rep_dim: usize, feature_dim: usize) -> Self {
        Self {
            l1: init::linear(p / "l1", rep_dim, rep_dim),
            l2: init::linear(p / "l2", rep_dim, feature_dim),
        }
    }

    /// z = g(h) / max(‖g(h)‖₂, 1e-12).
    pub fn forward(&self, h: &Tensor) -> Tensor {
        let z = self.l2.forward(&self.l1.forward(h).relu());
        let n = z.norm_scalaropt_dim(2.0, [1], true).clamp_min(1e-12);
        z / n
    }
}
