//! A retrain with corrections (issue 19): stage 2 continues from a finished run with the
//! person's corrections; corrected images end where the person put them, a must-link group in
//! one cluster, an excluded image out of its cluster (apart from the images required there),
//! cluster numbers and names stay, and a contradiction is refused before anything trains.
mod common;
use icicle_explorer::config::{Config, Preset, fit_to_data};
use icicle_explorer::correct::{Corrections, ImageFact};
use icicle_explorer::data::{Dataset, Progress};
use icicle_explorer::messages::{Command, CorrectFrom, Event, Job, RunResult};
use icicle_explorer::priority::Priority;
use icicle_explorer::rundir::{DataRecord, SavedRun};
use icicle_explorer::worker::Worker;
use std::path::Path;
use std::sync::Arc;

fn digits() -> Arc<Dataset> {
    common::builtin("digits")
}

/// The default preset as it fits digits, cut short: a finished run in seconds.
fn short(ds: &Dataset) -> Config {
    let mut c = Config::preset(Preset::Default, 10);
    fit_to_data(&mut c, ds.shape(), false);
    // Enough for clusters that are not near ties (a 3-epoch run had two clusters so alike
    // that 7 forced images could flip their one-to-one matching).
    c.epochs = 8;
    c.iterations = 40;
    c.correct_iterations = 20;
    c.eval_every = 10;
    c.checkpoint_every = 10;
    c.kmeans_restarts = 2;
    c.device = icicle_explorer::runtime::DeviceChoice::Cpu;
    c
}

fn run(w: &Worker, job: Job) -> Result<Box<RunResult>, String> {
    w.send(Command::Start(Box::new(job)));
    loop {
        match w.events.recv().unwrap() {
            Event::Finished(r) => return Ok(r),
            Event::Failed(e) => return Err(e),
            Event::Cancelled { .. } => return Err("cancelled".into()),
            Event::Info(i) => eprintln!("{i}"),
            _ => {}
        }
    }
}

/// The run to correct: the short default on digits, reopenable (data.json names digits).
fn first_run(w: &Worker, ds: &Arc<Dataset>, cfg: &Config, dir: &Path) -> Box<RunResult> {
    DataRecord::registry(Some("digits".into()))
        .write(dir)
        .unwrap();
    run(w, job(ds, cfg, dir, None)).unwrap()
}

/// A retrain of the run in `source` with `corr`, into `dir`.
fn retrain(
    w: &Worker,
    ds: &Arc<Dataset>,
    cfg: &Config,
    dir: &Path,
    source: &Path,
    corr: &Corrections,
) -> Result<Box<RunResult>, String> {
    let from = CorrectFrom {
        source: source.to_path_buf(),
        corrections: corr.clone(),
    };
    run(w, job(ds, cfg, dir, Some(from)))
}

fn job(ds: &Arc<Dataset>, cfg: &Config, dir: &Path, from: Option<CorrectFrom>) -> Job {
    Job {
        dataset: ds.clone(),
        config: cfg.clone(),
        run_dir: dir.to_path_buf(),
        resume: false,
        feature_cache: None,
        correct_from: from.map(Box::new),
    }
}

#[test]
fn a_retrain_puts_every_correction_where_the_person_said_and_keeps_numbers_and_names() {
    let _turn = common::rng_turn();
    let ds = digits();
    let cfg = short(&ds);
    let root = tempfile::tempdir().unwrap();
    let (before_dir, after_dir) = (root.path().join("before"), root.path().join("after"));
    let w = Worker::spawn(Priority::Normal, || {});
    let before = first_run(&w, &ds, &cfg, &before_dir);
    let prev = before.clusters.clone();
    let items = &ds.items;

    // Three images from other clusters moved to cluster `y`, one more to `z`; an image of
    // `z` excluded from it (so it must end apart from the one required there); two images of
    // different clusters kept together; `y` named.
    let (y, z) = (0i64, prev.iter().copied().find(|&c| c != 0).unwrap());
    let others: Vec<usize> = (0..prev.len())
        .filter(|&i| prev[i] != y && prev[i] != z)
        .collect();
    let moved = [others[0], others[1], others[2]];
    let to_z = others[3];
    let excluded = (0..prev.len()).find(|&i| prev[i] == z).unwrap();
    let pair = [
        others[4],
        *others[5..]
            .iter()
            .find(|&&i| prev[i] != prev[others[4]])
            .unwrap(),
    ];
    let mut corr = Corrections::default();
    corr.move_to(&moved, y as usize, items);
    corr.move_to(&[to_z], z as usize, items);
    corr.not_in(&[excluded], z as usize, items);
    corr.keep_together(&pair, items);
    corr.rename(y as usize, "my sevens");

    let after = retrain(&w, &ds, &cfg, &after_dir, &before_dir, &corr).unwrap();
    let c = &after.clusters;
    for &i in &moved {
        assert_eq!(c[i], y, "moved image {} stays where it was put", items[i]);
    }
    assert_eq!(c[to_z], z);
    assert_ne!(c[excluded], z, "an excluded image leaves the cluster");
    assert_ne!(c[excluded], c[to_z], "the cannot-link pair ends apart");
    assert_eq!(
        c[pair[0]], c[pair[1]],
        "a must-link group ends in one cluster"
    );
    // Numbers stay: keeping every number is a best one-to-one matching of the clusters before
    // and after (it keeps as many images together as any renumbering would; clusters a short
    // run leaves nearly empty may tie).
    let mut counts = vec![vec![0usize; 10]; 10];
    for (&p, &n) in prev.iter().zip(c) {
        counts[p as usize][n as usize] += 1;
    }
    let matched = icicle_explorer::metrics::match_clusters(&prev, c, 10);
    let best: usize = (0..10).map(|r| counts[r][matched[r]]).sum();
    let kept: usize = (0..10).map(|r| counts[r][r]).sum();
    assert_eq!(
        kept,
        best,
        "numbering {matched:?}; answer before: {:?}",
        before.final_answer.as_ref().map(|a| &a.chosen)
    );
    // Reopened: the new folder is a run of its own, with the corrections and names.
    let saved = SavedRun::read(&after_dir).unwrap();
    assert_eq!(&saved.clusters, c);
    // Confidences are read off the clusters it ends with, on the retrain's own graph b.
    let ((x, dim), (_, kb)) = (
        saved.features.clone().unwrap(),
        saved.neighbours.clone().unwrap(),
    );
    let x = tch::Tensor::from_slice(&x).view([c.len() as i64, dim as i64]);
    let expected = icicle_explorer::metrics::confidence(&x, c, 10, &kb);
    for (a, b) in saved.confidence.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    assert_eq!(Corrections::read_run(&after_dir).unwrap(), corr);
    let csv = std::fs::read_to_string(after_dir.join("assignments.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "path,cluster,confidence,label,cluster_name,corrected"
    );
    let row = lines.nth(moved[0]).unwrap();
    assert!(row.ends_with(",my sevens,true"), "{row}");
    // Names reach the folder export.
    let dest = root.path().join("export");
    icicle_explorer::export::export_cluster_folders(&ds, c, &dest, &corr.names, &Progress::none())
        .unwrap();
    assert!(dest.join("cluster_00 my sevens").is_dir());
    // An unnamed cluster's folder is its number alone (a short run may leave some empty).
    let unnamed = (1..10).find(|k| c.contains(k)).unwrap();
    assert!(dest.join(format!("cluster_{unnamed:02}")).is_dir());

    // A contradiction is refused, naming the image, before anything trains.
    let mut bad = Corrections::default();
    let i = moved[0];
    bad.images.insert(
        i,
        ImageFact {
            index: i,
            path: items[i].clone(),
            cluster: Some(1),
            not_in: [1].into(),
            group: None,
        },
    );
    let refused_dir = root.path().join("refused");
    let err = retrain(&w, &ds, &cfg, &refused_dir, &before_dir, &bad).unwrap_err();
    assert!(
        err.contains("contradiction") && err.contains(&items[i]),
        "{err}"
    );
    assert!(!refused_dir.exists(), "nothing was written");
}

/// Retrains a short digits run whose saved answer `edit` rewrites, and checks that the
/// retrain answers with the run's answer, the corrections spread by the preview, saying
/// `because`.
fn retrained_into_its_answer_spread(edit: impl Fn(&mut serde_json::Value), because: &str) {
    let _turn = common::rng_turn();
    let ds = digits();
    let cfg = short(&ds);
    let root = tempfile::tempdir().unwrap();
    let (before_dir, after_dir) = (root.path().join("before"), root.path().join("after"));
    let w = Worker::spawn(Priority::Normal, || {});
    first_run(&w, &ds, &cfg, &before_dir);
    let metrics = before_dir.join("metrics.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metrics).unwrap()).unwrap();
    edit(&mut m["final_answer"]);
    std::fs::write(&metrics, m.to_string()).unwrap();
    let saved = SavedRun::read(&before_dir).unwrap();
    let prev = saved.clusters.clone();
    let knn_b = saved.neighbours.clone().unwrap().1;

    let mut corr = Corrections::default();
    let moved: Vec<usize> = (0..prev.len()).filter(|&i| prev[i] != 3).take(5).collect();
    corr.move_to(&moved, 3, &ds.items);
    let after = retrain(&w, &ds, &cfg, &after_dir, &before_dir, &corr).unwrap();
    let fa = after.final_answer.as_ref().unwrap();
    assert_eq!(fa.chosen, "spread", "{}", fa.why);
    assert!(fa.why.contains(because), "{}", fa.why);
    let x = icicle_explorer::correct::Features::of_run(
        saved.features.as_ref().map(|(x, dim)| (x.as_slice(), *dim)),
        saved.answer.as_ref(),
        10,
        saved.config.answer_min_modularity,
    );
    let spread = icicle_explorer::correct::preview(&knn_b, &prev, 10, &corr, x).clusters;
    assert_eq!(after.clusters, spread, "the answer is the preview");
    assert!(moved.iter().all(|&i| after.clusters[i] == 3));
}

/// Where the run answered with K-means because its k-NN graph was weak, the retrain keeps
/// that answer and spreads the corrections over it with the preview, instead
/// of answering with a retrained graph head.
#[test]
fn a_run_answered_by_the_weak_graph_gate_is_retrained_into_its_answer_spread() {
    retrained_into_its_answer_spread(
        |fa| {
            fa["rule"] = icicle_explorer::train::answer::RULE_WEAK_GRAPH.into();
            fa["chosen"] = "kmeans".into();
        },
        "too weak",
    );
}

/// Where the run answered with a head its merge–split refinement changed, the retrained head
/// (raw, unrefined) is not the answer: the run's answer with the corrections spread is.
#[test]
fn a_run_answered_by_a_refined_head_is_retrained_into_its_answer_spread() {
    retrained_into_its_answer_spread(
        |fa| {
            fa["rule"] = icicle_explorer::train::answer::RULE.into();
            fa["chosen"] = "stream-a".into();
            for c in fa["candidates"].as_array_mut().unwrap() {
                if c["name"] == "stream-a" {
                    c["refined"] = "merged 1+2 and split 0".into();
                }
            }
        },
        "refined after training",
    );
}
