//! What a finished (or checkpointed) run leaves in its directory besides checkpoints:
//! losses.csv, metrics.json, assignments.csv, confusion.csv.
use crate::atomic;
use crate::config::Config;
use crate::data::Dataset;
use crate::export;
use crate::messages::{LabelFreePoint, LossPoint, MetricsPoint, Stage};
use crate::metrics::LabelFree;
use crate::metrics::{Evaluation, Scores};
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

fn opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.6}")).unwrap_or_default()
}

pub fn stage_name(s: Stage) -> &'static str {
    match s {
        Stage::One => "1",
        Stage::Graphs => "graphs",
        Stage::Extract => "extract",
        Stage::Two => "2",
    }
}

pub fn write_losses(path: &Path, losses: &[LossPoint]) -> Result<()> {
    atomic::write_with(path, |w| {
        writeln!(
            w,
            "stage,epoch,step,global_step,total,instance,cluster,entropy,reconstruction,kl_q,kl_a,kl_b"
        )?;
        for l in losses {
            let t = &l.terms;
            writeln!(
                w,
                "{},{},{},{},{:.6},{},{},{},{},{},{},{}",
                stage_name(l.stage),
                l.epoch,
                l.step,
                l.global_step,
                t.total,
                opt(t.instance),
                opt(t.cluster),
                opt(t.entropy),
                opt(t.reconstruction),
                opt(t.kl_q),
                opt(t.kl_a),
                opt(t.kl_b)
            )?;
        }
        Ok(())
    })
}

#[derive(Serialize)]
struct HistoryRow<'a> {
    stage: &'static str,
    step: usize,
    head: &'a str,
    acc: f64,
    nmi: f64,
    ari: f64,
}

#[derive(Serialize)]
struct Report<'a> {
    method: &'static str,
    dataset: &'a str,
    items: usize,
    clusters: usize,
    preset: crate::config::Preset,
    seed: u64,
    device: &'a str,
    wall_seconds: f64,
    /// Scores of the final head (config `head`).
    scores: Option<Scores>,
    /// Final scores of every head that was evaluated last.
    heads: BTreeMap<String, Scores>,
    cluster_to_class: Option<Vec<Option<String>>>,
    history: Vec<HistoryRow<'a>>,
    /// Label-free scores of the final assignment (`metrics::label_free`).
    label_free: LabelFree,
    label_free_history: Vec<LabelFreeRow>,
    /// Which candidate the run answered with, why, and how every candidate scored.
    final_answer: &'a crate::train::answer::FinalAnswer,
}

#[derive(Serialize)]
struct LabelFreeRow {
    stage: &'static str,
    step: usize,
    #[serde(flatten)]
    scores: LabelFree,
}

/// What a finished run or retrain leaves: its answer, scores and traces. `finish` writes the
/// run folder's result files and returns the run's result.
pub struct Outcome<'a> {
    pub dir: &'a Path,
    pub ds: &'a Dataset,
    pub cfg: &'a Config,
    pub device: tch::Device,
    pub started: std::time::Instant,
    pub losses: &'a [LossPoint],
    pub metrics: &'a [MetricsPoint],
    pub label_free_history: &'a [LabelFreePoint],
    pub clusters: Vec<i64>,
    pub confidence: Vec<f32>,
    pub label_free: LabelFree,
    pub final_answer: crate::train::answer::FinalAnswer,
    /// Cluster names and corrected rows, for assignments.csv.
    pub notes: export::Annotations,
    pub features: Vec<f32>,
    pub feature_dim: usize,
    pub candidates: Option<crate::train::answer::SavedCandidates>,
    pub stage1_steps: Option<crate::train::step_clock::StepBreakdown>,
    pub stage2_steps: Option<crate::train::step_clock::StepBreakdown>,
}

impl Outcome<'_> {
    /// Scores the answer against the labels (when there are any), writes losses.csv,
    /// assignments.csv, confusion.csv and metrics.json, and returns the run's result.
    pub fn finish(self) -> Result<crate::messages::RunResult> {
        let (ds, cfg) = (self.ds, self.cfg);
        let eval = ds
            .labels
            .as_ref()
            .map(|l| Evaluation::new(&self.clusters, l, cfg.clusters, ds.num_classes()))
            .transpose()?;
        let wall = self.started.elapsed().as_secs_f64();
        write_losses(&self.dir.join("losses.csv"), self.losses)?;
        self.write_final(eval.as_ref(), wall)?;
        Ok(crate::messages::RunResult {
            run_dir: self.dir.to_path_buf(),
            clusters: self.clusters,
            confidence: self.confidence,
            scores: eval.map(|e| e.scores),
            features: self.features,
            feature_dim: self.feature_dim,
            wall_seconds: wall,
            label_free: self.label_free,
            final_answer: Some(self.final_answer),
            candidates: self.candidates,
            stage1_steps: self.stage1_steps,
            stage2_steps: self.stage2_steps,
        })
    }

    fn write_final(&self, eval: Option<&Evaluation>, wall_seconds: f64) -> Result<()> {
        let (dir, ds, cfg) = (self.dir, self.ds, self.cfg);
        let (metrics, label_free_history) = (self.metrics, self.label_free_history);
        let device = crate::runtime::device_name(self.device);
        let device = device.as_str();
        let label_free = &self.label_free;
        let final_answer = &self.final_answer;
        export::write_assignments(
            &dir.join("assignments.csv"),
            ds,
            &self.clusters,
            &self.confidence,
            &self.notes,
        )?;
        if let Some(e) = eval {
            export::write_confusion(&dir.join("confusion.csv"), e, &ds.class_names)?;
        }
        let last_step = metrics.last().map(|m| (m.stage, m.global_step));
        let heads = metrics
            .iter()
            .filter(|m| Some((m.stage, m.global_step)) == last_step)
            .map(|m| (m.head.clone(), m.scores))
            .collect();
        let report = Report {
            method: "iciclegcn",
            dataset: &ds.name,
            items: ds.len(),
            clusters: cfg.clusters,
            preset: cfg.preset,
            seed: cfg.seed,
            device,
            wall_seconds,
            scores: eval.map(|e| e.scores),
            heads,
            cluster_to_class: eval.map(|e| {
                e.matching
                    .cluster_to_class
                    .iter()
                    .map(|c| c.map(|c| ds.class_names[c].clone()))
                    .collect()
            }),
            history: metrics
                .iter()
                .map(|m| HistoryRow {
                    stage: stage_name(m.stage),
                    step: m.global_step,
                    head: &m.head,
                    acc: m.scores.acc,
                    nmi: m.scores.nmi,
                    ari: m.scores.ari,
                })
                .collect(),
            label_free: *label_free,
            label_free_history: label_free_history
                .iter()
                .map(|p| LabelFreeRow {
                    stage: stage_name(p.stage),
                    step: p.global_step,
                    scores: p.scores,
                })
                .collect(),
            final_answer,
        };
        export::write_json(&dir.join("metrics.json"), &report)
    }
}
