//! The run folders under a runs directory, summarised for the Runs view and `icicle runs`:
//! data, preset, the settings that differ from the preset, scores with and without labels,
//! time and device. Only folders that look like runs (a config.toml and a metrics.json or a
//! checkpoint) are listed, and only those can be deleted.
use crate::config::Config;
use crate::metrics::{LabelFree, Scores};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct RunSummary {
    pub dir: PathBuf,
    pub name: String,
    pub dataset: String,
    pub items: usize,
    pub config: Config,
    /// `key = value` of every setting that differs from the plain preset (K and seed aside).
    pub changed: Vec<String>,
    /// Absent while the run has not finished (or was cancelled).
    pub finished: Option<Finished>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Finished {
    pub wall_seconds: f64,
    pub device: String,
    pub scores: Option<Scores>,
    #[serde(default)]
    pub label_free: Option<LabelFree>,
}

#[derive(Deserialize)]
struct Head {
    dataset: String,
    items: usize,
}

/// Whether `dir` is a run folder: only these are listed and deletable.
pub fn is_run_folder(dir: &Path) -> bool {
    dir.join("config.toml").is_file()
        && (dir.join("metrics.json").is_file() || dir.join("checkpoints").is_dir())
}

/// The run folders of a runs directory.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub runs: Vec<RunSummary>,
    /// Run folders that could not be read, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Every run folder directly under `root`, by name.
pub fn list(root: &Path) -> Result<Listing> {
    let entries = std::fs::read_dir(root)
        .with_context(|| format!("cannot list the runs folder {}", root.display()))?;
    let (mut runs, mut skipped) = (vec![], vec![]);
    for e in entries.flatten() {
        let dir = e.path();
        if !dir.is_dir() || !is_run_folder(&dir) {
            continue;
        }
        match summarise(&dir) {
            Ok(r) => runs.push(r),
            Err(err) => skipped.push((dir, format!("{err:#}"))),
        }
    }
    runs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Listing { runs, skipped })
}

/// One run folder's summary.
pub fn summarise(dir: &Path) -> Result<RunSummary> {
    let cfg_path = dir.join("config.toml");
    let text = std::fs::read_to_string(&cfg_path)
        .with_context(|| format!("cannot read {}", cfg_path.display()))?;
    let config = Config::from_toml(&text).with_context(|| cfg_path.display().to_string())?;
    let metrics = dir.join("metrics.json");
    let (head, finished) = if metrics.is_file() {
        let bytes = std::fs::read(&metrics)
            .with_context(|| format!("cannot read {}", metrics.display()))?;
        let head: Head =
            serde_json::from_slice(&bytes).with_context(|| metrics.display().to_string())?;
        let fin: Finished =
            serde_json::from_slice(&bytes).with_context(|| metrics.display().to_string())?;
        (Some(head), Some(fin))
    } else {
        (None, None)
    };
    let data = crate::rundir::DataRecord::read(dir).ok();
    let dataset = head
        .as_ref()
        .map(|h| h.dataset.clone())
        .or_else(|| data.as_ref().and_then(|d| d.dataset.clone()))
        .unwrap_or_else(|| "?".into());
    Ok(RunSummary {
        dir: dir.to_path_buf(),
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        dataset,
        items: head.map_or(0, |h| h.items),
        changed: changed_settings(&config),
        config,
        finished,
    })
}

/// `key = value` for every field of `cfg` that differs from its preset's (K and seed aside).
pub fn changed_settings(cfg: &Config) -> Vec<String> {
    let preset = Config::preset(cfg.preset, cfg.clusters);
    let flat = |c: &Config| -> Vec<(String, String)> {
        let table: toml::Table = toml::from_str(&c.to_toml()).expect("config round-trips");
        let mut out = vec![];
        flatten("", &toml::Value::Table(table), &mut out);
        out
    };
    let base = flat(&preset);
    flat(cfg)
        .into_iter()
        .filter(|(k, v)| {
            k != "seed"
                && k != "clusters"
                && base.iter().find(|(bk, _)| bk == k).map(|(_, bv)| bv) != Some(v)
        })
        .map(|(k, v)| format!("{k} = {v}"))
        .collect()
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut Vec<(String, String)>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// Deletes a run folder, refusing anything that is not one.
pub fn delete(dir: &Path) -> Result<()> {
    if !is_run_folder(dir) {
        bail!(
            "{} is not a run folder (no config.toml with metrics.json or checkpoints): not deleted",
            dir.display()
        );
    }
    std::fs::remove_dir_all(dir).with_context(|| format!("cannot delete {}", dir.display()))
}
