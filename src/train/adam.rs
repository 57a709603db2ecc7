//! Adam (β = 0.9/0.999, ε = 1e-8, no weight decay) written out on tensors, so that its moments
//! can be saved in checkpoints and a resumed run continues exactly where it stopped.
//!
//! After the first step every parameter, its gradient and both moments are views into four flat
//! buffers. An update is bound by memory traffic, so on a CPU it is one loop over the four
//! buffers (each read once); elsewhere, seven tensor operations over all the weights instead of
//! seven per weight tensor (docs/BENCHMARKS.md, "The optimizer in one pass").
use anyhow::{Context, Result};
use std::collections::HashMap;
use tch::{Kind, Tensor, nn};

pub struct Adam {
    params: Vec<(String, Tensor)>,
    /// Per-parameter learning-rate factor relative to `lr`.
    scale: Vec<f64>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// The four flat buffers, once every parameter has a gradient of its own kind and device.
    flat: Option<Flat>,
    pub step: i64,
    pub lr: f64,
}

/// Parameters, gradients and moments laid end to end (parameter `i` at `offsets[i]`), with
/// the runs of neighbouring parameters that share a learning rate.
struct Flat {
    p: Tensor,
    g: Tensor,
    m: Tensor,
    v: Tensor,
    offsets: Vec<i64>,
    /// (first element, length, learning-rate factor).
    runs: Vec<(i64, i64, f64)>,
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
            flat: None,
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
        if let Some(flat) = &mut self.flat {
            flat.runs = runs(&flat.offsets, &self.params, &self.scale);
        }
    }

    pub fn zero_grad(&mut self) {
        if let Some(flat) = &mut self.flat {
            let _ = flat.g.zero_();
            return;
        }
        for (_, p) in &mut self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.detach_().zero_();
            }
        }
    }

    /// One update, in PyTorch's single-tensor form with in-place fused operations (lerp,
    /// addcdiv): seven passes over the weights instead of fourteen, which matters because an
    /// update is memory-bound.
    pub fn step(&mut self) {
        let _guard = tch::no_grad_guard();
        self.step += 1;
        let bc1 = 1.0 - B1.powi(self.step as i32);
        let bc2_sqrt = (1.0 - B2.powi(self.step as i32)).sqrt();
        if self.flat.is_none() {
            self.flat = self.flatten();
        }
        if let Some(flat) = &mut self.flat {
            flat.keep_aliased(&mut self.params);
            if flat.p.device() == tch::Device::Cpu && flat.p.kind() == Kind::Float {
                flat.fused_cpu_update(self.lr, bc1, bc2_sqrt);
                return;
            }
            let _ = flat.m.lerp_(&flat.g, 1.0 - B1);
            let _ = flat.v.lerp_(&flat.g.square(), 1.0 - B2);
            for &(start, len, scale) in &flat.runs {
                let step_size = self.lr * scale * bc2_sqrt / bc1;
                if step_size == 0.0 {
                    continue;
                }
                update(
                    &mut flat.p.narrow(0, start, len),
                    &flat.m.narrow(0, start, len),
                    &flat.v.narrow(0, start, len),
                    step_size,
                    bc2_sqrt,
                );
            }
            return;
        }
        let moments = self.m.iter_mut().zip(self.v.iter_mut());
        for (((_, p), (m, v)), scale) in self.params.iter_mut().zip(moments).zip(&self.scale) {
            let g = p.grad();
            if !g.defined() {
                continue;
            }
            let _ = m.lerp_(&g, 1.0 - B1);
            let _ = v.lerp_(&g.square(), 1.0 - B2);
            let step_size = self.lr * scale * bc2_sqrt / bc1;
            if step_size == 0.0 {
                continue; // a frozen group (learning rate 0) keeps its moments' update only
            }
            update(p, m, v, step_size, bc2_sqrt);
        }
    }

    /// Lays parameters, gradients and moments end to end and makes each a view of its flat
    /// buffer; `None` (the per-tensor update) while a parameter has no gradient yet, or when
    /// they differ in kind or device.
    fn flatten(&mut self) -> Option<Flat> {
        let first = &self.params.first()?.1;
        let (kind, device) = (first.kind(), first.device());
        let mut offsets = Vec::with_capacity(self.params.len());
        let mut total = 0i64;
        for (_, p) in &self.params {
            if p.kind() != kind || p.device() != device || !p.grad().defined() {
                return None;
            }
            offsets.push(total);
            total += p.numel() as i64;
        }
        let cat = |ts: Vec<Tensor>| Tensor::cat(&ts, 0);
        let flat = Flat {
            p: cat(self
                .params
                .iter()
                .map(|(_, p)| p.detach().reshape(-1))
                .collect()),
            g: cat(self
                .params
                .iter()
                .map(|(_, p)| p.grad().reshape(-1))
                .collect()),
            m: cat(self.m.iter().map(|t| t.reshape(-1)).collect()),
            v: cat(self.v.iter().map(|t| t.reshape(-1)).collect()),
            runs: runs(&offsets, &self.params, &self.scale),
            offsets,
        };
        for (i, (_, p)) in self.params.iter_mut().enumerate() {
            let size = p.size();
            p.set_data(&flat.view_of(&flat.p, i, &size));
            let mut g = p.grad();
            g.set_data(&flat.view_of(&flat.g, i, &size));
            self.m[i] = flat.view_of(&flat.m, i, &size);
            self.v[i] = flat.view_of(&flat.v, i, &size);
        }
        Some(flat)
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

impl Flat {
    /// The whole update in one pass over the four buffers (read p, g, m, v; write p, m, v):
    /// on a CPU an update is bound by memory traffic, and the seven tensor operations above
    /// stream the weights eighteen times. Same formula, element by element, as `update`.
    fn fused_cpu_update(&mut self, lr: f64, bc1: f64, bc2_sqrt: f64) {
        let n = self.p.numel();
        for t in [&self.g, &self.m, &self.v] {
            assert!(t.numel() == n && t.is_contiguous() && t.kind() == Kind::Float);
        }
        assert!(self.p.is_contiguous());
        // SAFETY: four distinct contiguous f32 CPU buffers of `n` elements owned by `self`;
        // parameters and gradients are views of them, but nothing else runs on them during an
        // update (autograd is idle and the training thread is here).
        let (p, g, m, v) = unsafe {
            (
                std::slice::from_raw_parts_mut(self.p.data_ptr() as *mut f32, n),
                std::slice::from_raw_parts(self.g.data_ptr() as *const f32, n),
                std::slice::from_raw_parts_mut(self.m.data_ptr() as *mut f32, n),
                std::slice::from_raw_parts_mut(self.v.data_ptr() as *mut f32, n),
            )
        };
        let (w1, w2) = ((1.0 - B1) as f32, (1.0 - B2) as f32);
        for &(start, len, scale) in &self.runs {
            let range = start as usize..(start + len) as usize;
            let step_size = lr * scale * bc2_sqrt / bc1;
            let (m, v, g) = (
                &mut m[range.clone()],
                &mut v[range.clone()],
                &g[range.clone()],
            );
            if step_size == 0.0 {
                for ((m, v), &g) in m.iter_mut().zip(v.iter_mut()).zip(g) {
                    *m += w1 * (g - *m);
                    *v += w2 * (g * g - *v);
                }
                continue;
            }
            let (eps, neg_inv) = ((EPS * bc2_sqrt) as f32, (-1.0 / step_size) as f32);
            let p = &mut p[range];
            for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                *m += w1 * (g - *m);
                *v += w2 * (g * g - *v);
                *p += *m / ((v.sqrt() + eps) * neg_inv);
            }
        }
    }

    fn view_of(&self, buffer: &Tensor, i: usize, size: &[i64]) -> Tensor {
        let n: i64 = size.iter().product();
        buffer.narrow(0, self.offsets[i], n).view(size)
    }

    /// Autograd adds into a gradient that exists, so the views made by `flatten` stay the
    /// gradients; a gradient or parameter replaced since (by code outside the optimizer) is
    /// copied into its place and made a view again, so an update never misses one.
    fn keep_aliased(&self, params: &mut [(String, Tensor)]) {
        for (i, (_, p)) in params.iter_mut().enumerate() {
            let size = p.size();
            // Addresses are compared, never dereferenced.
            let at = |buffer: &Tensor| {
                buffer.data_ptr() as usize
                    + self.offsets[i] as usize * buffer.kind().elt_size_in_bytes()
            };
            if p.data_ptr() as usize != at(&self.p) {
                let mut view = self.view_of(&self.p, i, &size);
                view.copy_(&p.detach());
                p.set_data(&view);
            }
            let mut g = p.grad();
            if !g.defined() {
                let _ = self.view_of(&self.g, i, &size).zero_();
            } else if g.data_ptr() as usize != at(&self.g) {
                let mut view = self.view_of(&self.g, i, &size);
                view.copy_(&g);
                g.set_data(&view);
            }
        }
    }
}

/// p −= lr/bc1 · m / (√v/√bc2 + ε), written as p += m / (−(√v + ε√bc2) · bc1 / (lr √bc2)).
fn update(p: &mut Tensor, m: &Tensor, v: &Tensor, step_size: f64, bc2_sqrt: f64) {
    let mut denom = v.sqrt();
    let _ = denom.g_add_scalar_(EPS * bc2_sqrt);
    let _ = denom.g_mul_scalar_(-1.0 / step_size);
    let _ = p.addcdiv_(m, &denom);
}

/// Neighbouring parameters (sorted by name, so a prefix's group is contiguous) that share a
/// learning-rate factor, as (first element, length, factor).
fn runs(offsets: &[i64], params: &[(String, Tensor)], scale: &[f64]) -> Vec<(i64, i64, f64)> {
    let mut out: Vec<(i64, i64, f64)> = Vec::new();
    for (i, (_, p)) in params.iter().enumerate() {
        let n = p.numel() as i64;
        match out.last_mut() {
            Some(last) if last.2 == scale[i] => last.1 += n,
            _ => out.push((offsets[i], n, scale[i])),
        }
    }
    out
}
