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

    pub fn step(&mut self) {
        let _guard = tch::no_grad_guard();
        self.step += 1;
        let bc1 = 1.0 - B1.powi(self.step as i32);
        let bc2 = 1.0 - B2.powi(self.step as i32);
        let moments = self.m.iter_mut().zip(self.v.iter_mut());
        for (((_, p), (m, v)), scale) in self.params.iter_mut().zip(moments).zip(&self.scale) {
            let g = p.grad();
            if !g.defined() {
                continue;
            }
            let _ = m.g_mul_scalar_(B1).g_add_(&(&g * (1.0 - B1)));
            let _ = v.g_mul_scalar_(B2).g_add_(&(g.square() * (1.0 - B2)));
            let denom = (&*v / bc2).sqrt() + EPS;
            let _ = p.g_sub_(&((&*m / bc1) / denom * (self.lr * scale)));
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
