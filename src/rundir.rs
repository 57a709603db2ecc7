//! A run directory read back: what the app needs to show a finished run again (config, data
//! source, losses, metrics history, assignments, features, graph statistics). CLI and app write the same files.
use crate::config::Config;
use crate::data::{Dataset, FolderLayout, LoadOptions, Progress, Registry};
use crate::graph::{GraphStats, Knn};
use crate::messages::{LabelFreePoint, LossPoint, LossTerms, MetricsPoint, Stage};
use crate::metrics::{LabelFree, Scores};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Which data a run used (data.json), so a run can be resumed or reopened without flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    pub dataset: Option<String>,
    pub folder: Option<PathBuf>,
    /// Side folder images are decoded at; 0 = auto (`data::folder::auto_side`), written
    /// "auto" in data.json.
    #[serde(with = "side_serde")]
    pub size: u32,
    pub channels: String,
    /// Whether a folder's class subfolders are labels (runs saved before: auto).
    #[serde(default)]
    pub labels: crate::data::folder::Labels,
}

impl DataRecord {
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join("data.json");
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("{}", path.display()))
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        crate::export::write_json(&dir.join("data.json"), self)
    }

    /// A registry dataset by name (the registry's default when `None`).
    pub fn registry(name: Option<String>) -> Self {
        Self {
            dataset: name,
            folder: None,
            size: 0,
            channels: "auto".into(),
            labels: Default::default(),
        }
    }

    /// Loads the images: the folder (resized to `size`, `channels` "auto", "1" or "3"), else
    /// the registry entry. Used by the CLI and the app alike.
    pub fn load(
        &self,
        registry: &Registry,
        opts: &LoadOptions,
        progress: &Progress,
    ) -> Result<Dataset> {
        let ds = if let Some(folder) = &self.folder {
            let channels = match self.channels.as_str() {
                "1" => Some(1),
                "3" => Some(3),
                "auto" => None,
                other => bail!("channels = {other}: must be auto, 1 or 3"),
            };
            let layout = FolderLayout {
                height: self.size as usize,
                width: self.size as usize,
                channels,
                labels: self.labels,
            };
            let name = folder
                .canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "folder".into());
            crate::data::load_folder(folder, &name, layout, opts, progress)?
        } else {
            let entry = match &self.dataset {
                Some(name) => registry.get(name)?,
                None => registry.default_entry(),
            };
            crate::data::load_entry(entry, opts, progress)?
        };
        if ds.is_empty() {
            bail!("dataset {} has no images", ds.name);
        }
        Ok(ds)
    }
}

/// `size` in data.json: "auto" or a number of pixels (runs saved before: a number).
mod side_serde {
    use serde::Deserialize;

    pub fn serialize<S: serde::Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
        match *v {
            0 => s.serialize_str("auto"),
            n => s.serialize_u32(n),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Side {
            Px(u32),
            Word(String),
        }
        match Side::deserialize(d)? {
            Side::Px(n) => Ok(n),
            Side::Word(w) => super::parse_side(&w).map_err(serde::de::Error::custom),
        }
    }
}

/// A folder side as people write it: "auto" (0) or 4 to 512 pixels.
pub fn parse_side(text: &str) -> std::result::Result<u32, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("auto") {
        return Ok(0);
    }
    match t.parse::<u32>() {
        Ok(n) if (4..=512).contains(&n) => Ok(n),
        _ => Err(format!(
            "size = {t:?}: must be auto or a number of pixels from 4 to 512"
        )),
    }
}

/// A finished run, as saved.
#[derive(Debug, Clone)]
pub struct SavedRun {
    pub dir: PathBuf,
    pub config: Config,
    pub data: DataRecord,
    pub losses: Vec<LossPoint>,
    pub metrics: Vec<MetricsPoint>,
    /// Label-free scores at each evaluation (empty for runs saved before them).
    pub label_free: Vec<LabelFreePoint>,
    pub clusters: Vec<i64>,
    pub confidence: Vec<f32>,
    /// features.npy, when the run got that far: (values, dim).
    pub features: Option<(Vec<f32>, usize)>,
    /// graphs.json: the k-NN graph statistics per scale (empty for runs saved before it).
    pub graphs: Vec<(&'static str, GraphStats)>,
    /// graph_a.npy and graph_b.npy: the neighbour lists (absent in runs saved before them).
    pub neighbours: Option<(Knn, Knn)>,
    /// Which candidate the run answered with, and every candidate (runs before: none).
    pub answer: Option<crate::train::answer::FinalAnswer>,
    pub candidates: Option<crate::train::answer::SavedCandidates>,
    /// What the person said about its images (corrections.json; empty if none).
    pub corrections: crate::correct::Corrections,
}

/// Writes graph_a.npy and graph_b.npy (N×k neighbour indices, nearest first).
pub fn write_neighbours(dir: &Path, a: &Knn, b: &Knn) -> Result<()> {
    for (name, g) in [("graph_a.npy", a), ("graph_b.npy", b)] {
        crate::export::npy::write_i64(&dir.join(name), &g.neighbors, g.n, g.k)?;
    }
    Ok(())
}

/// Reads one of them back, checked against the run's `items`.
pub fn read_neighbours(path: &Path, items: usize) -> Result<Knn> {
    let (neighbors, n, k) = crate::export::npy::read_i64(path)?;
    if n != items {
        bail!("{}: {n} rows but {items} assignments", path.display());
    }
    if let Some(bad) = neighbors.iter().find(|&&j| j < 0 || j as usize >= items) {
        bail!(
            "{}: neighbour index {bad} outside 0..{items}",
            path.display()
        );
    }
    Ok(Knn { n, k, neighbors })
}

/// One line of graphs.json.
#[derive(Serialize, Deserialize)]
struct SavedGraph {
    scale: String,
    #[serde(flatten)]
    stats: GraphStats,
}

/// Writes graphs.json (atomically): the statistics of each graph scale.
pub fn write_graphs(dir: &Path, graphs: &[(&'static str, GraphStats)]) -> Result<()> {
    let rows: Vec<SavedGraph> = graphs
        .iter()
        .map(|(scale, stats)| SavedGraph {
            scale: scale.to_string(),
            stats: stats.clone(),
        })
        .collect();
    crate::export::write_json(&dir.join("graphs.json"), &rows)
}

fn read_graphs(path: &Path) -> Result<Vec<(&'static str, GraphStats)>> {
    if !path.is_file() {
        return Ok(vec![]);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let rows: Vec<SavedGraph> =
        serde_json::from_slice(&bytes).with_context(|| path.display().to_string())?;
    rows.into_iter()
        .map(|g| {
            let scale = match g.scale.as_str() {
                "a" => "a",
                "b" => "b",
                other => bail!("{}: unknown graph scale {other:?}", path.display()),
            };
            Ok((scale, g.stats))
        })
        .collect()
}

impl SavedRun {
    pub fn read(dir: &Path) -> Result<Self> {
        let cfg_path = dir.join("config.toml");
        let text = std::fs::read_to_string(&cfg_path)
            .with_context(|| format!("{} is not a run folder: no config.toml", dir.display()))?;
        let config = Config::from_toml(&text).with_context(|| cfg_path.display().to_string())?;
        let data = DataRecord::read(dir)?;
        let losses = read_losses(&dir.join("losses.csv"))?;
        let (metrics, label_free, answer) = read_history(&dir.join("metrics.json"))?;
        // A candidates.json that does not fit the assignments is left out, not fatal.
        let candidates = crate::train::answer::read_candidates(dir);
        let (clusters, confidence) = read_assignments(&dir.join("assignments.csv"))?;
        let npy = dir.join("features.npy");
        let features = if npy.is_file() {
            Some(read_features(&npy, clusters.len())?)
        } else {
            None
        };
        let graphs = read_graphs(&dir.join("graphs.json"))?;
        let (ga, gb) = (dir.join("graph_a.npy"), dir.join("graph_b.npy"));
        let neighbours = if ga.is_file() && gb.is_file() {
            Some((
                read_neighbours(&ga, clusters.len())?,
                read_neighbours(&gb, clusters.len())?,
            ))
        } else {
            None
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            data,
            losses,
            metrics,
            label_free,
            clusters,
            confidence,
            features,
            graphs,
            neighbours,
            answer,
            candidates,
            corrections: crate::correct::Corrections::read_run(dir)?,
        })
    }

    /// Each answer's confidence read off its clusters (`metrics::confidence`), from the run's
    /// features and graph b: what a run stores since session 25; runs saved before stored each
    /// head's own top probability, which reads "uncertain" for nearly every image. Unchanged
    /// where the run has no features or graphs. Milliseconds at 10,000 images: for a helper
    /// thread, not the UI's.
    pub fn refresh_confidence(&mut self) {
        let (Some((f, dim)), Some((_, kb))) = (&self.features, &self.neighbours) else {
            return;
        };
        let n = self.clusters.len();
        if *dim == 0 || f.len() != n * dim {
            return;
        }
        let x = tch::Tensor::from_slice(f).view([n as i64, *dim as i64]);
        let k = self.config.clusters;
        self.confidence = crate::metrics::confidence(&x, &self.clusters, k, kb);
        if let Some(c) = &mut self.candidates {
            for (conf, clusters) in c.confidence.iter_mut().zip(&c.clusters) {
                *conf = crate::metrics::confidence(&x, clusters, k, kb);
            }
        }
    }
}

/// A run's features.npy as (values, dim), checked against its `items` assignments.
pub fn read_features(npy: &Path, items: usize) -> Result<(Vec<f32>, usize)> {
    let (v, rows, cols) = crate::export::npy::read_f32(npy)?;
    if rows != items {
        bail!("{}: {rows} rows but {items} assignments", npy.display());
    }
    Ok((v, cols))
}

/// What the Runs view overlays: a run's losses, scores and label-free scores over time.
#[derive(Debug, Clone, Default)]
pub struct Curves {
    pub losses: Vec<LossPoint>,
    pub metrics: Vec<MetricsPoint>,
    pub label_free: Vec<LabelFreePoint>,
    /// Stage-1 steps of the run: stage-2 points are drawn after them.
    pub stage1_steps: usize,
}

impl Curves {
    /// The x of a point in plots of the whole run: stage-1 step, then stage-2 iteration after
    /// the last stage-1 step (computed once, when the curves are read: this runs per point
    /// on the UI thread).
    pub fn x(&self, stage: Stage, step: usize) -> f64 {
        match stage {
            Stage::One => step as f64,
            _ => (self.stage1_steps + step) as f64,
        }
    }
}

/// Reads a run's curves only (not its features or assignments).
pub fn read_curves(dir: &Path) -> Result<Curves> {
    let losses = read_losses(&dir.join("losses.csv"))?;
    let metrics_path = dir.join("metrics.json");
    let (metrics, label_free, _) = if metrics_path.is_file() {
        read_history(&metrics_path)?
    } else {
        (vec![], vec![], None)
    };
    let stage1_steps = losses
        .iter()
        .filter(|l| l.stage == Stage::One)
        .map(|l| l.global_step)
        .max()
        .unwrap_or(0);
    Ok(Curves {
        losses,
        metrics,
        label_free,
        stage1_steps,
    })
}

fn stage_of(s: &str) -> Option<Stage> {
    match s {
        "1" => Some(Stage::One),
        "2" => Some(Stage::Two),
        "graphs" => Some(Stage::Graphs),
        "extract" => Some(Stage::Extract),
        _ => None,
    }
}

fn read_losses(path: &Path) -> Result<Vec<LossPoint>> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = vec![];
    for (row, rec) in rdr.records().enumerate() {
        let at = || format!("{}: row {}", path.display(), row + 2);
        let rec = rec.with_context(at)?;
        let num = |i: usize| -> Result<Option<f64>> {
            let s = rec.get(i).unwrap_or("");
            if s.is_empty() {
                Ok(None)
            } else {
                s.parse().map(Some).with_context(at)
            }
        };
        let int = |i: usize| -> Result<usize> { rec.get(i).unwrap_or("").parse().with_context(at) };
        let stage = stage_of(rec.get(0).unwrap_or("")).with_context(at)?;
        out.push(LossPoint {
            stage,
            epoch: int(1)?,
            step: int(2)?,
            global_step: int(3)?,
            terms: LossTerms {
                total: num(4)?.with_context(at)?,
                instance: num(5)?,
                cluster: num(6)?,
                entropy: num(7)?,
                reconstruction: num(8)?,
                kl_q: num(9)?,
                kl_a: num(10)?,
                kl_b: num(11)?,
            },
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
struct HistoryRow {
    stage: String,
    step: usize,
    head: String,
    acc: f64,
    nmi: f64,
    ari: f64,
}

#[derive(Deserialize)]
struct Report {
    #[serde(default)]
    history: Vec<HistoryRow>,
    /// Absent in runs saved before label-free scores existed.
    #[serde(default)]
    label_free_history: Vec<LabelFreeRow>,
    /// Absent in runs saved before the label-free final answer.
    #[serde(default)]
    final_answer: Option<crate::train::answer::FinalAnswer>,
}

#[derive(Deserialize)]
struct LabelFreeRow {
    stage: String,
    step: usize,
    #[serde(flatten)]
    scores: LabelFree,
}

type History = (
    Vec<MetricsPoint>,
    Vec<LabelFreePoint>,
    Option<crate::train::answer::FinalAnswer>,
);

fn read_history(path: &Path) -> Result<History> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let r: Report = serde_json::from_slice(&bytes).with_context(|| path.display().to_string())?;
    let label_free = r
        .label_free_history
        .into_iter()
        .filter_map(|l| {
            Some(LabelFreePoint {
                stage: stage_of(&l.stage)?,
                global_step: l.step,
                scores: l.scores,
            })
        })
        .collect();
    let metrics = r
        .history
        .into_iter()
        .filter_map(|h| {
            Some(MetricsPoint {
                stage: stage_of(&h.stage)?,
                global_step: h.step,
                head: h.head,
                scores: Scores {
                    acc: h.acc,
                    nmi: h.nmi,
                    ari: h.ari,
                },
            })
        })
        .collect();
    Ok((metrics, label_free, r.final_answer))
}

fn read_assignments(path: &Path) -> Result<(Vec<i64>, Vec<f32>)> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = rdr.headers()?.clone();
    let col = |n: &str| {
        headers
            .iter()
            .position(|h| h == n)
            .with_context(|| format!("{}: no {n} column", path.display()))
    };
    let (cc, pc) = (col("cluster")?, col("confidence")?);
    let (mut clusters, mut conf) = (vec![], vec![]);
    for (row, rec) in rdr.records().enumerate() {
        let at = || format!("{}: row {}", path.display(), row + 2);
        let rec = rec.with_context(at)?;
        clusters.push(rec[cc].parse().with_context(at)?);
        conf.push(rec[pc].parse().with_context(at)?);
    }
    Ok((clusters, conf))
}
