//! `icicle bench scale`: the full 70k sets end to end with the default preset (time per stage,
//! peak memory, ACC), and stage 2 alone on a synthetic graph of a million nodes (time per pass
//! over the nodes, peak memory) — what a large photo folder costs on this machine.
use crate::config::{Config, Preset, apply_override};
use crate::data::{self, LoadOptions, Progress, Registry};
use crate::graph::{Adjacency, Knn};
use crate::messages::{Event, Stage};
use crate::runtime::device_name;
use crate::train::{adam::Adam, stage2::Stage2, stage2_graphs::Stage2Graphs};
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tch::{Kind, Tensor};

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// Datasets to train end to end with the default preset (none: "").
    #[arg(long, value_delimiter = ',', default_value = "fashion-mnist,mnist")]
    pub datasets: Vec<String>,
    /// Nodes of the synthetic stage-2 graph (0 skips it).
    #[arg(long, default_value_t = 1_000_000)]
    pub nodes: usize,
    /// Feature width of the synthetic nodes (the stage-2 input).
    #[arg(long, default_value_t = 256)]
    pub dim: usize,
    /// Passes over the synthetic nodes to time.
    #[arg(long, default_value_t = 1)]
    pub passes: usize,
    /// Images in a synthetic photo folder to decode, cache and read back (0 skips it).
    #[arg(long, default_value_t = 200_000)]
    pub folder_images: usize,
    /// Side the folder's images are decoded at.
    #[arg(long, default_value_t = 64)]
    pub folder_side: usize,
    /// Settings on top of the default preset (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Run folders, and the synthetic folder with its decode cache (removed afterwards).
    #[arg(long, default_value = "runs/bench-scale")]
    pub out: PathBuf,
}

/// Peak resident memory since the last reset, in GB.
fn peak_gb() -> f64 {
    super::bench::proc_status_kb("VmHWM:").unwrap_or(0) as f64 / 1024.0 / 1024.0
}

/// Starts a new peak (Linux: the kernel's high-water mark drops to the current RSS).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub fn scale(a: &ScaleArgs) -> Result<()> {
    let mut rows = vec![];
    for name in a.datasets.iter().filter(|n| !n.is_empty()) {
        rows.push(end_to_end(name, a)?);
    }
    if !rows.is_empty() {
        println!(
            "\n| dataset | N | ACC / NMI / ARI | extract | stage 1 | graphs | stage 2 | total | peak RSS | device |\n|---|---|---|---|---|---|---|---|---|---|\n{}",
            rows.join("\n")
        );
    }
    if a.folder_images > 0 {
        folder(a)?;
    }
    if a.nodes > 0 {
        crate::threads::on_fresh_thread(|| synthetic_stage2(a))?;
    }
    Ok(())
}

/// A folder of `a.folder_images` small colour PNGs in 10 class subfolders: decoded into the
/// (memory-mapped) cache, then every image read back through the tensor training uses. The
/// memory that cannot be paged out (anonymous) stays small; the mapped pixels are file pages
/// the OS drops under pressure.
fn folder(a: &ScaleArgs) -> Result<()> {
    use rayon::prelude::*;
    let root = a.out.join("synthetic-folder");
    let cache = a.out.join("synthetic-cache");
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&cache);
    let t = Instant::now();
    (0..a.folder_images)
        .into_par_iter()
        .try_for_each(|i| -> Result<()> {
            let class = root.join(format!("class{}", i % 10));
            std::fs::create_dir_all(&class)?;
            // 16×16 blocks of a class colour with a per-image pattern: small files, real decoding.
            let img = image::RgbImage::from_fn(16, 16, |x, y| {
                let v = ((x * 13 + y * 7 + i as u32) % 255) as u8;
                image::Rgb([v, (i % 10 * 25) as u8, 255 - v])
            });
            img.save(class.join(format!("{i:07}.png")))?;
            Ok(())
        })?;
    let made = t.elapsed().as_secs_f64();
    reset_peak();
    let anon_before = super::bench::proc_status_kb("RssAnon:").unwrap_or(0);
    let t = Instant::now();
    let layout = crate::data::FolderLayout {
        height: a.folder_side,
        width: a.folder_side,
        channels: None,
        labels: crate::data::folder::Labels::Auto,
    };
    let opts = LoadOptions {
        cache_dir: Some(cache.clone()),
    };
    let ds = data::load_folder(&root, "synthetic", layout, &opts, &Progress::none())?;
    let load = t.elapsed().as_secs_f64();
    let anon_loaded = super::bench::proc_status_kb("RssAnon:").unwrap_or(0);
    let t = Instant::now();
    let images = ds.to_u8_tensor(tch::Device::Cpu);
    // Every image read once, a batch at a time, as training reads them.
    let mut sum = 0.0;
    for b in images.split(4096, 0) {
        sum += b.to_kind(Kind::Float).mean(Kind::Float).double_value(&[]);
    }
    let read = t.elapsed().as_secs_f64();
    let anon_read = super::bench::proc_status_kb("RssAnon:").unwrap_or(0);
    let bytes = ds.pixels.len() as f64 / 1e9;
    println!(
        "
folder of {} PNGs decoded at {side}×{side}×{} ({bytes:.2} GB of pixels, mapped: {}):\n\
         | write the folder | decode into the cache | read every image | anonymous memory: before / loaded / after reading | peak RSS (file pages included) |\n\
         |---|---|---|---|---|\n\
         | {made:.0} s | {load:.0} s | {read:.1} s | {:.2} / {:.2} / {:.2} GB | {:.2} GB |   (checksum {sum:.1})",
        ds.len(),
        ds.channels,
        ds.pixels.is_mapped(),
        anon_before as f64 / 1048576.0,
        anon_loaded as f64 / 1048576.0,
        anon_read as f64 / 1048576.0,
        peak_gb(),
        side = a.folder_side,
    );
    drop(images);
    drop(ds);
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&cache);
    Ok(())
}

/// One dataset through the worker, as the app and `icicle train` run it.
fn end_to_end(name: &str, a: &ScaleArgs) -> Result<String> {
    let reg = Registry::discover(None)?;
    let entry = reg.get(name)?;
    if let Err(why) = entry.availability() {
        bail!("{name}: {why} (make datasets installs it)");
    }
    reset_peak();
    let started = Instant::now();
    let ds = Arc::new(data::load_entry(
        entry,
        &LoadOptions::default(),
        &Progress::none(),
    )?);
    let load = started.elapsed().as_secs_f64();
    let (cfg, lines) = crate::config::fitted(
        Preset::Default,
        ds.num_classes().max(2),
        ds.shape(),
        tch::Cuda::is_available(),
        &a.sets,
    )?;
    for line in lines {
        println!("  {line}");
    }
    let worker = super::bench_train::start_run(name, name, &ds, cfg, &a.out)?;
    // Seconds in each stage, from the moment the worker says it entered it.
    let mut spent = [0.0f64; 4];
    let slot = |s: Stage| match s {
        Stage::Extract => 0,
        Stage::One => 1,
        Stage::Graphs => 2,
        Stage::Two => 3,
    };
    let mut current: Option<(Stage, Instant)> = None;
    let mut device = String::new();
    let result = loop {
        match worker.events.recv()? {
            Event::Started { device: d, .. } => device = d,
            Event::StageChanged { stage, .. } => {
                if let Some((s, t)) = current.take() {
                    spent[slot(s)] += t.elapsed().as_secs_f64();
                }
                println!("  [{:>7.1} s] {stage:?}", started.elapsed().as_secs_f64());
                current = Some((stage, Instant::now()));
            }
            Event::Info(line) => println!("  {line}"),
            Event::Finished(r) => break r,
            Event::Failed(e) => bail!("{name}: {e}"),
            Event::Cancelled { .. } => bail!("{name}: cancelled"),
            _ => {}
        }
    };
    if let Some((s, t)) = current.take() {
        spent[slot(s)] += t.elapsed().as_secs_f64();
    }
    let total = started.elapsed().as_secs_f64();
    let scores = result
        .scores
        .map(|s| format!("{:.3} / {:.3} / {:.3}", s.acc, s.nmi, s.ari))
        .unwrap_or_else(|| "—".into());
    let row = format!(
        "| {name} | {} | {scores} | {:.0} s | {:.0} s | {:.0} s | {:.0} s | {:.0} s (load {load:.0} s) | {:.2} GB | {device} |",
        ds.len(),
        spent[0],
        spent[1],
        spent[2],
        spent[3],
        total,
        peak_gb(),
    );
    println!("{row}");
    Ok(row)
}

/// `groups` chains of nodes: node i of a chain sits at position i along its chain's first axis
/// plus noise, so its nearest neighbours are the nodes next to it in the chain — a k-NN graph
/// of known shape without an O(N²) search. Features N×dim, k_a and k_b lists.
fn chains(n: usize, dim: usize, groups: usize, k_a: usize, k_b: usize) -> (Tensor, Knn, Knn) {
    tch::manual_seed(0);
    let group: Vec<i64> = (0..n).map(|i| (i * groups / n) as i64).collect();
    let start = |g: usize| (g * n).div_ceil(groups);
    let g = Tensor::from_slice(&group);
    let centres = Tensor::randn([groups as i64, dim as i64], (Kind::Float, tch::Device::Cpu));
    let pos: Vec<f32> = (0..n)
        .map(|i| {
            let g = group[i] as usize;
            (i - start(g)) as f32 / (start(g + 1) - start(g)) as f32 * 4.0
        })
        .collect();
    let x = centres.index_select(0, &g)
        + Tensor::randn([n as i64, dim as i64], (Kind::Float, tch::Device::Cpu)) * 0.05;
    let _ = x
        .narrow(1, 0, 1)
        .g_add_(&Tensor::from_slice(&pos).unsqueeze(1));
    let lists = |k: usize| {
        let mut neighbors = Vec::with_capacity(n * k);
        for (i, &gi) in group.iter().enumerate() {
            let gi = gi as usize;
            let (lo, hi) = (start(gi), start(gi + 1));
            // The k nearest positions in the chain: alternate right and left, then whatever
            // side remains at the chain's ends.
            let (mut l, mut r, mut got) = (i, i + 1, 0);
            while got < k && (l > lo || r < hi) {
                if r < hi && (got % 2 == 0 || l == lo) {
                    neighbors.push(r as i64);
                    r += 1;
                } else {
                    l -= 1;
                    neighbors.push(l as i64);
                }
                got += 1;
            }
        }
        Knn { n, k, neighbors }
    };
    (x, lists(k_a), lists(k_b))
}

/// Stage 2 alone on `a.nodes` synthetic nodes: setup, centres, passes of mini-batches, one
/// pass of every node's heads, and the peak memory of all of it.
fn synthetic_stage2(a: &ScaleArgs) -> Result<()> {
    let mut cfg = Config::preset(Preset::Default, 10);
    for s in &a.sets {
        cfg = apply_override(&cfg, s)?;
    }
    let device = cfg.device.resolve()?;
    let (n, dim) = (a.nodes, a.dim);
    reset_peak();
    let t = Instant::now();
    let (x, knn_a, knn_b) = chains(n, dim, cfg.clusters, cfg.k_a, cfg.k_b);
    let x = x.to_device(device);
    let setup = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let adj_a = Adjacency::from_knn(&knn_a, cfg.normalization);
    let adj_b = Adjacency::from_knn(&knn_b, cfg.normalization);
    let mut graphs = Stage2Graphs::new(&cfg, (&knn_a, &knn_b), (&adj_a, &adj_b), device);
    drop(adj_a);
    println!("  {}", graphs.describe(n));
    let build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    tch::manual_seed(1);
    let s2 = Stage2::new(&cfg, n, dim, device);
    let note = s2.init_centres(&x, &cfg, &adj_b, None)?;
    println!("  {note}");
    let centres = t.elapsed().as_secs_f64();
    let mut opt = Adam::new(&s2.vs, cfg.stage2_lr);
    opt.set_lr_for("gcn.", cfg.gcn_lr);
    let per_pass = n.div_ceil(cfg.stage2_batch);
    let t = Instant::now();
    let mut last = 0.0;
    for it in 1..=per_pass * a.passes {
        let (loss, terms, _) = graphs.step(&s2, &x, &cfg, it);
        opt.zero_grad();
        loss.backward();
        opt.step();
        last = terms.total;
        if it % 50 == 0 {
            println!("  iteration {it}/{}: loss {last:.4}", per_pass * a.passes);
        }
    }
    let train = t.elapsed().as_secs_f64() / a.passes as f64;
    let t = Instant::now();
    let heads = graphs.heads(&s2, &x, &cfg);
    let _ = heads.log_q.argmax(1, false);
    let infer = t.elapsed().as_secs_f64();
    println!(
        "\nstage 2 on {n} synthetic nodes (dim {dim}, k_a {}, k_b {}, batch {}), device {}, {} threads:\n\
         | graph setup | centres ({}) | one pass ({per_pass} iterations) | per iteration | heads of every node | peak RSS | last loss |\n\
         |---|---|---|---|---|---|---|\n\
         | {:.0} s | {centres:.0} s | {train:.0} s | {:.2} s | {infer:.0} s | {:.2} GB | {last:.4} |",
        cfg.k_a,
        cfg.k_b,
        cfg.stage2_batch,
        device_name(device),
        tch::get_num_threads(),
        format!("{:?}", cfg.centre_init).to_lowercase(),
        setup + build,
        train / per_pass as f64,
        peak_gb(),
    );
    Ok(())
}
