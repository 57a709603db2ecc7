//! Where stage 2's GCN streams get their graphs. Up to `full_graph_up_to` images: the whole
//! graph every iteration, as the reference code does. Above: mini-batches of nodes with the
//! subgraph they induce (Cluster-GCN, Chiang et al. 2019) — small breadth-first parts of the
//! k_b graph (8 nodes), as many random parts a batch as fill it — with the same losses; the target P is computed over every
//! node on a schedule (`target_every`; by default once per pass over the nodes, as the full
//! graph does), and the heads for scores and assignments come from
//! one pass over fixed batches that cover every node once. Time and memory per iteration then
//! depend on the batch size, not on N.
use super::stage2::{Heads, Stage2};
use crate::config::Config;
use crate::graph::partition::{bfs_parts, kept_edges};
use crate::graph::{Adjacency, Knn, Neighbours, Normalization};
use crate::messages::LossTerms;
use rand::SeedableRng;
use tch::{Device, Kind, Tensor};

pub enum Stage2Graphs {
    Full { a: Tensor, b: Tensor },
    Batched(Box<Batches>),
}

pub struct Batches {
    a: Neighbours,
    b: Neighbours,
    parts: Vec<Vec<u32>>,
    norm: Normalization,
    device: Device,
    seed: u64,
    /// Parts per mini-batch: several parts mix regions of the graph in each step (the
    /// Cluster-GCN paper's "stochastic multiple partitions").
    per_batch: usize,
    /// Iterations between refreshes of P.
    refresh_every: usize,
    /// P over all nodes, refreshed every `refresh_every` iterations.
    target: Option<Tensor>,
}

impl Stage2Graphs {
    /// The whole graph (these adjacencies) when N ≤ `full_graph_up_to`, else mini-batches
    /// over the k-NN lists.
    pub fn new(
        cfg: &Config,
        (knn_a, knn_b): (&Knn, &Knn),
        (adj_a, adj_b): (&Adjacency, &Adjacency),
        device: Device,
    ) -> Self {
        if knn_b.n <= cfg.full_graph_up_to {
            Stage2Graphs::Full {
                a: adj_a.to_sparse(device),
                b: adj_b.to_sparse(device),
            }
        } else {
            Self::batched(
                cfg,
                Neighbours::from_knn(knn_a),
                Neighbours::from_knn(knn_b),
                device,
            )
        }
    }

    /// Mini-batches over these graphs whatever N is (`new` decides by size; benchmarks and
    /// tests call this directly).
    pub fn batched(cfg: &Config, a: Neighbours, b: Neighbours, device: Device) -> Self {
        let part = cfg.stage2_part.max(1);
        let parts = bfs_parts(&b, part);
        let refresh_every = match cfg.target_every {
            0 => b.len().div_ceil(cfg.stage2_batch).max(1),
            t => t,
        };
        Stage2Graphs::Batched(Box::new(Batches {
            refresh_every,
            per_batch: (cfg.stage2_batch / part).max(1),
            a,
            b,
            parts,
            norm: cfg.normalization,
            device,
            seed: cfg.seed,
            target: None,
        }))
    }

    /// What the log says about how stage 2 runs.
    pub fn describe(&self, n: usize) -> String {
        match self {
            Stage2Graphs::Full { .. } => format!("stage 2 on the whole graph ({n} nodes)"),
            Stage2Graphs::Batched(b) => format!(
                "stage 2 on mini-batches: {n} nodes in {} parts of the k_b graph, {} parts a \
                 batch; the parts keep {:.1} % of the k_b edges; target P refreshed every {} \
                 iterations",
                b.parts.len(),
                b.per_batch.min(b.parts.len()),
                100.0 * kept_edges(&b.b, &b.parts),
                b.refresh_every
            ),
        }
    }

    /// One training iteration's loss. On the whole graph the heads of this pass come back too
    /// (the scores of an evaluation are those of the pass before the update, as the reference).
    pub fn step(
        &mut self,
        s2: &Stage2,
        x: &Tensor,
        cfg: &Config,
        it: usize,
    ) -> (Tensor, LossTerms, Option<Heads>) {
        match self {
            Stage2Graphs::Full { a, b } => {
                let (loss, terms, heads) = s2.forward(x, a, b, cfg);
                (loss, terms, Some(heads))
            }
            Stage2Graphs::Batched(batches) => {
                // Iterations count from 1; a resumed run refreshes P where it resumes.
                if batches.target.is_none() || (it - 1).is_multiple_of(batches.refresh_every) {
                    batches.target = Some(s2.target_all(x, cfg));
                }
                let nodes = batches.batch(it);
                let idx = batches.index(&nodes);
                let (xb, pb) = (
                    x.index_select(0, &idx),
                    batches
                        .target
                        .as_ref()
                        .expect("set above")
                        .index_select(0, &idx),
                );
                let (adj_a, adj_b) = batches.adjacencies(&nodes);
                let (out, heads) = s2.heads(&xb, &adj_a, &adj_b, cfg);
                let (loss, terms) = s2.loss(&xb, &out, &heads, &pb, cfg);
                (loss, terms, None)
            }
        }
    }

    /// Every node's heads, without gradients.
    pub fn heads(&self, s2: &Stage2, x: &Tensor, cfg: &Config) -> Heads {
        let _guard = tch::no_grad_guard();
        match self {
            Stage2Graphs::Full { a, b } => s2.heads(x, a, b, cfg).1,
            Stage2Graphs::Batched(batches) => batches.heads(s2, x, cfg),
        }
    }
}

impl Batches {
    /// The nodes of iteration `it`'s batch: `per_batch` parts drawn from (seed, it), so
    /// a resumed run draws the same batches as an uninterrupted one.
    fn batch(&self, it: usize) -> Vec<u32> {
        let mut rng =
            rand_chacha::ChaCha8Rng::seed_from_u64(self.seed ^ (it as u64).rotate_left(32));
        let chosen = rand::seq::index::sample(
            &mut rng,
            self.parts.len(),
            self.per_batch.min(self.parts.len()),
        );
        chosen
            .iter()
            .flat_map(|p| self.parts[p].iter().copied())
            .collect()
    }

    /// Batches covering every node exactly once: the parts in order, `per_batch` at a time.
    fn cover(&self) -> impl Iterator<Item = Vec<u32>> + '_ {
        self.parts
            .chunks(self.per_batch)
            .map(|c| c.iter().flatten().copied().collect())
    }

    fn index(&self, nodes: &[u32]) -> Tensor {
        let idx: Vec<i64> = nodes.iter().map(|&i| i as i64).collect();
        Tensor::from_slice(&idx).to_device(self.device)
    }

    fn adjacencies(&self, nodes: &[u32]) -> (Tensor, Tensor) {
        (
            Adjacency::induced(&self.a, nodes, self.norm).to_sparse(self.device),
            Adjacency::induced(&self.b, nodes, self.norm).to_sparse(self.device),
        )
    }

    fn heads(&self, s2: &Stage2, x: &Tensor, cfg: &Config) -> Heads {
        let n = x.size()[0];
        let k = cfg.clusters as i64;
        let empty = || Tensor::zeros([n, k], (Kind::Float, self.device));
        let (mut log_q, mut log_a, mut log_b) = (empty(), empty(), empty());
        let mut with_gcn = false;
        for nodes in self.cover() {
            let idx = self.index(&nodes);
            let (adj_a, adj_b) = self.adjacencies(&nodes);
            let (_, h) = s2.heads(&x.index_select(0, &idx), &adj_a, &adj_b, cfg);
            let _ = log_q.index_copy_(0, &idx, &h.log_q);
            if let (Some(a), Some(b)) = (&h.log_a, &h.log_b) {
                with_gcn = true;
                let _ = log_a.index_copy_(0, &idx, a);
                let _ = log_b.index_copy_(0, &idx, b);
            }
        }
        Heads {
            log_q,
            log_a: with_gcn.then_some(log_a),
            log_b: with_gcn.then_some(log_b),
        }
    }
}
