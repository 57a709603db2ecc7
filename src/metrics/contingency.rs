//! The K×C table of counts that every clustering metric here is computed from.
use anyhow::{Result, bail};

/// `counts[cluster][class]`: how many items of `class` were put in `cluster`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contingency {
    pub counts: Vec<Vec<u64>>,
    pub n: u64,
}

impl Contingency {
    /// Builds the table; cluster ids must lie in `0..clusters` and class ids in `0..classes`.
    pub fn new(pred: &[i64], truth: &[i64], clusters: usize, classes: usize) -> Result<Self> {
        if pred.len() != truth.len() {
            bail!(
                "{} predictions but {} labels: they must describe the same items",
                pred.len(),
                truth.len()
            );
        }
        if pred.is_empty() {
            bail!("no items to evaluate");
        }
        let mut counts = vec![vec![0u64; classes]; clusters];
        for (i, (&p, &t)) in pred.iter().zip(truth).enumerate() {
            if p < 0 || p as usize >= clusters {
                bail!("item {i}: cluster id {p} is outside 0..{clusters}");
            }
            if t < 0 || t as usize >= classes {
                bail!("item {i}: class id {t} is outside 0..{classes}");
            }
            counts[p as usize][t as usize] += 1;
        }
        Ok(Self {
            counts,
            n: pred.len() as u64,
        })
    }

    pub fn clusters(&self) -> usize {
        self.counts.len()
    }

    pub fn classes(&self) -> usize {
        self.counts.first().map_or(0, Vec::len)
    }

    pub fn cluster_sizes(&self) -> Vec<u64> {
        self.counts.iter().map(|row| row.iter().sum()).collect()
    }

    pub fn class_sizes(&self) -> Vec<u64> {
        (0..self.classes())
            .map(|c| self.counts.iter().map(|row| row[c]).sum())
            .collect()
    }
}
