//! Ending the process while helper threads run: writers are waited for, a helper still inside
//! libtorch is abandoned without tearing libtorch down under it (closing the app during a
//! preview used to segfault or panic "Invalid (backend, op) pair").
use icicle_explorer::helpers::{Kind, Running, running, settle, settle_or_exit};
use std::time::{Duration, Instant};

const CHILD: &str = "ICICLE_HELPERS_TEST_CHILD";

/// The registry is the process's, shared by every test here: the tests that register take turns.
static REGISTRY: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn settle_waits_for_writers_and_gives_computing_helpers_a_grace_period() {
    let _turn = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("written.txt");
    let f = file.clone();
    let w = Running::register("slow-writer", Kind::Writer);
    let writer = std::thread::spawn(move || {
        let _w = w;
        std::thread::sleep(Duration::from_millis(300));
        std::fs::write(&f, "done").unwrap();
    });
    // A grace of zero still waits for the writer.
    assert_eq!(settle(Duration::ZERO), Vec::<String>::new());
    assert!(
        file.exists(),
        "settle returned before the writer had written"
    );
    writer.join().unwrap();

    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let c = Running::register("busy-map", Kind::Compute);
    let compute = std::thread::spawn(move || {
        let _c = c;
        let _ = stop_rx.recv();
    });
    assert_eq!(running(), vec!["busy-map".to_string()]);
    let t = Instant::now();
    assert_eq!(
        settle(Duration::from_millis(100)),
        vec!["busy-map".to_string()]
    );
    assert!(t.elapsed() >= Duration::from_millis(100));
    stop_tx.send(()).unwrap();
    compute.join().unwrap();
    // Its entry went with it.
    assert_eq!(settle(Duration::from_secs(5)), Vec::<String>::new());
}

/// A helper panicking still leaves the list.
#[test]
fn a_panicking_helper_leaves_the_list() {
    let _turn = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    let h = std::thread::spawn(|| {
        let _r = Running::register("doomed", Kind::Compute);
        panic!("boom");
    });
    assert!(h.join().is_err());
    assert!(!running().contains(&"doomed".to_string()));
}

/// The process ends cleanly (status 0) with a helper still multiplying matrices in libtorch.
#[test]
fn the_process_ends_cleanly_while_a_helper_is_inside_libtorch() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_ends_while_its_helper_computes",
            "--include-ignored",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "child ended with {:?}: {err}",
        out.status
    );
    assert!(
        err.contains("closing while still computing: matmul-loop"),
        "{err}"
    );
}

#[test]
#[ignore = "run in a child process by the test above"]
fn child_ends_while_its_helper_computes() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let r = Running::register("matmul-loop", Kind::Compute);
    std::thread::spawn(move || {
        let _r = r;
        // As the app's helpers do: every core, so the work runs in OpenMP's parallel regions.
        tch::set_num_threads(icicle_explorer::threads::cores() as i32);
        let a = tch::Tensor::randn([512, 512], (tch::Kind::Float, tch::Device::Cpu));
        let _ = started_tx.send(());
        loop {
            let _ = a.matmul(&a).sum(tch::Kind::Float).double_value(&[]);
        }
    });
    started_rx.recv().unwrap();
    settle_or_exit(Duration::from_millis(50));
    // Only reached when settle_or_exit did not end the process: the destructors that run now
    // pull libtorch from under the helper.
    std::process::exit(0);
}
