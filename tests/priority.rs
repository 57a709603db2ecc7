//! The app's background threads (training, t-SNE, decoding) run below the UI thread's
//! priority, and so do the threads libtorch starts from them.
use icicle_explorer::priority::{Priority, background_nice, current_thread_nice};
use icicle_explorer::worker::Worker;

/// (name, nice) of every thread of this process.
fn threads() -> Vec<(String, i32)> {
    let mut out = Vec::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = t.unwrap().path();
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(dir.join("comm")),
            std::fs::read_to_string(dir.join("stat")),
        ) else {
            continue; // the thread ended while we looked
        };
        let rest = &stat[stat.rfind(')').unwrap() + 1..];
        let nice = rest.split_whitespace().nth(16).unwrap().parse().unwrap();
        out.push((comm.trim().to_string(), nice));
    }
    out
}

#[test]
fn background_lowers_only_the_calling_thread() {
    let before = current_thread_nice().unwrap();
    let inside = std::thread::spawn(|| {
        Priority::Background.apply_to_current_thread().unwrap();
        current_thread_nice().unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(inside, background_nice(before));
    assert!(inside > before || before == 19);
    assert_eq!(
        current_thread_nice().unwrap(),
        before,
        "the caller kept its priority"
    );
    let normal = std::thread::spawn(|| {
        Priority::Normal.apply_to_current_thread().unwrap();
        current_thread_nice().unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(normal, before);
}

#[test]
fn libtorch_threads_started_from_a_background_thread_inherit_its_priority() {
    std::thread::Builder::new()
        .name("lowered-torch".into())
        .spawn(|| {
            let lowered = background_nice(current_thread_nice().unwrap());
            Priority::Background.apply_to_current_thread().unwrap();
            tch::set_num_threads(2);
            let a = tch::Tensor::randn([512, 512], (tch::Kind::Float, tch::Device::Cpu));
            for _ in 0..20 {
                let _ = a.matmul(&a).sum(tch::Kind::Float).double_value(&[]);
            }
            // Linux threads inherit the creator's name and nice value: libtorch's OpenMP
            // team shows up under this thread's name.
            let mine: Vec<i32> = threads()
                .into_iter()
                .filter(|(n, _)| n == "lowered-torch")
                .map(|(_, nice)| nice)
                .collect();
            assert!(
                mine.len() >= 2,
                "expected an OpenMP helper thread, saw {mine:?}"
            );
            assert!(mine.iter().all(|&n| n == lowered), "{mine:?}");
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn the_apps_training_worker_runs_in_the_background() {
    let lowered = background_nice(current_thread_nice().unwrap());
    let w = Worker::spawn(Priority::Background, || {});
    // The thread lowers itself as its first act; give it a moment to start.
    let mut seen = None;
    for _ in 0..200 {
        seen = threads().into_iter().find(|(n, _)| n == "icicle-trainer");
        if seen.as_ref().is_some_and(|(_, nice)| *nice == lowered) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(seen.map(|(_, n)| n), Some(lowered));
    drop(w);
}
