//! A clustering head made for frozen features, in the SCAN family (Van Gansbeke et al., ECCV
//! 2020, "SCAN: Learning to classify images without labels"; heads on frozen features as in
//! TEMI, Adaloglou et al., BMVC 2023). Trained on the frozen path's cached features in seconds:
//!
//! 1. Neighbour consistency: for an image and one of its `scan_neighbors` nearest neighbours in
//!    the test-view features, each seen through a random cached augmented view, maximise
//!    log ⟨p_i, p_j⟩, minus `scan_entropy` × the entropy of the batch's mean assignment (against
//!    putting everything in one cluster). Several heads train at once and the one with the
//!    lowest loss over every image and neighbour is kept, as SCAN does.
//! 2. Self-labelling: images whose test-view probability is above `selflabel_threshold` take
//!    their argmax as a label, and the head learns it from an augmented view (cross-entropy
//!    weighted by inverse class frequency, as SCAN's).
//!
//! Its clusters are stage 2's starting partition on the frozen path (`StartHead::Scan`) and
//! one of the final answer's candidates.
use crate::config::Config;
use crate::graph;
use crate::progress::Progress;
use tch::nn::OptimizerConfig;
use tch::{Device, Kind, Reduction, Tensor, nn};

/// Heads trained side by side (SCAN: 10 with a backbone; 5 suffice on frozen features).
const HEADS: i64 = 5;
const HIDDEN: i64 = 256;
const BATCH: i64 = 256;
const LR: f64 = 1e-3;

/// What the head found.
pub struct ScanHead {
    /// N×K probabilities of the kept head on the test view.
    pub probs: Tensor,
    /// Which of the heads was kept, and the SCAN loss of each.
    pub kept: usize,
    pub head_losses: Vec<f64>,
    /// Images above the self-labelling threshold at the end.
    pub confident: usize,
}

/// The heads: an MLP per head, computed for all heads at once (HEADS×B×K logits).
struct Mlp {
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
}

impl Mlp {
    fn new(root: &nn::Path, d: i64, k: i64) -> Self {
        let init = |fan_in: i64| nn::Init::Uniform {
            lo: -1.0 / (fan_in as f64).sqrt(),
            up: 1.0 / (fan_in as f64).sqrt(),
        };
        Self {
            w1: root.var("w1", &[HEADS, d, HIDDEN], init(d)),
            b1: root.var("b1", &[HEADS, 1, HIDDEN], init(d)),
            w2: root.var("w2", &[HEADS, HIDDEN, k], init(HIDDEN)),
            b2: root.var("b2", &[HEADS, 1, k], init(HIDDEN)),
        }
    }

    fn logits(&self, x: &Tensor) -> Tensor {
        let s = x.size();
        let xh = x.unsqueeze(0).expand([HEADS, s[0], s[1]], false);
        (xh.bmm(&self.w1) + &self.b1).relu().bmm(&self.w2) + &self.b2
    }
}

/// SCAN's loss per head (HEADS): −mean log⟨p_a, p_n⟩ − w·H(mean p_a), with its two parts.
fn scan_loss(la: &Tensor, ln: &Tensor, w: f64) -> (Tensor, Tensor, Tensor) {
    let pa = la.softmax(-1, Kind::Float);
    let pn = ln.softmax(-1, Kind::Float);
    let dot = (&pa * &pn).sum_dim_intlist(-1, false, Kind::Float);
    let consistency = -dot.clamp_min(1e-8).log().mean_dim(-1, false, Kind::Float);
    let mean = pa.mean_dim(1, false, Kind::Float);
    let entropy = -(&mean * mean.clamp_min(1e-8).log()).sum_dim_intlist(-1, false, Kind::Float);
    (&consistency - &entropy * w, consistency, entropy)
}

/// One cached view per row of `idx` (views N×V×D), chosen at random.
fn random_view(views: &Tensor, idx: &Tensor) -> Tensor {
    let s = views.size();
    let b = idx.size()[0];
    let pick = Tensor::randint(s[1], [b], (Kind::Int64, idx.device()));
    views
        .index_select(0, idx)
        .gather(1, &pick.view([b, 1, 1]).expand([b, 1, s[2]], false), false)
        .squeeze_dim(1)
}

/// Trains the head on `views` (N×V×D, normalised) and `test` (N×D); `tick(done, total)`
/// runs every few steps and may stop the training with an error (a cancel).
pub fn train<E: From<anyhow::Error>>(
    views: &Tensor,
    test: &Tensor,
    cfg: &Config,
    mut tick: impl FnMut(usize, usize) -> Result<(), E>,
) -> Result<ScanHead, E> {
    let device = test.device();
    let (n, d) = (test.size()[0], test.size()[1]);
    let k = cfg.clusters as i64;
    let knn = graph::knn(test, cfg.scan_neighbors, &Progress::none())?;
    let nb = Tensor::from_slice(&knn.neighbors)
        .view([n, cfg.scan_neighbors as i64])
        .to_device(device);
    tch::manual_seed(super::step_seed(cfg.seed, 5, 0, 0));
    let vs = nn::VarStore::new(device);
    let mlp = Mlp::new(&vs.root(), d, k);
    let mut opt = nn::Adam {
        wd: 1e-4,
        ..Default::default()
    }
    .build(&vs, LR)
    .map_err(anyhow::Error::from)?;
    let total = cfg.scan_steps + cfg.selflabel_steps;
    let batch = BATCH.min(n);
    let draw = |step: usize| {
        tch::manual_seed(super::step_seed(cfg.seed, 5, 1, step));
        Tensor::randint(n, [batch], (Kind::Int64, device))
    };
    for step in 0..cfg.scan_steps {
        let idx = draw(step);
        let pick = Tensor::randint(cfg.scan_neighbors as i64, [batch, 1], (Kind::Int64, device));
        let nbr = nb
            .index_select(0, &idx)
            .gather(1, &pick, false)
            .squeeze_dim(1);
        let la = mlp.logits(&random_view(views, &idx));
        let ln = mlp.logits(&random_view(views, &nbr));
        let (loss, _, _) = scan_loss(&la, &ln, cfg.scan_entropy);
        opt.backward_step(&loss.sum(Kind::Float));
        if step % 100 == 0 {
            tick(step, total)?;
        }
    }
    let (head_losses, kept) = judge_heads(&mlp, test, &nb, cfg.scan_entropy);
    let head = kept as i64;
    let probs_of = |x: &Tensor| {
        let _guard = tch::no_grad_guard();
        let parts: Vec<Tensor> = x
            .split(4096, 0)
            .iter()
            .map(|b| mlp.logits(b).get(head).softmax(-1, Kind::Float))
            .collect();
        Tensor::cat(&parts, 0)
    };
    for step in 0..cfg.selflabel_steps {
        let idx = draw(cfg.scan_steps + step);
        let weak = probs_of(&test.index_select(0, &idx));
        let (conf, target) = weak.max_dim(1, false);
        let mask = conf.gt(cfg.selflabel_threshold);
        let kept_rows = mask.nonzero().squeeze_dim(1);
        if kept_rows.size()[0] == 0 {
            continue;
        }
        let target = target.index_select(0, &kept_rows);
        let strong = random_view(views, &idx.index_select(0, &kept_rows));
        let logits = mlp.logits(&strong).get(head);
        // Inverse class frequency among the confident images, as SCAN weighs its labels.
        let counts = target.bincount::<Tensor>(None, k).to_kind(Kind::Float);
        let weight = (counts.sum(Kind::Float) / counts.clamp_min(1.0)).to_device(device);
        let loss = logits.log_softmax(-1, Kind::Float).g_nll_loss(
            &target,
            Some(&weight),
            Reduction::Mean,
            -100,
        );
        opt.backward_step(&loss);
        if step % 100 == 0 {
            tick(cfg.scan_steps + step, total)?;
        }
    }
    let probs = probs_of(test);
    let confident = probs
        .max_dim(1, false)
        .0
        .gt(cfg.selflabel_threshold)
        .sum(Kind::Int64)
        .int64_value(&[]) as usize;
    tick(total, total)?;
    Ok(ScanHead {
        probs: probs.to_device(Device::Cpu),
        kept,
        head_losses,
        confident,
    })
}

/// SCAN's loss of every head over every image and all its neighbours (test view), and the
/// head with the lowest.
fn judge_heads(mlp: &Mlp, test: &Tensor, nb: &Tensor, w: f64) -> (Vec<f64>, usize) {
    let _guard = tch::no_grad_guard();
    let probs = mlp.logits(test).softmax(-1, Kind::Float); // HEADS×N×K
    let (n, kn) = (nb.size()[0], nb.size()[1]);
    // The neighbours' probabilities a block of rows at a time (HEADS×rows×k×K each).
    let mut sum = Tensor::zeros([HEADS], (Kind::Double, test.device()));
    for start in (0..n).step_by(4096) {
        let len = 4096.min(n - start);
        let rows = nb.narrow(0, start, len).reshape([-1]);
        let pn = probs.index_select(1, &rows).view([HEADS, len, kn, -1]);
        let dot =
            (probs.narrow(1, start, len).unsqueeze(2) * pn).sum_dim_intlist(-1, false, Kind::Float);
        sum += -dot
            .clamp_min(1e-8)
            .log()
            .to_kind(Kind::Double)
            .sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double);
    }
    let consistency = sum / (n * kn) as f64;
    let mean = probs.mean_dim(1, false, Kind::Float);
    let entropy = -(&mean * mean.clamp_min(1e-8).log()).sum_dim_intlist(-1, false, Kind::Float);
    let loss: Vec<f64> =
        Vec::try_from(&(consistency - entropy.to_kind(Kind::Double) * w)).expect("1-d");
    let best = loss
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    (loss, best)
}
