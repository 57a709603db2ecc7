//! `icicle more-like RUN --move 965,966,967:8`: the images of the clusters the moved images were
//! in, most like them and their new cluster first, as the app's "More like these" lists them
//! (the run's corrections.json applied, images it corrects left out). Lists only: nothing is
//! moved or written.
use crate::correct::alike::Move;
use crate::correct::more_like;
use crate::rundir::SavedRun;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MoreLikeArgs {
    /// A finished run folder.
    pub run: PathBuf,
    /// The move: image indices (rows of assignments.csv, from 0) and the cluster they go to.
    #[arg(long = "move", value_name = "IMAGES:CLUSTER")]
    pub moved: String,
    /// How many of the most alike to list.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
}

/// `3,17,40:5` → ([3, 17, 40], 5).
pub fn parse_move(s: &str) -> Result<(Vec<usize>, usize)> {
    let bad = || anyhow::anyhow!("--move {s}: expected IMAGES:CLUSTER, e.g. 3,17,40:5");
    let (images, cluster) = s.split_once(':').ok_or_else(bad)?;
    let images = images
        .split(',')
        .map(|i| i.trim().parse::<usize>().map_err(|_| bad()))
        .collect::<Result<Vec<_>>>()?;
    Ok((images, cluster.trim().parse().map_err(|_| bad())?))
}

pub fn run(a: &MoreLikeArgs) -> Result<()> {
    let (images, to) = parse_move(&a.moved)?;
    let saved = SavedRun::read(&a.run)?;
    let n = saved.clusters.len();
    let k = saved.config.clusters;
    if let Some(bad) = images.iter().find(|&&i| i >= n) {
        bail!("--move: image {bad} does not exist (the run has {n} images)");
    }
    if to >= k {
        bail!("--move: cluster {to} does not exist (K = {k})");
    }
    let (x, dim) = saved
        .features
        .as_ref()
        .with_context(|| format!("{}: no features.npy to compare images by", a.run.display()))?;
    // From where the run put them; the clusters as the corrections and this move leave them.
    let put = crate::correct::Corrections::default().assigned(&images, &saved.clusters);
    let m = Move::of(&images, to, &put)
        .with_context(|| format!("--move: the images are all in cluster {to} already"))?;
    let mut assignment = saved.corrections.assignment(&saved.clusters);
    for &i in &images {
        assignment[i] = to as i64;
    }
    let skip = |i: usize| saved.corrections.images.contains_key(&i);
    let ranked = more_like(x, *dim, &assignment, &m, &skip)?;
    let paths = paths(&a.run)?;
    println!("rank\timage\tpath\tcluster\tscore");
    for (r, &(i, score)) in ranked.iter().take(a.top).enumerate() {
        let path = paths.get(i).map_or("?", |p| p.as_str());
        println!("{}\t{i}\t{path}\t{}\t{score:.4}", r + 1, assignment[i]);
    }
    eprintln!(
        "{} of {} images {} listed, most alike first",
        ranked.len().min(a.top),
        ranked.len(),
        m.from_text()
    );
    Ok(())
}

/// The path column of the run's assignments.csv, by row.
fn paths(run: &std::path::Path) -> Result<Vec<String>> {
    let path = run.join("assignments.csv");
    let mut rdr =
        csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let col = rdr
        .headers()?
        .iter()
        .position(|h| h == "path")
        .with_context(|| format!("{}: no path column", path.display()))?;
    rdr.records()
        .map(|r| {
            r.map(|r| r[col].to_string())
                .with_context(|| path.display().to_string())
        })
        .collect()
}
