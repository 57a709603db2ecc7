//! NMI (arithmetic normalisation) and ARI, computed as scikit-learn defines them.
use super::Contingency;

fn entropy(sizes: &[u64], n: f64) -> f64 {
    sizes
        .iter()
        .filter(|&&s| s > 0)
        .map(|&s| {
            let p = s as f64 / n;
            -p * p.ln()
        })
        .sum()
}

/// Normalised mutual information with the arithmetic mean of the two entropies
/// (sklearn's `normalized_mutual_info_score` default).
pub fn nmi(table: &Contingency) -> f64 {
    let n = table.n as f64;
    let rows = table.cluster_sizes();
    let cols = table.class_sizes();
    let used_rows = rows.iter().filter(|&&s| s > 0).count();
    let used_cols = cols.iter().filter(|&&s| s > 0).count();
    // Both labellings put everything in one group: a perfect (if trivial) match.
    if used_rows == 1 && used_cols == 1 {
        return 1.0;
    }
    let mut mi = 0.0;
    for (r, row) in table.counts.iter().enumerate() {
        for (c, &nij) in row.iter().enumerate() {
            if nij > 0 {
                let nij = nij as f64;
                mi += nij / n * ((nij * n) / (rows[r] as f64 * cols[c] as f64)).ln();
            }
        }
    }
    if mi <= 0.0 {
        return 0.0;
    }
    let norm = 0.5 * (entropy(&rows, n) + entropy(&cols, n));
    (mi / norm).min(1.0)
}

fn pairs(x: u64) -> f64 {
    let x = x as f64;
    x * (x - 1.0) / 2.0
}

/// Adjusted Rand index (sklearn's `adjusted_rand_score`, via the pair confusion matrix).
pub fn ari(table: &Contingency) -> f64 {
    let n = table.n;
    let sum_cells: f64 = table.counts.iter().flatten().map(|&v| pairs(v)).sum();
    let sum_rows: f64 = table.cluster_sizes().into_iter().map(pairs).sum();
    let sum_cols: f64 = table.class_sizes().into_iter().map(pairs).sum();
    let total = pairs(n);
    // Pair counts: tp = same cluster & same class, fp/fn = split on one side only.
    let tp = sum_cells;
    let fp = sum_rows - sum_cells;
    let fn_ = sum_cols - sum_cells;
    let tn = total - tp - fp - fn_;
    if fn_ == 0.0 && fp == 0.0 {
        return 1.0;
    }
    2.0 * (tp * tn - fn_ * fp) / ((tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn))
}
