//! `icicle runs`: the run folders under a runs directory, side by side.
use crate::runs::{RunSummary, list};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// The runs directory.
    #[arg(long, default_value = "runs")]
    pub dir: PathBuf,
    /// Sort by: name, dataset, acc, silhouette or time.
    #[arg(long, default_value = "name", value_parser = ["name", "dataset", "acc", "silhouette", "time"])]
    pub sort: String,
}

pub fn run(a: &RunsArgs) -> Result<()> {
    let crate::runs::Listing { mut runs, skipped } = list(&a.dir)?;
    sort(&mut runs, &a.sort);
    println!(
        "{:<34} {:<20} {:<9} {:>6} {:>6} {:>10} {:>10} {:>8} {:<6}  settings beyond the preset",
        "run", "data", "preset", "K", "ACC", "silhouette", "confidence", "time", "device"
    );
    for r in &runs {
        let f = r.finished.as_ref();
        println!(
            "{:<34} {:<20} {:<9} {:>6} {:>6} {:>10} {:>10} {:>8} {:<6}  {}",
            r.name,
            r.dataset,
            format!("{:?}", r.config.preset).to_lowercase(),
            r.config.clusters,
            f.and_then(|f| f.scores)
                .map_or("–".into(), |s| format!("{:.3}", s.acc)),
            f.and_then(|f| f.label_free)
                .map_or("–".into(), |l| format!("{:.3}", l.silhouette)),
            f.and_then(|f| f.label_free)
                .map_or("–".into(), |l| format!("{:.2}", l.mean_confidence)),
            f.map_or("unfinished".into(), |f| format!("{:.0} s", f.wall_seconds)),
            f.map_or("", |f| f.device.as_str()),
            r.changed.join(", ")
        );
    }
    for (dir, why) in skipped {
        println!("skipped {}: {why}", dir.display());
    }
    Ok(())
}

/// Sorts by one column; best scores first, shortest times first.
pub fn sort(runs: &mut [RunSummary], by: &str) {
    let acc = |r: &RunSummary| {
        r.finished
            .as_ref()
            .and_then(|f| f.scores)
            .map_or(-1.0, |s| s.acc)
    };
    let sil = |r: &RunSummary| {
        r.finished
            .as_ref()
            .and_then(|f| f.label_free)
            .map_or(-2.0, |l| l.silhouette)
    };
    let time = |r: &RunSummary| {
        r.finished
            .as_ref()
            .map_or(f64::INFINITY, |f| f.wall_seconds)
    };
    match by {
        "dataset" => runs.sort_by(|a, b| a.dataset.cmp(&b.dataset).then(a.name.cmp(&b.name))),
        "acc" => runs.sort_by(|a, b| acc(b).total_cmp(&acc(a))),
        "silhouette" => runs.sort_by(|a, b| sil(b).total_cmp(&sil(a))),
        "time" => runs.sort_by(|a, b| time(a).total_cmp(&time(b))),
        _ => runs.sort_by(|a, b| a.name.cmp(&b.name)),
    }
}
