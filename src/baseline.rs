//! The K-means-on-pixels baseline: the yardstick every learned clustering should beat.
use crate::cluster::{KMeans, KMeansConfig, kmeans};
use crate::data::Dataset;
use crate::export;
use crate::metrics::{Evaluation, Scores};
use crate::progress::Progress;
use anyhow::{Result, bail};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use tch::Device;

pub struct Baseline {
    pub kmeans: KMeans,
    pub evaluation: Option<Evaluation>,
    pub config: KMeansConfig,
    pub wall_seconds: f64,
    pub device: Device,
}

/// What metrics.json holds for a baseline run.
#[derive(Debug, Serialize)]
pub struct BaselineReport<'a> {
    pub method: &'static str,
    pub dataset: &'a str,
    pub items: usize,
    pub clusters: usize,
    pub classes: Option<usize>,
    pub kmeans: KMeansConfig,
    pub inertia: f64,
    pub scores: Option<Scores>,
    /// For each cluster, the class it is matched to (by name), when labels are known.
    pub cluster_to_class: Option<Vec<Option<String>>>,
    pub device: String,
    pub wall_seconds: f64,
    pub skipped_files: usize,
}

pub fn run(
    ds: &Dataset,
    clusters: usize,
    seed: u64,
    device: Device,
    progress: &Progress,
) -> Result<Baseline> {
    if clusters < 2 {
        bail!("clusters must be at least 2, got {clusters}");
    }
    if clusters > ds.len() {
        bail!(
            "clusters = {clusters} is more than the {} images of {}",
            ds.len(),
            ds.name
        );
    }
    run_on(
        ds,
        &ds.pixel_features(device),
        clusters,
        seed,
        device,
        progress,
    )
}

/// K-means on given per-image features `x` (N×D), e.g. a pretrained encoder's.
pub fn run_on(
    ds: &Dataset,
    x: &tch::Tensor,
    clusters: usize,
    seed: u64,
    device: Device,
    progress: &Progress,
) -> Result<Baseline> {
    if clusters < 2 || clusters > ds.len() {
        bail!(
            "clusters = {clusters}: must be between 2 and the {} images",
            ds.len()
        );
    }
    let start = Instant::now();
    let config = KMeansConfig::new(clusters, seed);
    let km = kmeans(x, &config, progress)?;
    let evaluation = match &ds.labels {
        Some(l) => Some(Evaluation::new(&km.labels, l, clusters, ds.num_classes())?),
        None => None,
    };
    Ok(Baseline {
        kmeans: km,
        evaluation,
        config,
        wall_seconds: start.elapsed().as_secs_f64(),
        device,
    })
}

impl Baseline {
    pub fn report<'a>(&self, ds: &'a Dataset) -> BaselineReport<'a> {
        BaselineReport {
            method: "kmeans-pixels",
            dataset: &ds.name,
            items: ds.len(),
            clusters: self.config.k,
            classes: ds.labels.as_ref().map(|_| ds.num_classes()),
            kmeans: self.config,
            inertia: self.kmeans.inertia,
            scores: self.evaluation.as_ref().map(|e| e.scores),
            cluster_to_class: self.evaluation.as_ref().map(|e| {
                e.matching
                    .cluster_to_class
                    .iter()
                    .map(|c| c.map(|c| ds.class_names[c].clone()))
                    .collect()
            }),
            device: crate::runtime::device_name(self.device),
            wall_seconds: self.wall_seconds,
            skipped_files: ds.skipped.len(),
        }
    }

    /// assignments.csv, metrics.json and (with labels) confusion.csv in `dir`.
    pub fn write(&self, dir: &Path, ds: &Dataset) -> Result<()> {
        export::write_assignments(
            &dir.join("assignments.csv"),
            ds,
            &self.kmeans.labels,
            &self.kmeans.confidence,
            &Default::default(),
        )?;
        export::write_json(&dir.join("metrics.json"), &self.report(ds))?;
        if let Some(e) = &self.evaluation {
            export::write_confusion(&dir.join("confusion.csv"), e, &ds.class_names)?;
        }
        Ok(())
    }
}
