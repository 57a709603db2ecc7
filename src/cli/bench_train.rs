//! `icicle bench speed` and `icicle bench quality`: training speed for a fixed config, and the
//! CPU defaults' quality on the embedded sets next to K-means on pixels.
use crate::config::{Config, Preset, apply_override};
use crate::data::{self, LoadOptions, Progress, Registry};
use crate::messages::{Command, Event, Job};
use crate::priority::Priority;
use crate::runtime::{DeviceChoice, device_name};
use crate::worker::Worker;
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tch::Tensor;

#[derive(Debug, Args)]
pub struct SpeedArgs {
    #[arg(long, default_value = "mnist-test")]
    pub dataset: String,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Settings on top of the default preset (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Batches timed on the frozen-backbone path (`--set backbone=efficientnet-lite0`).
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Stage-1 epochs of the timed run.
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    /// Stage-2 iterations of the timed run.
    #[arg(long, default_value_t = 20)]
    pub iterations: usize,
    /// Where the timed run is written.
    #[arg(long, default_value = "runs/bench-speed")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct QualityArgs {
    /// Datasets to train on.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "digits,mnist-test,fashion-mnist-test,emoji"
    )]
    pub datasets: Vec<String>,
    /// Settings on top of the default preset (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    #[arg(long, default_value = "runs/bench-quality")]
    pub out: PathBuf,
    /// Seeds to train each dataset with (one run each; runs go to OUT/NAME-sSEED beyond the
    /// first).
    #[arg(long, value_delimiter = ',', default_value = "42")]
    pub seeds: Vec<u64>,
}

/// The frozen encoder's throughput: batches of augmented views at the configured side, as
/// the extraction runs them (its cost is (views + 1) forward passes per image).
fn frozen_speed(
    cfg: &Config,
    ds: &data::Dataset,
    images: &Tensor,
    device: tch::Device,
    batches: usize,
) -> Result<()> {
    let enc = crate::model::pretrained::Pretrained::open(cfg, device)?;
    let side = crate::train::frozen::side(cfg);
    let b = crate::train::frozen::batch(side).min(ds.len() as i64);
    let batch = |i: usize| {
        let start = (i as i64 * b) % (ds.len() as i64 - b + 1);
        crate::data::augment::view(&images.narrow(0, start, b), side, &cfg.augment)
    };
    let _ = enc.features(&batch(0))?; // warm-up
    let t = Instant::now();
    for i in 0..batches {
        let _ = enc.features(&batch(i + 1))?;
    }
    let secs = t.elapsed().as_secs_f64();
    let per_s = (batches as i64 * b) as f64 / secs;
    println!(
        "speed on {} ({} images), device {}, {} threads: {} at side {side}: {per_s:.1} images/s; \
         extracting {} views + the test view of every image takes about {:.0} s",
        ds.name,
        ds.len(),
        device_name(device),
        tch::get_num_threads(),
        enc.describe(),
        cfg.views,
        (cfg.views + 1) as f64 * ds.len() as f64 / per_s
    );
    Ok(())
}

fn config(k: usize, sets: &[String]) -> Result<Config> {
    let mut cfg = Config::preset(Preset::Default, k);
    for s in sets {
        cfg = apply_override(&cfg, s)?;
    }
    Ok(cfg)
}

pub fn speed(a: &SpeedArgs) -> Result<()> {
    let reg = Registry::discover(None)?;
    let ds = Arc::new(data::load_entry(
        reg.get(&a.dataset)?,
        &LoadOptions::default(),
        &Progress::none(),
    )?);
    let mut cfg = config(ds.num_classes().max(2), &a.sets)?;
    cfg.device = a.device;
    cfg.validate(ds.len())?;
    if cfg.backbone.is_frozen() {
        let device = cfg.device.resolve()?;
        tch::manual_seed(0);
        // The extraction runs on a thread that ends (`crate::threads`).
        return crate::threads::on_fresh_thread(|| {
            let images = ds.to_tensor(device);
            frozen_speed(&cfg, &ds, &images, device, a.steps)
        });
    }
    // A short real run of the default as `icicle train` fits it (the same loop, threads and
    // events), so the breakdown is the training's own, not a copy of it.
    let mut extra = vec![
        format!("epochs={}", a.epochs),
        format!("iterations={}", a.iterations),
        format!("device={}", device_arg(a.device)),
    ];
    extra.extend(a.sets.iter().cloned());
    let started = Instant::now();
    let (r, route, device) = train_default(&a.dataset, &a.dataset, &ds, 42, &extra, &a.out)?;
    println!(
        "speed on {} ({} images {}×{}×{}), device {device}, route {route}, {} cores: {:.1} s \
         for {} stage-1 epochs and {} stage-2 iterations",
        ds.name,
        ds.len(),
        ds.channels,
        ds.height,
        ds.width,
        crate::threads::cores(),
        started.elapsed().as_secs_f64(),
        a.epochs,
        a.iterations
    );
    for (stage, b) in [("stage 1", &r.stage1_steps), ("stage 2", &r.stage2_steps)] {
        match b {
            Some(b) => println!(
                "  {stage}: {:.1} steps/s, {}",
                1000.0 / b.ms_per_step(),
                b.describe()
            ),
            None => println!("  {stage}: not trained"),
        }
    }
    if device != "cpu" {
        println!(
            "  (on a GPU the parts are launch times: the breakdown is exact on a CPU only; \
             steps/s holds everywhere)"
        );
    }
    Ok(())
}

fn device_arg(d: DeviceChoice) -> &'static str {
    match d {
        DeviceChoice::Auto => "auto",
        DeviceChoice::Cpu => "cpu",
        DeviceChoice::Cuda => "cuda",
    }
}

/// K-means (10 restarts, seed 0) on the frozen EfficientNet-Lite0 head features of the test
/// view at side 128, the yardstick the frozen path must beat; with the extraction's time.
fn pretrained_kmeans(ds: &data::Dataset, k: usize) -> Result<(crate::metrics::Scores, f64)> {
    let started = Instant::now();
    let device = tch::Device::cuda_if_available();
    // On a thread that ends: its OpenMP pool must not throttle the trainings that follow.
    let scores = crate::threads::on_fresh_thread(|| -> Result<_> {
        let (x, _) = crate::train::frozen::pretrained_features(ds, 0, 128, device)?;
        let km = crate::baseline::run_on(ds, &x, k, 0, device, &Progress::none())?;
        Ok(km.evaluation.map(|e| e.scores).expect("labelled"))
    })?;
    Ok((scores, started.elapsed().as_secs_f64()))
}

/// Trains registry dataset `name` into `out/name` on a worker, as the app does; data.json
/// lets the app and `icicle eval` reopen the run. The caller reads the worker's events.
/// Starts a training of registry dataset `dataset` into `out/run_name` (data.json names the
/// dataset, so the run reopens and can be corrected).
pub(super) fn start_run(
    dataset: &str,
    run_name: &str,
    ds: &Arc<data::Dataset>,
    config: Config,
    out: &std::path::Path,
) -> Result<Worker> {
    let run_dir = out.join(run_name);
    std::fs::create_dir_all(&run_dir)?;
    crate::rundir::DataRecord::registry(Some(dataset.to_string())).write(&run_dir)?;
    let worker = Worker::spawn(Priority::Normal, || {});
    worker.send(Command::Start(Box::new(Job {
        dataset: ds.clone(),
        config,
        run_dir,
        resume: false,
        feature_cache: crate::data::cache::default_dir(),
        correct_from: None,
    })));
    Ok(worker)
}

/// Trains the default preset (as `fit_to_data` and the route probe adapt it, `--set` on top)
/// on registry dataset `name` with `seed` into `out/run_name`; the result, the route and the
/// device. Shared by `bench quality` and `bench corrections`.
pub(super) fn train_default(
    name: &str,
    run_name: &str,
    ds: &Arc<data::Dataset>,
    seed: u64,
    extra: &[String],
    out: &std::path::Path,
) -> Result<(Box<crate::messages::RunResult>, &'static str, String)> {
    let k = ds.num_classes();
    let mut sets = vec![format!("seed={seed}")];
    sets.extend(extra.iter().cloned());
    let cuda = tch::Cuda::is_available();
    let (shape, probe) = crate::train::probe::shape_for(
        ds,
        Preset::Default,
        k,
        seed,
        tch::Device::cuda_if_available(),
        crate::data::cache::default_dir().as_deref(),
    )?;
    if let Some(line) = probe {
        println!("  {name} seed {seed}: {line}");
    }
    let (cfg, lines) = crate::config::fitted(Preset::Default, k, shape, cuda, &sets)?;
    for line in lines {
        println!("  {line}");
    }
    let route = cfg.backbone.name();
    let worker = start_run(name, run_name, ds, cfg, out)?;
    let mut device = String::new();
    let result = loop {
        match worker.events.recv()? {
            Event::Started { device: d, .. } => device = d,
            Event::Finished(r) => break r,
            Event::Failed(e) => bail!("{name}: {e}"),
            Event::Cancelled { .. } => bail!("{name}: cancelled"),
            _ => {}
        }
    };
    Ok((result, route, device))
}

/// Calls `f` with each named dataset that is installed, loaded whole; the others are
/// reported as skipped.
pub(super) fn each_available(
    names: &[String],
    mut f: impl FnMut(&String, Arc<data::Dataset>) -> Result<()>,
) -> Result<()> {
    let reg = Registry::discover(None)?;
    for name in names {
        let entry = reg.get(name)?;
        if let Err(why) = entry.availability() {
            println!("{name}: skipped, {why}");
            continue;
        }
        f(
            name,
            Arc::new(data::load_entry(
                entry,
                &LoadOptions::default(),
                &Progress::none(),
            )?),
        )?;
    }
    Ok(())
}

pub fn quality(a: &QualityArgs) -> Result<()> {
    let mut rows = vec![];
    let mut answers = vec![];
    each_available(&a.datasets, |name, ds| {
        let k = ds.num_classes();
        let base = crate::threads::on_fresh_thread(|| {
            crate::baseline::run(
                &ds,
                k,
                0,
                tch::Device::cuda_if_available(),
                &Progress::none(),
            )
        })?;
        let bs = base
            .evaluation
            .as_ref()
            .map(|e| e.scores)
            .expect("labelled");
        let pre = pretrained_kmeans(&ds, k)?;
        for (i, &seed) in a.seeds.iter().enumerate() {
            let run_name = if i == 0 {
                name.clone()
            } else {
                format!("{name}-s{seed}")
            };
            let (result, route, device) =
                train_default(name, &run_name, &ds, seed, &a.sets, &a.out)?;
            let s = result.scores.expect("labelled");
            let fa = result.final_answer.clone();
            let km_own = fa
                .as_ref()
                .and_then(|f| f.candidates.iter().find(|c| c.name == "kmeans"))
                .and_then(|c| c.scores)
                .map_or(f64::NAN, |s| s.acc);
            let chosen = fa.as_ref().map_or("-".to_string(), |f| f.chosen.clone());
            let row = format!(
                "| {name} | {seed} | {} | {route} | {chosen} | {:.3} / {:.3} / {:.3} | {:.0} s | {km_own:.3} | {:.3} / {:.3} / {:.3} | {:.3} / {:.3} / {:.3} ({:.0} s) | {device} |",
                ds.len(),
                s.acc,
                s.nmi,
                s.ari,
                result.wall_seconds,
                bs.acc,
                bs.nmi,
                bs.ari,
                pre.0.acc,
                pre.0.nmi,
                pre.0.ari,
                pre.1
            );
            println!("{row}");
            rows.push(row);
            if let Some(f) = fa {
                answers.push((format!("{name} s{seed}"), f));
            }
        }
        Ok(())
    })?;
    println!(
        "\n| dataset | seed | N | route | answer | IcicleGCN ACC / NMI / ARI | time | K-means on its own features (ACC) | K-means on pixels ACC / NMI / ARI | K-means on pretrained features ACC / NMI / ARI (time) | device |\n|---|---|---|---|---|---|---|---|---|---|---|\n{}",
        rows.join("\n")
    );
    println!("{}", answer_table(&answers));
    Ok(())
}

/// Every candidate's ACC and modularity per run, and how the label-free rule did: whether it
/// picked the labelled best, and how much ACC it gave up when it did not.
fn answer_table(answers: &[(String, crate::train::answer::FinalAnswer)]) -> String {
    let mut out = String::from(
        "\n| run | candidates: ACC (agreement) | rule picks | labelled best | ACC lost |\n|---|---|---|---|---|\n",
    );
    let (mut hits, mut lost_sum) = (0, 0.0);
    for (run, f) in answers {
        let acc = |j: &crate::train::answer::Judged| j.scores.map_or(f64::NAN, |s| s.acc);
        let best = f
            .candidates
            .iter()
            .max_by(|a, b| acc(a).total_cmp(&acc(b)))
            .expect("candidates");
        let chosen = f
            .candidates
            .iter()
            .find(|c| c.name == f.chosen)
            .expect("chosen is a candidate");
        let lost = acc(best) - acc(chosen);
        hits += usize::from(lost <= 1e-9);
        lost_sum += lost;
        out.push_str(&format!(
            "| {run} | {} | {} | {} | {lost:.3} |\n",
            f.candidates
                .iter()
                .map(|c| format!("{} {:.3} ({:.3})", c.name, acc(c), c.agreement))
                .collect::<Vec<_>>()
                .join(", "),
            f.chosen,
            best.name
        ));
    }
    out.push_str(&format!(
        "\nThe rule picked the labelled best in {hits} of {} runs; mean ACC lost {:.3}.\n",
        answers.len(),
        lost_sum / answers.len().max(1) as f64
    ));
    out
}
