//! Adam (β = 0.9/0.999, ε = 1e-8, no weight decay) written out on tensors, so that its moments
//! can be saved in checkpoints and a resumed run continues exactly where it stopped.
use anyhow::{Context, Result};
use std::collections::HashMap;
use tch::{Kind, Tensor, nn};

pub struct Adam {
    params: Vec<(String, Tensor)>,
    /// Per-parameter learning-rate factor relative to `lr`.
    scale: Vec<f64>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    pub step: i64,
    pub lr: f64,
}

const B1: f64 = 0.9;
const B2: f64 = 0.999;
const EPS: f64 = 1e-8;

impl Adam {
    /// Optimises every trainable variable of `vs` (sorted by name, for a stable order).
    pub fn new(vs: &nn::VarStore, lr: f64) -> Self {
        let mut params: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let m = params.iter().map(|(_, p)| p.zeros_like()).collect();
        let v = params.iter().map(|(_, p)| p.zeros_like()).collect();
        let scale = vec![1.0; params.len()];
        Self {
            params,
            scale,
            m,
            v,
            step: 0,
            lr,
        }
    }

    /// Gives the variables whose name starts with `prefix` their own learning rate.
    pub fn set_lr_for(&mut self, prefix: &str, lr: f64) {
        for ((name, _), s) in self.params.iter().zip(self.scale.iter_mut()) {
            if name.starts_with(prefix) {
                *s = lr / self.lr;
            }
        }
    }

    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.detach_().zero_();
            }
        }
    }

    /// One update, in PyTorch's single-tensor form with in-place fused operations (lerp,
    /// addcdiv): seven passes over each parameter instead of fourteen, which matters because
    /// an update is memory-bound (measured: 3.6 → see docs/BENCHMARKS.md, digits step).
    pub fn step(&mut self) {
        let _guard = tch::no_grad_guard();
        self.step += 1;
        let bc1 = 1.0 - B1.powi(self.step as i32);
        let bc2_sqrt = (1.0 - B2.powi(self.step as i32)).sqrt();
        let moments = self.m.iter_mut().zip(self.v.iter_mut());
        for (((_, p), (m, v)), scale) in self.params.iter_mut().zip(moments).zip(&self.scale) {
            let g = p.grad();
            if !g.defined() {
                continue;
            }
            let _ = m.lerp_(&g, 1.0 - B1);
            let _ = v.lerp_(&g.square(), 1.0 - B2);
            // p −= lr/bc1 · m / (√v/√bc2 + ε), written as p += m / (−(√v + ε√bc2) · bc1 / (lr √bc2)).
            let step_size = self.lr * scale * bc2_sqrt / bc1;
            if step_size == 0.0 {
                continue; // a frozen group (learning rate 0) keeps its moments' update only
            }
            let mut denom = v.sqrt();
            let _ = denom.g_add_scalar_(EPS * bc2_sqrt);
            let _ = denom.g_mul_scalar_(-1.0 / step_size);
            let _ = p.addcdiv_(m, &denom);
        }
    }

    /// Moments and step count, named under `prefix`, for a checkpoint.
    pub fn state(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut out = vec![(format!("{prefix}step"), Tensor::from_slice(&[self.step]))];
        for ((name, _), (m, v)) in self.params.iter().zip(self.m.iter().zip(&self.v)) {
            out.push((format!("{prefix}m.{name}"), m.shallow_clone()));
            out.push((format!("{prefix}v.{name}"), v.shallow_clone()));
        }
        out
    }

    pub fn load_state(&mut self, saved: &HashMap<String, Tensor>, prefix: &str) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let step = saved
            .get(&format!("{prefix}step"))
            .context("checkpoint has no optimizer step")?;
        self.step = step.to_kind(Kind::Int64).int64_value(&[0]);
        for ((name, _), (m, v)) in self
            .params
            .iter()
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            let sm = saved
                .get(&format!("{prefix}m.{name}"))
                .with_context(|| format!("checkpoint lacks optimizer state of {name}"))?;
            let sv = saved
                .get(&format!("{prefix}v.{name}"))
                .with_context(|| format!("checkpoint lacks optimizer state of {name}"))?;
            m.copy_(sm);
            v.copy_(sv);
        }
        Ok(())
    }
}
