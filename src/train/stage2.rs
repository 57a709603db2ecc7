//! Stage 2: M-GCN (spec §3.2): AE from stage 1, two GCN streams, Student-t
//! Q with K-means-initialised centres, target P held constant within an iteration,
//! L2 = L_rec + α·KL(P‖Q) + β·KL(P‖pred_a) + η·KL(P‖pred_b), one forward per iteration (D17).
use super::losses;
use crate::cluster::spectral::{Start, modularity, spectral_labels};
use crate::cluster::{KMeansConfig, kmeans};
use crate::config::{CentreInit, Config, Head, Preset};
use crate::graph::Adjacency;
use crate::messages::LossTerms;
use crate::model::{AeOut, AutoEncoder, Fusion, Mgcn};
use crate::progress::Progress;
use anyhow::Result;
use tch::{Device, Kind, Tensor, nn};

pub struct Stage2 {
    pub vs: nn::VarStore,
    pub ae: AutoEncoder,
    pub gcn: Option<Mgcn>,
    pub mu: Tensor,
    /// The starting partition, one-hot (N × K), for `partition_targets`; a non-trainable
    /// variable so that a resumed run keeps the partition it started from.
    pub anchor: Option<Tensor>,
    /// Per node (N × 1), the anchor's share of the target where a retrain with corrections
    /// set one (1 for a corrected image); `None`: `partition_targets` for every node.
    pub anchor_weight: Option<Tensor>,
    /// N × K, 0 where a correction excludes the cluster: the target is clamped to 0 there.
    pub allowed: Option<Tensor>,
}

/// log-probabilities of the three heads after one forward pass.
pub struct Heads {
    pub log_q: Tensor,
    pub log_a: Option<Tensor>,
    pub log_b: Option<Tensor>,
}

pub fn fusion(cfg: &Config) -> Fusion {
    // The paper's AE weight is 1 − σ − γ; the code's reuses σ (D3) and is set explicitly.
    let ae = if cfg.preset == Preset::Paper {
        1.0 - cfg.sigma - cfg.gamma
    } else {
        cfg.ae_weight
    };
    Fusion {
        own: cfg.sigma,
        cross: cfg.gamma,
        ae,
    }
}

impl Stage2 {
    pub fn new(cfg: &Config, items: usize, input_dim: usize, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let ae = AutoEncoder::new(&(&root / "ae"), input_dim, cfg.ae_hidden, cfg.clusters);
        let gcn = (!cfg.no_gcn).then(|| {
            Mgcn::new(
                &(&root / "gcn"),
                input_dim,
                cfg.ae_hidden,
                cfg.clusters,
                cfg.share_gcn_weights,
            )
        });
        let k = cfg.clusters as i64;
        let mu = root.var(
            "mu",
            &[k, k],
            nn::Init::Randn {
                mean: 0.0,
                stdev: 0.1,
            },
        );
        let anchor = (cfg.partition_targets > 0.0)
            .then(|| root.zeros_no_train("anchor", &[items as i64, k]));
        Self {
            vs,
            ae,
            gcn,
            mu,
            anchor,
            anchor_weight: None,
            allowed: None,
        }
    }

    /// A retrain with corrections: the target becomes (1 − w)·P + w·anchor per node, then is
    /// clamped to 0 on excluded clusters and renormalised (`anchor`, `allowed`: N × K;
    /// `weight`: N × 1).
    pub fn set_corrections(&mut self, anchor: &Tensor, weight: Tensor, allowed: Tensor) {
        match &self.anchor {
            Some(a) => {
                let _guard = tch::no_grad_guard();
                a.shallow_clone().copy_(anchor);
            }
            None => self.anchor = Some(anchor.shallow_clone()),
        }
        self.anchor_weight = Some(weight);
        self.allowed = Some(allowed);
    }

    /// Copies the stage-1 AE (`ae.*` variables) into this model.
    pub fn load_ae(&self, stage1: &nn::VarStore) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let src = stage1.variables();
        for (name, mut t) in self.vs.variables() {
            if name.starts_with("ae.") {
                let s = src
                    .get(&name)
                    .ok_or_else(|| anyhow::anyhow!("stage-1 model lacks {name}"))?;
                t.copy_(s);
            }
        }
        Ok(())
    }

    /// μ ← K-means centres of the AE's softmax output z over all items (spec §6.3).
    /// Sets μ from K-means on the AE embedding, or (`centre_init`) from the spectral
    /// partition of `graph` (the k_b graph); returns what was chosen and why, for the log.
    /// `start`: a partition to start from instead (the SCAN head's on the frozen path).
    pub fn init_centres(
        &self,
        x: &Tensor,
        cfg: &Config,
        graph: &Adjacency,
        start: Option<&[i64]>,
    ) -> Result<String> {
        let _guard = tch::no_grad_guard();
        let z = self.encode_all(x);
        if let Some(m) = start.and_then(|s| cluster_means(&z, s, cfg.clusters).map(|m| (m, s))) {
            self.set_start(&m.0, m.1);
            return Ok(format!(
                "stage-2 starting partition from the SCAN head (modularity on the k_b graph {:.4})",
                modularity(graph, m.1)
            ));
        }
        let km = kmeans(
            &z,
            &KMeansConfig {
                n_init: cfg.kmeans_restarts,
                ..KMeansConfig::new(cfg.clusters, cfg.seed)
            },
            &Progress::none(),
        )?;
        let mut centres = km.centers.shallow_clone();
        let mut labels = km.labels.clone();
        let note = if cfg.centre_init == CentreInit::Kmeans {
            "stage-2 centres from K-means on the AE embedding".to_string()
        } else {
            let sp = spectral_labels(
                graph,
                cfg.clusters,
                Start::Torch(cfg.seed),
                cfg.kmeans_restarts,
                x.device(),
            )?;
            let (q_km, q_sp) = (modularity(graph, &km.labels), modularity(graph, &sp));
            let spectral = cfg.centre_init == CentreInit::Spectral || q_sp > q_km;
            let means = spectral
                .then(|| cluster_means(&z, &sp, cfg.clusters))
                .flatten();
            if let Some(m) = &means {
                centres = m.shallow_clone();
                labels = sp;
            }
            format!(
                "stage-2 centres from {} (modularity on the k_b graph: spectral {q_sp:.4}, \
                 K-means {q_km:.4})",
                if means.is_some() {
                    "the spectral partition of the k_b graph"
                } else {
                    "K-means on the AE embedding"
                }
            )
        };
        self.set_start(&centres, &labels);
        Ok(note)
    }

    /// μ ← `centres`; the anchor (`partition_targets`) ← one-hot `labels`.
    fn set_start(&self, centres: &Tensor, labels: &[i64]) {
        self.mu.shallow_clone().copy_(centres);
        if let Some(anchor) = &self.anchor {
            let idx = Tensor::from_slice(labels).to_device(anchor.device());
            let onehot = idx.one_hot(self.mu.size()[0]).to_kind(Kind::Float);
            anchor.shallow_clone().copy_(&onehot);
        }
    }

    /// log q of the Student-t soft assignment of the AE embedding `z` to the centres.
    fn log_q(&self, z: &Tensor, cfg: &Config) -> Tensor {
        let log_q = losses::student_t_log_q(z, &self.mu, 1.0);
        if cfg.log_space {
            log_q
        } else {
            // The reference: q normalised, then q.log() (may give −inf, spec D18).
            log_q.exp().log()
        }
    }

    /// The AE's softmax embedding of every row of `x`, a block of rows at a time (the hidden
    /// layers of a million rows at once would take gigabytes).
    pub fn encode_all(&self, x: &Tensor) -> Tensor {
        let blocks: Vec<Tensor> = x
            .split(ROWS_PER_BLOCK, 0)
            .iter()
            .map(|b| self.ae.encode(b))
            .collect();
        Tensor::cat(&blocks, 0)
    }

    /// The target P over all nodes: the sharpened Q (P's column sums run over every node),
    /// mixed with the starting partition when `partition_targets` > 0. No gradient.
    pub fn target_all(&self, x: &Tensor, cfg: &Config) -> Tensor {
        let _guard = tch::no_grad_guard();
        let log_q = self.log_q(&self.encode_all(x), cfg);
        self.target(&log_q, cfg)
    }

    /// P from the log q of every node (the anchor is per node, so all N rows are needed).
    fn target(&self, log_q: &Tensor, cfg: &Config) -> Tensor {
        let mut p = losses::target_distribution(&log_q.exp());
        if let Some(anchor) = &self.anchor {
            p = match &self.anchor_weight {
                Some(w) => &p * (w.neg() + 1.0) + anchor * w,
                None => {
                    let l = cfg.partition_targets;
                    p * (1.0 - l) + anchor * l
                }
            };
        }
        if let Some(allowed) = &self.allowed {
            p = &p * allowed;
            p = &p / p.sum_dim_intlist(1, true, Kind::Float).clamp_min(1e-12);
        }
        p
    }

    /// The AE pass and the three heads' log-probabilities for the nodes of `x`, whose
    /// normalised adjacencies (over the same nodes) are `adj_a` and `adj_b`.
    pub fn heads(
        &self,
        x: &Tensor,
        adj_a: &Tensor,
        adj_b: &Tensor,
        cfg: &Config,
    ) -> (AeOut, Heads) {
        let out = self.ae.forward(x);
        let log_q = self.log_q(&out.z, cfg);
        let (mut log_a, mut log_b) = (None, None);
        if let Some(gcn) = &self.gcn {
            let (la, lb) = gcn.forward(x, adj_a, adj_b, &out, fusion(cfg));
            let lsm = |l: Tensor| {
                if cfg.log_space {
                    l.log_softmax(1, Kind::Float)
                } else {
                    l.softmax(1, Kind::Float).log()
                }
            };
            log_a = Some(lsm(la));
            log_b = Some(lsm(lb));
        }
        (
            out,
            Heads {
                log_q,
                log_a,
                log_b,
            },
        )
    }

    /// L2 = L_rec + α·KL(P‖Q) + β·KL(P‖pred_a) + η·KL(P‖pred_b) over the nodes of `x`, with
    /// `p` their rows of the target.
    pub fn loss(
        &self,
        x: &Tensor,
        out: &AeOut,
        heads: &Heads,
        p: &Tensor,
        cfg: &Config,
    ) -> (Tensor, LossTerms) {
        let rec = losses::reconstruction(&out.x_hat, x);
        let kl_q = losses::kl_batchmean(p, &heads.log_q);
        let mut total = &rec + &kl_q * cfg.alpha;
        let mut terms = LossTerms {
            reconstruction: Some(rec.double_value(&[])),
            kl_q: Some(kl_q.double_value(&[])),
            ..Default::default()
        };
        if let (Some(la), Some(lb)) = (&heads.log_a, &heads.log_b) {
            let ka = losses::kl_batchmean(p, la);
            let kb = losses::kl_batchmean(p, lb);
            terms.kl_a = Some(ka.double_value(&[]));
            terms.kl_b = Some(kb.double_value(&[]));
            total = total + ka * cfg.beta + kb * cfg.eta;
        }
        terms.total = total.double_value(&[]);
        (total, terms)
    }

    /// One full-graph pass: the heads, and the loss against P computed from this pass's Q.
    pub fn forward(
        &self,
        x: &Tensor,
        adj_a: &Tensor,
        adj_b: &Tensor,
        cfg: &Config,
    ) -> (Tensor, LossTerms, Heads) {
        let (out, heads) = self.heads(x, adj_a, adj_b, cfg);
        let p = self.target(&heads.log_q, cfg);
        let (total, terms) = self.loss(x, &out, &heads, &p, cfg);
        (total, terms, heads)
    }
}

/// Rows per block when a pass over every node is split (encode_all).
const ROWS_PER_BLOCK: i64 = 16384;

/// The mean embedding of each of the `k` clusters of `labels`; `None` if one is empty.
fn cluster_means(z: &Tensor, labels: &[i64], k: usize) -> Option<Tensor> {
    let idx = Tensor::from_slice(labels).to_device(z.device());
    let d = z.size()[1];
    let sums = Tensor::zeros([k as i64, d], (z.kind(), z.device())).index_add(0, &idx, z);
    let counts = Tensor::zeros([k as i64], (z.kind(), z.device())).index_add(
        0,
        &idx,
        &Tensor::ones([labels.len() as i64], (z.kind(), z.device())),
    );
    if counts.min().double_value(&[]) < 1.0 {
        return None;
    }
    Some(sums / counts.unsqueeze(1))
}

impl Heads {
    /// The configured final head (Q when the GCN is ablated away).
    pub fn chosen(&self, head: Head) -> &Tensor {
        match (head, &self.log_a, &self.log_b) {
            (Head::StreamA, Some(a), _) => a,
            (Head::StreamB, _, Some(b)) => b,
            _ => &self.log_q,
        }
    }
}
