//! Each loss against values computed by hand (see the comments) on tiny tensors.
use icicle_explorer::train::losses::*;
use tch::Tensor;

fn t(v: &[f32], r: i64, c: i64) -> Tensor {
    Tensor::from_slice(v).view([r, c])
}

fn val(x: &Tensor) -> f64 {
    x.double_value(&[])
}

#[test]
fn instance_loss_by_hand() {
    // u = [e1, e2, e1, e2], τ = 1: each row's positive has similarity 1, the other two 0:
    // loss = −1 + ln(e⁰ + e¹ + e⁰) = ln(2 + e) − 1.
    let z = t(&[1.0, 0.0, 0.0, 1.0], 2, 2);
    let expect = (2.0 + std::f64::consts::E).ln() - 1.0;
    assert!((val(&instance_loss(&z, &z, 1.0)) - expect).abs() < 1e-6);
    // τ = 0.5 doubles every similarity: ln(2 + e²) − 2.
    let expect = (2.0 + std::f64::consts::E.powi(2)).ln() - 2.0;
    assert!((val(&instance_loss(&z, &z, 0.5)) - expect).abs() < 1e-5);
}

#[test]
fn cluster_loss_by_hand() {
    // Columns (0.8, 0.2) and (0.2, 0.8): cos = 0.32 / 0.68 between them, 1 with the other view's
    // copy. Row loss = −1 + ln(2·e^{0.4706} + e) = 0.778362; balanced columns: entropy term 0.
    let c = t(&[0.8, 0.2, 0.2, 0.8], 2, 2);
    let l = cluster_loss(&c, &c, 1.0);
    assert!(
        (val(&l.contrastive) - 0.778_362_3).abs() < 1e-5,
        "{}",
        val(&l.contrastive)
    );
    assert!(val(&l.entropy).abs() < 1e-6);
    // All mass in one column: log K − H(p) = ln 2 per view.
    let one = t(&[1.0, 0.0, 1.0, 0.0], 2, 2);
    assert!((val(&neg_entropy(&one)) - 2f64.ln()).abs() < 1e-6);
}

#[test]
fn reconstruction_is_the_elementwise_mean() {
    let a = t(&[1.0, 2.0, 3.0, 4.0], 2, 2);
    let b = t(&[1.0, 0.0, 3.0, 0.0], 2, 2);
    assert!((val(&reconstruction(&a, &b)) - 5.0).abs() < 1e-6); // (0 + 4 + 0 + 16) / 4
}

#[test]
fn student_t_assignment_by_hand() {
    // z = (1, 0); μ = e1, e2: distances² 0 and 2, q ∝ 1/(1+d²) = (1, 1/3) → (0.75, 0.25).
    let z = t(&[1.0, 0.0], 1, 2);
    let mu = t(&[1.0, 0.0, 0.0, 1.0], 2, 2);
    let q: Vec<f32> = Vec::try_from(&student_t_log_q(&z, &mu, 1.0).exp().view([-1])).unwrap();
    assert!(
        (q[0] - 0.75).abs() < 1e-6 && (q[1] - 0.25).abs() < 1e-6,
        "{q:?}"
    );
}

#[test]
fn target_distribution_and_kl_by_hand() {
    // f = (0.9, 1.1); p_0 ∝ (0.36/0.9, 0.16/1.1) = (0.7333, 0.2667); p_1 = (0.1833, 0.8167).
    let q = t(&[0.6, 0.4, 0.3, 0.7], 2, 2);
    let p = target_distribution(&q);
    let pv: Vec<f32> = Vec::try_from(&p.view([-1])).unwrap();
    for (a, b) in pv
        .iter()
        .zip([0.733_333_3, 0.266_666_7, 0.183_333_3, 0.816_666_7])
    {
        assert!((a - b).abs() < 1e-6, "{pv:?}");
    }
    // KL(P‖Q) batchmean = ½ Σ p log(p/q) = 0.0373184.
    assert!((val(&kl_batchmean(&p, &q.log())) - 0.037_318_4).abs() < 1e-6);
    // 0·log 0 counts as 0, also against a zero probability.
    let p0 = t(&[1.0, 0.0], 1, 2);
    let log_x = t(&[0.0, f32::NEG_INFINITY], 1, 2);
    assert_eq!(val(&kl_batchmean(&p0, &log_x)), 0.0);
}

#[test]
fn target_distribution_is_a_constant() {
    let q = t(&[0.6, 0.4, 0.3, 0.7], 2, 2).set_requires_grad(true);
    assert!(!target_distribution(&q).requires_grad());
}
