//! Every loss of IcicleGCN, written once (spec §3), with the reference code's reductions (D8).
use tch::{Kind, Tensor};

/// Cross-entropy of each row's logits against its positive column, with the row's own column
/// excluded (−∞): NT-Xent as in CC/SimCLR (spec D13). Rows r and r±n are positives.
fn nt_xent(sim: Tensor, n: i64) -> Tensor {
    let rows = 2 * n;
    let device = sim.device();
    let eye = Tensor::eye(rows, (Kind::Bool, device));
    let logits = sim.masked_fill(&eye, f64::NEG_INFINITY);
    let targets = (Tensor::arange(rows, (Kind::Int64, device)) + n).remainder(rows);
    // Mean over the 2n rows = CrossEntropyLoss(reduction="sum") / 2n of the reference.
    logits.cross_entropy_for_logits(&targets)
}

/// L_CIS: instance-level contrastive loss between two views' L2-normalised projections
/// (B×d each), temperature τ_I.
pub fn instance_loss(z_a: &Tensor, z_b: &Tensor, tau: f64) -> Tensor {
    let b = z_a.size()[0];
    let z = Tensor::cat(&[z_a, z_b], 0);
    nt_xent(z.mm(&z.tr()) / tau, b)
}

/// log K − H(p) for the batch's mean assignment p (spec D14; p clamped at 1e-12 before the log).
pub fn neg_entropy(c: &Tensor) -> Tensor {
    let k = c.size()[1] as f64;
    let p = c.sum_dim_intlist(0, false, Kind::Float) / c.sum(Kind::Float);
    (&p * p.clamp_min(1e-12).log()).sum(Kind::Float) + k.ln()
}

/// The two parts of L_CCS, kept apart for the loss curves.
pub struct ClusterLoss {
    pub contrastive: Tensor,
    pub entropy: Tensor,
}

impl ClusterLoss {
    pub fn total(&self) -> Tensor {
        &self.contrastive + &self.entropy
    }
}

/// L_CCS: cluster-level contrastive loss over the K assignment columns of two views (B×K
/// probabilities each), cosine similarity / τ_C, plus the entropy terms of both views.
pub fn cluster_loss(c_a: &Tensor, c_b: &Tensor, tau: f64) -> ClusterLoss {
    let k = c_a.size()[1];
    let v = Tensor::cat(&[c_a.tr(), c_b.tr()], 0);
    // nn.CosineSimilarity: x·y / max(‖x‖‖y‖, 1e-8).
    let norms = v.norm_scalaropt_dim(2.0, [1], true);
    let sim = v.mm(&v.tr()) / norms.mm(&norms.tr()).clamp_min(1e-8) / tau;
    ClusterLoss {
        contrastive: nt_xent(sim, k),
        entropy: neg_entropy(c_a) + neg_entropy(c_b),
    }
}

/// Mean squared error over all elements (F.mse_loss); the target is not detached (spec §3.1).
pub fn reconstruction(x_hat: &Tensor, x: &Tensor) -> Tensor {
    (x_hat - x).square().mean(Kind::Float)
}

/// log q of the Student-t soft assignment with v degrees of freedom, computed in log space
/// (spec D18): log q_ij = −(v+1)/2 · log(1 + ‖z_i − μ_j‖²/v) − logsumexp_j(…).
pub fn student_t_log_q(z: &Tensor, mu: &Tensor, v: f64) -> Tensor {
    let d = (z.unsqueeze(1) - mu.unsqueeze(0))
        .square()
        .sum_dim_intlist(2, false, Kind::Float);
    let logits = (d / v).log1p() * (-(v + 1.0) / 2.0);
    logits.log_softmax(1, Kind::Float)
}

/// DEC/SDCN target: p_ij = (q_ij² / f_j) / Σ_j' (q_ij'² / f_j'), f_j = Σ_i q_ij. A constant.
pub fn target_distribution(q: &Tensor) -> Tensor {
    let q = q.detach();
    let w = q.square() / q.sum_dim_intlist(0, true, Kind::Float);
    &w / w.sum_dim_intlist(1, true, Kind::Float)
}

/// KL(P‖X) = (1/N) Σ_i Σ_j p_ij (log p_ij − log x_ij), with 0·log 0 = 0 (F.kl_div batchmean).
pub fn kl_batchmean(p: &Tensor, log_x: &Tensor) -> Tensor {
    let n = p.size()[0] as f64;
    let log_p = p.clamp_min(1e-30).log();
    let terms = p * (log_p - log_x);
    terms
        .where_self(&p.gt(0.0), &terms.zeros_like())
        .sum(Kind::Float)
        / n
}
