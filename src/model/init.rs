//! Initialisations that match the reference PyTorch code (spec D21): tch's defaults differ.
use tch::nn::{self, Init};
use tch::{Kind, Tensor};

/// PyTorch's nn.Linear default: weight and bias ~ U(±1/√fan_in).
pub fn linear(p: nn::Path, fan_in: usize, fan_out: usize) -> nn::Linear {
    let b = 1.0 / (fan_in as f64).sqrt();
    let cfg = nn::LinearConfig {
        ws_init: Init::Uniform { lo: -b, up: b },
        bs_init: Some(Init::Uniform { lo: -b, up: b }),
        bias: true,
    };
    nn::linear(p, fan_in as i64, fan_out as i64, cfg)
}

/// Xavier-uniform in×out matrix without bias, as the GCN layers (bound √(6/(in+out))).
pub fn xavier(p: &nn::Path, name: &str, fan_in: usize, fan_out: usize) -> Tensor {
    let b = (6.0 / (fan_in + fan_out) as f64).sqrt();
    p.var(
        name,
        &[fan_in as i64, fan_out as i64],
        Init::Uniform { lo: -b, up: b },
    )
}

/// Kaiming-normal, fan_out, ReLU gain, for every 4-d (conv) weight under `vs`.
pub fn kaiming_convs(vs: &nn::VarStore) {
    let _guard = tch::no_grad_guard();
    // Sorted: the variable map's order is random, and the draws must be reproducible.
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, mut t) in vars {
        let s = t.size();
        if s.len() == 4 && name.ends_with("weight") {
            let fan_out = (s[0] * s[2] * s[3]) as f64;
            let std = (2.0 / fan_out).sqrt();
            t.copy_(&(Tensor::randn(&s, (Kind::Float, t.device())) * std));
        }
    }
}
