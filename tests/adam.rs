//! The optimizer's fused update is Adam as written in the paper (Kingma & Ba, β = 0.9/0.999,
//! ε = 1e-8), checked against the textbook formula in f64 over several steps and learning
//! rates per group.
use icicle_explorer::train::adam::Adam;
use tch::{Device, Kind, Tensor, nn};

#[test]
fn fused_update_matches_the_textbook_formula() {
    let vs = nn::VarStore::new(Device::Cpu);
    let start = [0.5f32, -1.0, 2.0, 0.0, 3.0];
    let w = vs.root().var_copy("w", &Tensor::from_slice(&start));
    let u = vs
        .root()
        .var_copy("frozen_u", &Tensor::from_slice(&[1.0f32, 2.0]));
    let mut opt = Adam::new(&vs, 0.01);
    opt.set_lr_for("frozen_", 0.0);
    let c = [1.0f64, -2.0, 0.001, 4.0, -0.5];
    let (mut p, mut m, mut v): (Vec<f64>, _, _) = (
        start.iter().map(|&x| x as f64).collect(),
        [0.0; 5],
        [0.0; 5],
    );
    for step in 1..=5 {
        opt.zero_grad();
        // Gradient of Σ c·w² is 2·c·w.
        let loss = (&w * &w * Tensor::from_slice(&c).to_kind(Kind::Float)).sum(Kind::Float)
            + u.sum(Kind::Float);
        loss.backward();
        opt.step();
        for i in 0..5 {
            let g = 2.0 * c[i] * p[i];
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            let mh = m[i] / (1.0 - 0.9f64.powi(step));
            let vh = v[i] / (1.0 - 0.999f64.powi(step));
            p[i] -= 0.01 * mh / (vh.sqrt() + 1e-8);
        }
        let got: Vec<f32> = Vec::try_from(&w.detach()).unwrap();
        for i in 0..5 {
            assert!(
                (got[i] as f64 - p[i]).abs() < 1e-5,
                "step {step}, weight {i}: {} vs {}",
                got[i],
                p[i]
            );
        }
    }
    let frozen: Vec<f32> = Vec::try_from(&u.detach()).unwrap();
    assert_eq!(
        frozen,
        vec![1.0, 2.0],
        "a group at learning rate 0 does not move"
    );
}
