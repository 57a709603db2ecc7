//! Frozen pretrained image encoders for the frozen-feature path: our EfficientNet-Lite0 with
//! its ImageNet weights, or any TorchScript image model the user points to.
//!
//! TorchScript input contract (README "Bring your own backbone"): `forward` takes one float
//! tensor B×3×S×S, RGB in [0, 1] (S = the config's `input_size`, 224 when 0), on the run's
//! device, and returns B×D features (B×D×H×W maps are average-pooled). Any normalisation the
//! model wants is the model's own job, inside `forward`.
use super::efficientnet::{self, EfficientNetLite0};
use crate::config::{BackboneKind, Config};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use tch::{CModule, Device, IValue, Kind, Tensor};

pub enum Pretrained {
    EfficientNet { net: EfficientNetLite0, tap: usize },
    Script { module: CModule, file: PathBuf },
}

impl Pretrained {
    /// The frozen encoder `cfg` asks for; a missing or wrong file is a readable error.
    pub fn open(cfg: &Config, device: Device) -> Result<Self> {
        match cfg.backbone {
            BackboneKind::EfficientnetLite0 => Ok(Self::EfficientNet {
                net: EfficientNetLite0::load(&efficientnet::default_weights(), device)?,
                tap: cfg.backbone_tap,
            }),
            BackboneKind::Torchscript => Self::script(Path::new(cfg.backbone_file.trim()), device),
            other => bail!("backbone {} is not a frozen pretrained model", other.name()),
        }
    }

    pub fn script(file: &Path, device: Device) -> Result<Self> {
        if !file.is_file() {
            bail!("backbone_file {}: no such file", file.display());
        }
        let mut module = CModule::load_on_device(file, device).map_err(|e| {
            anyhow::anyhow!(
                "backbone_file {}: not a TorchScript model ({})",
                file.display(),
                first_line(&e.to_string())
            )
        })?;
        module.set_eval();
        let net = Self::Script {
            module,
            file: file.to_path_buf(),
        };
        // Probe once, so a model that breaks the input contract fails before any work.
        let probe = Tensor::full([2, 3, 32, 32], 0.5, (Kind::Float, device));
        let _ = net
            .features(&probe)
            .with_context(|| format!("backbone_file {}: test forward failed", file.display()))?;
        Ok(net)
    }

    /// Features of images B×C×H×W in [0, 1] (gray repeated to RGB): B×D floats.
    pub fn features(&self, x01: &Tensor) -> Result<Tensor> {
        let x = if x01.size()[1] == 1 {
            x01.repeat([1, 3, 1, 1])
        } else {
            x01.shallow_clone()
        };
        match self {
            Self::EfficientNet { net, tap } => Ok(net.features(&x, *tap)),
            Self::Script { module, file } => {
                let _guard = tch::no_grad_guard();
                let out = module
                    .forward_is(&[IValue::Tensor(x.to_kind(Kind::Float))])
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "backbone_file {}: forward failed ({})",
                            file.display(),
                            first_line(&e.to_string())
                        )
                    })?;
                let IValue::Tensor(t) = out else {
                    bail!(
                        "backbone_file {}: forward must return one tensor (B×D features)",
                        file.display()
                    );
                };
                let t = match t.dim() {
                    2 => t,
                    4 => t.mean_dim([2i64, 3].as_slice(), false, Kind::Float),
                    d => bail!(
                        "backbone_file {}: forward returned a {d}-d tensor {:?}; expected B×D or B×D×H×W",
                        file.display(),
                        t.size()
                    ),
                };
                if t.size()[0] != x.size()[0] {
                    bail!(
                        "backbone_file {}: {} outputs for a batch of {}",
                        file.display(),
                        t.size()[0],
                        x.size()[0]
                    );
                }
                Ok(t.to_kind(Kind::Float))
            }
        }
    }

    /// EfficientNet-Lite0's activation maps after `blocks` blocks (fine-tuning caches them).
    pub fn activation(&self, x01: &Tensor, blocks: usize) -> Result<Tensor> {
        match self {
            Self::EfficientNet { net, .. } => Ok(net.activation(x01, blocks)),
            Self::Script { file, .. } => bail!(
                "backbone_file {}: a TorchScript backbone cannot be fine-tuned",
                file.display()
            ),
        }
    }

    /// What the cache key and messages call this encoder.
    pub fn describe(&self) -> String {
        match self {
            Self::EfficientNet { tap, .. } => {
                format!("EfficientNet-Lite0, {}", efficientnet::tap_name(*tap))
            }
            Self::Script { file, .. } => format!("TorchScript {}", file.display()),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
