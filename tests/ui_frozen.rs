//! The app on a folder of colour images: the default picks the frozen pretrained backbone and
//! says why, the backbone / feature tap / views controls are there with their tooltips, and a
//! tiny frozen run extracts (or reuses) features, says so, and finishes.
use egui::accesskit::Role;
use egui_kittest::{Harness, kittest::Queryable as _};
use icicle_explorer::config::BackboneKind;
use icicle_explorer::ui::{Automation, IcicleApp};
use std::time::{Duration, Instant};

fn colour_folder() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    for (class, rgb) in [("red", [200u8, 30, 30]), ("blue", [30u8, 40, 210])] {
        std::fs::create_dir(folder.path().join(class)).unwrap();
        for i in 0..20u8 {
            let img = image::RgbImage::from_fn(24, 24, |x, y| {
                let v = (x as u8 + y as u8 + i) % 9;
                image::Rgb([rgb[0] + v, rgb[1] + v, rgb[2] - v])
            });
            img.save(folder.path().join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    folder
}

#[test]
fn colour_folders_get_the_pretrained_backbone_and_a_frozen_run_finishes() {
    let folder = colour_folder();
    let automation = Automation {
        fresh: true,
        sets: [
            "input_size=32",
            "views=2",
            "ae_hidden=[16, 16, 32]",
            "batch=20",
            "epochs=3",
            "iterations=3",
            "eval_every=1",
            "kmeans_restarts=1",
            "device=\"cpu\"",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        ..Default::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .build_eframe(move |cc| IcicleApp::new(cc, automation.clone()));
    let wait =
        |h: &mut Harness<'static, IcicleApp>, what: &str, done: &dyn Fn(&IcicleApp) -> bool| {
            let start = Instant::now();
            while !done(h.state()) {
                assert!(
                    start.elapsed() < Duration::from_secs(240),
                    "timed out waiting for {what}"
                );
                h.step();
                std::thread::sleep(Duration::from_millis(10));
            }
            h.step();
        };
    wait(&mut h, "the default dataset", &|a| a.dataset.is_some());
    let mut rec = h.state().settings.data.clone();
    rec.folder = Some(folder.path().to_path_buf());
    rec.size = 24;
    h.state_mut().load_data(rec);
    wait(&mut h, "the folder", &|a| {
        a.dataset.as_ref().is_some_and(|d| d.len() == 40)
    });

    let cfg = &h.state().settings.config;
    assert_eq!(
        cfg.backbone,
        BackboneKind::EfficientnetLite0,
        "colour → pretrained"
    );
    assert_eq!(
        cfg.input_size, 32,
        "--set applied after the default's choice"
    );
    assert!(
        h.state()
            .default_choices
            .iter()
            .any(|w| w.contains("colour images")),
        "{:?}",
        h.state().default_choices
    );
    h.get_by_label_contains("What the default chose").click();
    h.step();
    h.get_by_label_contains("frozen ImageNet EfficientNet-Lite0");
    // The tap through its slider, as a person would.
    h.get_by_role_and_label(Role::Slider, "feature tap")
        .set_value_accesskit(5.0);
    h.step();
    assert_eq!(h.state().settings.config.backbone_tap, 5);
    h.get_by_role_and_label(Role::SpinButton, "views");

    h.get_by_label("Train").click();
    wait(&mut h, "the end of the run", &|a| {
        !a.training() && a.session.run_dir.is_some()
    });
    let s = &h.state().session;
    assert_eq!(
        s.status,
        icicle_explorer::ui::Status::Finished,
        "{:?}",
        s.status
    );
    assert!(
        s.notes.iter().any(|n| n.contains("block 5 (40-d)")),
        "{:?}",
        s.notes
    );
    h.get_by_label_contains("features of EfficientNet-Lite0 block 5");
}
