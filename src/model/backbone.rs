//! The image encoder f(·) that turns an augmented view into the representation h.
//! ResNet-18/34 (torchvision layout, no fc) as in the paper, or a small CNN for native
//! 8–64 px images that makes CPU training practical.
use crate::config::BackboneKind;
use tch::Tensor;
use tch::nn::{self, ModuleT};

pub struct Backbone {
    net: nn::SequentialT,
    resnet: Option<nn::FuncT<'static>>,
    pub rep_dim: usize,
    /// Channels the network expects (ResNets take 3; gray images are repeated).
    pub in_channels: usize,
}

fn conv_bn_relu(p: &nn::Path, cin: i64, cout: i64) -> nn::SequentialT {
    let conv = nn::ConvConfig {
        padding: 1,
        bias: false,
        ..Default::default()
    };
    nn::seq_t()
        .add(nn::conv2d(p / "conv", cin, cout, 3, conv))
        .add_fn(channels_last_on_cpu)
        .add(nn::batch_norm2d(p / "bn", cout, Default::default()))
        .add_fn(|x| x.relu())
}

/// The same values with NHWC strides on a CPU: oneDNN's convolution, batch norm and max
/// pooling then take their channels-last kernels, and the layers after it follow the layout.
/// On the small CNN's 8–32 px maps the NCHW kernels are slow (max pooling 0.65 ms a call on
/// 128×32×8×8); measured in docs/BENCHMARKS.md. A tensor already in this layout passes
/// through as a view; on a GPU nothing changes (cuDNN's choice there is unmeasured).
pub fn channels_last_on_cpu(x: &Tensor) -> Tensor {
    if x.device() != tch::Device::Cpu || x.dim() != 4 {
        return x.shallow_clone();
    }
    x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

impl Backbone {
    /// The trained CNN of `kind`; frozen pretrained kinds have none (see `pretrained`).
    pub fn new(
        vs: &nn::Path,
        kind: BackboneKind,
        channels: usize,
        width: usize,
    ) -> anyhow::Result<Self> {
        Ok(match kind {
            BackboneKind::Small => {
                // Three conv-BN-ReLU blocks (widths w, 2w, 4w), 2×2 max-pool between them,
                // global average pool: h has 4w dimensions.
                let w = width as i64;
                let net = nn::seq_t()
                    .add(conv_bn_relu(&(vs / "b1"), channels as i64, w))
                    .add_fn(|x| x.max_pool2d_default(2))
                    .add(conv_bn_relu(&(vs / "b2"), w, 2 * w))
                    .add_fn(|x| x.max_pool2d_default(2))
                    .add(conv_bn_relu(&(vs / "b3"), 2 * w, 4 * w))
                    .add_fn(|x| x.adaptive_avg_pool2d([1, 1]).flatten(1, -1));
                Self {
                    net,
                    resnet: None,
                    rep_dim: 4 * width,
                    in_channels: channels,
                }
            }
            BackboneKind::Resnet18 | BackboneKind::Resnet34 => {
                let r = if kind == BackboneKind::Resnet18 {
                    tch::vision::resnet::resnet18_no_final_layer(vs)
                } else {
                    tch::vision::resnet::resnet34_no_final_layer(vs)
                };
                Self {
                    net: nn::seq_t(),
                    resnet: Some(r),
                    rep_dim: 512,
                    in_channels: 3,
                }
            }
            BackboneKind::EfficientnetLite0 | BackboneKind::Torchscript => anyhow::bail!(
                "backbone {} is frozen: it runs on the frozen-feature path, not in stage 1",
                kind.name()
            ),
        })
    }

    /// h = f(x) for a batch B×C×H×W in [0, 1] (no mean/std normalisation, as the reference).
    pub fn forward(&self, x: &Tensor, train: bool) -> Tensor {
        let x = if self.in_channels == 3 && x.size()[1] == 1 {
            x.repeat([1, 3, 1, 1])
        } else {
            x.shallow_clone()
        };
        match &self.resnet {
            Some(r) => r.forward_t(&x, train).flatten(1, -1),
            None => self.net.forward_t(&x, train),
        }
    }
}
