//! The whole method on the embedded digits with the default preset, as `icicle train` runs it,
//! must beat K-means on pixels (ACC 0.794 here, sklearn 0.792). About three minutes on 2 cores.
mod common;
use icicle_explorer::baseline;
use icicle_explorer::config::{Config, Preset, fit_to_data};
use icicle_explorer::data::Progress;

#[test]
fn default_preset_on_digits_beats_kmeans_on_pixels() {
    let ds = common::builtin("digits");
    let km = baseline::run(&ds, 10, 0, tch::Device::Cpu, &Progress::none()).unwrap();
    let km_acc = km.evaluation.unwrap().scores.acc;

    let mut cfg = Config::preset(Preset::Default, 10);
    fit_to_data(&mut cfg, ds.shape(), false);
    cfg.device = icicle_explorer::runtime::DeviceChoice::Cpu;
    let dir = tempfile::tempdir().unwrap();
    let result = common::train_to_end(&ds, cfg, dir.path());
    let s = result.scores.unwrap();
    assert!(
        s.acc > km_acc,
        "IcicleGCN ACC {:.4} vs K-means {:.4}",
        s.acc,
        km_acc
    );
    assert!(s.nmi > 0.75, "NMI {:.4}", s.nmi);
}
