//! `icicle train`, `icicle eval` and `--resume` end to end, and their bad-input errors.
mod common;
use std::process::{Command, Output};

fn icicle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icicle"))
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("icicle runs")
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const TINY: &[&str] = &[
    "--set",
    "small_width=8",
    "--set",
    "ae_hidden=[16, 16, 32]",
    "--set",
    "batch=256",
    "--set",
    "epochs=1",
    "--set",
    "iterations=2",
    "--set",
    "eval_every=1",
    "--set",
    "kmeans_restarts=1",
    "--device",
    "cpu",
];

/// `train --dataset digits --out RUN` with the tiny settings.
fn tiny_digits(run: &std::path::Path) -> Vec<&str> {
    let mut args = vec![
        "train",
        "--dataset",
        "digits",
        "--out",
        run.to_str().unwrap(),
    ];
    args.extend_from_slice(TINY);
    args
}

#[test]
fn train_eval_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let args = tiny_digits(&run);
    let o = icicle(&args);
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    for s in [
        "device cpu",
        "stage 1 epoch   1",
        "graph a: k = 1",
        "graph b: k = 10",
        "stage 2 iteration",
        "final: ACC",
        "label-free: silhouette",
        "head agreement",
    ] {
        assert!(text.contains(s), "'{s}' in {text}");
    }
    for f in [
        "config.toml",
        "data.json",
        "losses.csv",
        "metrics.json",
        "assignments.csv",
        "confusion.csv",
    ] {
        assert!(run.join(f).exists(), "{f}");
    }
    let cfg = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(
        cfg.contains("seed = 42") && cfg.contains("preset = \"default\""),
        "{cfg}"
    );

    // eval recomputes exactly what the run reported.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
    let acc = m["scores"]["acc"].as_f64().unwrap();
    let o = icicle(&["eval", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains(&format!("ACC {acc:.4}")),
        "{} vs {acc}",
        out(&o)
    );
    // ... and the label-free scores of the final assignment, from features.npy alone.
    let lf = &m["label_free"];
    let (sil, mod_b) = (
        lf["silhouette"].as_f64().unwrap(),
        lf["modularity_b"].as_f64().unwrap(),
    );
    assert!(
        (-1.0..=1.0).contains(&sil) && (-0.5..=1.0).contains(&mod_b),
        "{lf}"
    );
    assert!(
        out(&o).contains(&format!("silhouette {sil:.3}"))
            && out(&o).contains(&format!("modularity b {mod_b:.3}")),
        "{} vs {lf}",
        out(&o)
    );
    assert!(m["label_free_history"].as_array().unwrap().len() >= 3);

    // The final answer: chosen without labels among every candidate, K-means included; the
    // run says which and why, and a reopened run can show any candidate.
    let fa = &m["final_answer"];
    let names: Vec<&str> = fa["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names[..5],
        ["stage-1", "q", "stream-a", "stream-b", "kmeans"],
        "{fa}"
    );
    let chosen = fa["chosen"].as_str().unwrap();
    // Where smoothing the answer moved images, the smoothed answer is a candidate of its own
    // beside the one it came from, and the answer.
    if let Some(&smoothed) = names.get(5) {
        assert!(
            smoothed.ends_with("-smoothed")
                && names[..5].contains(&&smoothed[..smoothed.len() - 9])
        );
        assert_eq!(chosen, smoothed, "{fa}");
    }
    assert!(text.contains(&format!("answer: {chosen}")), "{text}");
    let chosen_acc = fa["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == chosen)
        .unwrap()["scores"]["acc"]
        .as_f64()
        .unwrap();
    assert!(
        (chosen_acc - acc).abs() < 1e-9,
        "metrics' ACC is the answer's"
    );
    let saved = icicle_explorer::rundir::SavedRun::read(&run).unwrap();
    let ds = common::load_builtin("digits");
    let cands = saved.candidates.clone().expect("candidates.json");
    let mut session = icicle_explorer::ui::session::Session::from_saved(saved, &ds);
    let shown = session.shown.expect("the chosen candidate is shown");
    assert_eq!(cands.names[shown], chosen);
    assert_eq!(session.clusters, cands.clusters[shown]);
    let km = cands.names.iter().position(|n| n == "kmeans").unwrap();
    session.show_candidate(&ds, km);
    assert_eq!(session.clusters, cands.clusters[km]);
    assert_eq!(session.shown, Some(km));

    // `icicle runs` lists it with its score.
    let o = icicle(&[
        "runs",
        "--dir",
        dir.path().to_str().unwrap(),
        "--sort",
        "acc",
    ]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("run ") && out(&o).contains(&format!("{acc:.3}")),
        "{}",
        out(&o)
    );

    // The app reopens a run from exactly these files.
    let saved = icicle_explorer::rundir::SavedRun::read(&run).unwrap();
    assert_eq!(saved.clusters.len(), 1797);
    assert_eq!(saved.confidence.len(), 1797);
    assert_eq!(saved.data.dataset.as_deref(), Some("digits"));
    assert_eq!(saved.config.seed, 42);
    assert!(saved.losses.iter().any(|l| l.terms.instance.is_some()));
    assert_eq!(
        saved
            .losses
            .iter()
            .filter(|l| l.terms.kl_a.is_some())
            .count(),
        2
    );
    assert!(!saved.metrics.is_empty());
    assert!(
        saved
            .label_free
            .iter()
            .any(|p| p.scores.modularity_b.is_some())
    );
    let (features, dim) = saved.features.expect("features.npy");
    assert_eq!(features.len(), 1797 * dim);
    let (ga, gb) = saved.neighbours.expect("graph_a.npy and graph_b.npy");
    assert_eq!((ga.n, ga.k, gb.n, gb.k), (1797, 1, 1797, 10));
    // Its confidences are read off its answer's clusters on its graph b, whichever answered.
    let x = tch::Tensor::from_slice(&features).view([1797, dim as i64]);
    let expected = icicle_explorer::metrics::confidence(&x, &saved.clusters, 10, &gb);
    for (a, b) in saved.confidence.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    // A run saved before (heads' own probabilities) is read off the same way when reopened.
    let mut old = icicle_explorer::rundir::SavedRun::read(&run).unwrap();
    old.confidence = vec![0.1; 1797];
    let cands = old.candidates.as_mut().unwrap();
    for c in &mut cands.confidence {
        c.iter_mut().for_each(|v| *v = 0.1);
    }
    old.refresh_confidence();
    for (a, b) in old.confidence.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    let cands = old.candidates.unwrap();
    for (conf, clusters) in cands.confidence.iter().zip(&cands.clusters) {
        let want = icicle_explorer::metrics::confidence(&x, clusters, 10, &gb);
        assert!(conf.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-5));
    }
    assert!(
        ga.of(0)[0] != 0 && gb.of(0).contains(&ga.of(0)[0]),
        "nearest first"
    );
    let scales: Vec<_> = saved.graphs.iter().map(|(s, g)| (*s, g.nodes)).collect();
    assert_eq!(scales, vec![("a", 1797), ("b", 1797)], "graphs.json");

    // `icicle more-like`: the images of image 0's cluster most like it once moved, as the
    // library ranks them (the app's list), nothing written.
    let (c0, to) = (saved.clusters[0], (saved.clusters[0] + 1) % 10);
    let o = icicle(&[
        "more-like",
        run.to_str().unwrap(),
        "--move",
        &format!("0:{to}"),
        "--top",
        "5",
    ]);
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    let rows: Vec<Vec<String>> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    let mut moved = saved.clusters.clone();
    moved[0] = to;
    let m = icicle_explorer::correct::alike::Move::of(&[0], to as usize, &[c0]).unwrap();
    let want = icicle_explorer::correct::more_like(&features, dim, &moved, &m, &|_| false).unwrap();
    assert_eq!(rows.len(), 5, "{text}");
    for (r, (row, &(i, _))) in rows.iter().zip(&want).enumerate() {
        assert_eq!(row[0], (r + 1).to_string());
        assert_eq!(row[1], i.to_string(), "{text}");
        assert_eq!(row[3], c0.to_string());
    }
    assert!(
        !run.join("corrections.json").exists(),
        "a list writes nothing"
    );

    // Resume with a longer stage 2: picks up the stage-2 checkpoint and the recorded data.
    let o = icicle(&[
        "train",
        "--resume",
        run.to_str().unwrap(),
        "--set",
        "iterations=4",
    ]);
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("resumed from") && text.contains("stage 2 iteration    4"),
        "{text}"
    );
    assert!(
        !text.contains("stage 1 epoch"),
        "stage 1 was already done: {text}"
    );
    let losses = std::fs::read_to_string(run.join("losses.csv")).unwrap();
    assert_eq!(losses.lines().filter(|l| l.starts_with("2,")).count(), 4);
}

#[test]
fn train_bad_input_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r");
    for (extra, words) in [
        (vec!["--set", "sigma=2"], "sigma = 2"),
        (vec!["--set", "nope=1"], "unknown field"),
        (vec!["--set", "k_b=1797"], "k_b = 1797"),
        (
            vec!["--preset", "paper", "--set", "sigma=0.9"],
            "sigma + gamma",
        ),
    ] {
        let mut args = vec![
            "train",
            "--dataset",
            "digits",
            "--out",
            run.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = icicle(&args);
        let text = out(&o);
        assert!(
            !o.status.success() && text.contains("error:") && text.contains(words),
            "{words}: {text}"
        );
        assert!(!text.contains("panicked"), "{text}");
    }
    let o = icicle(&[
        "train",
        "--resume",
        dir.path().join("missing").to_str().unwrap(),
    ]);
    assert!(
        !o.status.success() && out(&o).contains("data.json"),
        "{}",
        out(&o)
    );
    let o = icicle(&["eval", dir.path().to_str().unwrap()]);
    assert!(
        !o.status.success() && out(&o).contains("assignments.csv"),
        "{}",
        out(&o)
    );
}

/// A disk that fills up while `icicle train` writes a checkpoint: one clear error and exit code
/// 1, not libtorch's abort (exit 134), and no temporary file left behind.
#[test]
fn a_full_disk_is_a_clean_error_in_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let args = tiny_digits(&run);
    // Config, data record and the first losses fit; a checkpoint (about 200 KB) does not.
    let o = Command::new(env!("CARGO_BIN_EXE_icicle"))
        .args(&args)
        .env_remove("LD_LIBRARY_PATH")
        .env("ICICLE_FAIL_WRITES_AFTER", "60000")
        .output()
        .unwrap();
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("cannot write checkpoint") && text.contains("MB needed"),
        "{text}"
    );
    assert!(!text.contains("terminate called"), "{text}");
    let leftovers: Vec<_> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// SIGKILL at any moment, checkpoint writes included, leaves the last complete checkpoint
/// loadable, and `--resume` finishes the run from it.
#[cfg(unix)]
#[test]
fn a_run_killed_at_random_moments_resumes_from_its_last_checkpoint() {
    use icicle_explorer::train::checkpoint;
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap().to_string();
    // A longer tiny run that checkpoints at every epoch and every stage-2 iteration.
    let mut tiny: Vec<&str> = TINY.to_vec();
    tiny.extend([
        "--set",
        "epochs=8",
        "--set",
        "iterations=30",
        "--set",
        "checkpoint_every=1",
    ]);
    let ck1 = checkpoint::path(&run, "stage1");
    let ck2 = checkpoint::path(&run, "stage2");
    for (round, ms) in [700u64, 450, 900, 600, 1200].into_iter().enumerate() {
        let mut args: Vec<&str> = if ck1.is_file() {
            vec!["train", "--resume", &run_s]
        } else {
            let mut a = vec!["train", "--dataset", "digits", "--out", &run_s];
            a.extend_from_slice(&tiny);
            a
        };
        if ck1.is_file() {
            args.extend(["--device", "cpu"]);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_icicle"))
            .args(&args)
            .env_remove("LD_LIBRARY_PATH")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Until the first checkpoint exists, wait for it (start-up time depends on the
        // machine's load), then kill at the round's moment: during later writes.
        let started = std::time::Instant::now();
        while !ck1.is_file() && started.elapsed() < std::time::Duration::from_secs(120) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        for ck in [&ck1, &ck2] {
            if ck.is_file() {
                let loaded: anyhow::Result<(_, serde_json::Value)> =
                    checkpoint::load(ck, tch::Device::Cpu);
                assert!(
                    loaded.is_ok(),
                    "round {round}: {}: {:?}",
                    ck.display(),
                    loaded.err()
                );
            }
        }
    }
    assert!(ck1.is_file(), "some checkpoint was written in 5 rounds");
    let o = icicle(&["train", "--resume", &run_s, "--device", "cpu"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("final: ACC"), "{}", out(&o));
}

/// Stage 2 on mini-batches (forced on digits by `full_graph_up_to = 0`) runs end to end, and a
/// run stopped and resumed draws the same batches and targets as one that was not.
#[test]
fn mini_batch_stage_two_runs_and_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let batched = [
        "--set",
        "full_graph_up_to=0",
        "--set",
        "stage2_batch=256",
        "--set",
        "target_every=2",
        "--set",
        "checkpoint_every=2",
    ];
    let run = |name: &str, iterations: &str| {
        let path = dir.path().join(name);
        let mut args = tiny_digits(&path);
        args.extend_from_slice(&batched);
        args.extend_from_slice(&["--set", iterations]);
        let o = icicle(&args);
        assert!(o.status.success(), "{}", out(&o));
        (path, out(&o))
    };
    let (whole, text) = run("whole", "iterations=4");
    assert!(
        text.contains("stage 2 on mini-batches: 1797 nodes in"),
        "{text}"
    );
    let assignments =
        |p: &std::path::Path| std::fs::read_to_string(p.join("assignments.csv")).unwrap();
    assert_eq!(assignments(&whole).lines().count(), 1798);

    let (stopped, _) = run("stopped", "iterations=2");
    let o = icicle(&[
        "train",
        "--resume",
        stopped.to_str().unwrap(),
        "--set",
        "iterations=4",
    ]);
    assert!(o.status.success(), "{}", out(&o));
    let stage2 = |p: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(p.join("losses.csv"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("2,"))
            .map(String::from)
            .collect()
    };
    assert_eq!(stage2(&stopped), stage2(&whole));
    assert_eq!(assignments(&stopped), assignments(&whole));
}

/// `bench quality` with several seeds: every run it leaves names its dataset in data.json
/// (not the run's folder name), so each reopens in the app and `bench corrections --run` and
/// `icicle correct` can load its data.
#[test]
fn bench_runs_of_every_seed_reopen_with_their_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "bench",
        "quality",
        "--datasets",
        "digits",
        "--seeds",
        "42,1",
        "--out",
        dir.path().to_str().unwrap(),
    ];
    // TINY's settings, without its --device (bench quality has none: it takes the default's).
    args.extend(TINY.iter().take(TINY.len() - 2));
    let o = icicle(&args);
    assert!(o.status.success(), "{}", out(&o));
    for run in ["digits", "digits-s1"] {
        let rec = std::fs::read_to_string(dir.path().join(run).join("data.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&rec).unwrap();
        assert_eq!(v["dataset"], "digits", "{run}: {rec}");
    }
}
