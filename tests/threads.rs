//! Sharing the cores: trainings on one machine count each other and split the cores; a slot
//! left by a killed training stops counting; work on a fresh thread returns its value;
//! denormals are flushed on the thread that asks and on threads it starts.
use icicle_explorer::threads::{TrainingSlot, cores, flush_denormals, on_fresh_thread};
use std::time::{Duration, SystemTime};

#[test]
fn trainings_count_each_other_and_share_the_cores() {
    let a = TrainingSlot::take();
    // Other trainings may run on this machine (another test binary is not one: cargo runs
    // them one at a time), so counts are compared, not fixed.
    let before = a.running();
    assert!(before >= 1);
    let b = TrainingSlot::take();
    assert_eq!(a.running(), before + 1, "a second training is counted");
    assert_eq!(b.running(), before + 1, "by both");
    assert_eq!(a.fair_threads(), (cores() / (before + 1)).max(1));
    drop(b);
    assert_eq!(a.running(), before, "an ended training is not counted");

    // A slot file nobody holds (its process was killed) is not counted, and once it is old
    // it is removed.
    let dir = std::env::temp_dir().join("icicle-explorer-trainings");
    let stale = dir.join("1-stale-test.lock");
    let f = std::fs::File::create(&stale).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    drop(f);
    assert_eq!(a.running(), before);
    assert!(!stale.exists(), "an old unheld slot file is cleaned up");
}

#[test]
fn a_fresh_thread_returns_its_result_and_its_panic() {
    assert_eq!(on_fresh_thread(|| 6 * 7), 42);
    let caught = std::panic::catch_unwind(|| on_fresh_thread(|| panic!("inner")));
    assert!(caught.is_err(), "a panic is not swallowed");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn denormals_flush_to_zero_here_and_in_threads_started_after() {
    let tiny = f32::MIN_POSITIVE / 4.0; // a denormal
    std::thread::spawn(move || {
        let half = |x: f32| std::hint::black_box(x) * std::hint::black_box(0.5f32);
        assert!(half(tiny) > 0.0, "denormals are kept by default");
        flush_denormals();
        assert_eq!(half(tiny), 0.0, "flushed on the thread that asked");
        let child = std::thread::spawn(move || half(tiny)).join().unwrap();
        assert_eq!(
            child, 0.0,
            "and on a thread it started (OpenMP workers are such)"
        );
        let t = tch::Tensor::from_slice(&[tiny]) * 0.5;
        assert_eq!(t.double_value(&[0]), 0.0, "libtorch's arithmetic too");
    })
    .join()
    .unwrap();
}
