//! The background worker: events, pause/resume, cancel within a step, exact resume from a
//! checkpoint, and a clean stop on a non-finite loss.
mod common;
use icicle_explorer::config::{Config, Preset};
use icicle_explorer::data::Dataset;
use icicle_explorer::messages::{Command, Event, Job, Stage};
use icicle_explorer::priority::Priority;
use icicle_explorer::worker::Worker;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn digits() -> Arc<Dataset> {
    common::builtin("digits")
}

fn tiny() -> Config {
    let mut c = Config::preset(Preset::Default, 10);
    c.small_width = 8;
    c.ae_hidden = [32, 32, 64];
    c.batch = 256;
    c.epochs = 2;
    c.iterations = 4;
    c.eval_every = 2;
    c.checkpoint_every = 2;
    c.kmeans_restarts = 2;
    c.device = icicle_explorer::runtime::DeviceChoice::Cpu;
    c
}

/// (stage, global step, total loss) of every loss event, and the final event.
type Trace = (Vec<(Stage, usize, f64)>, Event);

fn run(
    worker: &Worker,
    ds: &Arc<Dataset>,
    cfg: &Config,
    dir: &Path,
    resume: bool,
    mut on: impl FnMut(&Event, &Worker),
) -> Trace {
    worker.send(Command::Start(Box::new(Job {
        dataset: ds.clone(),
        config: cfg.clone(),
        run_dir: dir.to_path_buf(),
        resume,
        feature_cache: None,
        correct_from: None,
    })));
    let mut losses = vec![];
    loop {
        let ev = worker
            .events
            .recv_timeout(Duration::from_secs(300))
            .expect("worker answers");
        on(&ev, worker);
        match ev {
            Event::Loss(p) => losses.push((p.stage, p.global_step, p.terms.total)),
            e @ (Event::Finished(_) | Event::Cancelled { .. } | Event::Failed(_)) => {
                return (losses, e);
            }
            _ => {}
        }
    }
}

#[test]
fn a_run_reports_every_stage_and_writes_its_directory() {
    let _one = common::rng_turn();
    let ds = digits();
    let dir = tempfile::tempdir().unwrap();
    let w = Worker::spawn(Priority::Normal, || {});
    let mut stages = vec![];
    let mut graphs = vec![];
    let mut metrics = 0;
    let mut features = None;
    let (losses, end) = run(&w, &ds, &tiny(), dir.path(), false, |e, _| match e {
        Event::StageChanged { stage, .. } => stages.push(*stage),
        // The features arrive before stage 2 starts, so the app can map them meanwhile.
        Event::Features { features: f, dim } => {
            assert_eq!(stages.last(), Some(&Stage::Graphs));
            features = Some((f.clone(), *dim));
        }
        Event::Graph { scale, stats } => graphs.push((*scale, stats.k, stats.purity.is_some())),
        Event::Metrics(_) => metrics += 1,
        _ => {}
    });
    let Event::Finished(r) = end else {
        panic!("run did not finish")
    };
    assert_eq!(stages, vec![Stage::One, Stage::Graphs, Stage::Two]);
    assert_eq!(graphs, vec![("a", 1, true), ("b", 10, true)]);
    assert_eq!(
        losses.iter().filter(|l| l.0 == Stage::One).count(),
        2 * (1797 / 256)
    );
    assert_eq!(losses.iter().filter(|l| l.0 == Stage::Two).count(), 4);
    assert!(
        metrics >= 2 + 3 * 3,
        "stage-1 epochs and three stage-2 heads at iterations 1, 2, 4"
    );
    assert_eq!(r.clusters.len(), 1797);
    assert!(r.scores.is_some());
    assert_eq!(
        features,
        Some((r.features.clone(), r.feature_dim)),
        "the early features are the final ones"
    );
    for f in [
        "config.toml",
        "data.json.absent",
        "losses.csv",
        "metrics.json",
        "assignments.csv",
        "confusion.csv",
        "features.npy",
        "graphs.json",
        "checkpoints/stage1.safetensors",
        "checkpoints/stage2.safetensors",
    ] {
        if let Some(f) = f.strip_suffix(".absent") {
            assert!(!dir.path().join(f).exists());
        } else {
            assert!(dir.path().join(f).exists(), "{f}");
        }
    }
    let losses_csv = std::fs::read_to_string(dir.path().join("losses.csv")).unwrap();
    assert_eq!(losses_csv.lines().count(), 1 + 14 + 4);
    let saved =
        Config::from_toml(&std::fs::read_to_string(dir.path().join("config.toml")).unwrap())
            .unwrap();
    assert_eq!(saved, tiny(), "config.toml reproduces the run");
}

#[test]
fn pause_resume_cancel_and_exact_resume_from_checkpoint() {
    let _one = common::rng_turn();
    let ds = digits();
    let w = Worker::spawn(Priority::Normal, || {});
    let full = tempfile::tempdir().unwrap();
    let (straight, end) = run(&w, &ds, &tiny(), full.path(), false, |_, _| {});
    assert!(matches!(end, Event::Finished(_)));

    // Pause at the first step's loss, resume, then cancel once epoch 1 is checkpointed and
    // the run has resumed. Losses are read back in batches, so the pause may be answered
    // only after epoch 1's evaluation: the cancel waits for the resume, or it would end the
    // pause instead.
    let part = tempfile::tempdir().unwrap();
    let mut paused = false;
    let mut resumed = false;
    let mut evaluated = false;
    let (first, end) = run(&w, &ds, &tiny(), part.path(), false, |e, w| match e {
        Event::Loss(p) if p.global_step == 1 && !paused => {
            w.send(Command::Pause);
            paused = true;
        }
        Event::Paused => w.send(Command::Resume),
        Event::Resumed => {
            resumed = true;
            if evaluated {
                w.send(Command::Cancel)
            }
        }
        Event::Assignments {
            stage: Stage::One, ..
        } if !evaluated => {
            evaluated = true;
            if resumed {
                w.send(Command::Cancel)
            }
        }
        _ => {}
    });
    assert!(resumed);
    let Event::Cancelled {
        checkpoint: Some(ck),
    } = end
    else {
        panic!("expected a cancel with a checkpoint")
    };
    assert!(ck.ends_with("checkpoints/stage1.safetensors"));
    let steps = 1797 / 256;
    assert!(
        first.len() <= steps + 1,
        "cancel stops within one step: {} losses",
        first.len()
    );
    assert_eq!(
        &first[..steps],
        &straight[..steps],
        "the same seed gives the same epoch 1"
    );

    // Resuming gives exactly the uninterrupted run's losses from epoch 2 on.
    let (rest, end) = run(&w, &ds, &tiny(), part.path(), true, |_, _| {});
    assert!(matches!(end, Event::Finished(_)));
    assert_eq!(
        rest.first().map(|l| (l.0, l.1)),
        Some((Stage::One, steps + 1))
    );
    assert_eq!(
        rest.as_slice(),
        &straight[steps..],
        "same losses after resume"
    );
}

#[test]
fn a_non_finite_loss_stops_the_run_and_keeps_the_last_checkpoint() {
    let _one = common::rng_turn();
    let ds = digits();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = tiny();
    cfg.epochs = 1;
    cfg.alpha = 1e300; // α·KL(P‖Q) overflows to +∞ at the first stage-2 iteration
    let w = Worker::spawn(Priority::Normal, || {});
    let (_, end) = run(&w, &ds, &cfg, dir.path(), false, |_, _| {});
    let Event::Failed(msg) = end else {
        panic!("expected a failure")
    };
    assert!(
        msg.contains("stage 2, iteration 1") && msg.contains("not finite"),
        "{msg}"
    );
    assert!(
        msg.contains("stage1.safetensors") && msg.contains("kept"),
        "{msg}"
    );
    assert!(dir.path().join("checkpoints/stage1.safetensors").exists());
    assert!(!dir.path().join("checkpoints/stage2.safetensors").exists());
}

#[test]
fn invalid_config_fails_with_the_field_name() {
    let ds = digits();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = tiny();
    cfg.k_b = 5000;
    let w = Worker::spawn(Priority::Normal, || {});
    let (_, end) = run(&w, &ds, &cfg, dir.path(), false, |_, _| {});
    let Event::Failed(msg) = end else {
        panic!("expected a failure")
    };
    assert!(msg.contains("k_b = 5000"), "{msg}");
}

/// A full disk while a checkpoint is written: the run stops with an ordinary error naming the
/// file and the space it needed, the previous checkpoint still loads, no temporary file is
/// left, and the process lives on (libtorch's own writer used to abort it).
#[test]
fn a_full_disk_during_a_checkpoint_is_an_error_and_keeps_the_last_one() {
    let _one = common::rng_turn();
    let ds = digits();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = tiny();
    cfg.epochs = 1;
    let w = Worker::spawn(Priority::Normal, || {});
    let (_, end) = run(&w, &ds, &cfg, dir.path(), false, |_, _| {});
    assert!(matches!(end, Event::Finished(_)));
    let ck = dir.path().join("checkpoints/stage1.safetensors");
    let size = std::fs::metadata(&ck).unwrap().len();
    let small = std::fs::metadata(dir.path().join("losses.csv"))
        .unwrap()
        .len()
        * 4;
    assert!(
        small.max(20_000) < size / 2,
        "{small} vs a {size}-byte checkpoint"
    );
    // One more stage-1 epoch, on a disk that takes no file larger than half a checkpoint.
    cfg.epochs = 2;
    icicle_explorer::atomic::fail_writes_after(Some(size / 2));
    let (_, end) = run(&w, &ds, &cfg, dir.path(), true, |_, _| {});
    icicle_explorer::atomic::fail_writes_after(None);
    let Event::Failed(msg) = end else {
        panic!("expected a failure")
    };
    assert!(
        msg.contains("cannot write checkpoint")
            && msg.contains("stage1.safetensors")
            && msg.contains("MB needed")
            && msg.contains("No space left"),
        "{msg}"
    );
    let (_, meta): (_, serde_json::Value) =
        icicle_explorer::train::checkpoint::load(&ck, tch::Device::Cpu).unwrap();
    assert_eq!(meta["epochs_done"], 1, "the epoch-1 checkpoint is intact");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The same worker trains again once there is room.
    let (_, end) = run(&w, &ds, &cfg, dir.path(), true, |_, _| {});
    assert!(matches!(end, Event::Finished(_)));
}

/// A run folder is locked while a process trains in it: a second one gets a clear error
/// naming the holder, and a lock left by a process that has ended is taken over.
#[test]
fn a_busy_run_folder_is_refused_naming_its_holder_and_a_dead_holder_is_taken_over() {
    use icicle_explorer::runlock::{FILE, RunLock};
    let dir = tempfile::tempdir().unwrap();
    let held = RunLock::acquire(dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    let err = RunLock::acquire(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("is in use") && err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    // Another process on the same folder (the CLI resuming it) is refused the same way.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_icicle"))
        .args(["train", "--dataset", "digits", "--set", "epochs=1", "--out"])
        .arg(dir.path())
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the second process trained");
    assert!(stderr.contains("is in use"), "{stderr}");
    drop(held);
    // A holder that died (its text left behind, no lock held) is taken over.
    std::fs::write(
        dir.path().join(FILE),
        "pid 999999, icicle train, since then",
    )
    .unwrap();
    let taken = RunLock::acquire(dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    drop(taken);
    // A training process killed mid-run (SIGKILL: no clean-up) leaves the folder free.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_icicle"))
        .args(["train", "--dataset", "digits", "--out"])
        .arg(dir.path())
        .env_remove("LD_LIBRARY_PATH")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mine = format!("pid {},", child.id());
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(dir.path().join(FILE)).is_ok_and(|t| t.starts_with(&mine)) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the child never locked"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(RunLock::acquire(dir.path()).is_err(), "held by the child");
    child.kill().unwrap();
    child.wait().unwrap();
    RunLock::acquire(dir.path()).expect("a killed holder's lock is taken over");
}
