//! Corrections as graph edits, for stage 2's retrain: must-link groups joined by an edge from
//! each member to the next, and the k-NN edges across a cannot-link cut removed — between an
//! image and a neighbour that sits (or must sit) in a cluster the image was excluded from, and
//! between two images required in different clusters. The k-NN lists keep their shape (a cut
//! slot points at the image itself, which the adjacency skips), so the whole-graph and the
//! mini-batched stage 2 read them alike.
use super::facts::Corrections;
use crate::graph::Knn;
use std::collections::{BTreeMap, BTreeSet};

/// What the edits need per image: its required cluster and its excluded ones.
pub struct Cut<'a> {
    required: BTreeMap<usize, usize>,
    corr: &'a Corrections,
    /// The run's clusters before the corrections.
    prev: &'a [i64],
}

impl<'a> Cut<'a> {
    pub fn new(corr: &'a Corrections, prev: &'a [i64]) -> Self {
        Self {
            required: corr.required(),
            corr,
            prev,
        }
    }

    /// The cluster image `i` is in, as far as the edits know: where it must be, else where it was.
    fn cluster(&self, i: usize) -> i64 {
        self.required.get(&i).map_or(self.prev[i], |&c| c as i64)
    }

    fn excluded(&self, i: usize) -> Option<&BTreeSet<usize>> {
        self.corr.images.get(&i).map(|f| &f.not_in)
    }

    /// Whether the edge i–j crosses a cannot-link.
    pub fn crosses(&self, i: usize, j: usize) -> bool {
        if let (Some(a), Some(b)) = (self.required.get(&i), self.required.get(&j))
            && a != b
        {
            return true;
        }
        let excludes = |x: usize, y: usize| {
            self.excluded(x)
                .is_some_and(|s| usize::try_from(self.cluster(y)).is_ok_and(|c| s.contains(&c)))
        };
        excludes(i, j) || excludes(j, i)
    }
}

/// The k-NN lists with the corrections' edges cut and joined; how many of each.
pub fn constrained_knn(knn: &Knn, corr: &Corrections, prev: &[i64]) -> (Knn, usize, usize) {
    let cut = Cut::new(corr, prev);
    let mut out = knn.clone();
    let mut cuts = 0;
    if !corr.images.is_empty() {
        for i in 0..knn.n {
            for s in 0..knn.k {
                let j = knn.neighbors[i * knn.k + s] as usize;
                if j != i && j < knn.n && cut.crosses(i, j) {
                    out.neighbors[i * knn.k + s] = i as i64;
                    cuts += 1;
                }
            }
        }
    }
    // Must-link: each member's farthest slot points at the next member (the adjacency is
    // symmetric, so one direction joins both).
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for f in corr.images.values() {
        if let Some(g) = f.group {
            groups.entry(g).or_default().push(f.index);
        }
    }
    let mut joins = 0;
    if knn.k > 0 {
        for members in groups.values() {
            for w in members.windows(2) {
                if w[0] < knn.n && w[1] < knn.n {
                    out.neighbors[w[0] * knn.k + knn.k - 1] = w[1] as i64;
                    joins += 1;
                }
            }
        }
    }
    (out, cuts, joins)
}
