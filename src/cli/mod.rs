//! The `icicle` command line: the same engine as the app, headless.
mod ablate;
mod baseline;
mod bench;
mod bench_corrections;
mod bench_decode;
mod bench_scale;
mod bench_train;
mod cache;
pub mod correct;
pub mod data_args;
mod datasets;
mod eval;
mod gui;
mod more_like;
mod progress_bar;
pub mod runs;
mod suggest_k;
mod train;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "icicle",
    about = "Cluster images with IcicleGCN and inspect the result"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The desktop app (also what `icicle` with no command opens).
    Gui(Box<gui::GuiArgs>),
    /// libtorch version, CUDA availability and the device that will be used.
    Info,
    /// The dataset registry, and which datasets are available on this machine.
    Datasets(datasets::DatasetsArgs),
    /// K-means on raw pixels: the baseline every learned clustering should beat.
    Baseline(baseline::BaselineArgs),
    /// Train IcicleGCN (stage 1, graphs, stage 2) and write a run directory.
    Train(train::TrainArgs),
    /// Retrain a finished run with a person's corrections (stage 2 only; a new run folder).
    Correct(correct::CorrectArgs),
    /// The images most like some moved ones, as the app's "More like these" lists them.
    MoreLike(more_like::MoreLikeArgs),
    /// Recompute a run's metrics from its assignments.csv (label-free ones from features.npy).
    Eval(eval::EvalArgs),
    /// Help choosing K: sweep K and score each value without labels.
    SuggestK(suggest_k::SuggestKArgs),
    /// The run folders under a runs directory, with their scores, side by side.
    Runs(runs::RunsArgs),
    /// The full method and the paper's ablations (Tables 4–6) on one dataset.
    Ablate(ablate::AblateArgs),
    /// What the cache of decoded folders and frozen features holds; `--clear` empties it.
    Cache(cache::CacheArgs),
    /// Speed benchmarks.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// `--version` also names the libtorch in use and whether CUDA is there.
fn version() -> String {
    format!(
        "{} (libtorch {}, CUDA {})",
        env!("CARGO_PKG_VERSION"),
        crate::runtime::libtorch_version(),
        if tch::Cuda::is_available() {
            "available"
        } else {
            "not available"
        }
    )
}

pub fn parse() -> Cli {
    let version: &'static str = Box::leak(version().into_boxed_str());
    let matches = Cli::command().version(version).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

pub fn run(cli: Cli) -> Result<()> {
    // Commands that train on a worker thread keep torch on one thread here, so the training
    // thread's OpenMP team is the only one the process keeps (`crate::threads`).
    if matches!(
        cli.command,
        Some(
            Command::Train(_)
                | Command::Correct(_)
                | Command::Gui(_)
                | Command::Bench(
                    bench::BenchCommand::Quality(_)
                        | bench::BenchCommand::Scale(_)
                        | bench::BenchCommand::Corrections(_)
                )
        ) | None
    ) {
        crate::threads::single_threaded();
    }
    match cli.command {
        Some(Command::Info) => {
            println!("icicle {}", env!("CARGO_PKG_VERSION"));
            println!("{}", crate::runtime::summary());
            Ok(())
        }
        Some(Command::Datasets(a)) => datasets::run(&a),
        Some(Command::Baseline(a)) => baseline::run(&a),
        Some(Command::Train(a)) => train::run(&a),
        Some(Command::Correct(a)) => correct::run(&a),
        Some(Command::Eval(a)) => eval::run(&a),
        Some(Command::MoreLike(a)) => more_like::run(&a),
        Some(Command::SuggestK(a)) => suggest_k::run(&a),
        Some(Command::Runs(a)) => runs::run(&a),
        Some(Command::Ablate(a)) => ablate::run(&a),
        Some(Command::Bench(b)) => bench::run(&b),
        Some(Command::Cache(a)) => cache::run(&a),
        Some(Command::Gui(a)) => gui::run(&a),
        // With no command: the app, on the remembered (first time: the default) dataset.
        None => gui::run(&gui::GuiArgs::default()),
    }
}
