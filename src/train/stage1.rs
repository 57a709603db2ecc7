//! Stage 1: backbone + ISM + JC-SLIM on two augmented views (spec §3.1):
//! L1 = L_CIS + L_CCS + L_re, with the D1/D2 switches of the presets. With a frozen
//! pretrained backbone there is no CNN here: the views' features come from the cache
//! (`frozen`), and only ISM and JC-SLIM train.
use super::losses;
use crate::config::Config;
use crate::data::augment;
use crate::messages::LossTerms;
use crate::model::efficientnet::Tail;
use crate::model::{AutoEncoder, Backbone, Projector};
use tch::{Device, Kind, Tensor, nn};

pub struct Stage1 {
    pub vs: nn::VarStore,
    /// The trained CNN; `None` on the frozen-feature path.
    pub backbone: Option<Backbone>,
    pub projector: Projector,
    pub ae: AutoEncoder,
    /// Backbone input side.
    pub side: i64,
    /// Fine-tuned last EfficientNet blocks (`finetune_blocks`), fed cached activations.
    pub tail: Option<Tail>,
}

impl Stage1 {
    /// `frozen_dim`: the cached features' size on the frozen-feature path (no CNN built).
    pub fn new(
        cfg: &Config,
        channels: usize,
        native_side: usize,
        frozen_dim: Option<usize>,
        device: Device,
    ) -> anyhow::Result<Self> {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let backbone = match frozen_dim {
            Some(_) => None,
            None => Some(Backbone::new(
                &(&root / "backbone"),
                cfg.backbone,
                channels,
                cfg.small_width,
            )?),
        };
        crate::model::init::kaiming_convs(&vs);
        let rep_dim = backbone
            .as_ref()
            .map_or_else(|| frozen_dim.unwrap_or(1), |b| b.rep_dim);
        let projector = Projector::new(&(&root / "ism"), rep_dim, cfg.feature_dim);
        let ae = AutoEncoder::new(&(&root / "ae"), rep_dim, cfg.ae_hidden, cfg.clusters);
        Ok(Self {
            vs,
            backbone,
            projector,
            ae,
            side: cfg.input_side(native_side) as i64,
            tail: None,
        })
    }

    /// The loss of one batch (float images B×C×H×W in [0, 1]); `warmup` leaves out L_re.
    pub fn loss(&self, batch: &Tensor, cfg: &Config, warmup: bool) -> (Tensor, LossTerms) {
        let (va, vb) = self.views(batch, batch, cfg);
        let (h_a, h_b) = self.encode(&va, &vb);
        let l = self.step_loss(&h_a, &h_b, cfg, warmup);
        let terms = l.read();
        (l.total, terms)
    }

    /// The two augmented views, view a drawn from `batch_a` and view b from `batch_b`: the
    /// same images (CC), or each image's positive partner (`neighbor_k`).
    pub fn views(&self, batch_a: &Tensor, batch_b: &Tensor, cfg: &Config) -> (Tensor, Tensor) {
        (
            augment::view(batch_a, self.side, &cfg.augment),
            augment::view(batch_b, self.side, &cfg.augment),
        )
    }

    /// The CNN's representations of two views, in training mode.
    pub fn encode(&self, va: &Tensor, vb: &Tensor) -> (Tensor, Tensor) {
        let backbone = self.backbone.as_ref().expect("the CNN path has a backbone");
        // Two forward calls, so BatchNorm statistics are per view (spec §2.1).
        (backbone.forward(va, true), backbone.forward(vb, true))
    }

    /// The loss given the representations h of two views of one batch (both paths), its
    /// terms kept as tensors so that reading them back can wait (`StepLoss::packed`).
    pub fn step_loss(&self, h_a: &Tensor, h_b: &Tensor, cfg: &Config, warmup: bool) -> StepLoss {
        let ae_a = self.ae.forward(h_a);
        let mut l = StepLoss {
            total: Tensor::zeros([], (Kind::Float, h_a.device())),
            terms: [None, None, None, None],
        };
        if !cfg.no_instance_loss {
            let v = losses::instance_loss(
                &self.projector.forward(h_a),
                &self.projector.forward(h_b),
                cfg.tau_i,
            );
            l.total += &v;
            l.terms[0] = Some(v.detach());
        }
        let ae_b =
            (!cfg.cluster_views_from_a || cfg.recon_both_views).then(|| self.ae.forward(h_b));
        if !cfg.no_cluster_loss {
            let c_b = Self::second_view_assignment(&ae_a.z, ae_b.as_ref().map(|b| &b.z), cfg);
            let c = losses::cluster_loss(&ae_a.z, c_b, cfg.tau_c);
            l.total += c.total();
            l.terms[1] = Some(c.contrastive.detach());
            l.terms[2] = Some(c.entropy.detach());
        }
        if !warmup {
            let mut rec = losses::reconstruction(&ae_a.x_hat, h_a);
            if let (true, Some(b)) = (cfg.recon_both_views, &ae_b) {
                rec = (rec + losses::reconstruction(&b.x_hat, h_b)) * 0.5;
            }
            l.total += &rec;
            l.terms[3] = Some(rec.detach());
        }
        l
    }

    /// The cluster assignment used for view b: under the reference bug D1 it is view a's own.
    pub fn second_view_assignment<'t>(
        c_a: &'t Tensor,
        c_b: Option<&'t Tensor>,
        cfg: &Config,
    ) -> &'t Tensor {
        match c_b {
            Some(b) if !cfg.cluster_views_from_a => b,
            _ => c_a,
        }
    }

    /// Backbone features h of every image under the test transform, eval mode (spec D12).
    pub fn features(&self, images_u8: &Tensor) -> Tensor {
        let backbone = self.backbone.as_ref().expect("the CNN path has a backbone");
        let _guard = tch::no_grad_guard();
        let n = images_u8.size()[0];
        let mut out = Vec::new();
        let mut s = 0;
        while s < n {
            let len = 256.min(n - s);
            let x = images_u8.narrow(0, s, len).to_kind(Kind::Float) / 255.0;
            out.push(backbone.forward(&augment::test_view(&x, self.side), false));
            s += len;
        }
        Tensor::cat(&out, 0)
    }

    /// Adds the trainable last blocks of `net` after block `from` (variables `tail.*`);
    /// called before the optimizer and any checkpoint restore, so both see them.
    pub fn attach_tail(
        &mut self,
        net: &crate::model::efficientnet::EfficientNetLite0,
        from: usize,
        tap: usize,
    ) {
        self.tail = Some(net.trainable_tail(&(self.vs.root() / "tail"), from, tap));
    }

    /// Features h of cached activations through the fine-tuned tail, normalised as the
    /// frozen path's features are (`frozen::normalize`); with grad, for the loss.
    pub fn tail_features(&self, acts: &Tensor) -> Tensor {
        let tail = self.tail.as_ref().expect("fine-tuning has a tail");
        super::frozen::normalize(&tail.forward(acts))
    }

    /// The same for all `acts` (N×C×H×W) in batches, without grad: stage 2's input.
    pub fn tail_features_all(&self, acts: &Tensor) -> Tensor {
        let _guard = tch::no_grad_guard();
        let n = acts.size()[0];
        let parts: Vec<Tensor> = (0..n)
            .step_by(256)
            .map(|s| self.tail_features(&acts.narrow(0, s, 256.min(n - s))))
            .collect();
        Tensor::cat(&parts, 0)
    }

    /// Argmax and max of the AE's softmax on features `h`.
    pub fn assign(&self, h: &Tensor) -> (Vec<i64>, Vec<f32>) {
        let _guard = tch::no_grad_guard();
        super::argmax_confidence(&self.ae.encode(h))
    }
}

/// One stage-1 step's loss: the total to differentiate and its terms (instance, cluster,
/// entropy, reconstruction; `None` where switched off), detached.
pub struct StepLoss {
    pub total: Tensor,
    pub terms: [Option<Tensor>; 4],
}

impl StepLoss {
    /// Total and terms as one 5-vector (absent terms 0) and which terms are present: a step's
    /// losses are packed so that many steps come back from the device in one copy.
    pub fn packed(&self) -> (Tensor, [bool; 4]) {
        let zero = || self.total.zeros_like();
        let mut values = vec![self.total.detach()];
        values.extend(
            self.terms
                .iter()
                .map(|t| t.as_ref().map_or_else(zero, |t| t.shallow_clone())),
        );
        (
            Tensor::stack(&values, 0),
            self.terms.each_ref().map(Option::is_some),
        )
    }

    /// The terms as numbers now (one read-back).
    pub fn read(&self) -> LossTerms {
        let (v, present) = self.packed();
        let v: Vec<f32> = Vec::try_from(&v.to_device(tch::Device::Cpu)).expect("1-d");
        unpack(&v, present)
    }
}

/// LossTerms from a packed 5-vector (`StepLoss::packed`).
pub fn unpack(v: &[f32], present: [bool; 4]) -> LossTerms {
    let at = |i: usize| present[i - 1].then_some(v[i] as f64);
    LossTerms {
        total: v[0] as f64,
        instance: at(1),
        cluster: at(2),
        entropy: at(3),
        reconstruction: at(4),
        ..LossTerms::default()
    }
}
