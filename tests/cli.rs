//! The `icicle` binary end to end: build facts (rpath, CUDA linkage), commands, bad input.
use std::path::Path;
use std::process::{Command, Output};

fn icicle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_icicle"))
        .args(args)
        // Runs through the rpath set by build.rs, not through the environment.
        .env_remove("LD_LIBRARY_PATH")
        .env(
            "ICICLE_CACHE_DIR",
            std::env::temp_dir().join("icicle-test-cache"),
        )
        .output()
        .expect("icicle runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A user mistake: non-zero exit, one `error:` line naming the cause, no panic or backtrace.
fn assert_user_error(o: &Output, words: &[&str]) {
    let (_, err) = text(o);
    assert!(!o.status.success(), "should fail: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    for w in words {
        assert!(err.contains(w), "expected '{w}' in: {err}");
    }
}

#[test]
fn version_and_info_report_libtorch_and_cuda() {
    let (out, _) = text(&icicle(&["--version"]));
    assert!(
        out.contains("libtorch 2.11.0") && out.contains("CUDA"),
        "{out}"
    );
    let o = icicle(&["info"]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.contains("libtorch 2.11.0") && out.contains("device:"),
        "{out}"
    );
    assert!(
        out.contains("loaded from") && out.contains("libtorch_cpu.so"),
        "{out}"
    );
    // The CPU, which benchmark figures depend on: its cores and, on x86, AVX-512 or not.
    let cpu = out.lines().find(|l| l.starts_with("cpu: ")).expect(&out);
    assert!(
        cpu.contains(&format!(" {} cores", icicle_explorer::threads::cores())),
        "{cpu}"
    );
    if cfg!(target_arch = "x86_64") {
        assert!(cpu.contains("AVX-512"), "{cpu}");
    }
}

#[test]
fn binary_links_libtorch_cuda_and_has_an_rpath() {
    let lib = Path::new(env!("ICICLE_LIBTORCH_LIB"));
    let o = Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_icicle"))
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    let (out, _) = text(&o);
    if lib.join("libtorch_cuda.so").exists() {
        assert!(
            out.contains("libtorch_cuda.so"),
            "--no-as-needed must keep libtorch_cuda: {out}"
        );
    }
    assert!(
        !out.contains("not found"),
        "every library resolves through the rpath: {out}"
    );
}

#[test]
fn datasets_lists_the_registry_with_availability() {
    let o = icicle(&["datasets"]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    for name in [
        "digits",
        "mnist-test",
        "fashion-mnist-test",
        "fashion-mnist",
        "mnist",
    ] {
        assert!(out.contains(name), "{name} in {out}");
    }
    assert!(out.contains("available"));
}

#[test]
fn baseline_on_digits_writes_results_and_beats_chance() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("run");
    let o = icicle(&[
        "baseline",
        "--dataset",
        "digits",
        "--clusters",
        "10",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("ACC") && out.contains("NMI") && out.contains("ARI"),
        "{out}"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("metrics.json")).unwrap()).unwrap();
    let acc = m["scores"]["acc"].as_f64().unwrap();
    assert!((0.77..=0.82).contains(&acc), "ACC {acc}");
    let csv = std::fs::read_to_string(out_dir.join("assignments.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("path,cluster,confidence,label"));
    assert_eq!(csv.lines().count(), 1798);
    let conf = std::fs::read_to_string(out_dir.join("confusion.csv")).unwrap();
    assert_eq!(conf.lines().count(), 11);
    assert!(conf.starts_with("class,cluster "));
    // Nothing but the results: temporary files were renamed into place.
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["assignments.csv", "confusion.csv", "metrics.json"]
    );
}

#[test]
fn baseline_on_a_folder_uses_relative_paths_and_handles_unlabelled_data() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("photos");
    for (class, value) in [("dark", 20u8), ("light", 230u8)] {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for i in 0..4 {
            let img = image::GrayImage::from_pixel(6, 6, image::Luma([value + i]));
            img.save(root.join(class).join(format!("{i}.png"))).unwrap();
        }
    }
    std::fs::write(root.join("light/readme.txt"), "not an image").unwrap();
    let out_dir = dir.path().join("run");
    let o = icicle(&[
        "baseline",
        "--folder",
        root.to_str().unwrap(),
        "--size",
        "8",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        err.contains("skipped 1 file") && err.contains("light/readme.txt"),
        "{err}"
    );
    assert!(out.contains("ACC 1.0000"), "{out}");
    let csv = std::fs::read_to_string(out_dir.join("assignments.csv")).unwrap();
    assert!(
        csv.contains("dark/0.png,") && csv.contains(",light\n"),
        "{csv}"
    );

    // Without labels, K must be given.
    let flat = dir.path().join("flat");
    std::fs::create_dir_all(&flat).unwrap();
    for i in 0..3u8 {
        image::GrayImage::from_pixel(4, 4, image::Luma([i * 80]))
            .save(flat.join(format!("{i}.png")))
            .unwrap();
    }
    assert_user_error(
        &icicle(&["baseline", "--folder", flat.to_str().unwrap()]),
        &["no labels", "--clusters"],
    );
    let o = icicle(&[
        "baseline",
        "--folder",
        flat.to_str().unwrap(),
        "--clusters",
        "2",
        "--out",
        dir.path().join("flat-run").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{:?}", text(&o));
    let csv = std::fs::read_to_string(dir.path().join("flat-run/assignments.csv")).unwrap();
    assert!(csv.starts_with("path,cluster,confidence\n"), "{csv}");
}

#[test]
fn bad_input_gives_one_clear_error() {
    assert_user_error(
        &icicle(&["baseline", "--dataset", "cifar"]),
        &["error:", "cifar", "digits"],
    );
    assert_user_error(
        &icicle(&["baseline", "--folder", "/no/such/folder"]),
        &["/no/such/folder", "does not exist"],
    );
    assert_user_error(
        &icicle(&["baseline", "--dataset", "digits", "--clusters", "1"]),
        &["--clusters"],
    );
    assert_user_error(
        &icicle(&["baseline", "--dataset", "digits", "--clusters", "5000"]),
        &["5000", "1797"],
    );
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("bad.toml");
    std::fs::write(
        &reg,
        "[[dataset]]\nname = \"x\"\nsource = \"embedded\"\n  oops\n",
    )
    .unwrap();
    assert_user_error(
        &icicle(&["datasets", "--registry", reg.to_str().unwrap()]),
        &["bad.toml", "line 4"],
    );
    // An output path that cannot be a folder.
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let o = icicle(&[
        "baseline",
        "--dataset",
        "digits",
        "--out",
        file.join("run").to_str().unwrap(),
    ]);
    assert_user_error(&o, &["cannot write results"]);
}

/// A scripted move or drag the app cannot read is refused before any window opens, naming the flag.
#[test]
fn a_bad_move_or_drag_for_the_app_names_the_flag() {
    for bad in ["3,x:5", "3,4", "3:y"] {
        let o = icicle(&["gui", "--fresh", "--move", bad]);
        assert_user_error(&o, &[&format!("--move {bad}"), "IMAGES:CLUSTER"]);
    }
    for bad in ["1:2,3", "1:2,3:4", "x:1,2:3,4"] {
        let o = icicle(&["gui", "--fresh", "--drag", bad]);
        assert_user_error(&o, &[&format!("--drag {bad}")]);
    }
}

/// `icicle gui` names its data with the same flags as `icicle train`, a folder's labels and
/// channels included, and opens the remembered data when none is named.
#[test]
fn the_app_reads_a_folder_with_the_same_flags_as_train() {
    use clap::Parser;
    use icicle_explorer::cli::{Cli, Command as Cmd};
    use icicle_explorer::data::folder::Labels;
    use icicle_explorer::rundir::DataRecord;
    let flags = [
        "--folder",
        "/photos",
        "--labels",
        "none",
        "--channels",
        "1",
        "--size",
        "32",
    ];
    let parse = |cmd: &str, extra: &[&str]| {
        Cli::try_parse_from(["icicle", cmd].iter().chain(extra))
            .unwrap_or_else(|e| panic!("{e}"))
            .command
    };
    let Some(Cmd::Gui(gui)) = parse("gui", &flags) else {
        panic!("not the gui command")
    };
    let Some(Cmd::Train(train)) = parse("train", &flags) else {
        panic!("not the train command")
    };
    let expected = DataRecord {
        dataset: None,
        folder: Some("/photos".into()),
        size: 32,
        channels: "1".into(),
        labels: Labels::None,
    };
    assert_eq!(gui.data.named(), Some(expected.clone()));
    assert_eq!(train.data.record(), expected);
    let Some(Cmd::Gui(bare)) = parse("gui", &[]) else {
        panic!("not the gui command")
    };
    assert_eq!(bare.data.named(), None);
}

/// Someone's first try: a flat folder of a few dozen images, no labels, K said with `--set`.
/// The preset's batch (64) and neighbour counts would not fit; the default fits them.
#[test]
fn a_small_unlabelled_folder_trains_with_k_from_set() {
    let dir = tempfile::tempdir().unwrap();
    let flat = dir.path().join("flat");
    std::fs::create_dir_all(&flat).unwrap();
    for i in 0..40u32 {
        // Two kinds: bright left half or bright top half, with a little texture.
        let img = image::GrayImage::from_fn(8, 8, |x, y| {
            let on = if i % 2 == 0 { x < 4 } else { y < 4 };
            image::Luma([if on { 200 } else { 20 } + ((x * 7 + y * 3 + i) % 30) as u8])
        });
        img.save(flat.join(format!("{i}.png"))).unwrap();
    }
    let out_dir = dir.path().join("run");
    let o = icicle(&[
        "train",
        "--folder",
        flat.to_str().unwrap(),
        "--set",
        "clusters=2",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("batch 40 (") && out.contains("every image: fewer than the preset's batch"),
        "{out}"
    );
    let csv = std::fs::read_to_string(out_dir.join("assignments.csv")).unwrap();
    assert_eq!(csv.lines().count(), 41, "{csv}");
    // The two kinds end apart.
    let cluster_of = |name: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{name},")))
            .and_then(|l| l.split(',').nth(1))
            .unwrap()
            .to_string()
    };
    assert_ne!(cluster_of("0.png"), cluster_of("1.png"), "{csv}");
    assert_eq!(cluster_of("0.png"), cluster_of("2.png"), "{csv}");
    assert_user_error(
        &icicle(&[
            "train",
            "--folder",
            flat.to_str().unwrap(),
            "--set",
            "clusters=two",
        ]),
        &["--set clusters=two", "not a whole number"],
    );
}

/// A folder of one image: the settings' check names K and the count, not an inner k-NN error.
#[test]
fn a_folder_of_one_image_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one");
    std::fs::create_dir_all(&one).unwrap();
    image::GrayImage::from_pixel(8, 8, image::Luma([90]))
        .save(one.join("only.png"))
        .unwrap();
    assert_user_error(
        &icicle(&[
            "train",
            "--folder",
            one.to_str().unwrap(),
            "--clusters",
            "2",
            "--out",
            dir.path().join("run").to_str().unwrap(),
        ]),
        &["clusters = 2", "number of images (1)"],
    );
}
