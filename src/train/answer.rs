//! The run's final answer, picked without labels among every clustering the run has: the
//! stage-1 head, the SCAN head (frozen path), Q, the two GCN streams, and K-means on the
//! stage-2 input features — the floor a default run never ends below unless a rule that sees
//! no labels judges another candidate better.
//!
//! The rule, in two steps. First the graph's trust: every head but K-means learned through the
//! k-NN graph of the features (SCAN's neighbours, the GCN streams, Q's targets), so where that
//! graph has weak community structure they share its mistakes and outvote the floor. Its
//! strength is the best modularity a candidate reaches on the k_b graph, normalised by its
//! ceiling 1 − 1/K; below
//! `answer_min_modularity` the answer is K-means. Otherwise the candidate that agrees most
//! with the others (the highest mean ARI to every other candidate: the medoid of the run's
//! clusterings), among those that use at least half of the K clusters (a collapsed head
//! cannot answer); ties go to the higher modularity on the k_b graph. It needs no labels and
//! costs milliseconds. Before it, on a strong graph, `refine` may put each head's partition
//! through merge–split rounds under modularity (`refine_answer`; K-means stays as it is). Measured against the labels on every dev set in docs/BENCHMARKS.md
//! ("Never worse than its own features"): the highest modularity alone, tried first, picked
//! the GCN streams on Fashion-MNIST-test, 8 points below the stage-1 head and 1 below
//! K-means; agreement alone followed the graph heads below K-means on emoji (graph strength
//! 0.69–0.71 there, 0.91–0.98 on the gray sets).
use crate::cluster::spectral::modularity;
use crate::graph::Adjacency;
use crate::metrics::label_free::{SILHOUETTE_SAMPLE, silhouette};
use crate::metrics::{Evaluation, Scores};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// One clustering the run can answer with.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// "stage-1", "scan", "q", "stream-a", "stream-b", "kmeans"; a retrain's "spread".
    pub name: String,
    pub clusters: Vec<i64>,
    pub confidence: Vec<f32>,
    /// What merge–split refinement changed ("merged 3+7 and split 2"), if it ran.
    pub refined: Option<String>,
}

/// How a candidate scored: the rule's number and the others, and with labels its scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    pub name: String,
    /// Mean ARI to every other candidate: the rule (runs saved before it: 0).
    #[serde(default)]
    pub agreement: f64,
    /// Modularity on the k_b graph: the tie-break.
    pub modularity_b: f64,
    pub modularity_a: f64,
    pub silhouette: f64,
    /// Clusters with at least one image.
    pub clusters_used: usize,
    /// What merge–split refinement changed before judging, if it ran ("" = nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refined: Option<String>,
    /// ACC/NMI/ARI against the labels, where there are labels (never used to choose).
    pub scores: Option<Scores>,
}

/// The choice and why, as metrics.json keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalAnswer {
    pub chosen: String,
    pub rule: String,
    pub why: String,
    pub candidates: Vec<Judged>,
}

pub const RULE: &str = "most agreement with the other candidates";
pub const RULE_WEAK_GRAPH: &str = "K-means where the k-NN graph is weak";

/// The best modularity any candidate reaches on the k_b graph, over its ceiling 1 − 1/K: how
/// much community structure the graph the heads learned through has (1 = as much as K
/// clusters allow). The best, not K-means' own: a K-means stuck in a poor optimum must not
/// make a good graph read as weak.
pub fn graph_strength(judged: &[Judged], k: usize) -> Option<f64> {
    let best = judged.iter().map(|j| j.modularity_b).reduce(f64::max)?;
    Some(best / (1.0 - 1.0 / k.max(2) as f64))
}

impl FinalAnswer {
    /// Whether the run's k-NN graph is too weak to trust what travels along it: the gate
    /// answered the run with K-means, or its candidates' graph strength is below
    /// `min_strength` (a retrain's answer keeps no rule of the run it came from, but its
    /// strength on the same graph).
    pub fn graph_is_weak(&self, k: usize, min_strength: f64) -> bool {
        self.rule == RULE_WEAK_GRAPH
            || graph_strength(&self.candidates, k).is_some_and(|s| s < min_strength)
    }
}

/// How `choose` picks: the configured head, or the label-free rule with its graph gate.
#[derive(Debug, Clone, Copy)]
pub enum How<'a> {
    Head(&'a str),
    Auto { min_strength: f64 },
}

/// Scores every candidate and picks one by the rule (`best_by_rule`), or `fixed` when
/// the config names the head (then the rest are still scored, for the record).
pub fn choose(
    candidates: &[Candidate],
    features: &Tensor,
    graphs: (&Adjacency, &Adjacency),
    k: usize,
    seed: u64,
    labels: Option<(&[i64], usize)>,
    how: How<'_>,
) -> (usize, FinalAnswer) {
    let (fixed, min_strength) = match how {
        How::Head(name) => (Some(name), 0.0),
        How::Auto { min_strength } => (None, min_strength),
    };
    let agreement = |i: usize| {
        let others: Vec<f64> = (0..candidates.len())
            .filter(|&j| j != i)
            .map(|j| {
                crate::metrics::label_free::agreement(
                    &candidates[i].clusters,
                    &candidates[j].clusters,
                    k,
                )
            })
            .collect();
        others.iter().sum::<f64>() / others.len().max(1) as f64
    };
    let judged: Vec<Judged> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut used = vec![false; k];
            for &x in &c.clusters {
                used[x as usize] = true;
            }
            Judged {
                name: c.name.clone(),
                agreement: agreement(i),
                modularity_b: modularity(graphs.1, &c.clusters),
                modularity_a: modularity(graphs.0, &c.clusters),
                silhouette: silhouette(features, &c.clusters, k, SILHOUETTE_SAMPLE, seed).0,
                clusters_used: used.iter().filter(|&&u| u).count(),
                refined: c.refined.clone(),
                scores: labels.and_then(|(l, classes)| {
                    Evaluation::new(&c.clusters, l, k, classes)
                        .ok()
                        .map(|e| e.scores)
                }),
            }
        })
        .collect();
    let best = best_by_rule(&judged, k);
    let weak = graph_strength(&judged, k)
        .filter(|&s| s < min_strength)
        .zip(judged.iter().position(|j| j.name == "kmeans"));
    let (chosen, rule, why) = match fixed.and_then(|f| judged.iter().position(|j| j.name == f)) {
        Some(i) => (
            i,
            "the configured head".to_string(),
            format!("final_answer = head: {}", judged[i].name),
        ),
        None if weak.is_some() => {
            let (strength, km) = weak.expect("checked");
            (
                km,
                RULE_WEAK_GRAPH.to_string(),
                format!(
                    "kmeans: the k-NN graph the other heads learned through is weak (strength \
                     {strength:.2} < answer_min_modularity {min_strength:.2}), so their \
                     consensus ({} {:.3}) is not trusted over K-means on the features",
                    judged[best].name, judged[best].agreement
                ),
            )
        }
        None => (
            best,
            RULE.to_string(),
            format!(
                "{} agrees most with the other candidates (mean ARI {:.3}; {})",
                judged[best].name,
                judged[best].agreement,
                judged
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != best)
                    .map(|(_, j)| format!("{} {:.3}", j.name, j.agreement))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
    let why = match judged[chosen].refined.as_deref() {
        Some(moves) if !moves.is_empty() => {
            format!("{why}; refined by merge-split under modularity: {moves}")
        }
        _ => why,
    };
    let answer = FinalAnswer {
        chosen: judged[chosen].name.clone(),
        rule,
        why,
        candidates: judged,
    };
    (chosen, answer)
}

/// Refinement runs on graphs up to this many nodes (a Fiedler vector per cluster per round:
/// seconds at 70,000 nodes, minutes at a million).
pub const REFINE_UP_TO: usize = 200_000;

/// Refines every head's partition by merge–split rounds under modularity on the k_b graph
/// (`cluster::refine`), in place, before the rule judges them; K-means, the floor, stays as
/// it is. Not where the graph is weak (the gate answers K-means there, and the graph's
/// communities are not to be trusted), nor above `REFINE_UP_TO` nodes. Returns what it did,
/// one line per candidate, for the log.
pub fn refine(
    candidates: &mut [Candidate],
    graph_b: &Adjacency,
    k: usize,
    seed: u64,
    min_strength: f64,
) -> Vec<String> {
    if graph_b.n > REFINE_UP_TO {
        return vec![format!(
            "answer not refined: {} nodes (merge-split refinement runs up to {REFINE_UP_TO})",
            graph_b.n
        )];
    }
    let best = candidates
        .iter()
        .map(|c| modularity(graph_b, &c.clusters))
        .fold(f64::MIN, f64::max);
    let strength = best / (1.0 - 1.0 / k.max(2) as f64);
    if strength < min_strength {
        return vec![format!(
            "answer not refined: the k-NN graph is weak (strength {strength:.2} < \
             answer_min_modularity {min_strength:.2})"
        )];
    }
    let mut notes = vec![];
    for c in candidates.iter_mut().filter(|c| c.name != "kmeans") {
        let r = crate::cluster::refine::merge_split(graph_b, &c.clusters, k, seed);
        let what = r.describe();
        notes.push(format!(
            "refined {}: {} (modularity on the k_b graph {:.4} -> {:.4})",
            c.name,
            if what.is_empty() { "unchanged" } else { &what },
            r.modularity_before,
            r.modularity_after
        ));
        c.clusters = r.clusters;
        c.refined = Some(what);
    }
    notes
}

/// The index the rule picks: the highest agreement among candidates that use at least half of
/// the `k` clusters (all candidates if none does), then the higher modularity on the k_b graph.
pub fn best_by_rule(judged: &[Judged], k: usize) -> usize {
    let enough = |j: &Judged| j.clusters_used >= k.div_ceil(2).max(2);
    let pool: Vec<usize> = match (0..judged.len())
        .filter(|&i| enough(&judged[i]))
        .collect::<Vec<_>>()
    {
        p if p.is_empty() => (0..judged.len()).collect(),
        p => p,
    };
    let key = |i: usize| (judged[i].agreement, judged[i].modularity_b);
    let mut best = pool[0];
    for &i in &pool[1..] {
        let (a, m) = key(i);
        let (ba, bm) = key(best);
        if a > ba + 1e-9 || ((a - ba).abs() <= 1e-9 && m > bm) {
            best = i;
        }
    }
    best
}

/// Every candidate's clusters and confidences, so the app and export can switch
/// (candidates.json in the run folder, written atomically).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedCandidates {
    pub names: Vec<String>,
    pub clusters: Vec<Vec<i64>>,
    pub confidence: Vec<Vec<f32>>,
}

impl SavedCandidates {
    pub fn new(candidates: &[Candidate]) -> Self {
        Self {
            names: candidates.iter().map(|c| c.name.clone()).collect(),
            clusters: candidates.iter().map(|c| c.clusters.clone()).collect(),
            confidence: candidates.iter().map(|c| c.confidence.clone()).collect(),
        }
    }

    pub fn write(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        crate::export::write_json(&dir.join("candidates.json"), self)
    }
}

/// candidates.json of a run folder, if it has one.
pub fn read_candidates(dir: &std::path::Path) -> Option<SavedCandidates> {
    let bytes = std::fs::read(dir.join("candidates.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Smooths the chosen candidate over the k_b graph: label spreading from its own clusters
/// (the corrections' spreading with no correction), so an image whose neighbours are mostly in
/// another cluster joins them. Its confidence is read off again. Returns how many images moved.
pub fn smooth(
    c: &mut Candidate,
    knn_b: &crate::graph::Knn,
    features: &tch::Tensor,
    k: usize,
) -> usize {
    let spread = crate::correct::spread::spread(
        knn_b,
        &c.clusters,
        k,
        &crate::correct::Corrections::default(),
    );
    let moved = spread
        .iter()
        .zip(&c.clusters)
        .filter(|(a, b)| a != b)
        .count();
    if moved > 0 {
        c.clusters = spread;
        c.confidence = crate::metrics::confidence(features, &c.clusters, k, knn_b);
        let note = format!("smoothed over the k_b graph ({moved} images moved)");
        c.refined = Some(match c.refined.take().filter(|r| !r.is_empty()) {
            Some(r) => format!("{r}; {note}"),
            None => note,
        });
    }
    moved
}
