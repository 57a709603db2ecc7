//! `icicle correct`: retrain a finished run with a person's corrections (corrections.json),
//! headless, on the same worker the app uses; the result is a new run folder.
use super::data_args::{self, DataArgs};
use crate::config::{Config, apply_override};
use crate::correct::Corrections;
use crate::messages::{Command, CorrectFrom, Job};
use crate::priority::Priority;
use crate::rundir::DataRecord;
use crate::worker::Worker;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct CorrectArgs {
    /// The finished run folder to correct.
    pub run: PathBuf,
    /// The corrections (corrections.json; default: the run folder's own).
    #[arg(long, value_name = "FILE")]
    pub corrections: Option<PathBuf>,
    /// The new run folder (default: runs/<dataset>-corrected-<time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Change one setting of the run's config, e.g. --set correct_iterations=100.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

pub fn run(a: &CorrectArgs) -> Result<()> {
    let (job, cfg) = job(a)?;
    let name = job.dataset.name.clone();
    let worker = Worker::spawn(Priority::Normal, || {});
    worker.send(Command::Start(Box::new(job)));
    super::train::report(&worker, &cfg, &name)
}

/// The retrain's job: the run's data and config (plus `--set`), its corrections checked
/// against its images before anything trains.
pub fn job(a: &CorrectArgs) -> Result<(Job, Config)> {
    let rec = DataRecord::read(&a.run)
        .with_context(|| format!("{} is not a finished run folder", a.run.display()))?;
    let data = DataArgs {
        source: rec.into(),
        registry: None,
        no_cache: false,
    };
    let ds = Arc::new(data.load()?);
    let cfg_path = a.run.join("config.toml");
    let text = std::fs::read_to_string(&cfg_path)
        .with_context(|| format!("cannot read {}", cfg_path.display()))?;
    let mut cfg = Config::from_toml(&text).with_context(|| cfg_path.display().to_string())?;
    for s in &a.sets {
        cfg = apply_override(&cfg, s)?;
    }
    cfg.validate(ds.len())?;
    let file = a
        .corrections
        .clone()
        .unwrap_or_else(|| a.run.join(crate::correct::facts::FILE));
    let corrections = Corrections::read(&file)?;
    corrections
        .validate(&ds.items, cfg.clusters)
        .with_context(|| file.display().to_string())?;
    let run_dir = a
        .out
        .clone()
        .unwrap_or_else(|| data_args::default_run_dir(&ds, "-corrected"));
    Ok((
        Job {
            dataset: ds,
            config: cfg.clone(),
            run_dir,
            resume: false,
            feature_cache: None,
            correct_from: Some(Box::new(CorrectFrom {
                source: a.run.clone(),
                corrections,
            })),
        },
        cfg,
    ))
}
