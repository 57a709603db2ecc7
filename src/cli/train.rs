//! `icicle train`: the IcicleGCN run, headless, on the same worker the app uses.
use super::data_args::{self, DataArgs};
use crate::config::{Config, Preset, apply_override};
use crate::messages::{Command, Event, Job, LossTerms, Stage};
use crate::priority::Priority;
use crate::rundir::DataRecord;
use crate::runtime::DeviceChoice;
use crate::worker::Worker;
use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The settings of a training, shared by `train` and `ablate`.
#[derive(Debug, Clone, Args)]
pub struct RunSettings {
    /// Number of clusters K (default: the dataset's number of classes).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..))]
    pub clusters: Option<u32>,
    /// reference (the released code, bugs included), paper, or default (bugs fixed, CPU-sized).
    #[arg(long, value_enum, default_value_t = Preset::Default)]
    pub preset: Preset,
    /// Change one setting, e.g. --set sigma=0.4 --set augment.blur=true (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    #[arg(long, value_enum)]
    pub device: Option<DeviceChoice>,
}

impl RunSettings {
    /// The preset for `ds`, as the default adapts it, with `--set` on top; prints what runs
    /// and why (the route probe first, for small gray images).
    pub fn fresh_config(&self, ds: &crate::data::Dataset) -> Result<Config> {
        // `--set clusters=K` says K as well as `--clusters K` (and wins, as every --set does).
        let set_k = self
            .sets
            .iter()
            .rev()
            .find_map(|s| s.strip_prefix("clusters="))
            .map(|v| {
                v.trim()
                    .parse::<u32>()
                    .with_context(|| format!("--set clusters={v}: not a whole number"))
            })
            .transpose()?;
        let k = data_args::clusters_or_classes(set_k.or(self.clusters), ds)?;
        let device = self.device.unwrap_or_default().resolve()?;
        // The probe samples with the run's seed (`--set seed=` included).
        let seed = crate::config::fitted(self.preset, k, ds.shape(), false, &self.sets)?
            .0
            .seed;
        let (shape, probe) = crate::train::probe::shape_for(
            ds,
            self.preset,
            k,
            seed,
            device,
            crate::data::cache::default_dir().as_deref(),
        )?;
        if let Some(line) = probe {
            println!("default: {line}");
        }
        let (cfg, lines) =
            crate::config::fitted(self.preset, k, shape, device.is_cuda(), &self.sets)?;
        for line in lines {
            println!("{line}");
        }
        Ok(cfg)
    }

    /// `--device` and every `--set` on top of `cfg`, then checked against the data.
    pub fn apply(&self, mut cfg: Config, items: usize) -> Result<Config> {
        if let Some(d) = self.device {
            cfg.device = d;
        }
        for s in &self.sets {
            cfg = apply_override(&cfg, s)?;
        }
        cfg.validate(items)?;
        Ok(cfg)
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub settings: RunSettings,
    /// Run directory (default: runs/<dataset>-<time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this directory from its checkpoints (its config.toml, plus --set).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["out", "preset", "clusters"])]
    pub resume: Option<PathBuf>,
}

fn data_record(dir: &Path) -> Option<DataRecord> {
    DataRecord::read(dir).ok()
}

pub fn run(a: &TrainArgs) -> Result<()> {
    let mut data = a.data.clone();
    if let (Some(dir), None) = (&a.resume, data.source.named()) {
        let rec = data_record(dir).with_context(|| {
            format!(
                "{} has no data.json: name the data with --dataset or --folder",
                dir.display()
            )
        })?;
        data.source = rec.into();
    }
    let ds = Arc::new(data.load()?);
    let (cfg, run_dir) = match &a.resume {
        Some(dir) => {
            let text = std::fs::read_to_string(dir.join("config.toml"))
                .with_context(|| format!("cannot resume: {} has no config.toml", dir.display()))?;
            let cfg = Config::from_toml(&text)
                .with_context(|| format!("{}/config.toml", dir.display()))?;
            (cfg, dir.clone())
        }
        None => {
            let dir = a
                .out
                .clone()
                .unwrap_or_else(|| data_args::default_run_dir(&ds, ""));
            (a.settings.fresh_config(&ds)?, dir)
        }
    };
    let cfg = a.settings.apply(cfg, ds.len())?;
    // A folder another process trains in is refused before its data.json is touched (the
    // worker holds the lock for the run itself).
    drop(crate::runlock::RunLock::acquire(&run_dir)?);
    data.record().write(&run_dir)?;

    let worker = Worker::spawn(Priority::Normal, || {});
    worker.send(Command::Start(Box::new(Job {
        dataset: ds.clone(),
        config: cfg.clone(),
        run_dir: run_dir.clone(),
        resume: a.resume.is_some(),
        feature_cache: crate::data::cache::default_dir(),
        correct_from: None,
    })));
    report(&worker, &cfg, &ds.name)
}

/// Prints a worker's events as they come (stages, losses per epoch and per evaluated
/// iteration, scores, the answer) until the run ends; shared by `train` and `correct`.
pub(super) fn report(worker: &Worker, cfg: &Config, ds_name: &str) -> Result<()> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg:>8} [{bar:30}] {pos}/{len} ETA {eta}")
            .expect("template")
            .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let mut epoch_terms: Vec<LossTerms> = vec![];
    let mut last_epoch = 0;
    let mut stage1_scores = None;
    let mut stage2_scores: Option<(usize, crate::metrics::Scores)> = None;
    let mut label_free: Option<crate::metrics::LabelFree> = None;
    for ev in worker.events.iter() {
        match ev {
            Event::Started {
                device,
                run_dir,
                items,
                resumed_from,
            } => {
                say(
                    &bar,
                    format!(
                        "IcicleGCN ({:?} preset) on {} ({items} images), K = {}, device {device}, run {}{}",
                        cfg.preset,
                        ds_name,
                        cfg.clusters,
                        run_dir.display(),
                        resumed_from
                            .map(|r| format!(", resumed from {r}"))
                            .unwrap_or_default()
                    ),
                );
            }
            Event::StageChanged { stage, total_steps } => {
                say(
                    &bar,
                    format!(
                        "[{:>6.1} s] {}",
                        started.elapsed().as_secs_f64(),
                        match stage {
                            Stage::Extract =>
                                "pretrained features of the augmented views (frozen backbone)",
                            Stage::One => "stage 1: backbone + ISM + JC-SLIM on augmented views",
                            Stage::Graphs => "features and k-NN graphs",
                            Stage::Two => "stage 2: M-GCN",
                        }
                    ),
                );
                bar.set_message(match stage {
                    Stage::Extract => "features",
                    Stage::One => "stage 1",
                    Stage::Graphs => "graphs",
                    Stage::Two => "stage 2",
                });
                bar.set_length(total_steps as u64);
                bar.set_position(0);
                bar.reset_eta();
            }
            Event::Loss(p) if p.stage == Stage::One => {
                if p.epoch != last_epoch {
                    epoch_terms.clear();
                    last_epoch = p.epoch;
                }
                epoch_terms.push(p.terms);
            }
            Event::Loss(p) => {
                // One line per evaluated iteration (and the last), with its scores if labelled.
                let scored = stage2_scores.take_if(|(step, _)| *step == p.step);
                if scored.is_some() || p.step % cfg.eval_every == 0 || p.step == cfg.iterations {
                    let t = &p.terms;
                    say(
                        &bar,
                        format!(
                            "stage 2 iteration {:>4}: loss {:.4} (recon {}, KL(P‖Q) {}, KL(P‖a) {}, KL(P‖b) {}){}",
                            p.step,
                            t.total,
                            fmt(t.reconstruction),
                            fmt(t.kl_q),
                            fmt(t.kl_a),
                            fmt(t.kl_b),
                            scored
                                .map(|(_, s)| scores_text(cfg.head.name(), &s))
                                .unwrap_or_default()
                        ),
                    );
                    if let Some(l) = label_free.take() {
                        say(&bar, format!("    label-free: {}", l.line()));
                    }
                }
            }
            Event::Progress { done, .. } => bar.set_position(done as u64),
            Event::LabelFree(p) => label_free = Some(p.scores),
            Event::Metrics(m) if m.stage == Stage::One => stage1_scores = Some(m.scores),
            Event::Metrics(m) => {
                let head = if cfg.no_gcn { "q" } else { cfg.head.name() };
                if m.head == head {
                    stage2_scores = Some((m.global_step, m.scores));
                }
            }
            Event::Assignments {
                stage: Stage::One, ..
            } => {
                let mean = |f: fn(&LossTerms) -> Option<f64>| {
                    let v: Vec<f64> = epoch_terms.iter().filter_map(f).collect();
                    fmt((!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64))
                };
                say(
                    &bar,
                    format!(
                        "stage 1 epoch {:>3}: loss {} (instance {}, cluster {}, entropy {}, recon {}){}",
                        last_epoch,
                        mean(|t| Some(t.total)),
                        mean(|t| t.instance),
                        mean(|t| t.cluster),
                        mean(|t| t.entropy),
                        mean(|t| t.reconstruction),
                        stage1_scores
                            .take()
                            .map(|s| scores_text("ae", &s))
                            .unwrap_or_default()
                    ),
                );
                if let Some(l) = label_free.take() {
                    say(&bar, format!("    label-free: {}", l.line()));
                }
            }
            Event::Graph { scale, stats } => say(
                &bar,
                format!(
                    "graph {scale}: k = {}, {} undirected edges, mean degree {:.2}{}",
                    stats.k,
                    stats.undirected_edges,
                    stats.mean_degree,
                    stats
                        .purity
                        .map(|p| format!(", purity {p:.4}"))
                        .unwrap_or_default()
                ),
            ),
            Event::Warning(w) => say(&bar, format!("warning: {w}")),
            Event::Info(i) => say(&bar, i),
            Event::Assignments { .. }
            | Event::Features { .. }
            | Event::Neighbours { .. }
            | Event::Paused
            | Event::Resumed => {}
            Event::Finished(r) => {
                bar.finish_and_clear();
                match r.scores {
                    Some(s) => println!(
                        "final: ACC {:.4}  NMI {:.4}  ARI {:.4}  ({:.1} s)",
                        s.acc, s.nmi, s.ari, r.wall_seconds
                    ),
                    None => println!("final: clustered without labels ({:.1} s)", r.wall_seconds),
                }
                if let Some(f) = &r.final_answer {
                    println!("answer: {} — {}", f.chosen, f.why);
                }
                println!("label-free: {}", r.label_free.line());
                println!("results in {}", r.run_dir.display());
                return Ok(());
            }
            Event::Cancelled { .. } => bail!("training was cancelled"),
            Event::Failed(e) => {
                bar.finish_and_clear();
                bail!("{e}");
            }
        }
    }
    bail!("the training thread stopped without a result")
}

/// Prints a line above the progress bar, also when the bar is hidden (no terminal).
fn say(bar: &ProgressBar, line: String) {
    bar.suspend(|| println!("{line}"));
}

fn fmt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into())
}

fn scores_text(head: &str, s: &crate::metrics::Scores) -> String {
    format!(
        "  {head} ACC {:.4} NMI {:.4} ARI {:.4}",
        s.acc, s.nmi, s.ari
    )
}
