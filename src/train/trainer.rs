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
use crate::threads::{ComputeTurn, TrainingSlot};
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
    /// Registered among the trainings on this machine, which take turns.
    slot: TrainingSlot,
    /// Held from one `poll` to the next on a CPU (`None`: on a GPU, no turns).
    turn: Option<ComputeTurn>,
    /// Trainings on the machine at the last count, and when it was taken.
    others: usize,
    counted: Instant,
    told_turns: bool,
}

/// How often a run counts the trainings on the machine.
const COUNT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a training keeps the compute turn while others wait. Each hand-over costs the
/// next holder a slower first step (the last holder's OpenMP workers still spin, its caches
/// are cold): measured on digits, turns of one step made each of two runs 2.5× slower than
/// alone, where the arithmetic alone would make it 2×.
const TURN_SLICE: std::time::Duration = std::time::Duration::from_millis(250);
/// How long a training that gave its turn up waits before taking it again when others run.
const TURN_BACKOFF: std::time::Duration = std::time::Duration::from_millis(2);

impl<'a> Trainer<'a> {
    pub(super) fn new(
        job: &'a Job,
        cfg: &'a Config,
        rx: &'a Receiver<Command>,
        emit: &'a dyn Fn(Event),
    ) -> Self {
        let slot = TrainingSlot::take();
        let threads = crate::threads::training_threads(cfg.threads);
        tch::set_num_threads(threads as i32);
        let on_cpu = cfg.device.resolve().is_ok_and(|d| d == tch::Device::Cpu);
        let others = slot.running() - 1;
        if on_cpu {
            emit(Event::Info(format!(
                "computing on {threads} of {} cores{}",
                crate::threads::cores(),
                if others > 0 {
                    format!(
                        ", taking turns of 0.25 s with {others} other training(s) on this machine"
                    )
                } else {
                    String::new()
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
            turn: on_cpu.then(ComputeTurn::open),
            others,
            counted: Instant::now(),
            told_turns: others > 0,
        }
    }

    /// Handles commands without waiting; `Err` on a cancel.
    fn commands(&mut self) -> Res<()> {
        while let Ok(cmd) = self.rx.try_recv() {
            match cmd {
                Command::Cancel => {
                    return Err(Stop::Cancelled {
                        checkpoint: self.last_checkpoint.clone(),
                    });
                }
                Command::Pause => {
                    // A paused run leaves the machine to the others.
                    if let Some(t) = self.turn.as_mut() {
                        t.release();
                    }
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

    /// Between two steps: gives the machine's compute turn up once held for a slice while
    /// others wait, handles commands (blocking while paused, turn given up), and takes the
    /// turn again, answering commands while it waits.
    pub(super) fn poll(&mut self) -> Res<()> {
        if self.counted.elapsed() >= COUNT_EVERY {
            self.counted = Instant::now();
            self.others = self.slot.running() - 1;
            if self.others > 0 && !self.told_turns && self.turn.is_some() {
                (self.emit)(Event::Info(format!(
                    "{} other training(s) on this machine: taking turns of 0.25 s",
                    self.others
                )));
                self.told_turns = true;
            }
        }
        let Some(turn) = self.turn.as_mut() else {
            return self.commands();
        };
        if self.others > 0 && turn.held_for() >= TURN_SLICE {
            turn.release();
            // Long enough for a waiting training (it tries every millisecond) to take the turn.
            std::thread::sleep(TURN_BACKOFF);
        }
        self.commands()?;
        loop {
            let turn = self.turn.as_mut().expect("checked above");
            if turn.try_take() {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
            self.commands()?;
        }
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
