//! M-GCN: two GCN streams over the k_a and k_b graphs with layer-wise fusion (spec §2.4):
//! the input of layer l is σ·own stream + γ·other stream + w_ae·AE hidden layer (l−1).
use super::init;
use super::jcslim::AeOut;
use tch::{Tensor, nn};

/// Fusion coefficients: own stream σ, cross stream γ, AE weight.
#[derive(Debug, Clone, Copy)]
pub struct Fusion {
    pub own: f64,
    pub cross: f64,
    pub ae: f64,
}

pub struct Mgcn {
    w_a: Vec<Tensor>,
    /// `None` when both streams share W1..W5 (the reference code).
    w_b: Option<Vec<Tensor>>,
}

fn layers(p: &nn::Path, input: usize, hidden: [usize; 3], k: usize) -> Vec<Tensor> {
    let dims = [input, hidden[0], hidden[1], hidden[2], k, k];
    (0..5)
        .map(|l| init::xavier(p, &format!("w{}", l + 1), dims[l], dims[l + 1]))
        .collect()
}

impl Mgcn {
    pub fn new(p: &nn::Path, input: usize, hidden: [usize; 3], k: usize, shared: bool) -> Self {
        let w_a = layers(&(p / "a"), input, hidden, k);
        let w_b = (!shared).then(|| layers(&(p / "b"), input, hidden, k));
        Self { w_a, w_b }
    }

    /// W1..W5 of stream a and, when not shared, of stream b.
    pub fn weights(&self) -> (&[Tensor], Option<&[Tensor]>) {
        (&self.w_a, self.w_b.as_deref())
    }

    /// Returns the two streams' logits (N×K); softmax gives pred_a, pred_b.
    pub fn forward(
        &self,
        x: &Tensor,
        adj_a: &Tensor,
        adj_b: &Tensor,
        ae: &AeOut,
        f: Fusion,
    ) -> (Tensor, Tensor) {
        let w_b = self.w_b.as_ref().unwrap_or(&self.w_a);
        // Â·(X·W): multiply by W first, the narrower side.
        let gcn = |adj: &Tensor, h: &Tensor, w: &Tensor| adj.mm(&h.mm(w));
        let mut ga = gcn(adj_a, x, &self.w_a[0]).relu();
        let mut gb = gcn(adj_b, x, &w_b[0]).relu();
        let ae_inputs = [&ae.hidden[0], &ae.hidden[1], &ae.hidden[2], &ae.z];
        for l in 1..5 {
            let h = ae_inputs[l - 1];
            let in_a = &ga * f.own + &gb * f.cross + h * f.ae;
            let in_b = &gb * f.own + &ga * f.cross + h * f.ae;
            ga = gcn(adj_a, &in_a, &self.w_a[l]);
            gb = gcn(adj_b, &in_b, &w_b[l]);
            // W2–W4 end in ReLU (W4 → K included), W5 (K → K) has none (spec D22).
            if l < 4 {
                ga = ga.relu();
                gb = gb.relu();
            }
        }
        (ga, gb)
    }
}
