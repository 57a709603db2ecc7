//! JC-SLIM's auto-encoder: in → 500 → 500 → 2000 → K (softmax bottleneck = the cluster
//! assignment) → 2000 → 500 → 500 → in (spec §2.3). Stage 1 trains it with L_CCS and L_re;
//! stage 2 reuses it, and its hidden layers feed the GCN fusion.
use super::init;
use tch::{Kind, Tensor, nn, nn::Module};

pub struct AutoEncoder {
    enc: Vec<nn::Linear>,
    dec: Vec<nn::Linear>,
}

/// Every activation stage 2 needs from one forward pass.
pub struct AeOut {
    /// Encoder hidden layers (after ReLU): H1, H2, H3.
    pub hidden: [Tensor; 3],
    /// Bottleneck logits; `z = softmax(logits)`.
    pub logits: Tensor,
    pub z: Tensor,
    pub x_hat: Tensor,
}

impl AutoEncoder {
    pub fn new(p: &nn::Path, input: usize, hidden: [usize; 3], k: usize) -> Self {
        let [a, b, c] = hidden;
        let dims_enc = [input, a, b, c, k];
        let dims_dec = [k, c, b, a, input];
        let enc = (0..4)
            .map(|i| init::linear(p / format!("enc{}", i + 1), dims_enc[i], dims_enc[i + 1]))
            .collect();
        let dec = (0..4)
            .map(|i| init::linear(p / format!("dec{}", i + 1), dims_dec[i], dims_dec[i + 1]))
            .collect();
        Self { enc, dec }
    }

    pub fn forward(&self, x: &Tensor) -> AeOut {
        let h1 = self.enc[0].forward(x).relu();
        let h2 = self.enc[1].forward(&h1).relu();
        let h3 = self.enc[2].forward(&h2).relu();
        let logits = self.enc[3].forward(&h3);
        let z = logits.softmax(1, Kind::Float);
        let x_hat = self.decode(&z);
        AeOut {
            hidden: [h1, h2, h3],
            logits,
            z,
            x_hat,
        }
    }

    /// The cluster assignment alone (no decoder).
    pub fn encode(&self, x: &Tensor) -> Tensor {
        let h = self.enc[..3]
            .iter()
            .fold(x.shallow_clone(), |h, l| l.forward(&h).relu());
        self.enc[3].forward(&h).softmax(1, Kind::Float)
    }

    pub fn decode(&self, z: &Tensor) -> Tensor {
        let d1 = self.dec[0].forward(z).relu();
        let d2 = self.dec[1].forward(&d1).relu();
        let d3 = self.dec[2].forward(&d2).relu();
        self.dec[3].forward(&d3)
    }
}
