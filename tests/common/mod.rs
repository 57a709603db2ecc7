//! Helpers shared by the integration tests: a built-in dataset loaded whole, and a training
//! run to its end on a fresh worker.
#![allow(dead_code)] // each test binary uses its own subset
use icicle_explorer::config::Config;
use icicle_explorer::data::{Dataset, LoadOptions, Progress, Registry, load_entry};
use icicle_explorer::messages::{Command, Event, Job, RunResult};
use icicle_explorer::priority::Priority;
use icicle_explorer::worker::Worker;
use std::path::Path;
use std::sync::Arc;

/// libtorch's random generator is one per process: tests of one binary that seed it (every
/// training does) take turns, so that another test's draws cannot interleave with theirs.
pub fn rng_turn() -> std::sync::MutexGuard<'static, ()> {
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    RNG.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether `f` leaves libtorch's process-wide generator where a training seeded it: the draws
/// after it are those a training would have made without it. (Hold `rng_turn` around it.)
pub fn leaves_the_generator_alone(f: impl FnOnce()) -> bool {
    use tch::{Device, Kind, Tensor};
    tch::manual_seed(99);
    let expected = Tensor::randn([4], (Kind::Float, Device::Cpu));
    tch::manual_seed(99);
    f();
    Tensor::randn([4], (Kind::Float, Device::Cpu)).equal(&expected)
}

/// A built-in dataset ("digits", …) loaded whole.
pub fn builtin(name: &str) -> Arc<Dataset> {
    Arc::new(load_builtin(name))
}

/// A built-in dataset loaded whole, owned (to cut down or change).
pub fn load_builtin(name: &str) -> Dataset {
    let r = Registry::builtin().unwrap();
    load_entry(
        r.get(name).unwrap(),
        &LoadOptions::default(),
        &Progress::none(),
    )
    .unwrap()
}

/// The first `n` images of a built-in dataset.
pub fn builtin_first(name: &str, n: usize) -> Dataset {
    let mut d = load_builtin(name);
    d.truncate(n);
    d
}

/// Trains `cfg` on `ds` into `dir` on a fresh worker; panics unless the run finishes.
pub fn train_to_end(ds: &Arc<Dataset>, cfg: Config, dir: &Path) -> Box<RunResult> {
    let w = Worker::spawn(Priority::Normal, || {});
    w.send(Command::Start(Box::new(Job {
        dataset: ds.clone(),
        config: cfg,
        run_dir: dir.to_path_buf(),
        resume: false,
        feature_cache: None,
        correct_from: None,
    })));
    loop {
        match w.events.recv().unwrap() {
            Event::Finished(r) => return r,
            Event::Failed(e) => panic!("{e}"),
            Event::Cancelled { .. } => panic!("cancelled"),
            _ => {}
        }
    }
}

/// A final-answer candidate of these clusters, every image fully confident.
pub fn candidate(name: &str, clusters: Vec<i64>) -> icicle_explorer::train::answer::Candidate {
    let n = clusters.len();
    icicle_explorer::train::answer::Candidate {
        name: name.into(),
        clusters,
        confidence: vec![1.0; n],
        refined: None,
    }
}
