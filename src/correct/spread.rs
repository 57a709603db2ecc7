//! The preview before retraining: label spreading (Zhou et al., NIPS 2003, "Learning with local
//! and global consistency") over the run's saved k-NN graph from the corrected images. Each
//! image starts from a weak vote for its current cluster; a corrected image votes fully for
//! its required cluster; must-link groups are joined by edges; F ← α·S·F + (1 − α)·Y with S
//! the symmetrically normalised graph, excluded clusters held at zero. The images whose
//! argmax changes are the ones a retrain would likely move. Linear in the graph's edges:
//! 65–75 ms at 10,000 images on 2 cores (session 29's timers). Where the run's features are
//! at hand, a linear classifier on them then carries the corrections past the graph's reach
//! (`linear::carry`).
use super::facts::Corrections;
use crate::graph::Knn;

/// How strongly an image holds its current cluster against a corrected neighbour's vote.
/// Chosen by measurement (docs/BENCHMARKS.md, "How far a correction spreads"): at 0.1 the
/// corrections spread too far where neighbourhoods are impure (Fashion-MNIST-test −1.7 points,
/// emoji −1.0 against relabelling only, at 200 corrections); at 0.3 no set loses and emoji
/// gains 3.9 points, for less of MNIST-test's gain (+0.8 to +1.8 instead of +3.5 to +4.9).
const PRIOR: f32 = 0.3;
/// α: the share of each step that comes from the neighbours.
const ALPHA: f32 = 0.9;
const STEPS: usize = 30;

/// The run's features (N×`dim`, row-major: the stage-2 input it clustered), for carrying the
/// corrections past the graph's reach (`linear::carry`), and whether the run's graph is weak
/// (`FinalAnswer::graph_is_weak`): then nothing spreads over the graph, and the carry moves
/// what the corrections move in the features, where its fit gives the new cluster a
/// majority, without asking the graph.
#[derive(Debug, Clone, Copy)]
pub struct Features<'a> {
    pub x: &'a [f32],
    pub dim: usize,
    pub weak_graph: bool,
}

impl<'a> Features<'a> {
    /// A run's saved features with its answer's verdict on its graph (`min_strength`: the
    /// run's `answer_min_modularity`); none without features.
    pub fn of_run(
        x: Option<(&'a [f32], usize)>,
        answer: Option<&crate::train::answer::FinalAnswer>,
        k: usize,
        min_strength: f64,
    ) -> Option<Self> {
        x.map(|(x, dim)| Features {
            x,
            dim,
            weak_graph: answer.is_some_and(|a| a.graph_is_weak(k, min_strength)),
        })
    }
}

/// What the corrections would change.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// Every image's cluster after spreading (corrected images where the person put them).
    pub clusters: Vec<i64>,
    /// Images not corrected themselves whose cluster changes.
    pub moved: Vec<usize>,
}

/// What a preview needs of the run alone, whatever the corrections say: the spreading with no
/// correction (what it would smooth by itself) and the linear fit to the run's clusters. A
/// person previews many times on one run, so the app computes this once per run; each preview
/// then costs one spreading and one fit (docs/BENCHMARKS.md, "The preview's fits stop when
/// converged").
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    /// The spreading with no correction, on a graph strong enough to spread over.
    alone: Option<Vec<i64>>,
    /// The linear fit to the run's clusters, where the run's features are at hand.
    fit: Option<Vec<i64>>,
}

impl Basis {
    pub fn of_run(graph: &Knn, clusters: &[i64], k: usize, features: Option<Features<'_>>) -> Self {
        let weak = features.is_some_and(|f| f.weak_graph);
        Self {
            alone: (!weak).then(|| spread(graph, clusters, k, &Corrections::default())),
            fit: features.and_then(|f| super::linear::fit_to_run(f, clusters, k)),
        }
    }
}

/// Spreads `corr` over `graph` from the assignment `clusters` (K = `k`), then, given the run's
/// features, across the boundaries the corrections move in them. An untouched image moves
/// only where the corrections make the difference: the spreading alone also smooths a strong
/// graph's ragged edges (8–77 of the 10,000 images of the gray sets' runs move with no
/// correction at all), and those moves are not the person's doing.
pub fn preview(
    graph: &Knn,
    clusters: &[i64],
    k: usize,
    corr: &Corrections,
    features: Option<Features<'_>>,
) -> Preview {
    let basis = Basis::of_run(graph, clusters, k, features);
    preview_with(&basis, graph, clusters, k, corr, features)
}

/// [`preview`] with the run's half computed already (`basis`, of the same graph, clusters and
/// features).
pub fn preview_with(
    basis: &Basis,
    graph: &Knn,
    clusters: &[i64],
    k: usize,
    corr: &Corrections,
    features: Option<Features<'_>>,
) -> Preview {
    let n = clusters.len();
    let mut out = spread(graph, clusters, k, corr);
    if features.is_some_and(|f| f.weak_graph) {
        // What spreads over a weak graph is noise, and on a small folder it floods: on
        // tuxpaint-objects (106 photos) five corrections moved a third of the folder and
        // emptied two clusters. Only the corrected images take what the spreading says.
        for (i, o) in out.iter_mut().enumerate() {
            if !corr.images.contains_key(&i) {
                *o = clusters[i];
            }
        }
    } else if let Some(alone) = basis.alone.as_ref().filter(|_| !corr.images.is_empty()) {
        for (i, o) in out.iter_mut().enumerate() {
            if !corr.images.contains_key(&i) && alone.get(i) == Some(o) {
                *o = clusters[i];
            }
        }
    }
    if let (Some(f), Some(before)) = (features, &basis.fit) {
        super::linear::carry(f, clusters, before, &mut out, k, corr, graph);
    }
    let moved = (0..n)
        .filter(|&i| out[i] != clusters[i] && !corr.images.contains_key(&i))
        .collect();
    Preview {
        clusters: out,
        moved,
    }
}

/// Label spreading of `corr` over `graph` from `clusters`, every image's argmax (corrected
/// images where the person put them). With no correction it is the answer's smoothing
/// (`answer::smooth`).
pub fn spread(graph: &Knn, clusters: &[i64], k: usize, corr: &Corrections) -> Vec<i64> {
    let n = clusters.len();
    // Undirected neighbour lists: the k-NN edges both ways, and each must-link group chained.
    let mut adj: Vec<Vec<u32>> = vec![vec![]; n];
    for i in 0..graph.n.min(n) {
        for &j in graph.of(i) {
            let j = j as usize;
            if j < n && j != i {
                adj[i].push(j as u32);
                adj[j].push(i as u32);
            }
        }
    }
    let mut groups: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for f in corr.images.values() {
        if let Some(g) = f.group {
            groups.entry(g).or_default().push(f.index);
        }
    }
    for members in groups.values() {
        for w in members.windows(2) {
            adj[w[0]].push(w[1] as u32);
            adj[w[1]].push(w[0] as u32);
        }
    }
    for a in &mut adj {
        a.sort_unstable();
        a.dedup();
    }
    let inv_sqrt: Vec<f32> = adj
        .iter()
        .map(|a| 1.0 / (a.len().max(1) as f32).sqrt())
        .collect();
    let required = corr.required();
    let mut y = vec![0f32; n * k];
    for i in 0..n {
        match required.get(&i) {
            Some(&c) => y[i * k + c] = 1.0,
            None => {
                if let Some(c) = usize::try_from(clusters[i]).ok().filter(|&c| c < k) {
                    y[i * k + c] = PRIOR;
                }
            }
        }
    }
    let excluded: Vec<(usize, usize)> = corr
        .images
        .values()
        .flat_map(|f| f.not_in.iter().map(move |&c| (f.index, c)))
        .filter(|&(i, c)| i < n && c < k)
        .collect();
    let mut f = y.clone();
    let mut next = vec![0f32; n * k];
    for _ in 0..STEPS {
        for i in 0..n {
            let row = &mut next[i * k..(i + 1) * k];
            for (r, v) in row.iter_mut().zip(&y[i * k..(i + 1) * k]) {
                *r = (1.0 - ALPHA) * v;
            }
            for &j in &adj[i] {
                let w = ALPHA * inv_sqrt[i] * inv_sqrt[j as usize];
                let fj = &f[j as usize * k..(j as usize + 1) * k];
                for (r, v) in row.iter_mut().zip(fj) {
                    *r += w * v;
                }
            }
        }
        for &(i, c) in &excluded {
            next[i * k + c] = 0.0;
        }
        std::mem::swap(&mut f, &mut next);
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let c = match required.get(&i) {
            Some(&c) => c as i64,
            None => {
                let row = &f[i * k..(i + 1) * k];
                let best = (0..k)
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a)))
                    .unwrap_or(0);
                // No vote at all: keep what it had, unless it was excluded from that.
                let allowed = |c: i64| !excluded.contains(&(i, c as usize));
                if row[best] > 0.0 {
                    best as i64
                } else if allowed(clusters[i]) {
                    clusters[i]
                } else {
                    (0..k as i64).find(|&c| allowed(c)).unwrap_or(clusters[i])
                }
            }
        };
        out.push(c);
    }
    out
}
