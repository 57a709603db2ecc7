//! `icicle` (no command) and `icicle gui`: the desktop app, with optional scripting for demos,
//! screenshots and frame-time measurements.
use crate::ui::{Automation, Tab};
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Args)]
pub struct GuiArgs {
    /// The data to open instead of the remembered one, read as `icicle train` reads it.
    #[command(flatten)]
    pub data: super::data_args::DataSource,
    /// Reopen a run directory.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["dataset", "folder"])]
    pub open_run: Option<PathBuf>,
    /// Change a setting after loading, as `icicle train --set` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Press Train as soon as the data is loaded.
    #[arg(long)]
    pub train: bool,
    /// Press Train this many seconds after launch.
    #[arg(long, value_name = "SECONDS")]
    pub train_at: Option<f64>,
    /// Open the Runs view on this runs folder with every run's curves overlaid.
    #[arg(long, value_name = "DIR")]
    pub compare_runs: Option<PathBuf>,
    /// Show this image's neighbours in the Neighbours tab (its index in the data).
    #[arg(long, value_name = "INDEX")]
    pub focus: Option<usize>,
    /// Press "Suggest K" this many seconds after launch (the sweep of K = 2..30).
    #[arg(long, value_name = "SECONDS")]
    pub suggest_k_at: Option<f64>,
    /// Press the corrections' "Preview" this many seconds after launch (the run's
    /// corrections.json spread over its k-NN graph).
    #[arg(long, value_name = "SECONDS")]
    pub preview_at: Option<f64>,
    /// Move these images (indices in the data) to a cluster once the run is on screen, as
    /// "Move to cluster" does: `3,17,40:5` (repeatable).
    #[arg(long = "move", value_name = "IMAGES:CLUSTER")]
    pub moves: Vec<String>,
    /// Press "More like these" this many seconds after launch: for the last --move, else for
    /// the images the run's corrections.json moved into the cluster that received the most.
    #[arg(long, value_name = "SECONDS")]
    pub more_like_at: Option<f64>,
    /// Map at most this many points with t-SNE (default 5000; a seeded subsample above).
    #[arg(long, value_name = "N")]
    pub tsne_points: Option<usize>,
    /// t-SNE iterations (default 750; fewer gives a rougher map sooner).
    #[arg(long, value_name = "N")]
    pub tsne_iterations: Option<usize>,
    /// Colour the t-SNE map by cluster, ground truth or confidence.
    #[arg(long, value_parser = ["cluster", "truth", "confidence"])]
    pub colour_by: Option<String>,
    /// Open on this tab: losses, embedding, confusion, gallery, neighbours, graph, runs or export.
    #[arg(long)]
    pub tab: Option<String>,
    /// Switch to a tab at a time: SECONDS:TAB (repeatable).
    #[arg(long = "tab-at", value_name = "SECONDS:TAB")]
    pub tab_at: Vec<String>,
    /// Save a screenshot of the window: SECONDS:FILE.png after launch (repeatable).
    #[arg(long = "screenshot", value_name = "SECONDS:FILE")]
    pub screenshots: Vec<String>,
    /// Close the window after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub quit_after: Option<f64>,
    /// At exit, write per-frame UI times (p50/p95/p99) to this file.
    #[arg(long, value_name = "FILE")]
    pub frame_log: Option<PathBuf>,
    /// Once the t-SNE map is drawn, keep moving the pointer over it, redrawing every frame
    /// (the worst case of someone exploring the map; for frame-time measurements).
    #[arg(long)]
    pub sweep_pointer: bool,
    /// Drag with the mouse from one point to another, starting this many seconds after launch
    /// and lasting one second (for screenshots of a band or lasso): `SECONDS:X1,Y1:X2,Y2`.
    #[arg(long, value_name = "SECONDS:X1,Y1:X2,Y2")]
    pub drag: Option<String>,
    /// Start from default settings and do not save them (demos, tests).
    #[arg(long)]
    pub fresh: bool,
}

fn tab(t: &str) -> Result<Tab> {
    match Tab::parse(t) {
        Some(t) => Ok(t),
        None => bail!(
            "tab {t}: not one of losses, embedding, confusion, gallery, neighbours, graph, runs, export"
        ),
    }
}

/// `SECONDS:REST` → (seconds, rest).
fn timed<'a>(flag: &str, s: &'a str) -> Result<(f64, &'a str)> {
    let Some((t, rest)) = s.split_once(':') else {
        bail!("--{flag} {s}: expected SECONDS:…");
    };
    let t: f64 = t
        .parse()
        .map_err(|_| anyhow::anyhow!("--{flag} {s}: {t} is not a number of seconds"))?;
    Ok((t, rest))
}

/// `SECONDS:X1,Y1:X2,Y2` → (seconds, from, to).
fn parse_drag(s: &str) -> Result<(f64, egui::Pos2, egui::Pos2)> {
    let (t, rest) = timed("drag", s)?;
    let point = |p: &str| -> Option<egui::Pos2> {
        let (x, y) = p.split_once(',')?;
        Some(egui::pos2(x.trim().parse().ok()?, y.trim().parse().ok()?))
    };
    let bad = || anyhow::anyhow!("--drag {s}: expected SECONDS:X1,Y1:X2,Y2");
    let (a, b) = rest.split_once(':').ok_or_else(bad)?;
    Ok((t, point(a).ok_or_else(bad)?, point(b).ok_or_else(bad)?))
}

pub fn run(a: &GuiArgs) -> Result<()> {
    let moves = a
        .moves
        .iter()
        .map(|m| super::more_like::parse_move(m))
        .collect::<Result<Vec<_>>>()?;
    let first_tab = a.tab.as_deref().map(tab).transpose()?;
    let mut tab_at = vec![];
    for s in &a.tab_at {
        let (t, name) = timed("tab-at", s)?;
        tab_at.push((t, tab(name)?));
    }
    tab_at.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut screenshots = vec![];
    for s in &a.screenshots {
        let (t, path) = timed("screenshot", s)?;
        screenshots.push((t, PathBuf::from(path)));
    }
    screenshots.sort_by(|x, y| x.0.total_cmp(&y.0));
    let data = a.data.named();
    crate::ui::launch(Automation {
        data,
        open_run: a.open_run.clone(),
        sets: a.sets.clone(),
        train: a.train,
        train_at: a.train_at,
        suggest_k_at: a.suggest_k_at,
        preview_at: a.preview_at,
        more_like_at: a.more_like_at,
        moves,
        focus: a.focus,
        compare_runs: a.compare_runs.clone(),
        tsne_max_points: a.tsne_points,
        tsne_iterations: a.tsne_iterations,
        colour_by: a
            .colour_by
            .as_deref()
            .map(|c| (c == "truth", c == "confidence")),
        tab: first_tab,
        tab_at,
        screenshots,
        quit_after: a.quit_after,
        frame_log: a.frame_log.clone(),
        sweep_pointer: a.sweep_pointer,
        drag: a.drag.as_deref().map(parse_drag).transpose()?,
        drag_stage: 0,
        fresh: a.fresh,
    })
}
