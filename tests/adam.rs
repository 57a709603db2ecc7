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

/// After its first step the optimizer keeps weights, gradients and moments in flat buffers
/// (one update over all weights); a network of several weight shapes must train exactly as
/// Adam per tensor would, including after a resume from saved moments, and a weight whose
/// data is replaced from outside (as loading a checkpoint may) must still be updated. f32 takes
/// the one-pass CPU loop; f64 takes the tensor operations a GPU uses.
#[test]
fn flat_update_matches_adam_per_tensor_across_shapes_and_a_resume() {
    flat_update_matches_adam_per_tensor(Kind::Float);
    flat_update_matches_adam_per_tensor(Kind::Double);
}

fn flat_update_matches_adam_per_tensor(kind: Kind) {
    tch::manual_seed(7);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let l1 = nn::linear(&root / "a", 6, 5, Default::default());
    let l2 = nn::linear(&root / "b", 5, 3, Default::default());
    if kind == Kind::Double {
        vs.double();
    }
    let x = Tensor::randn([8, 6], (kind, Device::Cpu));
    let loss_of = || x.apply(&l1).relu().apply(&l2).square().mean(kind);
    let mut names: Vec<String> = vs.variables().into_keys().collect();
    names.sort();
    let weights = |vs: &nn::VarStore| -> Vec<Vec<f64>> {
        let vars = vs.variables();
        names
            .iter()
            .map(|n| {
                Vec::<f64>::try_from(&vars[n].detach().to_kind(Kind::Double).reshape(-1)).unwrap()
            })
            .collect()
    };
    let mut p = weights(&vs);
    let mut m: Vec<Vec<f64>> = p.iter().map(|w| vec![0.0; w.len()]).collect();
    let mut v = m.clone();
    let mut opt = Adam::new(&vs, 0.05);
    for step in 1..=6 {
        if step == 3 {
            // Loading a checkpoint may replace a weight's data behind the optimizer's back.
            let mut vars = vs.variables();
            let w = vars.get_mut(&names[0]).unwrap();
            let fresh = w.detach().copy();
            w.set_data(&fresh);
        }
        if step == 4 {
            // Resume: a fresh optimizer from the saved moments.
            let saved: std::collections::HashMap<String, Tensor> = opt
                .state("adam.")
                .into_iter()
                .map(|(k, t)| (k, t.copy()))
                .collect();
            opt = Adam::new(&vs, 0.05);
            opt.load_state(&saved, "adam.").unwrap();
        }
        opt.zero_grad();
        loss_of().backward();
        let vars = vs.variables();
        let grads: Vec<Vec<f64>> = names
            .iter()
            .map(|n| {
                Vec::<f64>::try_from(&vars[n].grad().to_kind(Kind::Double).reshape(-1)).unwrap()
            })
            .collect();
        opt.step();
        for t in 0..p.len() {
            for i in 0..p[t].len() {
                let g = grads[t][i];
                m[t][i] = 0.9 * m[t][i] + 0.1 * g;
                v[t][i] = 0.999 * v[t][i] + 0.001 * g * g;
                let mh = m[t][i] / (1.0 - 0.9f64.powi(step));
                let vh = v[t][i] / (1.0 - 0.999f64.powi(step));
                p[t][i] -= 0.05 * mh / (vh.sqrt() + 1e-8);
            }
        }
        // One update over all weights: they lie end to end in one buffer.
        let vars = vs.variables();
        for pair in names.windows(2) {
            let (a, b) = (&vars[&pair[0]], &vars[&pair[1]]);
            assert_eq!(
                a.data_ptr() as usize + a.numel() * kind.elt_size_in_bytes(),
                b.data_ptr() as usize,
                "step {step}: {} follows {} in the flat buffer",
                pair[1],
                pair[0]
            );
        }
        let got = weights(&vs);
        for t in 0..p.len() {
            for i in 0..p[t].len() {
                assert!(
                    (got[t][i] - p[t][i]).abs() < 1e-5,
                    "{kind:?} step {step}, {} [{i}]: {} vs {}",
                    names[t],
                    got[t][i],
                    p[t][i]
                );
            }
        }
    }
}
