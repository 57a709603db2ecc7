//! Sharing the cores: trainings on one machine count each other and take turns (one holds
//! the compute turn at a time); a slot left by a killed training stops counting; work on a fresh thread returns its value;
//! denormals are flushed on the thread that asks and on threads it starts.
use icicle_explorer::threads::{
    ComputeTurn, TrainingSlot, cores, flush_denormals, on_fresh_thread, training_threads,
};
use std::time::{Duration, SystemTime};

/// The tests that take the machine's compute turn, one at a time.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn take(t: &mut ComputeTurn) {
    // Another test binary's training could hold the turn: wait for it (cargo runs test
    // binaries one at a time, so only a training started by hand could).
    while !t.try_take() {
        std::thread::sleep(Duration::from_millis(5));
    }
}

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
    drop(b);
    assert_eq!(a.running(), before, "an ended training is not counted");

    // The compute turn's file beside the slots is not a training, held or not, and is never
    // cleaned up as a stale slot.
    let _one = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut turn = ComputeTurn::open();
    take(&mut turn);
    assert_eq!(a.running(), before, "the held turn is not a training");
    turn.release();
    let turn_file = std::fs::File::options()
        .write(true)
        .open(std::env::temp_dir().join("icicle-explorer-trainings/turn"))
        .unwrap();
    turn_file
        .set_modified(SystemTime::now() - Duration::from_secs(60))
        .unwrap();
    assert_eq!(a.running(), before);
    assert!(
        std::env::temp_dir()
            .join("icicle-explorer-trainings/turn")
            .exists(),
        "the turn file stays"
    );

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
fn one_training_computes_at_a_time_and_the_thread_count_is_fixed() {
    let _one = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let (mut a, mut b) = (ComputeTurn::open(), ComputeTurn::open());
    take(&mut a);
    assert!(a.try_take(), "taking a held turn again is a no-op");
    std::thread::sleep(Duration::from_millis(2));
    assert!(a.held_for() >= Duration::from_millis(2), "held since taken");
    assert_eq!(b.held_for(), Duration::ZERO);
    assert!(!b.try_take(), "the other waits");
    assert!(a.release());
    assert!(b.try_take(), "and takes it once given up");
    assert!(!a.try_take());
    drop(b);
    assert!(a.try_take(), "a dropped turn is free");
    assert_eq!(training_threads(0), cores());
    assert_eq!(training_threads(3), 3);
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
