//! `icicle bench corrections`: a person correcting a run, simulated with the true labels. After
//! the default run, take 10, 50 and 200 corrections from the false positives, most confident
//! first (as someone browsing that tab would), each image moved to the cluster of its true
//! class; compare relabel-only (the untouched images stay where the run put them), the
//! label-spreading preview, and the retrain with corrections by ACC on the images nobody
//! touched, with the times. Beside them, the ceiling of any spreading over the run's graph: each
//! untouched image put in the cluster of the class most of its k_b neighbours truly are. And
//! "More like these" as a person reviewing it would find it: for each move (the corrections from
//! one cluster to another), the share of its ten most alike images that truly belong where the
//! move went, against that share among all the images it ranked.
use crate::correct::alike::Move;
use crate::correct::{Basis, Corrections, more_like, preview_with};
use crate::data::{self, LoadOptions, Progress, Registry};
use crate::graph::neighbour_vote;
use crate::messages::{Command, CorrectFrom, Event, Job};
use crate::metrics::Evaluation;
use crate::metrics::Matching;
use crate::priority::Priority;
use crate::rundir::{DataRecord, SavedRun};
use crate::worker::Worker;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct CorrectionsArgs {
    /// Finished runs of labelled data to correct (repeatable); without any, the default
    /// preset trains on each of --datasets with each of --seeds first.
    #[arg(long = "run", value_name = "DIR")]
    pub runs: Vec<PathBuf>,
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "mnist-test,fashion-mnist-test,emoji"
    )]
    pub datasets: Vec<String>,
    #[arg(long, value_delimiter = ',', default_value = "42,1,2")]
    pub seeds: Vec<u64>,
    /// How many corrections a person makes.
    #[arg(long, value_delimiter = ',', default_value = "10,50,200")]
    pub counts: Vec<usize>,
    /// Where the runs and retrains go.
    #[arg(long, default_value = "runs/bench-corrections")]
    pub out: PathBuf,
    /// Relabel-only and the preview only, no retrains (seconds instead of minutes a run:
    /// for comparing previews on the same runs).
    #[arg(long)]
    pub no_retrain: bool,
}

pub fn corrections(a: &CorrectionsArgs) -> Result<()> {
    let mut runs = a.runs.clone();
    if runs.is_empty() {
        super::bench_train::each_available(&a.datasets, |name, ds| {
            for &seed in &a.seeds {
                let run_name = format!("{name}-s{seed}");
                super::bench_train::train_default(name, &run_name, &ds, seed, &[], &a.out)?;
                runs.push(a.out.join(run_name));
            }
            Ok(())
        })?;
    }
    let mut rows = vec![];
    for dir in &runs {
        for row in correct_run(dir, &a.counts, &a.out, !a.no_retrain)? {
            println!("{row}");
            rows.push(row);
        }
    }
    println!(
        "\n| run | corrections | relabel only | preview (spreading) | retrain with corrections | graph ceiling | corrected images where put | preview time (+ the run's half, once a run) | retrain time (share of the run's) | more like these: right in each move's top 10 (in all it ranked) |\n|---|---|---|---|---|---|---|---|---|---|\n{}",
        rows.join("\n")
    );
    Ok(())
}

/// One table row per count of corrections on the run in `dir`.
fn correct_run(dir: &Path, counts: &[usize], out: &Path, retrains: bool) -> Result<Vec<String>> {
    let saved = SavedRun::read(dir)?;
    let ds = Arc::new(DataRecord::read(dir)?.load(
        &Registry::discover(None)?,
        &LoadOptions::default(),
        &Progress::none(),
    )?);
    let labels = ds
        .labels
        .clone()
        .with_context(|| format!("{}: the simulation needs labels", dir.display()))?;
    let (k, classes) = (saved.config.clusters, ds.num_classes());
    let prev = &saved.clusters;
    let (knn_b, run_secs) = (
        saved
            .neighbours
            .as_ref()
            .map(|n| n.1.clone())
            .with_context(|| format!("{}: no saved k-NN graphs", dir.display()))?,
        run_seconds(dir),
    );
    let matching = Evaluation::new(prev, &labels, k, classes)?.matching;
    // False positives, most confident first: what the tab shows at its top.
    let mut wrong: Vec<usize> = (0..prev.len())
        .filter(|&i| {
            matching.cluster_to_class[prev[i] as usize] != Some(labels[i] as usize)
                && matching.class_to_cluster[labels[i] as usize].is_some()
        })
        .collect();
    wrong.sort_by(|&x, &y| saved.confidence[y].total_cmp(&saved.confidence[x]));
    // What a person who had corrected every neighbour would get from the graph.
    let ceiling: Vec<i64> = neighbour_vote(&knn_b, &labels, classes)
        .iter()
        .zip(prev)
        .map(|(v, &p)| {
            v.and_then(|c| matching.class_to_cluster[c])
                .map_or(p, |c| c as i64)
        })
        .collect();
    let name = dir
        .file_name()
        .map_or("run".into(), |n| n.to_string_lossy().into_owned());
    let x = saved.features.as_ref().map(|(x, dim)| (x.as_slice(), *dim));
    let features = crate::correct::Features::of_run(
        x,
        saved.answer.as_ref(),
        k,
        saved.config.answer_min_modularity,
    );
    // The run's half of every preview, once, as the app keeps it for the run on screen; on a
    // thread with every core, as the app's preview helper runs it.
    let t = Instant::now();
    let basis = crate::threads::on_fresh_thread(|| Basis::of_run(&knn_b, prev, k, features));
    let basis_secs = t.elapsed().as_secs_f64();
    let mut rows = vec![];
    for &count in counts {
        let chosen = &wrong[..count.min(wrong.len())];
        let mut corr = Corrections::default();
        for &i in chosen {
            let c = matching.class_to_cluster[labels[i] as usize].expect("filtered");
            corr.move_to(&[i], c, &ds.items);
        }
        let untouched: Vec<usize> = (0..prev.len())
            .filter(|i| !corr.images.contains_key(i))
            .collect();
        let acc = |clusters: &[i64]| -> Result<f64> {
            let c: Vec<i64> = untouched.iter().map(|&i| clusters[i]).collect();
            let l: Vec<i64> = untouched.iter().map(|&i| labels[i]).collect();
            Ok(Evaluation::new(&c, &l, k, classes)?.scores.acc)
        };
        let t = Instant::now();
        let spread = crate::threads::on_fresh_thread(|| {
            preview_with(&basis, &knn_b, prev, k, &corr, features)
        });
        let preview_secs = t.elapsed().as_secs_f64();
        let alike = match x {
            Some((x, dim)) => {
                let (top, all, ms) = alike_hits(x, dim, prev, &corr, chosen, &labels, &matching)?;
                format!("{top:.2} ({all:.2}), {ms:.0} ms a list")
            }
            None => "–".into(),
        };
        if !retrains {
            rows.push(format!(
                "| {name} | {} | {:.3} | {:.3} | – | {:.3} | – | {:.2} s (+{basis_secs:.2} s once) | – | {alike} |",
                chosen.len(),
                acc(prev)?,
                acc(&spread.clusters)?,
                acc(&ceiling)?,
                preview_secs
            ));
            continue;
        }
        let t = Instant::now();
        let result = retrain(
            &ds,
            &saved,
            dir,
            corr.clone(),
            &out.join(format!("{name}-c{count}")),
        )?;
        let retrain_secs = t.elapsed().as_secs_f64();
        let put = chosen
            .iter()
            .filter(|&&i| Some(&(result[i] as usize)) == corr.required().get(&i))
            .count();
        rows.push(format!(
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {put} / {} | {:.2} s (+{basis_secs:.2} s once) | {:.1} s ({:.0} %) | {alike} |",
            chosen.len(),
            acc(prev)?,
            acc(&spread.clusters)?,
            acc(&result)?,
            acc(&ceiling)?,
            chosen.len(),
            preview_secs,
            retrain_secs,
            100.0 * retrain_secs / run_secs
        ));
    }
    Ok(rows)
}

/// "More like these" after each move of `chosen` (grouped by the cluster the run put them in
/// and the one they were moved to): the share of right images (their class is the one the
/// move's cluster is matched to) in each move's ten most alike, and among all it ranked; and
/// the mean time of a list.
fn alike_hits(
    x: &[f32],
    dim: usize,
    prev: &[i64],
    corr: &Corrections,
    chosen: &[usize],
    labels: &[i64],
    matching: &Matching,
) -> Result<(f64, f64, f64)> {
    let required = corr.required();
    let mut moves: std::collections::BTreeMap<(i64, usize), Vec<usize>> = Default::default();
    for &i in chosen {
        moves.entry((prev[i], required[&i])).or_default().push(i);
    }
    let assignment = corr.assignment(prev);
    let skip = |j: usize| corr.images.contains_key(&j);
    let (mut top, mut shown, mut right, mut ranked) = (0, 0, 0, 0);
    let (t, lists) = (Instant::now(), moves.len());
    for ((from, to), examples) in moves {
        let m = Move {
            images: examples,
            from: vec![from as usize],
            to,
        };
        let list = more_like(x, dim, &assignment, &m, &skip)?;
        let is_right =
            |&(j, _): &(usize, f32)| matching.class_to_cluster[labels[j] as usize] == Some(to);
        top += list.iter().take(10).filter(|e| is_right(e)).count();
        shown += list.len().min(10);
        right += list.iter().filter(|e| is_right(e)).count();
        ranked += list.len();
    }
    Ok((
        top as f64 / shown.max(1) as f64,
        right as f64 / ranked.max(1) as f64,
        1000.0 * t.elapsed().as_secs_f64() / lists.max(1) as f64,
    ))
}

/// The run's wall time from its metrics.json.
fn run_seconds(dir: &Path) -> f64 {
    std::fs::read(dir.join("metrics.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["wall_seconds"].as_f64())
        .unwrap_or(f64::NAN)
}

/// The retrain's clusters, trained on a worker as the app and `icicle correct` do.
fn retrain(
    ds: &Arc<data::Dataset>,
    saved: &SavedRun,
    source: &Path,
    corrections: Corrections,
    run_dir: &Path,
) -> Result<Vec<i64>> {
    let worker = Worker::spawn(Priority::Normal, || {});
    worker.send(Command::Start(Box::new(Job {
        dataset: ds.clone(),
        config: saved.config.clone(),
        run_dir: run_dir.to_path_buf(),
        resume: false,
        feature_cache: None,
        correct_from: Some(Box::new(CorrectFrom {
            source: source.to_path_buf(),
            corrections,
        })),
    })));
    for ev in worker.events.iter() {
        match ev {
            Event::Finished(r) => return Ok(r.clusters),
            Event::Failed(e) => bail!("{}: {e}", source.display()),
            Event::Cancelled { .. } => bail!("{}: cancelled", source.display()),
            _ => {}
        }
    }
    bail!("the training thread stopped without a result")
}
