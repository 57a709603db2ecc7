//! The only types the training worker and its front ends (CLI, app) share: commands in,
//! events out, over crossbeam channels.
use crate::config::Config;
use crate::data::Dataset;
use crate::graph::{GraphStats, Knn};
use crate::metrics::{LabelFree, Scores};
use std::path::PathBuf;
use std::sync::Arc;

/// A training run to start.
pub struct Job {
    pub dataset: Arc<Dataset>,
    pub config: Config,
    pub run_dir: PathBuf,
    /// Continue from the checkpoints in `run_dir` instead of starting afresh.
    pub resume: bool,
    /// Where frozen-backbone features are cached (`None`: computed every time).
    pub feature_cache: Option<PathBuf>,
    /// A retrain with a person's corrections: stage 2 continues from this finished run's
    /// checkpoint (stage 1 is not rerun); `run_dir` is the new run's folder.
    pub correct_from: Option<Box<CorrectFrom>>,
}

/// The finished run a retrain continues from, and what the person said about its images.
#[derive(Debug, Clone)]
pub struct CorrectFrom {
    pub source: PathBuf,
    pub corrections: crate::correct::Corrections,
}

pub enum Command {
    Start(Box<Job>),
    Pause,
    Resume,
    /// Stop within one step; the last checkpoint stays.
    Cancel,
}

/// Every loss term of both stages; a term is `None` where it does not apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossTerms {
    pub total: f64,
    /// Stage 1: L_CIS.
    pub instance: Option<f64>,
    /// Stage 1: contrastive part of L_CCS.
    pub cluster: Option<f64>,
    /// Stage 1: entropy part of L_CCS (log K − H, both views).
    pub entropy: Option<f64>,
    /// Stage 1 L_re, stage 2 L_rec.
    pub reconstruction: Option<f64>,
    /// Stage 2: KL(P‖Q), KL(P‖pred_a), KL(P‖pred_b) (unweighted).
    pub kl_q: Option<f64>,
    pub kl_a: Option<f64>,
    pub kl_b: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Stage {
    /// Frozen pretrained backbone: features of the augmented views, computed once and cached.
    Extract,
    /// Backbone + ISM + JC-SLIM on augmented views.
    One,
    /// Features, k-NN graphs, K-means initialisation.
    Graphs,
    /// M-GCN, on the whole graph or on mini-batches of it.
    Two,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LossPoint {
    pub stage: Stage,
    /// Stage-1 epoch (from 1); 0 in stage 2.
    pub epoch: usize,
    /// Step within the epoch (stage 1) or iteration (stage 2, from 1).
    pub step: usize,
    /// Steps since the start of the stage, for plotting.
    pub global_step: usize,
    pub terms: LossTerms,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricsPoint {
    pub stage: Stage,
    pub global_step: usize,
    /// Which assignment was scored: "ae" (stage 1), "q", "stream-a", "stream-b".
    pub head: String,
    pub scores: Scores,
}

/// Label-free scores of the assignment shown at one evaluation (`metrics::label_free`).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelFreePoint {
    pub stage: Stage,
    pub global_step: usize,
    pub scores: LabelFree,
}

/// The outcome of a finished run.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub run_dir: PathBuf,
    pub clusters: Vec<i64>,
    pub confidence: Vec<f32>,
    pub scores: Option<Scores>,
    /// The learned stage-2 input features (N×dim), for the embedding view.
    pub features: Vec<f32>,
    pub feature_dim: usize,
    pub wall_seconds: f64,
    /// Label-free scores of the final assignment.
    pub label_free: LabelFree,
    /// Which candidate the run answered with and why (runs that ended before: none).
    pub final_answer: Option<crate::train::answer::FinalAnswer>,
    /// Every candidate's clusters, so a front end can switch (candidates.json).
    pub candidates: Option<crate::train::answer::SavedCandidates>,
    /// Where stage 1's step time went (runs that trained stage 1).
    pub stage1_steps: Option<crate::train::step_clock::StepBreakdown>,
    /// Where stage 2's iteration time went.
    pub stage2_steps: Option<crate::train::step_clock::StepBreakdown>,
}

pub enum Event {
    Started {
        device: String,
        run_dir: PathBuf,
        items: usize,
        resumed_from: Option<String>,
    },
    StageChanged {
        stage: Stage,
        total_steps: usize,
    },
    Loss(LossPoint),
    Metrics(MetricsPoint),
    /// Label-free quality of the current assignment, with or without labels.
    LabelFree(LabelFreePoint),
    /// Statistics of one graph scale ("a" or "b").
    Graph {
        scale: &'static str,
        stats: GraphStats,
    },
    /// The k-NN graphs a and b (neighbour lists), once built: the app shows the neighbours
    /// that decide each image's cluster.
    Neighbours {
        a: Arc<Knn>,
        b: Arc<Knn>,
    },
    /// The stage-2 input features (N×dim), ready once stage 1 ends; they stay fixed through
    /// stage 2, so the embedding view can map them while stage 2 trains.
    Features {
        features: Vec<f32>,
        dim: usize,
    },
    /// Current assignments (after each stage-1 epoch and stage-2 evaluation).
    Assignments {
        stage: Stage,
        clusters: Vec<i64>,
        confidence: Vec<f32>,
    },
    Progress {
        stage: Stage,
        done: usize,
        total: usize,
        eta_seconds: Option<f64>,
    },
    /// Something the person should know that is not a problem (a cache hit, a choice made).
    Info(String),
    Warning(String),
    Paused,
    Resumed,
    Finished(Box<RunResult>),
    Cancelled {
        checkpoint: Option<PathBuf>,
    },
    Failed(String),
}
