//! The files of a run directory that describe a clustering: assignments.csv, confusion.csv and
//! metrics.json. Every file is written atomically.
use crate::atomic;
use crate::data::Dataset;
use crate::metrics::Evaluation;
use anyhow::{Result, bail};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What a person said about a clustering that an export carries: the clusters' names and
/// which images they corrected (from corrections.json; empty for an uncorrected run).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotations {
    pub names: BTreeMap<usize, String>,
    pub corrected: BTreeSet<usize>,
}

impl Annotations {
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.corrected.is_empty()
    }

    /// Cluster `c`'s name, or "" when it has none.
    pub fn name(&self, c: i64) -> &str {
        usize::try_from(c)
            .ok()
            .and_then(|c| self.names.get(&c))
            .map_or("", |s| s.as_str())
    }
}

/// One row per item: `path,cluster,confidence[,label][,cluster_name,corrected]`. `path` is
/// relative to the dataset's folder (or `#index` for IDX data); `label` is the class name,
/// present when labels are known; the last two columns are there when the person named
/// clusters or corrected images (`notes`).
pub fn write_assignments(
    path: &Path,
    ds: &Dataset,
    clusters: &[i64],
    confidence: &[f32],
    notes: &Annotations,
) -> Result<()> {
    check_lengths(ds, clusters, confidence)?;
    atomic::write_with(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        let mut header = vec!["path", "cluster", "confidence"];
        if ds.labels.is_some() {
            header.push("label");
        }
        if !notes.is_empty() {
            header.extend(["cluster_name", "corrected"]);
        }
        csv.write_record(&header)?;
        for i in 0..ds.len() {
            let mut row = vec![
                ds.items[i].clone(),
                clusters[i].to_string(),
                format!("{:.6}", confidence[i]),
            ];
            if let Some(l) = &ds.labels {
                row.push(ds.class_names[l[i] as usize].clone());
            }
            if !notes.is_empty() {
                row.push(notes.name(clusters[i]).to_string());
                row.push(notes.corrected.contains(&i).to_string());
            }
            csv.write_record(&row)?;
        }
        csv.flush()?;
        Ok(())
    })
}

/// One cluster and one confidence per item, or a clear error.
fn check_lengths(ds: &Dataset, clusters: &[i64], confidence: &[f32]) -> Result<()> {
    if clusters.len() != ds.len() || confidence.len() != ds.len() {
        bail!(
            "{} items but {} clusters and {} confidences",
            ds.len(),
            clusters.len(),
            confidence.len()
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonItem<'a> {
    path: &'a str,
    cluster: i64,
    confidence: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    corrected: Option<bool>,
}

/// The same rows as `write_assignments`, as a JSON array of objects.
pub fn write_assignments_json(
    path: &Path,
    ds: &Dataset,
    clusters: &[i64],
    confidence: &[f32],
    notes: &Annotations,
) -> Result<()> {
    check_lengths(ds, clusters, confidence)?;
    let rows: Vec<JsonItem> = (0..ds.len())
        .map(|i| JsonItem {
            path: &ds.items[i],
            cluster: clusters[i],
            confidence: confidence[i],
            label: ds
                .labels
                .as_ref()
                .map(|l| ds.class_names[l[i] as usize].as_str()),
            cluster_name: (!notes.is_empty()).then(|| notes.name(clusters[i])),
            corrected: (!notes.is_empty()).then(|| notes.corrected.contains(&i)),
        })
        .collect();
    write_json(path, &rows)
}

/// The Hungarian-aligned confusion matrix: one row per class, one column per cluster
/// (matched clusters first, facing their class), with class names in the first column.
pub fn write_confusion(path: &Path, eval: &Evaluation, class_names: &[String]) -> Result<()> {
    atomic::write_with(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        let mut header = vec!["class".to_string()];
        header.extend(
            eval.confusion
                .column_clusters
                .iter()
                .map(|c| format!("cluster {c}")),
        );
        csv.write_record(&header)?;
        for (class, row) in eval.confusion.counts.iter().enumerate() {
            let mut rec = vec![
                class_names
                    .get(class)
                    .cloned()
                    .unwrap_or_else(|| class.to_string()),
            ];
            rec.extend(row.iter().map(u64::to_string));
            csv.write_record(&rec)?;
        }
        csv.flush()?;
        Ok(())
    })
}

/// Pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    atomic::write(path, &bytes)
}
