//! The model modules against the spec's formulas: M-GCN fusion on a 4-node graph (checked
//! against a dense re-implementation of spec §2.4) and the D1 switch of stage 1.
mod common;
use icicle_explorer::config::{Config, Preset};
use icicle_explorer::graph::{Adjacency, Knn, Normalization};
use icicle_explorer::model::{AeOut, Fusion, Mgcn};
use icicle_explorer::train::stage1::Stage1;
use tch::{Device, Kind, Tensor, nn};

fn dense(a: &Adjacency) -> Tensor {
    let v: Vec<f32> = a.to_dense().into_iter().flatten().collect();
    Tensor::from_slice(&v).view([a.n as i64, a.n as i64])
}

fn check_fusion(shared: bool, norm: Normalization, f: Fusion) {
    let _rng = common::rng_turn();
    tch::manual_seed(11);
    let ka = Knn {
        n: 4,
        k: 1,
        neighbors: vec![1, 0, 1, 2],
    };
    let kb = Knn {
        n: 4,
        k: 2,
        neighbors: vec![1, 2, 0, 2, 3, 1, 2, 0],
    };
    let (aa, ab) = (
        Adjacency::from_knn(&ka, norm),
        Adjacency::from_knn(&kb, norm),
    );
    let vs = nn::VarStore::new(Device::Cpu);
    let g = Mgcn::new(&vs.root(), 3, [5, 4, 6], 2, shared);
    let x = Tensor::rand([4, 3], (Kind::Float, Device::Cpu));
    let ae = AeOut {
        hidden: [
            Tensor::rand([4, 5], (Kind::Float, Device::Cpu)),
            Tensor::rand([4, 4], (Kind::Float, Device::Cpu)),
            Tensor::rand([4, 6], (Kind::Float, Device::Cpu)),
        ],
        logits: Tensor::zeros([4, 2], (Kind::Float, Device::Cpu)),
        z: Tensor::rand([4, 2], (Kind::Float, Device::Cpu)).softmax(1, Kind::Float),
        x_hat: x.zeros_like(),
    };
    let (la, lb) = g.forward(
        &x,
        &aa.to_sparse(Device::Cpu),
        &ab.to_sparse(Device::Cpu),
        &ae,
        f,
    );

    // Spec §2.4 with dense matrices.
    let (wa, wb) = g.weights();
    let wb = wb.unwrap_or(wa);
    let (da, db) = (dense(&aa), dense(&ab));
    let mut ga = da.mm(&x.mm(&wa[0])).relu();
    let mut gb = db.mm(&x.mm(&wb[0])).relu();
    let hs = [&ae.hidden[0], &ae.hidden[1], &ae.hidden[2], &ae.z];
    for l in 1..5 {
        let ina = &ga * f.own + &gb * f.cross + hs[l - 1] * f.ae;
        let inb = &gb * f.own + &ga * f.cross + hs[l - 1] * f.ae;
        let (na, nb) = (da.mm(&ina.mm(&wa[l])), db.mm(&inb.mm(&wb[l])));
        (ga, gb) = if l < 4 {
            (na.relu(), nb.relu())
        } else {
            (na, nb)
        };
    }
    assert!(la.allclose(&ga, 1e-5, 1e-6, false), "stream a");
    assert!(lb.allclose(&gb, 1e-5, 1e-6, false), "stream b");
    assert!(
        !la.allclose(&lb, 1e-5, 1e-6, false),
        "the two scales differ"
    );
}

#[test]
fn fusion_matches_the_spec_reference_weights_shared_row() {
    check_fusion(
        true,
        Normalization::Row,
        Fusion {
            own: 0.5,
            cross: 0.2,
            ae: 0.5,
        },
    );
}

#[test]
fn fusion_matches_the_spec_paper_weights_separate_symmetric() {
    check_fusion(
        false,
        Normalization::Symmetric,
        Fusion {
            own: 0.4,
            cross: 0.2,
            ae: 0.4,
        },
    );
}

#[test]
fn separate_streams_have_their_own_weights() {
    let vs = nn::VarStore::new(Device::Cpu);
    let _shared = Mgcn::new(&(vs.root() / "s"), 3, [5, 4, 6], 2, true);
    let n_shared = vs.variables().len();
    let vs2 = nn::VarStore::new(Device::Cpu);
    let _sep = Mgcn::new(&vs2.root(), 3, [5, 4, 6], 2, false);
    assert_eq!((n_shared, vs2.variables().len()), (5, 10));
}

#[test]
fn reference_preset_takes_both_cluster_views_from_view_a() {
    let a = Tensor::from_slice(&[0.9f32, 0.1]).view([1, 2]);
    let b = Tensor::from_slice(&[0.2f32, 0.8]).view([1, 2]);
    let reference = Config::preset(Preset::Reference, 2);
    let default = Config::preset(Preset::Default, 2);
    assert!(
        Stage1::second_view_assignment(&a, Some(&b), &reference).equal(&a),
        "D1 bug reproduced"
    );
    assert!(
        Stage1::second_view_assignment(&a, Some(&b), &default).equal(&b),
        "D1 fixed"
    );
}

#[test]
fn stage1_loss_under_reference_has_a_constant_positive_pair() {
    // With c_b ≡ c_a every positive cosine is exactly 1, so the cluster term equals the
    // cluster loss of c_a against itself; under `default` it does not.
    let _rng = common::rng_turn();
    let mut cfg = Config::preset(Preset::Reference, 3);
    cfg.backbone = icicle_explorer::config::BackboneKind::Small;
    cfg.input_size = 0;
    cfg.small_width = 4;
    cfg.ae_hidden = [8, 8, 8];
    cfg.augment.blur = false;
    tch::manual_seed(5);
    let batch = Tensor::rand([8, 1, 8, 8], (Kind::Float, Device::Cpu));
    let s1 = Stage1::new(&cfg, 1, 8, None, Device::Cpu).unwrap();
    tch::manual_seed(6);
    let (_, t_ref) = s1.loss(&batch, &cfg, false);
    let mut fixed = cfg.clone();
    fixed.cluster_views_from_a = false;
    tch::manual_seed(6);
    let (_, t_fix) = s1.loss(&batch, &fixed, false);
    assert_eq!(
        t_ref.instance, t_fix.instance,
        "same augmentations, same instance loss"
    );
    assert_ne!(
        t_ref.cluster, t_fix.cluster,
        "the D1 switch changes the cluster loss"
    );
}

#[test]
fn small_cnn_in_channels_last_matches_the_plain_layout() {
    // The small CNN runs in NHWC on a CPU (faster oneDNN kernels): its features and weight
    // gradients must equal the same network computed in plain NCHW, within float tolerance.
    use icicle_explorer::model::backbone::channels_last_on_cpu;
    let _rng = common::rng_turn();
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let net = icicle_explorer::model::Backbone::new(
        &(vs.root() / "backbone"),
        icicle_explorer::config::BackboneKind::Small,
        1,
        8,
    )
    .unwrap();
    let x = Tensor::rand([16, 1, 8, 8], (Kind::Float, Device::Cpu));
    let v = vs.variables();
    let var = |n: &str| v[&format!("backbone.{n}")].shallow_clone();
    let mut h = x.shallow_clone();
    for (i, b) in ["b1", "b2", "b3"].iter().enumerate() {
        h = h.conv2d(
            &var(&format!("{b}.conv.weight")),
            None::<Tensor>,
            [1, 1],
            [1, 1],
            [1, 1],
            1,
        );
        h = Tensor::batch_norm(
            &h,
            Some(var(&format!("{b}.bn.weight"))),
            Some(var(&format!("{b}.bn.bias"))),
            None::<Tensor>,
            None::<Tensor>,
            true,
            0.1,
            1e-5,
            false,
        )
        .relu();
        if i < 2 {
            h = h.max_pool2d_default(2);
        }
    }
    let plain = h.adaptive_avg_pool2d([1, 1]).flatten(1, -1);
    let fast = net.forward(&x, true);
    let weights: Vec<Tensor> = ["b1.conv.weight", "b2.conv.weight", "b3.bn.weight"]
        .iter()
        .map(|n| var(n))
        .collect();
    let g_plain = Tensor::run_backward(&[plain.square().sum(Kind::Float)], &weights, true, false);
    let g_fast = Tensor::run_backward(&[fast.square().sum(Kind::Float)], &weights, true, false);
    let close = |a: &Tensor, b: &Tensor| {
        let err = f64::try_from((a - b).abs().max()).unwrap();
        let scale = f64::try_from(b.abs().max()).unwrap().max(1.0);
        err <= 1e-4 * scale
    };
    assert!(close(&fast, &plain), "features differ");
    for (a, b) in g_fast.iter().zip(&g_plain) {
        assert!(close(a, b), "weight gradients differ");
    }
    // The conversion keeps values and gives NHWC strides (channels innermost).
    let m = Tensor::rand([2, 3, 4, 5], (Kind::Float, Device::Cpu));
    let cl = channels_last_on_cpu(&m);
    assert_eq!(cl.stride(), vec![60, 1, 15, 3]);
    assert!(cl.equal(&m));
}
