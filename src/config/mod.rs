//! Every knob of a run in one validated, serialisable config (saved as config.toml in the run
//! directory: with the seed it reproduces the run). Presets: `reference` (the released code,
//! bugs included), `paper` (the paper's equations), `default` (reference numbers, bugs fixed).
mod overrides;
mod presets;
mod validate;

pub use overrides::apply_override;
pub use presets::{
    Choice, DEFAULT_STAGE1_STEPS, DataShape, SMALL_CNN_AE, SMALL_CNN_MAX_EPOCHS,
    SMALL_GRAY_ROTATION, choice_lines, fit_to_data, frozen_side,
};

use crate::graph::Normalization;
use crate::runtime::DeviceChoice;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Reference,
    Paper,
    Default,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackboneKind {
    /// A small CNN at the images' native size (CPU friendly).
    Small,
    /// torchvision ResNet-18 without fc, at `input_size` (224 in the paper).
    Resnet18,
    /// torchvision ResNet-34 without fc (the paper's backbone).
    Resnet34,
    /// ImageNet EfficientNet-Lite0, frozen: the frozen-feature path (features of `views`
    /// augmented views computed once and cached; stage 1 trains ISM + JC-SLIM on them).
    #[serde(rename = "efficientnet-lite0")]
    EfficientnetLite0,
    /// A TorchScript image model of the user's (`backbone_file`), frozen, on the same path.
    Torchscript,
}

impl BackboneKind {
    pub const ALL: [BackboneKind; 5] = [
        BackboneKind::Small,
        BackboneKind::Resnet18,
        BackboneKind::Resnet34,
        BackboneKind::EfficientnetLite0,
        BackboneKind::Torchscript,
    ];

    /// Pretrained and frozen: stage 1 runs on cached features instead of a CNN per step.
    pub fn is_frozen(self) -> bool {
        matches!(
            self,
            BackboneKind::EfficientnetLite0 | BackboneKind::Torchscript
        )
    }

    /// The name config.toml and `--set backbone=` use.
    pub fn name(self) -> &'static str {
        match self {
            BackboneKind::Small => "small",
            BackboneKind::Resnet18 => "resnet18",
            BackboneKind::Resnet34 => "resnet34",
            BackboneKind::EfficientnetLite0 => "efficientnet-lite0",
            BackboneKind::Torchscript => "torchscript",
        }
    }
}

/// Which vectors a stage-2 step works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureSpace {
    /// The stage-1 backbone's output h (the reference code).
    Backbone,
    /// The raw pixels, flattened.
    Pixels,
    /// The backbone's output beside frozen EfficientNet-Lite0 features of the test view
    /// (each block unit-length, the pretrained one centred and weighted
    /// `train::graph_space::FUSED_PRETRAINED_WEIGHT`): neighbours both spaces agree on.
    Fused,
    /// Fused where the learned features' partition explains too little of the pretrained
    /// features' k-NN graph (`train::graph_space`), else the backbone's.
    Auto,
}

/// Where the small CNN's stage-1 neighbour positives (`neighbor_k`) are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NeighborSpace {
    /// The raw pixels, flattened.
    #[default]
    Pixels,
    /// The pixels beside frozen EfficientNet-Lite0 features of the same images (each block
    /// unit length, the pretrained one centred and weighted as in fused graphs): neighbours
    /// both agree on, purer than either's on MNIST-test and Fashion-MNIST-test.
    Fused,
}

/// Where stage 2's Student-t centres μ start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CentreInit {
    /// K-means on the AE embedding (the reference).
    #[default]
    Kmeans,
    /// The spectral partition of the k_b graph (its clusters' mean embedding).
    Spectral,
    /// Whichever of the two has the higher modularity on the k_b graph (label-free).
    Auto,
}

/// What gives stage 2 its starting partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartHead {
    /// `centre_init` on the AE of stage 1's JC-SLIM head (K-means / spectral), as the paper.
    #[default]
    Jcslim,
    /// Frozen path: a clustering head made for frozen features (`train::scan`): SCAN's
    /// neighbour consistency over the features' k-NN graph with an entropy term, then
    /// self-labelling on the confident images across the cached views. (The CNN path keeps
    /// `centre_init`.)
    Scan,
}

/// How the run's final clustering is picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FinalAnswer {
    /// The configured `head`, as the paper and the reference code report.
    #[default]
    Head,
    /// Among the stage-1 head, the SCAN head, Q, the streams and K-means on the stage-2
    /// input features, the one a label-free rule scores best (`train::answer`).
    Auto,
}

/// Which distribution gives the final cluster of each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Head {
    /// GCN stream a (the k_a graph): what the reference code reports (spec §6.4).
    StreamA,
    StreamB,
    /// The Student-t assignment Q of the AE embedding.
    Q,
}

impl Head {
    /// The name metrics and events use for this head.
    pub fn name(self) -> &'static str {
        match self {
            Head::StreamA => "stream-a",
            Head::StreamB => "stream-b",
            Head::Q => "q",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Augment {
    /// Lower end of RandomResizedCrop's area scale (torchvision: 0.08).
    pub crop_min_scale: f64,
    /// Colour-jitter strength s: brightness/contrast/saturation 0.8s, hue 0.2s.
    pub jitter_strength: f64,
    pub jitter_p: f64,
    pub grayscale_p: f64,
    pub flip: bool,
    pub blur: bool,
    /// Random rotation of each view, uniform in ±this many degrees, in the crop's one
    /// resampling (0 = none; configs saved before it load with 0).
    #[serde(default)]
    pub rotate_degrees: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub preset: Preset,
    /// Number of clusters K.
    pub clusters: usize,
    pub seed: u64,
    pub device: DeviceChoice,

    // Networks
    pub backbone: BackboneKind,
    /// Side of the square backbone input; 0 = the images' own size.
    pub input_size: usize,
    /// Channels of the small CNN's first block (doubled twice).
    pub small_width: usize,
    /// EfficientNet-Lite0 feature tap: 0 = the pooled 1,280-d head, 1..=16 = the pooled
    /// output of that block (mid-network blocks cluster better on small images).
    #[serde(default)]
    pub backbone_tap: usize,
    /// The TorchScript model file for `backbone = "torchscript"` (see README: input contract).
    #[serde(default)]
    pub backbone_file: String,
    /// Frozen backbones: augmented views per image whose features are cached for stage 1.
    #[serde(default = "default_views")]
    pub views: usize,
    /// EfficientNet-Lite0: fine-tune its last this many blocks (0 = frozen, at most
    /// `MAX_FINETUNE_BLOCKS`); the activations before them are cached instead of features.
    #[serde(default)]
    pub finetune_blocks: usize,
    /// Learning rate of the fine-tuned blocks (below `lr`: they start trained).
    #[serde(default = "default_finetune_lr")]
    pub finetune_lr: f64,
    /// ISM projection size (128 in the reference).
    pub feature_dim: usize,
    /// JC-SLIM / GCN hidden sizes (500, 500, 2000 in the paper).
    pub ae_hidden: [usize; 3],

    // Stage 1: backbone + ISM + JC-SLIM
    pub batch: usize,
    pub lr: f64,
    /// Contrastive warm-up epochs (instance + cluster loss, no reconstruction; spec D11).
    pub warmup_epochs: usize,
    /// IcicleGCN stage-1 epochs (L_CIS + L_CCS + L_re).
    pub epochs: usize,
    pub tau_i: f64,
    pub tau_c: f64,
    /// Reference bug D1: the second view's cluster assignment is computed from view a.
    pub cluster_views_from_a: bool,
    /// D2: reconstruct both views (false: view a only, as the reference).
    pub recon_both_views: bool,
    pub augment: Augment,
    /// Stage-1 positives from the k nearest neighbours (0 = off: two augmentations of the same
    /// image, as CC and the paper). On, view b is an augmentation of the image itself or of one
    /// of its k nearest neighbours, chosen uniformly (SCAN's neighbour consistency, NNCLR):
    /// neighbours in the pretrained features on the frozen path, in pixels for the CNN.
    #[serde(default)]
    pub neighbor_k: usize,
    /// Where the small CNN's neighbour positives are found (the frozen path always takes its
    /// pretrained features).
    #[serde(default)]
    pub neighbor_features: NeighborSpace,

    // Stage 2: M-GCN
    pub stage2_lr: f64,
    /// Learning rate of the GCN weights W1..W5; 0 = stage2_lr (one rate, as the reference).
    #[serde(default)]
    pub gcn_lr: f64,
    pub iterations: usize,
    /// Fusion weight of a stream's own previous layer.
    pub sigma: f64,
    /// Fusion weight of the other stream's previous layer.
    pub gamma: f64,
    /// Fusion weight of the AE's hidden layer.
    pub ae_weight: f64,
    pub alpha: f64,
    pub beta: f64,
    pub eta: f64,
    pub k_a: usize,
    pub k_b: usize,
    pub share_gcn_weights: bool,
    pub normalization: Normalization,
    pub head: Head,
    /// Where the k-NN graphs are built.
    pub graph_features: FeatureSpace,
    /// D18: log-softmax and log-space Student-t (false: log of probabilities, as the reference).
    pub log_space: bool,
    pub kmeans_restarts: usize,
    /// Stage-2 centre initialisation: kmeans (the reference), spectral, or auto (the one
    /// whose partition has the higher modularity on the k_b graph).
    #[serde(default)]
    pub centre_init: CentreInit,
    /// λ in [0, 1]: stage 2's target is (1 − λ)·P + λ·(the starting partition, one-hot), so
    /// the heads keep what the chosen partition found instead of drifting back to the AE's
    /// K-means (0 = the paper's P alone).
    #[serde(default)]
    pub partition_targets: f64,
    /// Which head gives stage 2's starting partition.
    #[serde(default)]
    pub start_head: StartHead,
    /// SCAN head: neighbours per image in the features' k-NN graph (SCAN: 20).
    #[serde(default = "default_scan_neighbors")]
    pub scan_neighbors: usize,
    /// SCAN head: weight of the entropy of the mean assignment (SCAN: 5).
    #[serde(default = "default_scan_entropy")]
    pub scan_entropy: f64,
    /// SCAN head: optimizer steps of neighbour consistency, then of self-labelling.
    #[serde(default = "default_scan_steps")]
    pub scan_steps: usize,
    #[serde(default = "default_selflabel_steps")]
    pub selflabel_steps: usize,
    /// Self-labelling keeps images whose test-view probability is above this (SCAN: 0.99).
    #[serde(default = "default_selflabel_threshold")]
    pub selflabel_threshold: f64,
    /// How the final clustering is picked: the configured head, or auto (label-free).
    #[serde(default)]
    pub final_answer: FinalAnswer,
    /// A retrain with corrections: stage-2 iterations from the run's checkpoint.
    #[serde(default = "default_correct_iterations")]
    pub correct_iterations: usize,
    /// A retrain with corrections: the share of an untouched image's target that is its
    /// label-spreading cluster (the rest is the model's own P). Measured: 0.5 lost up to
    /// 2.3 points on emoji's untouched images, 0.9 at most 0.7 (docs/BENCHMARKS.md).
    #[serde(default = "default_correct_keep")]
    pub correct_keep: f64,
    /// Auto answer: below this graph strength (the best modularity a candidate reaches on the
    /// k_b graph, over 1 − 1/K) the answer is K-means, the one head that does not learn
    /// through the graph (0 = never).
    #[serde(default = "default_answer_min_modularity")]
    pub answer_min_modularity: f64,
    /// Auto answer on a strong graph: each head's partition is refined by merge–split rounds
    /// under modularity on the k_b graph before the rule compares them (K-means, the floor,
    /// is left as it is). Measured: Fashion-MNIST-test's answer +5 to +8 points, MNIST-test
    /// 0 to +4, digits unchanged (docs/BENCHMARKS.md).
    #[serde(default)]
    pub refine_answer: bool,
    /// Auto answer: the chosen clustering smoothed over the k_b graph at the end, by the
    /// label spreading the corrections' preview uses with no correction (each image held at
    /// its cluster with weight 0.3 against its neighbours'). Measured on the saved three-seed
    /// runs: emoji +0.9 to +1.8 points, Fashion-MNIST-test 0 to +1.1, MNIST-test 0 to +0.7,
    /// digits −0.2 to +0.3 (docs/BENCHMARKS.md, "The answer smoothed over its graph").
    #[serde(default)]
    pub smooth_answer: bool,
    /// CPU threads a training computes on: 0 = every core. A seed's results are
    /// bit-identical at one thread count only (sums are split differently), so the count never
    /// changes during a run; trainings on one machine take turns of a quarter second instead.
    #[serde(default)]
    pub threads: usize,
    /// Stage 2 runs on the whole graph up to this many images; above, on mini-batches of
    /// nodes with the subgraph between them (Cluster-GCN), so time and memory per iteration
    /// stay bounded however large the folder is.
    #[serde(default = "default_full_graph_up_to")]
    pub full_graph_up_to: usize,
    /// Nodes per stage-2 mini-batch.
    #[serde(default = "default_stage2_batch")]
    pub stage2_batch: usize,
    /// Nodes per part of the k_b graph (a breadth-first ball); a mini-batch is
    /// stage2_batch / stage2_part random parts. Small parts mix more of the data into each
    /// batch, large ones keep more edges (measured: 8 is as accurate as the whole graph,
    /// 64 and 512 lose 0.08 and 0.20 ACC on MNIST-test).
    #[serde(default = "default_stage2_part")]
    pub stage2_part: usize,
    /// Mini-batch stage 2: iterations between refreshes of the target P over all nodes; 0 =
    /// once per pass over the nodes (⌈N / stage2_batch⌉ iterations), as the full graph,
    /// which recomputes it every iteration, does per pass.
    #[serde(default)]
    pub target_every: usize,

    // Ablations (paper Tables 4–6)
    pub no_instance_loss: bool,
    pub no_cluster_loss: bool,
    /// AE + Q only: no GCN streams (Table 5 "without GCNs").
    pub no_gcn: bool,
    /// One graph (k_a) for both streams (Table 6 single scale).
    pub single_scale: bool,

    // Bookkeeping
    /// Stage-2 iterations between checkpoints (stage 1 checkpoints every epoch).
    pub checkpoint_every: usize,
    /// Stage-2 iterations between metric evaluations.
    pub eval_every: usize,
}

fn default_scan_neighbors() -> usize {
    20
}

fn default_scan_entropy() -> f64 {
    5.0
}

fn default_scan_steps() -> usize {
    600
}

fn default_selflabel_steps() -> usize {
    400
}

fn default_selflabel_threshold() -> f64 {
    0.99
}

fn default_correct_iterations() -> usize {
    50
}

fn default_correct_keep() -> f64 {
    0.9
}

fn default_answer_min_modularity() -> f64 {
    0.8
}

fn default_full_graph_up_to() -> usize {
    20_000
}

fn default_stage2_batch() -> usize {
    4096
}

fn default_stage2_part() -> usize {
    8
}

fn default_views() -> usize {
    8
}

fn default_finetune_lr() -> f64 {
    1e-4
}

/// Fine-tuning reaches back at most to block 13: blocks 13–16 and the head work at 1/32 of
/// the side, so their cached input stays small (192 × 4 × 4 floats per view at side 128).
pub const MAX_FINETUNE_BLOCKS: usize = 4;

/// The preset adapted to the data (`fit_to_data`) with `sets` on top, and the lines that say
/// what runs and why (overrides included).
pub fn fitted(
    preset: Preset,
    clusters: usize,
    shape: DataShape,
    cuda: bool,
    sets: &[String],
) -> anyhow::Result<(Config, Vec<String>)> {
    let mut cfg = Config::preset(preset, clusters);
    let choices = fit_to_data(&mut cfg, shape, cuda);
    for s in sets {
        cfg = apply_override(&cfg, s)?;
    }
    Ok((cfg, choice_lines(&choices, sets)))
}

impl Config {
    pub fn preset(preset: Preset, clusters: usize) -> Self {
        presets::build(preset, clusters)
    }

    /// Checks every field; the error names the field and the rule.
    pub fn validate(&self, items: usize) -> anyhow::Result<()> {
        validate::check(self, items)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises")
    }

    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim()))
    }

    /// The side the backbone sees for images of side `native`.
    pub fn input_side(&self, native: usize) -> usize {
        if self.input_size > 0 {
            self.input_size
        } else {
            native
        }
    }
}
