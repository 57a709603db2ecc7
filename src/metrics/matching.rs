//! One-to-one matching of clusters to classes that maximises agreement (Hungarian algorithm),
//! on the rectangular table: K may differ from the number of classes, and predictions are
//! never altered (the reference code's `cluster_acc` overwrote some; see the spec's D19).
use super::Contingency;
use pathfinding::prelude::{Matrix, kuhn_munkres};

/// Which class each cluster stands for, and back; `None` where K ≠ C leaves one unmatched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matching {
    pub cluster_to_class: Vec<Option<usize>>,
    pub class_to_cluster: Vec<Option<usize>>,
    /// Items whose cluster is matched to their own class.
    pub matched: u64,
}

pub fn best_matching(table: &Contingency) -> Matching {
    let (k, c) = (table.clusters(), table.classes());
    let mut cluster_to_class = vec![None; k];
    let mut class_to_cluster = vec![None; c];
    if k == 0 || c == 0 {
        return Matching {
            cluster_to_class,
            class_to_cluster,
            matched: 0,
        };
    }
    // kuhn_munkres needs rows ≤ columns: put the smaller side on the rows.
    let counts = |cl: usize, cs: usize| table.counts[cl][cs] as i64;
    if k <= c {
        let m = Matrix::from_fn(k, c, |(r, col)| counts(r, col));
        let (_, assign) = kuhn_munkres(&m);
        for (cluster, &class) in assign.iter().enumerate() {
            cluster_to_class[cluster] = Some(class);
            class_to_cluster[class] = Some(cluster);
        }
    } else {
        let m = Matrix::from_fn(c, k, |(r, col)| counts(col, r));
        let (_, assign) = kuhn_munkres(&m);
        for (class, &cluster) in assign.iter().enumerate() {
            class_to_cluster[class] = Some(cluster);
            cluster_to_class[cluster] = Some(class);
        }
    }
    let matched = cluster_to_class
        .iter()
        .enumerate()
        .filter_map(|(cl, cs)| cs.map(|cs| table.counts[cl][cs]))
        .sum();
    Matching {
        cluster_to_class,
        class_to_cluster,
        matched,
    }
}

/// For two clusterings of the same items into `k` clusters, which cluster of `b` each cluster
/// of `a` becomes under the one-to-one matching that keeps the most items together (so a
/// retrain's clusters keep the numbers, and names, of the run they continue).
pub fn match_clusters(a: &[i64], b: &[i64], k: usize) -> Vec<usize> {
    if k == 0 {
        return vec![];
    }
    let mut counts = vec![vec![0i64; k]; k];
    for (&x, &y) in a.iter().zip(b) {
        if let (Ok(x), Ok(y)) = (usize::try_from(x), usize::try_from(y))
            && x < k
            && y < k
        {
            counts[x][y] += 1;
        }
    }
    let m = Matrix::from_fn(k, k, |(r, c)| counts[r][c]);
    kuhn_munkres(&m).1
}
