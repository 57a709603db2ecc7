//! The state of one run while it trains (`Trainer`): commands between steps, loss and score
//! records, label-free scores, progress events; why a run stops; checkpoint metadata.
use super::adam::Adam;
use super::checkpoint;
use super::stage1::{StepLoss, unpack};
use crate::config::Config;
use crate::messages::{
    Command, Event, Job, LabelFreePoint, LossPoint, LossTerms, MetricsPoint, Stage,
};
use crate::metrics::Evaluation;
use crate::metrics::label_free::{LabelFree, LabelFreeInput};
use crate::threads::TrainingSlot;
use anyhow::anyhow;
use crossbeam_channel::Receiver;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Instant;
use tch::Tensor;

/// Why a run ended early.
#[derive(Debug)]
pub enum Stop {
    Cancelled { checkpoint: Option<PathBuf> },
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for Stop {
    fn from(e: anyhow::Error) -> Self {
        Stop::Failed(e)
    }
}

pub(super) type Res<T> = std::result::Result<T, Stop>;

#[derive(Serialize, Deserialize)]
pub(super) struct Stage1Meta {
    pub(super) epochs_done: usize,
    pub(super) losses: Vec<(usize, usize, usize, LossTerms)>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Stage2Meta {
    pub(super) iterations_done: usize,
    pub(super) losses: Vec<(usize, LossTerms)>,
}

pub(super) struct Trainer<'a> {
    pub(super) job: &'a Job,
    pub(super) cfg: &'a Config,
    pub(super) rx: &'a Receiver<Command>,
    pub(super) emit: &'a dyn Fn(Event),
    pub(super) losses: Vec<LossPoint>,
    pub(super) metrics: Vec<MetricsPoint>,
    pub(super) label_free: Vec<LabelFreePoint>,
    pub(super) last_checkpoint: Option<PathBuf>,
    /// This run's share of the machine's cores, asked again every `SHARE_EVERY`.
    slot: TrainingSlot,
    threads: usize,
    share_checked: Instant,
}

/// How often a run asks how many trainings share the machine.
const SHARE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl<'a> Trainer<'a> {
    pub(super) fn new(
        job: &'a Job,
        cfg: &'a Config,
        rx: &'a Receiver<Command>,
        emit: &'a dyn Fn(Event),
    ) -> Self {
        let slot = TrainingSlot::take();
        let threads = slot.apply(cfg.threads);
        if job
            .config
            .device
            .resolve()
            .is_ok_and(|d| d == tch::Device::Cpu)
        {
            emit(Event::Info(format!(
                "computing on {threads} of {} cores ({})",
                crate::threads::cores(),
                if cfg.threads > 0 {
                    "threads set".to_string()
                } else {
                    format!("{} training(s) on this machine", slot.running())
                }
            )));
        }
        Self {
            job,
            cfg,
            rx,
            emit,
            losses: vec![],
            metrics: vec![],
            label_free: vec![],
            last_checkpoint: None,
            slot,
            threads,
            share_checked: Instant::now(),
        }
    }

    /// Takes this run's fair share of the cores if the number of trainings changed.
    fn share_cores(&mut self) {
        if self.cfg.threads > 0 || self.share_checked.elapsed() < SHARE_EVERY {
            return;
        }
        self.share_checked = Instant::now();
        let n = self.slot.apply(0);
        if n != self.threads {
            (self.emit)(Event::Info(format!(
                "{} training(s) on this machine: this run now computes on {n} of {} cores",
                self.slot.running(),
                crate::threads::cores()
            )));
            self.threads = n;
        }
    }

    /// Handles commands that arrived since the last step; blocks while paused.
    pub(super) fn poll(&mut self) -> Res<()> {
        self.share_cores();
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                Command::Cancel => {
                    return Err(Stop::Cancelled {
                        checkpoint: self.last_checkpoint.clone(),
                    });
                }
                Command::Pause => {
                    (self.emit)(Event::Paused);
                    loop {
                        match self.rx.recv() {
                            Ok(Command::Resume) => break,
                            Ok(Command::Cancel) | Err(_) => {
                                return Err(Stop::Cancelled {
                                    checkpoint: self.last_checkpoint.clone(),
                                });
                            }
                            Ok(Command::Start(_)) => {
                                (self.emit)(Event::Warning("a run is already in progress".into()))
                            }
                            Ok(Command::Pause) => {}
                        }
                    }
                    (self.emit)(Event::Resumed);
                }
                Command::Resume => {}
                Command::Start(_) => {
                    (self.emit)(Event::Warning("a run is already in progress".into()))
                }
            }
        }
        Ok(())
    }

    pub(super) fn check_finite(&self, terms: &LossTerms, where_: String) -> Res<()> {
        if terms.total.is_finite() {
            return Ok(());
        }
        let kept = match &self.last_checkpoint {
            Some(p) => format!("the last good checkpoint {} is kept", p.display()),
            None => "no checkpoint had been written yet".into(),
        };
        Err(Stop::Failed(anyhow!(
            "{where_}: the loss is not finite ({:?}); training stopped, {kept}. Try a lower learning rate or higher temperatures.",
            terms
        )))
    }

    pub(super) fn stage_losses(&self, stage: Stage) -> impl Iterator<Item = &LossPoint> {
        self.losses.iter().filter(move |l| l.stage == stage)
    }

    pub(super) fn record(&mut self, point: LossPoint) {
        (self.emit)(Event::Loss(point.clone()));
        self.losses.push(point);
    }

    pub(super) fn score(
        &mut self,
        stage: Stage,
        global_step: usize,
        head: &str,
        clusters: &[i64],
    ) -> Option<Evaluation> {
        let labels = self.job.dataset.labels.as_ref()?;
        let e = Evaluation::new(
            clusters,
            labels,
            self.cfg.clusters,
            self.job.dataset.num_classes(),
        )
        .ok()?;
        let p = MetricsPoint {
            stage,
            global_step,
            head: head.to_string(),
            scores: e.scores,
        };
        (self.emit)(Event::Metrics(p.clone()));
        self.metrics.push(p);
        Some(e)
    }

    /// Label-free scores of the assignment shown at this evaluation, reported and kept.
    pub(super) fn judge(
        &mut self,
        stage: Stage,
        global_step: usize,
        input: &LabelFreeInput,
    ) -> LabelFree {
        let scores = LabelFree::new(input);
        let p = LabelFreePoint {
            stage,
            global_step,
            scores,
        };
        (self.emit)(Event::LabelFree(p.clone()));
        self.label_free.push(p);
        scores
    }

    pub(super) fn progress(
        &self,
        stage: Stage,
        done: usize,
        total: usize,
        started: Instant,
        done_at_start: usize,
    ) {
        let fresh = done.saturating_sub(done_at_start);
        let eta = (fresh > 0)
            .then(|| started.elapsed().as_secs_f64() / fresh as f64 * (total - done) as f64);
        (self.emit)(Event::Progress {
            stage,
            done,
            total,
            eta_seconds: eta,
        });
    }
}

/// Weights and optimizer state of one stage, with its progress, in one atomic file.
pub(super) fn save_checkpoint<M: Serialize>(
    file: &std::path::Path,
    vs: &tch::nn::VarStore,
    adam: &Adam,
    meta: &M,
) -> anyhow::Result<()> {
    let mut tensors = checkpoint::named_vars(vs, "model.");
    tensors.extend(adam.state("adam."));
    checkpoint::save(file, tensors, meta)
}

/// Stage-1 losses waiting to be read back from the device: one copy every `EVERY` steps and
/// at an epoch's end, instead of a read per step that would make a GPU wait for each step.
/// A non-finite loss is therefore caught up to `EVERY` − 1 steps late; the last good
/// checkpoint is an epoch's end either way.
pub(super) struct LossReadback {
    pending: Vec<(Tensor, [bool; 4], usize, usize, usize)>,
}

impl LossReadback {
    pub(super) const EVERY: usize = 10;

    pub(super) fn new() -> Self {
        Self {
            pending: Vec::new(),
        }
    }

    /// Queues step (`epoch`, `step`, `global`)'s loss terms.
    pub(super) fn push(&mut self, loss: &StepLoss, epoch: usize, step: usize, global: usize) {
        let (values, present) = loss.packed();
        self.pending.push((values, present, epoch, step, global));
    }

    /// Whether to read back now: every `EVERY` steps, and at the end of an epoch.
    pub(super) fn due(&self, epoch_end: bool) -> bool {
        epoch_end || self.pending.len() >= Self::EVERY
    }

    /// Reads every queued step back in one copy, stops on a non-finite loss, records the rest.
    pub(super) fn flush(&mut self, t: &mut Trainer) -> Res<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows: Vec<Tensor> = self.pending.iter().map(|p| p.0.shallow_clone()).collect();
        let values: Vec<f32> = Vec::try_from(
            &Tensor::stack(&rows, 0)
                .to_device(tch::Device::Cpu)
                .view([-1]),
        )
        .map_err(anyhow::Error::from)?;
        for ((_, present, epoch, step, global), v) in self.pending.drain(..).zip(values.chunks(5)) {
            let terms = unpack(v, present);
            t.check_finite(&terms, format!("stage 1, epoch {epoch}, step {step}"))?;
            t.record(LossPoint {
                stage: Stage::One,
                epoch,
                step,
                global_step: global,
                terms,
            });
        }
        Ok(())
    }
}
