//! A person's corrections of a run, stored as facts about images, not pairs: per image (by
//! index, with its relative path) the cluster it must be in, the clusters it must not be in,
//! and the keep-together group it belongs to; and the clusters' names. Saved as
//! corrections.json in the run folder, written atomically.
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub const FILE: &str = "corrections.json";

/// What the person said about one image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFact {
    pub index: usize,
    /// The item's name in the dataset (relative path, or `#i`), to check it still matches.
    pub path: String,
    /// "Move to cluster …": the cluster it must end in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<usize>,
    /// "Not in this cluster": clusters it must not end in.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub not_in: BTreeSet<usize>,
    /// "Keep these together": the must-link group it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<u32>,
}

impl ImageFact {
    fn is_empty(&self) -> bool {
        self.cluster.is_none() && self.not_in.is_empty() && self.group.is_none()
    }
}

/// Every correction of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Corrections {
    /// By image index.
    #[serde(default)]
    pub images: BTreeMap<usize, ImageFact>,
    /// Names people gave clusters.
    #[serde(default)]
    pub names: BTreeMap<usize, String>,
}

impl Corrections {
    pub fn read(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| path.display().to_string())
    }

    /// The run folder's corrections.json, or none yet.
    pub fn read_run(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE);
        if path.is_file() {
            Self::read(&path)
        } else {
            Ok(Self::default())
        }
    }

    /// Written atomically: a crash mid-write leaves the previous file.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::export::write_json(path, self)
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty() && self.names.is_empty()
    }

    fn fact(&mut self, index: usize, items: &[String]) -> &mut ImageFact {
        self.images.entry(index).or_insert_with(|| ImageFact {
            index,
            path: items.get(index).cloned().unwrap_or_default(),
            ..Default::default()
        })
    }

    /// "Move to cluster …": each image must end in `cluster`.
    pub fn move_to(&mut self, images: &[usize], cluster: usize, items: &[String]) {
        for &i in images {
            let f = self.fact(i, items);
            f.cluster = Some(cluster);
            f.not_in.remove(&cluster);
        }
    }

    /// "Not in this cluster": each image must not end in `cluster`.
    pub fn not_in(&mut self, images: &[usize], cluster: usize, items: &[String]) {
        for &i in images {
            let f = self.fact(i, items);
            f.not_in.insert(cluster);
            if f.cluster == Some(cluster) {
                f.cluster = None;
            }
        }
    }

    /// "Keep these together": one group of the images and every group they already were in.
    pub fn keep_together(&mut self, images: &[usize], items: &[String]) {
        let joined: BTreeSet<u32> = images
            .iter()
            .filter_map(|i| self.images.get(i).and_then(|f| f.group))
            .collect();
        let id = self
            .images
            .values()
            .filter_map(|f| f.group)
            .max()
            .map_or(0, |g| g + 1);
        for f in self.images.values_mut() {
            if f.group.is_some_and(|g| joined.contains(&g)) {
                f.group = Some(id);
            }
        }
        for &i in images {
            self.fact(i, items).group = Some(id);
        }
    }

    /// "Merge with …": every image now in cluster `from` must end in `into`.
    pub fn merge(&mut self, from: usize, into: usize, clusters: &[i64], items: &[String]) {
        let members = self.members(from, clusters);
        self.move_to(&members, into, items);
    }

    /// The images in `cluster` as the person sees it now: those the corrections require
    /// there, and those the run put there that no correction sends elsewhere or excludes.
    pub fn members(&self, cluster: usize, clusters: &[i64]) -> Vec<usize> {
        let assigned = self.assignment(clusters);
        (0..assigned.len())
            .filter(|&i| assigned[i] == cluster as i64)
            .collect()
    }

    /// Every image's cluster as the person sees it now: the one a correction requires, else
    /// the run's (`clusters`), or -1 where a correction excludes the image from the run's
    /// cluster and names no other.
    pub fn assignment(&self, clusters: &[i64]) -> Vec<i64> {
        self.assigned(&(0..clusters.len()).collect::<Vec<_>>(), clusters)
    }

    /// The same for `images` only (what the gallery needs each frame for a few picked images,
    /// without a pass over all of them).
    pub fn assigned(&self, images: &[usize], clusters: &[i64]) -> Vec<i64> {
        let required = self.required();
        images
            .iter()
            .map(|&i| match (required.get(&i), clusters.get(i).copied()) {
                (Some(&c), _) => c as i64,
                (None, None) => -1,
                (None, Some(c))
                    if c >= 0
                        && self
                            .images
                            .get(&i)
                            .is_some_and(|f| f.not_in.contains(&(c as usize))) =>
                {
                    -1
                }
                (None, Some(c)) => c,
            })
            .collect()
    }

    /// "Split in two": the `kept` half must end in `cluster`, the `moved` half in `into`.
    pub fn split(
        &mut self,
        cluster: usize,
        into: usize,
        (kept, moved): (&[usize], &[usize]),
        items: &[String],
    ) {
        self.move_to(kept, cluster, items);
        self.move_to(moved, into, items);
    }

    pub fn rename(&mut self, cluster: usize, name: &str) {
        let name = name.trim();
        if name.is_empty() {
            self.names.remove(&cluster);
        } else {
            self.names.insert(cluster, name.to_string());
        }
    }

    /// What an export carries: the names, and which images were corrected.
    pub fn annotations(&self) -> crate::export::Annotations {
        crate::export::Annotations {
            names: self.names.clone(),
            corrected: self.images.keys().copied().collect(),
        }
    }

    /// Forgets everything said about image `index` (a correction removed from the list).
    pub fn remove(&mut self, index: usize) {
        self.images.remove(&index);
    }

    /// Drops facts that say nothing any more.
    pub fn tidy(&mut self) {
        self.images.retain(|_, f| !f.is_empty());
    }

    /// Checks the facts against a run of `n` images (named `items`) in `k` clusters, and for
    /// contradictions; the error names the images, so nothing is resolved silently.
    pub fn validate(&self, items: &[String], k: usize) -> Result<()> {
        let n = items.len();
        for (&i, f) in &self.images {
            if i >= n || f.index != i {
                bail!("corrections: image {i} does not exist (the run has {n} images)");
            }
            if !f.path.is_empty() && f.path != items[i] {
                bail!(
                    "corrections: image {i} was {} when corrected, but the run's image {i} is {}",
                    f.path,
                    items[i]
                );
            }
            if let Some(c) = f.cluster.filter(|&c| c >= k) {
                bail!(
                    "corrections: {} is moved to cluster {c}, but K = {k}",
                    items[i]
                );
            }
            if let Some(c) = f.not_in.iter().find(|&&c| c >= k) {
                bail!(
                    "corrections: {} is excluded from cluster {c}, but K = {k}",
                    items[i]
                );
            }
            if k > 0 && f.not_in.len() >= k {
                bail!(
                    "contradiction: {} is excluded from every one of the {k} clusters",
                    items[i]
                );
            }
            if let Some(c) = f.cluster.filter(|c| f.not_in.contains(c)) {
                bail!(
                    "contradiction: {} is both moved to cluster {c} and excluded from it",
                    items[i]
                );
            }
        }
        if let Some(&c) = self.names.keys().find(|&&c| c >= k) {
            bail!("corrections: a name is given to cluster {c}, but K = {k}");
        }
        // A group is one cluster: its required clusters agree, and none of its images is
        // excluded from that cluster.
        let mut groups: BTreeMap<u32, Vec<&ImageFact>> = BTreeMap::new();
        for f in self.images.values() {
            if let Some(g) = f.group {
                groups.entry(g).or_default().push(f);
            }
        }
        for members in groups.values() {
            let required: Vec<&ImageFact> = members
                .iter()
                .copied()
                .filter(|f| f.cluster.is_some())
                .collect();
            if let Some(w) = required.windows(2).find(|w| w[0].cluster != w[1].cluster) {
                bail!(
                    "contradiction: {} and {} are kept together but moved to clusters {} and {}",
                    items[w[0].index],
                    items[w[1].index],
                    w[0].cluster.unwrap_or_default(),
                    w[1].cluster.unwrap_or_default()
                );
            }
            if let Some(c) = required.first().and_then(|f| f.cluster)
                && let Some(f) = members.iter().find(|f| f.not_in.contains(&c))
            {
                bail!(
                    "contradiction: {} is kept together with {}, which is moved to cluster {c}, \
                     but {} is excluded from cluster {c}",
                    items[f.index],
                    items[required[0].index],
                    items[f.index]
                );
            }
        }
        Ok(())
    }

    /// The cluster each image must be in (its own, or its group's), where one is required.
    pub fn required(&self) -> BTreeMap<usize, usize> {
        let mut by_group: BTreeMap<u32, usize> = BTreeMap::new();
        for f in self.images.values() {
            if let (Some(g), Some(c)) = (f.group, f.cluster) {
                by_group.insert(g, c);
            }
        }
        self.images
            .values()
            .filter_map(|f| {
                f.cluster
                    .or_else(|| f.group.and_then(|g| by_group.get(&g).copied()))
                    .map(|c| (f.index, c))
            })
            .collect()
    }
}
