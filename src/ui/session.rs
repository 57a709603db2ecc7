//! The run on screen, live or reopened: everything the worker's events have said so far, and
//! the analysis of the latest assignments (metrics, aligned confusion, case lists).
use crate::config::Config;
use crate::data::Dataset;
use crate::graph::{GraphStats, Knn};
use crate::messages::{Event, LabelFreePoint, LossPoint, MetricsPoint, Stage};
use crate::metrics::{ClusterCases, Evaluation, cluster_cases};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Idle,
    Starting,
    Running,
    Paused,
    Finished,
    Cancelled,
    Failed(String),
}

impl Status {
    pub fn active(&self) -> bool {
        matches!(self, Status::Starting | Status::Running | Status::Paused)
    }
}

/// Per-cluster item lists for the gallery.
pub struct Analysis {
    pub eval: Option<Evaluation>,
    /// With labels: successes / false negatives / false positives per cluster.
    pub cases: Vec<ClusterCases>,
    /// Every cluster's items, most confident first (used without labels, and for sizes).
    pub members: Vec<Vec<usize>>,
    /// Label-free scores of these assignments that need no features or graph:
    /// (mean confidence, share uncertain, balance of the cluster sizes).
    pub confidence_and_balance: (f64, f64, f64),
    /// Each cluster's mean confidence (0 for an empty one).
    pub cluster_confidence: Vec<f64>,
    /// How many images are below `LOW_CONFIDENCE` (counted once, not every frame).
    pub uncertain: usize,
}

impl Analysis {
    pub fn new(ds: &Dataset, k: usize, clusters: &[i64], confidence: &[f32]) -> Self {
        let mut members = vec![vec![]; k];
        for (i, &c) in clusters.iter().enumerate() {
            if let Some(m) = members.get_mut(c as usize) {
                m.push(i);
            }
        }
        for m in &mut members {
            m.sort_by(|a, b| confidence[*b].total_cmp(&confidence[*a]).then(a.cmp(b)));
        }
        let eval = ds
            .labels
            .as_ref()
            .and_then(|l| Evaluation::new(clusters, l, k, ds.num_classes()).ok());
        let cases = match (&eval, &ds.labels) {
            (Some(e), Some(l)) => cluster_cases(clusters, l, confidence, &e.matching),
            _ => vec![],
        };
        let sizes: Vec<usize> = members.iter().map(Vec::len).collect();
        let cluster_confidence = members
            .iter()
            .map(|m| m.iter().map(|&i| confidence[i] as f64).sum::<f64>() / m.len().max(1) as f64)
            .collect();
        let low = crate::metrics::label_free::LOW_CONFIDENCE;
        let (mean, uncertain) = crate::metrics::label_free::confidence_summary(confidence);
        Self {
            eval,
            cases,
            members,
            confidence_and_balance: (mean, uncertain, crate::metrics::label_free::balance(&sizes)),
            cluster_confidence,
            uncertain: confidence.iter().filter(|&&p| p < low).count(),
        }
    }
}

pub struct Session {
    pub status: Status,
    pub config: Config,
    pub device: String,
    pub run_dir: Option<PathBuf>,
    pub stage: Option<Stage>,
    pub stage1_steps: usize,
    pub progress: Option<(Stage, usize, usize, Option<f64>)>,
    pub losses1: Vec<LossPoint>,
    pub losses2: Vec<LossPoint>,
    pub metrics: Vec<MetricsPoint>,
    /// Label-free scores at each evaluation (with or without labels).
    pub label_free: Vec<LabelFreePoint>,
    pub graphs: Vec<(&'static str, GraphStats)>,
    /// The k-NN graphs a and b: the neighbours behind each image's cluster.
    pub neighbours: Option<(Arc<Knn>, Arc<Knn>)>,
    pub warnings: Vec<String>,
    /// Informational lines from the run (cache hits, choices the default made).
    pub notes: Vec<String>,
    pub clusters: Vec<i64>,
    pub confidence: Vec<f32>,
    /// From which stage the current assignments come.
    pub assignments_stage: Option<Stage>,
    /// Shared, so that helpers get them without a copy on the UI thread.
    pub features: Option<(Arc<[f32]>, usize)>,
    /// Unique in the process for each set of features, so a t-SNE map is computed once per
    /// run and a late map of an earlier run is never shown for a later one.
    pub features_id: u64,
    pub analysis: Option<Analysis>,
    pub started: Option<Instant>,
    pub wall_seconds: Option<f64>,
    /// Bumped whenever new assignments arrive (views cache on it).
    pub generation: u64,
    /// The run's label-free final answer and every candidate it chose among.
    pub answer: Option<crate::train::answer::FinalAnswer>,
    pub candidates: Option<crate::train::answer::SavedCandidates>,
    /// Which candidate is on screen (index into `candidates`).
    pub shown: Option<usize>,
    /// The person's corrections of this run.
    pub corrections: super::corrections::CorrectionsModel,
}

impl Session {
    pub fn new(config: Config) -> Self {
        Self {
            status: Status::Idle,
            config,
            device: String::new(),
            run_dir: None,
            stage: None,
            stage1_steps: 0,
            progress: None,
            losses1: vec![],
            losses2: vec![],
            metrics: vec![],
            label_free: vec![],
            graphs: vec![],
            neighbours: None,
            warnings: vec![],
            notes: vec![],
            clusters: vec![],
            confidence: vec![],
            assignments_stage: None,
            features: None,
            analysis: None,
            started: None,
            wall_seconds: None,
            generation: 0,
            features_id: 0,
            answer: None,
            candidates: None,
            shown: None,
            corrections: Default::default(),
        }
    }

    /// A session showing a saved run.
    pub fn from_saved(run: crate::rundir::SavedRun, ds: &Dataset) -> Self {
        let mut s = Self::new(run.config);
        s.status = Status::Finished;
        s.run_dir = Some(run.dir);
        for l in run.losses {
            s.push_loss(l);
        }
        s.metrics = run.metrics;
        s.label_free = run.label_free;
        s.set_features(run.features);
        s.graphs = run.graphs;
        s.neighbours = run.neighbours.map(|(a, b)| (Arc::new(a), Arc::new(b)));
        s.set_assignments(ds, Stage::Two, run.clusters, run.confidence);
        s.set_answer(run.answer, run.candidates, ds.len());
        s.corrections = super::corrections::CorrectionsModel::new(run.corrections);
        s
    }

    fn set_answer(
        &mut self,
        answer: Option<crate::train::answer::FinalAnswer>,
        candidates: Option<crate::train::answer::SavedCandidates>,
        items: usize,
    ) {
        let candidates = candidates.filter(|c| c.clusters.iter().all(|v| v.len() == items));
        self.shown = match (&answer, &candidates) {
            (Some(a), Some(c)) => c.names.iter().position(|n| *n == a.chosen),
            _ => None,
        };
        self.answer = answer;
        self.candidates = candidates;
    }

    /// How the worker judged the answer on screen (its silhouette and modularities), once the
    /// run has ended with a final answer.
    pub fn shown_answer(&self) -> Option<&crate::train::answer::Judged> {
        let name = self.candidates.as_ref()?.names.get(self.shown?)?;
        self.answer
            .as_ref()?
            .candidates
            .iter()
            .find(|j| j.name == *name)
    }

    /// Shows candidate `i` of the run's final answer instead (gallery, map, confusion, export).
    pub fn show_candidate(&mut self, ds: &Dataset, i: usize) {
        let Some(c) = &self.candidates else { return };
        if let (Some(cl), Some(cf)) = (c.clusters.get(i), c.confidence.get(i)) {
            let (cl, cf) = (cl.clone(), cf.clone());
            self.set_assignments(ds, Stage::Two, cl, cf);
            self.shown = Some(i);
        }
    }

    fn push_loss(&mut self, l: LossPoint) {
        match l.stage {
            Stage::One => {
                self.stage1_steps = self.stage1_steps.max(l.global_step);
                self.losses1.push(l)
            }
            _ => self.losses2.push(l),
        }
    }

    fn set_features(&mut self, features: Option<(Vec<f32>, usize)>) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        self.features_id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.features = features.map(|(v, d)| (Arc::from(v), d));
    }

    fn set_assignments(&mut self, ds: &Dataset, stage: Stage, clusters: Vec<i64>, conf: Vec<f32>) {
        if clusters.len() != ds.len() {
            return;
        }
        self.analysis = Some(Analysis::new(ds, self.config.clusters, &clusters, &conf));
        self.clusters = clusters;
        self.confidence = conf;
        self.assignments_stage = Some(stage);
        self.generation += 1;
    }

    /// Folds one worker event in.
    pub fn apply(&mut self, ds: &Dataset, ev: Event) {
        match ev {
            Event::Started {
                device, run_dir, ..
            } => {
                self.device = device;
                self.run_dir = Some(run_dir);
                self.status = Status::Running;
            }
            Event::StageChanged { stage, .. } => self.stage = Some(stage),
            Event::Loss(l) => self.push_loss(l),
            Event::Metrics(m) => self.metrics.push(m),
            Event::LabelFree(p) => self.label_free.push(p),
            Event::Graph { scale, stats } => {
                self.graphs.retain(|(s, _)| *s != scale);
                self.graphs.push((scale, stats));
            }
            Event::Neighbours { a, b } => self.neighbours = Some((a, b)),
            Event::Features { features, dim } => self.set_features(Some((features, dim))),
            Event::Assignments {
                stage,
                clusters,
                confidence,
            } => self.set_assignments(ds, stage, clusters, confidence),
            Event::Progress {
                stage,
                done,
                total,
                eta_seconds,
            } => self.progress = Some((stage, done, total, eta_seconds)),
            Event::Warning(w) => self.warnings.push(w),
            Event::Info(i) => self.notes.push(i),
            Event::Paused => self.status = Status::Paused,
            Event::Resumed => self.status = Status::Running,
            Event::Finished(r) => {
                self.wall_seconds = Some(r.wall_seconds);
                // Same features as the Features event; keep them (and their map).
                if self.features.is_none() {
                    self.set_features(Some((r.features, r.feature_dim)));
                }
                self.set_assignments(ds, Stage::Two, r.clusters, r.confidence);
                self.set_answer(r.final_answer, r.candidates, ds.len());
                self.status = Status::Finished;
            }
            Event::Cancelled { .. } => self.status = Status::Cancelled,
            Event::Failed(e) => self.status = Status::Failed(e),
        }
    }

    /// The metric points of the head that the config reports, in plotting order.
    pub fn final_head_metrics(&self) -> impl Iterator<Item = &MetricsPoint> {
        let head = self.config.head.name();
        let head = if self.config.no_gcn { "q" } else { head };
        self.metrics
            .iter()
            .filter(move |m| m.stage == Stage::One || m.head == head)
    }
}
