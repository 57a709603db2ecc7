//! The real app driven through its accessibility tree (egui_kittest, no window): pick the
//! embedded dataset, change σ, train a tiny config, watch losses arrive, then fill the
//! confusion matrix, gallery tabs and embedding, and export to a temp folder.
use egui::accesskit::Role;
use egui_kittest::{Harness, kittest::Queryable as _};
use icicle_explorer::ui::{Automation, IcicleApp};
use std::time::{Duration, Instant};

const TINY: &[&str] = &[
    "small_width=8",
    "ae_hidden=[16, 16, 32]",
    "batch=256",
    "epochs=2",
    "iterations=3",
    "eval_every=1",
    "kmeans_restarts=1",
    "device=\"cpu\"",
];

fn harness() -> Harness<'static, IcicleApp> {
    let automation = Automation {
        fresh: true,
        sets: TINY.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| IcicleApp::new(cc, automation.clone()))
}

/// Steps the UI until `done` holds (background threads do the work meanwhile).
fn wait(
    h: &mut Harness<'static, IcicleApp>,
    what: &str,
    secs: u64,
    done: impl Fn(&IcicleApp) -> bool,
) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.step();
}

/// Loads `folder` at `side` px in the app, as the Dataset panel does, and waits for its
/// `count` images.
fn load_folder(
    h: &mut Harness<'static, IcicleApp>,
    folder: &std::path::Path,
    side: u32,
    count: usize,
) {
    let mut rec = h.state().settings.data.clone();
    rec.folder = Some(folder.to_path_buf());
    rec.size = side;
    h.state_mut().load_data(rec);
    wait(h, "the folder", 240, |a| {
        a.dataset.as_ref().is_some_and(|d| d.len() == count)
    });
}

#[test]
fn pick_tune_train_inspect_and_export() {
    let mut h = harness();
    let runs = tempfile::tempdir().unwrap();
    h.state_mut().panels.runs.root = runs.path().display().to_string();
    wait(&mut h, "the default dataset", 60, |a| a.dataset.is_some());
    h.get_by_label_contains("1797 images");
    assert_eq!(
        h.state().settings.config.clusters,
        10,
        "K follows the classes"
    );
    assert_eq!(
        h.state().settings.config.epochs,
        2,
        "--set applied after fitting"
    );

    // Pick the embedded dataset in the list (it is the default; picking it again keeps it).
    h.get_by_label_contains("Digits —").click();
    h.step();
    assert_eq!(h.state().dataset.as_ref().unwrap().name, "digits");

    // σ through its slider, as a person (or a screen reader) would.
    h.get_by_role_and_label(Role::Slider, "σ")
        .set_value_accesskit(0.3);
    h.step();
    assert!((h.state().settings.config.sigma - 0.3).abs() < 1e-9);

    // An invalid value blocks Train and says why.
    h.get_by_role_and_label(Role::SpinButton, "batch")
        .set_value_accesskit(3000.0);
    h.run_steps(2);
    h.get_by_label_contains("Cannot train: batch = 3000");
    assert!(h.state().train_blocker().unwrap().contains("batch"));
    h.state_mut().settings.config.batch = 256;
    h.state_mut().settings.tsne_max_points = 300;
    h.step();

    h.get_by_label("Train").click();
    wait(&mut h, "the first loss point", 120, |a| {
        !a.session.losses1.is_empty()
    });
    wait(&mut h, "the end of the run", 300, |a| !a.training());
    let s = &h.state().session;
    assert_eq!(
        s.status,
        icicle_explorer::ui::Status::Finished,
        "{:?}",
        s.status
    );
    assert!(s.losses2.iter().all(|l| l.terms.kl_a.is_some()));
    assert_eq!(s.losses2.len(), 3);
    assert!(
        (s.config.sigma - 0.3).abs() < 1e-9,
        "the run used the edited σ"
    );
    assert_eq!(s.graphs.len(), 2);
    // Label-free quality arrives with every evaluation and is shown beside the curves.
    assert!(
        s.label_free
            .iter()
            .any(|p| p.scores.head_agreement.is_some())
    );
    // Once it has ended, the line scores the answer on screen.
    h.get_by_label_contains("the answer shown (");
    h.get_by_label_contains("modularity b ");
    h.get_by_label_contains("head agreement ");
    h.get_by_label_contains("uncertain ");

    // Suggest K on the run's learned features, then use the suggestion.
    h.get_by_label("Suggest K (no labels needed)").click();
    h.step();
    h.state_mut().panels.params.suggest_k.to = 6;
    h.step();
    h.get_by_label("Suggest K").click();
    wait(&mut h, "the K sweep", 120, |a| {
        a.panels.params.suggest_k.result.is_some() || a.panels.params.suggest_k.error.is_some()
    });
    assert_eq!(h.state().panels.params.suggest_k.error, None);
    let suggested = h
        .state()
        .panels
        .params
        .suggest_k
        .result
        .as_ref()
        .unwrap()
        .suggested;
    assert!((2..=6).contains(&suggested));
    assert_eq!(
        h.state().panels.params.suggest_k.source,
        "the run's learned features"
    );
    h.get_by_label_contains("Suggested K =");
    h.get_by_label(&format!("Use K = {suggested}")).click();
    h.step();
    assert_eq!(h.state().settings.config.clusters, suggested);
    h.state_mut().settings.config.clusters = 10;
    h.step();

    h.get_by_label("Confusion matrix").click();
    h.step();
    h.get_by_label_contains("from the final head");
    h.get_by_label("Graphs").click();
    h.step();
    h.get_by_label_contains("edge purity");

    // The neighbours behind an image are exactly its graph neighbours, and "nearest images"
    // finds the closest over all features.
    h.state_mut().focus = Some(5);
    h.get_by_label("Neighbours").click();
    h.step();
    h.get_by_label_contains("item 5:");
    let (a, b) = h
        .state()
        .session
        .neighbours
        .clone()
        .expect("graphs arrived");
    for j in a.of(5).iter().chain(b.of(5)) {
        assert!(
            h.query_all_by_label(&format!("item {j}")).next().is_some(),
            "neighbour {j} shown"
        );
    }
    h.get_by_label_contains(&format!("Graph b (k = {})", b.k));
    h.state_mut().panels.neighbours.nearest_k = 4;
    h.get_by_label("Find nearest images").click();
    wait(&mut h, "the nearest images", 60, |a| {
        a.panels.neighbours.nearest.is_some()
    });
    let (item, found) = h.state().panels.neighbours.nearest.clone().unwrap();
    assert_eq!(item, 5);
    assert_eq!(found.len(), 4);
    assert!(found.iter().all(|&(j, _)| j != 5));
    assert!(found.windows(2).all(|w| w[0].1 <= w[1].1), "nearest first");
    // Correct from here (issue 19): keep the image with its nearest; the tab marks it; Ctrl+Z
    // takes it back, Ctrl+Shift+Z redoes it, and a second Ctrl+Z leaves no correction behind.
    h.get_by_label("Keep it with its 4 nearest").click();
    h.run_steps(2);
    let group = |a: &IcicleApp| {
        let f = &a.session.corrections.facts;
        std::iter::once(5)
            .chain(found.iter().map(|&(j, _)| j))
            .map(|j| f.images.get(&j).and_then(|x| x.group))
            .collect::<Vec<_>>()
    };
    let g = group(h.state());
    assert!(g[0].is_some() && g.iter().all(|x| *x == g[0]), "{g:?}");
    h.get_by_label_contains("item 5:");
    assert!(
        h.query_all_by_label_contains("· corrected")
            .next()
            .is_some(),
        "corrected images are marked"
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert!(
        h.state().session.corrections.facts.images.is_empty(),
        "undone"
    );
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.run_steps(2);
    assert_eq!(group(h.state()), g, "redone");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert!(h.state().session.corrections.facts.images.is_empty());
    // Move it, then "More like it": the gallery lists the images of the cluster it left most
    // like it; clearing the list and undoing the move leave things as they were.
    let was = h.state().session.clusters[5];
    h.get_by_label("Move it to this cluster").click();
    h.run_steps(2);
    // The move goes to the cluster most of its neighbours are in, never its own.
    assert_ne!(
        h.state().session.corrections.facts.images[&5].cluster,
        Some(was as usize)
    );
    h.get_by_label(&format!("More like it (from cluster {was})"))
        .click();
    wait(&mut h, "more like it", 30, |a| a.selection.is_some());
    let listed = h.state().selection.clone().unwrap().items;
    let clusters = h.state().session.clusters.clone();
    assert!(!listed.is_empty() && listed.iter().all(|&j| j != 5 && clusters[j] == was));
    assert_eq!(h.state().tab, icicle_explorer::ui::Tab::Gallery);
    h.get_by_label("clear selection").click();
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert!(h.state().session.corrections.facts.images.is_empty());

    h.get_by_label("Gallery").click();
    h.step();
    h.get_by_label_contains("Success (");
    h.get_by_label_contains("False negatives (").click();
    h.step();
    assert_eq!(
        h.state().panels.gallery.kind,
        icicle_explorer::ui::CaseKind::FalseNegative
    );
    h.get_by_label_contains("False positives (").click();
    h.step();
    assert_eq!(
        h.state().panels.gallery.kind,
        icicle_explorer::ui::CaseKind::FalsePositive
    );

    // A confusion cell lists its images in the gallery; clicking one there opens its
    // neighbours (the path from a mistake to the edges behind it).
    h.get_by_label("Confusion matrix").click();
    h.step();
    // The fullest cell: (class, column, its cluster).
    let (cols, rows, (class, col, cluster)) = {
        let eval = h
            .state()
            .session
            .analysis
            .as_ref()
            .unwrap()
            .eval
            .clone()
            .unwrap();
        let c = &eval.confusion;
        let (mut best, mut most) = ((0, 0, 0), 0);
        for (r, row) in c.counts.iter().enumerate() {
            for (k, &n) in row.iter().enumerate() {
                if n > most {
                    (best, most) = ((r, k, c.column_clusters[k]), n);
                }
            }
        }
        (c.column_clusters.len(), c.counts.len(), best)
    };
    let m = h.get_by_label("class-by-cluster counts").rect();
    // The matrix is 110 px of class names, 34 px of cluster names, then square cells.
    let cell = (m.width() - 110.0) / cols as f32;
    assert!(
        (m.height() - 34.0 - cell * rows as f32).abs() < 1.0,
        "square cells"
    );
    let at = m.min
        + egui::vec2(
            110.0 + (col as f32 + 0.5) * cell,
            34.0 + (class as f32 + 0.5) * cell,
        );
    h.hover_at(at);
    h.step();
    h.drag_at(at);
    h.drop_at(at);
    h.run();
    assert_eq!(h.state().tab, icicle_explorer::ui::Tab::Gallery);
    let sel = h
        .state()
        .selection
        .clone()
        .expect("the cell selected its images");
    assert!(
        sel.title
            .contains(&format!("class {class} in cluster {cluster} ")),
        "{}",
        sel.title
    );
    assert_eq!(h.state().panels.gallery.cluster, Some(cluster));
    let first = h.state().run_dataset.as_ref().unwrap().items[sel.items[0]].clone();
    h.get_by_label_contains("Selection: class ");
    h.get_by_label(&format!("image {first}")).click();
    h.run();
    assert_eq!(h.state().tab, icicle_explorer::ui::Tab::Neighbours);
    assert_eq!(h.state().focus, Some(sel.items[0]));
    h.get_by_label_contains(&format!("item {}: {first}", sel.items[0]));
    h.state_mut().selection = None;

    h.get_by_label("Embedding (t-SNE)").click();
    wait(&mut h, "the t-SNE map", 120, |a| {
        a.panels.embedding.map.is_some()
    });
    assert_eq!(
        h.state().panels.embedding.map.as_ref().unwrap().items.len(),
        300
    );
    h.get_by_label_contains("300 of 1797 points");
    // Coloured by confidence, the legend names its bins; back to clusters after.
    h.get_by_label("confidence").click();
    h.run();
    assert!(h.state().settings.colour_by_confidence);
    assert!(
        !h.query_all_by_label_contains("confidence 0.")
            .collect::<Vec<_>>()
            .is_empty()
    );
    assert!(
        h.query_all_by_label_contains("cluster ")
            .collect::<Vec<_>>()
            .is_empty()
    );
    h.get_by_label("cluster").click();
    h.run();
    assert!(!h.state().settings.colour_by_confidence);
    assert!(
        h.query_all_by_label_contains("confidence 0.")
            .collect::<Vec<_>>()
            .is_empty()
    );
    assert!(
        !h.query_all_by_label_contains("cluster ")
            .collect::<Vec<_>>()
            .is_empty()
    );

    // A lasso drawn round the middle of the map selects the points inside it, and only those.
    h.get_by_label("lasso select").click();
    h.step();
    assert_eq!(
        h.state().panels.embedding.drag_mode,
        icicle_explorer::ui::DragMode::Lasso
    );
    let centre = egui::pos2(870.0, 520.0);
    let ring = |k: usize| {
        let a = k as f32 * 0.35;
        centre + 200.0 * egui::vec2(a.cos(), a.sin())
    };
    h.hover_at(ring(0));
    h.step();
    h.drag_at(ring(0));
    h.step();
    for k in 1..=18 {
        h.hover_at(ring(k));
        h.step();
    }
    h.drop_at(ring(18));
    h.step();
    let sel = h
        .state()
        .selection
        .clone()
        .expect("the lasso selected points");
    assert!(sel.title.contains("lassoed"), "{}", sel.title);
    assert!(
        !sel.items.is_empty() && sel.items.len() < 300,
        "{} of 300 points",
        sel.items.len()
    );
    h.get_by_label_contains("Selected:");
    h.get_by_label("clear selection").click();
    h.step();
    assert!(h.state().selection.is_none());

    // 300 points in view are more than IMAGES_IN_VIEW: squares. Zoomed in on the middle, fewer
    // are in view and each is drawn as its image, the thumbnails made a few per frame;
    // unticking "images" brings the squares back.
    use icicle_explorer::ui::IMAGES_IN_VIEW;
    h.step();
    assert_eq!(h.state().panels.embedding.images_drawn, 0);
    h.get_by_label("pan").click();
    h.hover_at(centre);
    h.step();
    h.event(egui::Event::Zoom(4.0));
    for _ in 0..8 {
        h.step();
    }
    let drawn = h.state().panels.embedding.images_drawn;
    assert!(drawn > 0 && drawn <= IMAGES_IN_VIEW, "{drawn} images drawn");
    assert!(
        h.state().thumbs.len() >= drawn,
        "{} thumbnails for {drawn} images",
        h.state().thumbs.len()
    );
    h.get_by_label("images").click();
    h.step();
    h.step();
    assert!(!h.state().panels.embedding.images);
    assert_eq!(h.state().panels.embedding.images_drawn, 0);

    let out = tempfile::tempdir().unwrap();
    h.get_by_label("Export").click();
    h.step();
    h.state_mut().settings.export_dir = out.path().display().to_string();
    h.step();
    h.get_by_label("Assignments to CSV").click();
    wait(&mut h, "the CSV export", 60, |a| {
        a.panels.export.result.is_some()
    });
    let csv = std::fs::read_to_string(out.path().join("assignments.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1798);
    h.state_mut().panels.export.result = None;
    h.get_by_label("Assignments to JSON").click();
    wait(&mut h, "the JSON export", 60, |a| {
        a.panels.export.result.is_some()
    });
    assert!(out.path().join("assignments.json").is_file());
    h.state_mut().panels.export.result = None;
    h.get_by_label("Copy images into one folder per cluster")
        .click();
    wait(&mut h, "the folder export", 60, |a| {
        a.panels.export.result.is_some()
    });
    h.get_by_label_contains("copied 1797 images");
    let files: usize = std::fs::read_dir(out.path().join("clusters"))
        .unwrap()
        .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum();
    assert_eq!(files, 1797);

    // The run folder can be opened again and shows the same assignments.
    let run_dir = h.state().session.run_dir.clone().unwrap();
    assert!(
        run_dir.starts_with(runs.path()),
        "Train writes into the runs folder"
    );
    let clusters = h.state().session.clusters.clone();
    h.state_mut().open_run(run_dir.clone());
    wait(&mut h, "the reopened run", 60, |a| {
        a.session.status == icicle_explorer::ui::Status::Finished
            && !a.session.losses1.is_empty()
            && a.loading.is_none()
    });
    assert_eq!(h.state().session.clusters, clusters);
    assert_eq!(
        h.state().session.graphs.len(),
        2,
        "graph statistics come back"
    );
    assert!(
        !h.state().session.label_free.is_empty(),
        "label-free history comes back"
    );
    assert!(
        h.state().session.neighbours.is_some(),
        "the graphs come back (graph_a.npy, graph_b.npy)"
    );
    assert_eq!(h.state().session.run_dir.as_ref(), Some(&run_dir));
    let _ = std::fs::remove_dir_all(&run_dir);
}

#[test]
fn a_missing_folder_is_a_readable_error_not_a_crash() {
    let mut h = harness();
    wait(&mut h, "the default dataset", 60, |a| a.dataset.is_some());
    let missing = std::env::temp_dir().join("icicle-no-such-folder-4321");
    let mut rec = h.state().settings.data.clone();
    rec.folder = Some(missing);
    h.state_mut().load_data(rec);
    wait(&mut h, "the load error", 30, |a| a.data_error.is_some());
    h.get_by_label_contains("icicle-no-such-folder-4321");
    assert_eq!(
        h.state().dataset.as_ref().unwrap().name,
        "digits",
        "the loaded data stays"
    );
}

/// eframe's storage, in memory.
#[derive(Default)]
struct Memory(std::collections::HashMap<String, String>);

impl eframe::Storage for Memory {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

#[test]
fn settings_and_the_last_dataset_survive_a_restart() {
    // A labelled folder of 12 small images, the "last dataset" to come back.
    let folder = tempfile::tempdir().unwrap();
    for (class, shade) in [("dark", 30u8), ("light", 220u8)] {
        std::fs::create_dir(folder.path().join(class)).unwrap();
        for i in 0..6u8 {
            let img = image::GrayImage::from_fn(12, 12, |x, y| {
                image::Luma([shade.wrapping_add((x as u8 + y as u8 + i) % 7)])
            });
            img.save(folder.path().join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    let start = |settings: icicle_explorer::ui::Settings, automation: Automation| {
        Harness::builder()
            .with_size(egui::vec2(1400.0, 900.0))
            .build_eframe(move |cc| {
                IcicleApp::with_settings(cc.egui_ctx.clone(), settings.clone(), automation.clone())
            })
    };
    let mut h = start(Default::default(), Automation::default());
    wait(&mut h, "the default dataset", 60, |a| a.dataset.is_some());
    load_folder(&mut h, folder.path(), 16, 12);
    h.get_by_role_and_label(Role::Slider, "σ")
        .set_value_accesskit(0.7);
    h.state_mut().settings.colour_by_truth = true;
    h.step();

    let mut storage = Memory::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let restored = icicle_explorer::ui::Settings::restore(Some(&storage));
    assert_eq!(restored, h.state().settings, "everything comes back");
    assert!((restored.config.sigma - 0.7).abs() < 1e-9);
    assert_eq!(restored.data.folder.as_deref(), Some(folder.path()));
    drop(h);

    // The next launch opens on the same folder, at the same size, with the same σ.
    let mut h = start(restored, Automation::default());
    wait(&mut h, "the remembered folder", 60, |a| a.dataset.is_some());
    let ds = h.state().dataset.clone().unwrap();
    assert_eq!((ds.len(), ds.height, ds.num_classes()), (12, 16, 2));
    h.get_by_label_contains("12 images ·");
    assert!((h.state().settings.config.sigma - 0.7).abs() < 1e-9);

    // Damaged or foreign stored settings give the defaults, not a crash; --fresh saves nothing.
    let mut bad = Memory::default();
    eframe::Storage::set_string(&mut bad, "icicle-settings", "(config: 12, nonsense".into());
    assert_eq!(
        icicle_explorer::ui::Settings::restore(Some(&bad)),
        Default::default()
    );
    let mut h = start(
        Default::default(),
        Automation {
            fresh: true,
            ..Default::default()
        },
    );
    let mut untouched = Memory::default();
    eframe::App::save(h.state_mut(), &mut untouched);
    assert!(untouched.0.is_empty());
}

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

/// A folder of colour images: the default picks the frozen pretrained backbone and says why,
/// the backbone / feature tap / views controls are there, and a tiny frozen run extracts (or
/// reuses) features, says so, and finishes.
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
    let runs = tempfile::tempdir().unwrap();
    h.state_mut().panels.runs.root = runs.path().display().to_string();
    wait(&mut h, "the default dataset", 240, |a| a.dataset.is_some());
    load_folder(&mut h, folder.path(), 24, 40);

    let cfg = &h.state().settings.config;
    assert_eq!(
        cfg.backbone,
        icicle_explorer::config::BackboneKind::EfficientnetLite0,
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
    wait(&mut h, "the end of the run", 240, |a| {
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
    // The run's messages are folded under the latest; opening them shows every one.
    h.get_by_label_contains("messages · latest: final answer")
        .click();
    h.run();
    h.get_by_label_contains("features of EfficientNet-Lite0 block 5");
}

/// Trains a tiny digits run into `dir` with the CLI.
fn cli_run(dir: &std::path::Path, extra: &[&str]) {
    let mut args = vec![
        "train",
        "--dataset",
        "digits",
        "--out",
        dir.to_str().unwrap(),
    ];
    for s in TINY {
        args.extend(["--set", s]);
    }
    args.extend_from_slice(extra);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_icicle"))
        .args(&args)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The Runs view lists the run folders of a runs directory (and nothing else), overlays the
/// curves of the ticked ones, and deletes a run only after a confirmation.
#[test]
fn the_runs_view_lists_compares_and_deletes_runs() {
    let root = tempfile::tempdir().unwrap();
    cli_run(&root.path().join("first"), &[]);
    cli_run(&root.path().join("second"), &["--set", "sigma=0.3"]);
    std::fs::create_dir(root.path().join("not-a-run")).unwrap();
    std::fs::write(root.path().join("not-a-run/notes.txt"), "keep me").unwrap();
    let automation = Automation {
        fresh: true,
        compare_runs: Some(root.path().to_path_buf()),
        ..Default::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| IcicleApp::new(cc, automation.clone()));
    wait(&mut h, "both runs' curves", 60, |a| {
        a.panels.runs.curves.values().filter(|c| c.is_ok()).count() == 2
    });
    assert_eq!(h.state().tab, icicle_explorer::ui::Tab::Runs);
    let names: Vec<String> = h
        .state()
        .panels
        .runs
        .runs
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(names, ["first", "second"], "run folders only");
    let second = &h.state().panels.runs.runs[1];
    assert!(
        second.changed.iter().any(|c| c == "sigma = 0.3"),
        "{:?}",
        second.changed
    );
    assert!(
        h.query_all_by_label("first").count() >= 1,
        "listed and in the legend"
    );
    h.get_by_label_contains("Total loss");
    for c in h.state().panels.runs.curves.values() {
        assert!(!c.as_ref().unwrap().losses.is_empty());
    }
    // Delete asks first, then removes the folder and lists again.
    h.get_all_by_label("Delete…").next().unwrap().click();
    h.run_steps(2);
    h.get_by_label("Really delete first?").click();
    wait(&mut h, "the list after the delete", 60, |a| {
        a.panels.runs.runs.len() == 1
    });
    assert!(!root.path().join("first").exists());
    assert!(root.path().join("not-a-run/notes.txt").exists());
    assert!(icicle_explorer::runs::delete(&root.path().join("not-a-run")).is_err());
}

/// "Run ablations" trains the full method and the paper's four variants on the picked data,
/// fills the table, writes ablations.csv and lists the variants with their curves overlaid.
#[test]
fn the_ablations_button_fills_the_table_and_lists_the_variants() {
    let root = tempfile::tempdir().unwrap();
    let mut h = harness();
    wait(&mut h, "the default dataset", 60, |a| a.dataset.is_some());
    h.state_mut().panels.runs.root = root.path().display().to_string();
    h.get_by_label("Runs").click();
    h.step();
    h.get_by_label("Run ablations").click();
    wait(&mut h, "the ablations", 240, |a| {
        !a.panels.runs.ablating() && a.panels.runs.runs.len() == 5
    });
    assert_eq!(h.state().panels.runs.ablation_error, None);
    let rows = &h.state().panels.runs.ablations;
    let variants: Vec<&str> = rows.iter().map(|r| r.variant).collect();
    assert_eq!(
        variants,
        [
            "full",
            "no-instance-loss",
            "no-cluster-loss",
            "no-gcn",
            "single-scale"
        ]
    );
    assert!(rows.iter().all(|r| r.scores.is_some()));
    assert_eq!(
        rows.iter().map(|r| r.shared_stage1).collect::<Vec<_>>(),
        [false, false, false, true, true]
    );
    h.get_by_label("without the GCNs (Table 5)");
    let out = std::path::PathBuf::from(&h.state().panels.runs.root);
    let csv = std::fs::read_to_string(out.join("ablations.csv")).unwrap();
    assert_eq!(csv.lines().count(), 6, "{csv}");
    // Every variant is a run the app can reopen, its config saying which switch it had.
    let cfg = std::fs::read_to_string(out.join("no-gcn/config.toml")).unwrap();
    assert!(cfg.contains("no_gcn = true"), "{cfg}");
    assert!(out.join("no-gcn/data.json").is_file());
}

/// Correct where the images are (issue 19): Ctrl-click an image in the gallery, move it to
/// another cluster, preview, retrain; the retrained run shows it in its new cluster, and the
/// correction is saved with the run it was made on.
#[test]
fn pick_move_preview_retrain_and_the_gallery_shows_the_image_in_its_new_cluster() {
    use icicle_explorer::ui::{CaseKind, Status, Tab};
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("run");
    cli_run(&run, &[]);
    let automation = Automation {
        fresh: true,
        open_run: Some(run.clone()),
        tab: Some(Tab::Gallery),
        ..Default::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| IcicleApp::new(cc, automation.clone()));
    wait(&mut h, "the run", 60, |a| {
        a.session.analysis.is_some() && a.run_dataset.is_some()
    });
    h.state_mut().panels.runs.root = root.path().display().to_string();
    h.run_steps(2);
    // The gallery opens on the largest cluster, successes first: pick the first image shown.
    let (c, i) = {
        let an = h.state().session.analysis.as_ref().unwrap();
        let c = (0..an.members.len())
            .max_by_key(|&c| (an.members[c].len(), std::cmp::Reverse(c)))
            .unwrap();
        (c, an.cases[c].successes[0])
    };
    let item = h.state().run_dataset.as_ref().unwrap().items[i].clone();
    h.get_by_label(&format!("image {item}"))
        .click_modifiers(egui::Modifiers::COMMAND);
    h.run_steps(2);
    assert!(h.state().panels.gallery.picked.contains(&i));
    let t = (c + 1) % 10;
    if t != 0 {
        // The target picker's shown choice is its value, not its label.
        h.get_by_value("cluster 0").click();
        h.run_steps(2);
        h.get_by_label(&format!("cluster {t}")).click();
        h.run_steps(2);
    }
    h.get_by_label("Move to cluster").click();
    h.run_steps(2);
    let facts = h.state().session.corrections.facts.clone();
    assert_eq!(facts.images[&i].cluster, Some(t), "{facts:?}");
    wait(&mut h, "corrections.json", 20, |_| {
        icicle_explorer::correct::Corrections::read_run(&run).is_ok_and(|c| c == facts)
    });
    // "More like these": cluster c's other images most like the moved one, in the gallery,
    // with the move's cluster as the target for the next move.
    h.get_by_label(&format!("More like the 1 just moved (from cluster {c})"))
        .click();
    wait(&mut h, "more like these", 30, |a| {
        a.selection
            .as_ref()
            .is_some_and(|s| s.title.contains("most like"))
    });
    let listed = h.state().selection.clone().unwrap().items;
    let before = h.state().session.clusters.clone();
    assert!(
        !listed.is_empty() && listed.iter().all(|&j| j != i && before[j] == c as i64),
        "{listed:?}"
    );
    assert_eq!(h.state().tab, Tab::Gallery);
    // Ctrl-click the first listed, Shift-click the third: the first three are picked.
    let name = |h: &Harness<'static, IcicleApp>, j: usize| {
        format!("image {}", h.state().run_dataset.as_ref().unwrap().items[j])
    };
    h.get_by_label(&name(&h, listed[0]))
        .click_modifiers(egui::Modifiers::COMMAND);
    h.run_steps(2);
    h.get_by_label(&name(&h, listed[2]))
        .click_modifiers(egui::Modifiers::SHIFT);
    h.run_steps(2);
    let picked: Vec<usize> = h.state().panels.gallery.picked.iter().copied().collect();
    let mut first3 = listed[..3].to_vec();
    first3.sort_unstable();
    assert_eq!(picked, first3);
    h.get_by_label("clear picks").click();
    h.run_steps(2);
    // A drag from inside the first thumbnail to inside the third picks the three.
    let (a, b) = (
        h.get_by_label(&name(&h, listed[0])).rect(),
        h.get_by_label(&name(&h, listed[2])).rect(),
    );
    assert!((a.center().y - b.center().y).abs() < 1.0, "one row");
    let (from, to) = (a.center() - a.size() / 4.0, b.center());
    h.hover_at(from);
    h.step();
    h.drag_at(from);
    h.step();
    for t in [0.3, 0.6, 1.0] {
        h.hover_at(from + (to - from) * t);
        h.step();
    }
    h.drop_at(to);
    h.run_steps(2);
    let picked: Vec<usize> = h.state().panels.gallery.picked.iter().copied().collect();
    assert_eq!(picked, first3, "the band picks what it touches");
    h.get_by_label("clear picks").click();
    h.run_steps(2);
    h.get_by_label("clear selection").click();
    h.run_steps(2);
    // An undone move offers no list; redoing it brings the correction back.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    assert!(h.query_by_label_contains("just moved").is_none());
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.run_steps(2);
    assert_eq!(h.state().session.corrections.facts, facts);
    h.get_by_label("Preview").click();
    wait(&mut h, "the preview", 30, |a| {
        a.session.corrections.preview.is_some()
    });
    h.get_by_label_contains("other images would move");
    // The run's half of the preview is kept: a second preview of the same run reuses it and
    // says the same.
    let (first, basis) = {
        let c = &h.state().session.corrections;
        (c.preview.clone(), c.basis.clone().expect("kept").1)
    };
    h.state_mut().session.corrections.preview = None;
    h.get_by_label("Preview").click();
    wait(&mut h, "the second preview", 30, |a| {
        a.session.corrections.preview.is_some()
    });
    let again = &h.state().session.corrections;
    assert!(std::sync::Arc::ptr_eq(
        &again.basis.as_ref().unwrap().1,
        &basis
    ));
    assert_eq!(again.preview, first);
    h.get_by_label("Retrain with corrections").click();
    wait(&mut h, "the retrain", 180, |a| {
        a.session.status == Status::Finished
            && a.session.run_dir.as_ref().is_some_and(|d| *d != run)
            && !a.session.clusters.is_empty()
    });
    assert_eq!(
        h.state().session.clusters[i],
        t as i64,
        "the image is where it was put"
    );
    let new_dir = h.state().session.run_dir.clone().unwrap();
    assert_eq!(
        icicle_explorer::correct::Corrections::read_run(&new_dir).unwrap(),
        facts,
        "the retrained run keeps the corrections"
    );
    // The gallery, on cluster t, shows the image there (among its false positives if its
    // class is another cluster's).
    let kind = {
        let an = h.state().session.analysis.as_ref().unwrap();
        if an.cases[t].false_positives.contains(&i) {
            CaseKind::FalsePositive
        } else {
            CaseKind::Success
        }
    };
    h.state_mut().panels.gallery.show_cluster(t);
    h.state_mut().panels.gallery.kind = kind;
    h.run_steps(3);
    h.get_by_label(&format!("image {item}"));
    // The person goes on correcting the retrained run: it has its k-NN graphs (the worker sends
    // them as a run's), and its assignments are new, so its preview does not reuse the first
    // run's half.
    h.state_mut().session.corrections.preview = None;
    h.get_by_label("Preview").click();
    wait(&mut h, "the retrained run's preview", 30, |a| {
        a.session.corrections.preview.is_some()
    });
    let (key, held) = h.state().session.corrections.basis.clone().unwrap();
    assert!(!std::sync::Arc::ptr_eq(&held, &basis));
    assert_eq!(key.generation, h.state().session.generation);

    // "Split in two" on cluster c: 2-means on a helper thread, then both halves recorded.
    h.state_mut().panels.gallery.show_cluster(c);
    h.run_steps(3);
    h.get_by_label(&format!("Split in two (half to cluster {t})"))
        .click();
    wait(&mut h, "the split", 30, |a| {
        let f = &a.session.corrections.facts;
        let n = |k: usize| f.images.values().filter(|x| x.cluster == Some(k)).count();
        n(c) > 0 && n(t) > 1
    });
    let f = h.state().session.corrections.facts.clone();
    assert_eq!(
        f.images[&i].cluster,
        Some(t),
        "the moved image is not split back"
    );
    assert!(
        f.images
            .values()
            .all(|x| x.cluster.is_none_or(|k| k == c || k == t)),
        "{f:?}"
    );
}
