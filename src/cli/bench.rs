use crate::graph;
use crate::progress::Progress;
use crate::runtime::{DeviceChoice, device_name};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::time::Instant;
use tch::{Kind, Tensor};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Exact k-NN graph on random Gaussian features: time and peak memory.
    Knn(KnnBench),
    /// Stage-1 images/s, feature and graph time, stage-2 iteration time for a fixed config.
    Speed(super::bench_train::SpeedArgs),
    /// Train the default preset on the embedded sets; print a table next to K-means on pixels.
    Quality(super::bench_train::QualityArgs),
    /// The embedding view's t-SNE on a run's features.npy: wall time for N points.
    Tsne(TsneBench),
    /// The 70k sets end to end (time per stage, peak memory, ACC) and stage 2 alone on a
    /// synthetic graph of a million nodes.
    Scale(super::bench_scale::ScaleArgs),
    /// A person's corrections simulated with the labels: relabel-only, the preview and the
    /// retrain, by ACC on the images nobody touched.
    Corrections(super::bench_corrections::CorrectionsArgs),
    /// A folder's decoding speed to the run's side, DCT-scaled JPEG decoding against full.
    Decode(super::bench_decode::DecodeBench),
}

#[derive(Debug, Args)]
pub struct TsneBench {
    /// A run folder with features.npy.
    #[arg(long)]
    pub run: std::path::PathBuf,
    /// Points to map (a seeded subsample above).
    #[arg(long, default_value_t = 10000)]
    pub points: usize,
    #[arg(long, default_value_t = 750)]
    pub iterations: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct KnnBench {
    #[arg(long, default_value_t = 60000)]
    pub n: usize,
    #[arg(long, default_value_t = 512)]
    pub dim: usize,
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: i64,
    /// Tile side of the blocked distance computation (default: min(N, 4096)).
    #[arg(long)]
    pub tile: Option<usize>,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
}

pub fn run(b: &BenchCommand) -> Result<()> {
    // Which machine a figure came from goes with it (docs/BENCHMARKS.md compares like with like).
    println!(
        "machine: {}; libtorch {}",
        crate::runtime::machine(),
        crate::runtime::libtorch_version()
    );
    match b {
        BenchCommand::Knn(a) => knn(a),
        BenchCommand::Speed(a) => super::bench_train::speed(a),
        BenchCommand::Quality(a) => super::bench_train::quality(a),
        BenchCommand::Tsne(a) => tsne(a),
        BenchCommand::Scale(a) => super::bench_scale::scale(a),
        BenchCommand::Decode(a) => super::bench_decode::decode(a),
        BenchCommand::Corrections(a) => super::bench_corrections::corrections(a),
    }
}

fn tsne(a: &TsneBench) -> Result<()> {
    let (features, rows, dim) = crate::export::npy::read_f32(&a.run.join("features.npy"))?;
    let start = Instant::now();
    let e = crate::embedding::tsne(&features, dim, a.points, a.iterations, a.seed)?;
    let secs = start.elapsed().as_secs_f64();
    // A digest of the coordinates: equal digests across launches show the map is reproducible.
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in &e.xy {
        h.update(p[0].to_le_bytes());
        h.update(p[1].to_le_bytes());
    }
    let digest: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!(
        "tsne {} of {rows} points, dim {dim}, {} iterations: {secs:.1} s (map digest {digest})",
        e.items.len(),
        a.iterations,
    );
    Ok(())
}

/// A field of /proc/self/status in kB (VmRSS, VmHWM, RssAnon, …); `None` off Linux.
pub(super) fn proc_status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn knn(a: &KnnBench) -> Result<()> {
    let device = a.device.resolve()?;
    tch::manual_seed(a.seed);
    let x = Tensor::randn([a.n as i64, a.dim as i64], (Kind::Float, device));
    // Reset the peak-RSS counter so the peak is the k-NN's own, over the input already in memory.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let base = proc_status_kb("VmRSS:").unwrap_or(0);
    let start = Instant::now();
    let tile = a.tile.unwrap_or_else(|| graph::knn::block_rows(a.n));
    let g = graph::knn::knn_blocked(&x, a.k, tile, &Progress::none())?;
    let secs = start.elapsed().as_secs_f64();
    let peak = proc_status_kb("VmHWM:").unwrap_or(0);
    println!(
        "knn n={} dim={} k={} device={} threads={}: {:.2} s, peak memory {:.0} MB above the {:.0} MB baseline (tiles of {tile}²), {} edges",
        a.n,
        a.dim,
        a.k,
        device_name(device),
        tch::get_num_threads(),
        secs,
        peak.saturating_sub(base) as f64 / 1024.0,
        base as f64 / 1024.0,
        g.neighbors.len()
    );
    Ok(())
}
