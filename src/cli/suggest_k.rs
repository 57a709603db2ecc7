//! `icicle suggest-k`: sweep K on a run's learned features, or on a dataset's pixels or
//! pretrained features, and say which K the label-free criteria pick and why.
use super::baseline::BaselineFeatures;
use super::data_args::DataArgs;
use crate::cluster::suggest_k::{Suggestion, suggest_k};
use crate::runtime::DeviceChoice;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;
use tch::Tensor;

#[derive(Debug, Args)]
pub struct SuggestKArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// A run directory: sweep its learned features (features.npy) instead of loading images.
    #[arg(long, conflicts_with_all = ["dataset", "folder"])]
    pub run: Option<PathBuf>,
    /// The values of K to try, FROM..TO (both included).
    #[arg(long, default_value = "2..30", value_parser = parse_range)]
    pub range: (usize, usize),
    /// What to sweep for --dataset/--folder (default: the pretrained EfficientNet-Lite0 head
    /// for colour images, pixels for gray ones, as the default preset chooses).
    #[arg(long, value_enum)]
    pub features: Option<BaselineFeatures>,
    /// Side the images are resized to for pretrained features.
    #[arg(long, default_value_t = 128)]
    pub side: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Also write the sweep (one row per K) as CSV to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// "2..30" → (2, 30).
pub fn parse_range(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("{s}: expected FROM..TO, e.g. 2..30"))?;
    let num = |t: &str| {
        t.trim()
            .trim_start_matches('=')
            .parse::<usize>()
            .map_err(|_| format!("{s}: '{t}' is not a whole number"))
    };
    let (a, b) = (num(a)?, num(b)?);
    if a < 2 || b < a {
        return Err(format!("{s}: needs 2 ≤ FROM ≤ TO"));
    }
    Ok((a, b))
}

/// The features to sweep and their name.
fn features(a: &SuggestKArgs, device: tch::Device) -> Result<(Tensor, String, Option<usize>)> {
    if let Some(dir) = &a.run {
        let npy = dir.join("features.npy");
        let (v, rows, cols) = crate::export::npy::read_f32(&npy).with_context(|| {
            format!(
                "{}: no learned features (features.npy) to sweep",
                dir.display()
            )
        })?;
        let x = Tensor::from_slice(&v)
            .view([rows as i64, cols as i64])
            .to_device(device);
        return Ok((
            x,
            format!("the learned features of {}", dir.display()),
            None,
        ));
    }
    let ds = a.data.load()?;
    let classes = (ds.labels.is_some() && ds.num_classes() >= 2).then(|| ds.num_classes());
    let kind = a.features.unwrap_or(if ds.channels == 3 {
        BaselineFeatures::Pretrained
    } else {
        BaselineFeatures::Pixels
    });
    let (x, what) = match kind {
        BaselineFeatures::Pixels => (ds.pixel_features(device), "pixels".to_string()),
        BaselineFeatures::Pretrained => {
            use crate::train::frozen;
            let (x, cfg) = frozen::pretrained_features(&ds, 0, a.side, device)?;
            (x, format!("features of {}", frozen::describe(&cfg)))
        }
    };
    Ok((x, format!("{what} of {}", ds.name), classes))
}

pub fn run(a: &SuggestKArgs) -> Result<()> {
    let device = a.device.resolve()?;
    let (x, what, classes) = features(a, device)?;
    let n = x.size()[0] as usize;
    if a.range.1 + 1 >= n {
        bail!(
            "--range {}..{}: K up to {} needs more than {} images; there are {n}",
            a.range.0,
            a.range.1,
            a.range.1,
            a.range.1 + 1
        );
    }
    println!(
        "sweeping K = {}..{} on {what} ({n} images)",
        a.range.0, a.range.1
    );
    let bar = super::progress_bar::loader();
    let started = std::time::Instant::now();
    let s = suggest_k(&x, a.range.0..=a.range.1, a.seed, &mut |done, total| {
        bar.progress.report("K-means per K", done, total);
        true
    })?;
    bar.finish();
    print_table(&s);
    println!("suggested K = {}: {}", s.suggested, s.why);
    if let Some(c) = classes {
        println!("(the data has {c} labelled classes)");
    }
    println!(
        "({} images swept in {:.1} s)",
        s.items,
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &a.csv {
        write_csv(path, &s)?;
        println!("sweep written to {}", path.display());
    }
    Ok(())
}

fn print_table(s: &Suggestion) {
    println!(
        "{:>4}  {:>10}  {:>14}  {:>8}",
        "K", "silhouette", "Davies–Bouldin", "eigengap"
    );
    for r in &s.scores {
        let mark = |k: usize| if k == r.k { "*" } else { " " };
        println!(
            "{:>4}  {:>9.4}{}  {:>13.4}{}  {:>7.4}{}",
            r.k,
            r.silhouette,
            mark(s.by_silhouette),
            r.davies_bouldin,
            mark(s.by_davies_bouldin),
            r.eigengap,
            mark(s.by_eigengap)
        );
    }
}

fn write_csv(path: &std::path::Path, s: &Suggestion) -> Result<()> {
    crate::atomic::write_with(path, |w| {
        writeln!(w, "k,silhouette,davies_bouldin,eigengap,inertia,suggested")?;
        for r in &s.scores {
            writeln!(
                w,
                "{},{:.6},{:.6},{:.6},{:.6},{}",
                r.k,
                r.silhouette,
                r.davies_bouldin,
                r.eigengap,
                r.inertia,
                r.k == s.suggested
            )?;
        }
        Ok(())
    })
}
