//! The files of a run directory that describe a clustering: assignments.csv, confusion.csv and
//! metrics.json. Every file is written atomically.
use crate::atomic;
use crate::data::Dataset;
use crate::metrics::Evaluation;
use anyhow::{Result, bail};
use serde::Serialize;
use std::path::Path;

/// One row per item: `path,cluster,confidence[,label]`. `path` is relative to the dataset's
/// folder (or `#index` for IDX data); `label` is the class name, present when labels are known.
pub fn write_assignments(
    path: &Path,
    ds: &Dataset,
    clusters: &[i64],
    confidence: &[f32],
) -> Result<()> {
    check_lengths(ds, clusters, confidence)?;
    atomic::write_with(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        let labelled = ds.labels.is_some();
        if labelled {
            csv.write_record(["path", "cluster", "confidence", "label"])?;
        } else {
            csv.write_record(["path", "cluster", "confidence"])?;
        }
        for i in 0..ds.len() {
            let (c, p) = (clusters[i].to_string(), format!("{:.6}", confidence[i]));
            match &ds.labels {
                Some(l) => {
                    csv.write_record([&ds.items[i], &c, &p, &ds.class_names[l[i] as usize]])?
                }
                None => csv.write_record([&ds.items[i], &c, &p])?,
            }
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
}

/// The same rows as `write_assignments`, as a JSON array of objects.
pub fn write_assignments_json(
    path: &Path,
    ds: &Dataset,
    clusters: &[i64],
    confidence: &[f32],
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
