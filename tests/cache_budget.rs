//! The cache folder under its size budget: least recently used entries go first, the entry
//! just written stays, writes in progress are never touched, and `icicle cache` reports and
//! empties it.
use icicle_explorer::data::cache_budget::{self, clear, entries, parse_gb, prune, touch};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// A cache entry of `bytes` bytes last used `age_s` seconds ago.
fn entry(path: &Path, bytes: usize, age_s: u64) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, vec![7u8; bytes]).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(age_s))
        .unwrap();
    path.to_path_buf()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = entries(dir)
        .iter()
        .map(|e| e.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn the_least_recently_used_entries_go_first_and_the_new_one_stays() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let old = entry(&dir.join("old.icds"), 400, 300);
    entry(&dir.join("features/mid.safetensors"), 400, 200);
    entry(&dir.join("recent.icds"), 400, 100);
    // Not entries: writes in progress and anything else in the folder.
    entry(&dir.join("features/.tmp-x.safetensors"), 5000, 1000);
    entry(&dir.join(".tmpAbC"), 5000, 1000);
    entry(&dir.join("notes.txt"), 5000, 1000);
    assert_eq!(entries(dir).len(), 3);
    assert!(entries(dir)[0].decoded && !entries(dir)[1].decoded);

    // Using the oldest makes it the newest.
    touch(&old);
    let new = entry(&dir.join("features/new.safetensors"), 400, 0);
    let p = prune(dir, 900, Some(&new));
    assert_eq!((p.removed, p.bytes), (2, 800));
    assert_eq!(names(dir), ["new.safetensors", "old.icds"]);
    assert!(dir.join("notes.txt").exists() && dir.join(".tmpAbC").exists());
    assert!(dir.join("features/.tmp-x.safetensors").exists());

    // The entry just written stays even when it alone is over the budget.
    let p = prune(dir, 100, Some(&new));
    assert_eq!(p.removed, 1);
    assert_eq!(names(dir), ["new.safetensors"]);
    // Under the budget nothing goes.
    assert_eq!(prune(dir, 1_000, None).removed, 0);
}

#[test]
fn clear_removes_every_entry_and_nothing_else() {
    let d = tempfile::tempdir().unwrap();
    entry(&d.path().join("a.icds"), 10, 0);
    entry(&d.path().join("features/b.safetensors"), 20, 0);
    entry(&d.path().join("keep.txt"), 5, 0);
    let p = clear(d.path()).unwrap();
    assert_eq!((p.removed, p.bytes), (2, 30));
    assert!(entries(d.path()).is_empty() && d.path().join("keep.txt").exists());
    // An empty or missing folder is no error.
    assert_eq!(clear(&d.path().join("none")).unwrap().removed, 0);
}

#[test]
fn the_budget_reads_gigabytes_and_names_the_variable_when_it_cannot() {
    assert_eq!(parse_gb("10").unwrap(), Some(10_000_000_000));
    assert_eq!(parse_gb(" 0.5 ").unwrap(), Some(500_000_000));
    assert_eq!(parse_gb("0").unwrap(), None);
    for bad in ["ten", "-1", "inf", ""] {
        let e = format!("{:#}", parse_gb(bad).unwrap_err());
        assert!(
            e.contains(cache_budget::ENV) && e.contains("gigabytes"),
            "{e}"
        );
    }
    assert_eq!(cache_budget::human(72_000), "72 kB");
    assert_eq!(cache_budget::human(4_600_000_000), "4.6 GB");
}

fn icicle(cache: &Path, budget_gb: &str, args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_icicle"))
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .env("ICICLE_CACHE_DIR", cache)
        .env(cache_budget::ENV, budget_gb)
        .output()
        .expect("icicle runs");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Two folders decoded one after the other under a budget that holds one: the first one's
/// entry goes, `icicle cache` lists what is left and `--clear` empties it.
#[test]
fn decoding_a_new_folder_over_the_budget_evicts_the_older_one() {
    let d = tempfile::tempdir().unwrap();
    let cache = d.path().join("cache");
    for (name, value) in [("first", 40u8), ("second", 200u8)] {
        for class in ["a", "b"] {
            let root = d.path().join(name).join(class);
            std::fs::create_dir_all(&root).unwrap();
            for i in 0..6 {
                let img = image::GrayImage::from_pixel(16, 16, image::Luma([value + i]));
                img.save(root.join(format!("{i}.png"))).unwrap();
            }
        }
    }
    let baseline = |name: &str| {
        let folder = d.path().join(name);
        let out = d.path().join(format!("run-{name}"));
        // One folder's entry is about 1.6 kB (12 images of 16×16 and a header).
        icicle(
            &cache,
            "0.000002",
            &[
                "baseline",
                "--folder",
                folder.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };
    let (ok, out, err) = baseline("first");
    assert!(ok, "{out}{err}");
    assert_eq!(entries(&cache).len(), 1);
    let first = entries(&cache)[0].path.clone();
    let (ok, out, err) = baseline("second");
    assert!(ok, "{out}{err}");
    assert!(
        err.contains("cache: removed 1 least recently used entry"),
        "{err}"
    );
    let left = entries(&cache);
    assert_eq!(left.len(), 1);
    assert_ne!(left[0].path, first, "the older folder's entry went");

    let (ok, out, err) = icicle(&cache, "10", &["cache"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("decoded folders") && out.contains("    1 "),
        "{out}"
    );
    assert!(out.contains("10.0 GB"), "{out}");
    let (ok, out, err) = icicle(&cache, "10", &["cache", "--clear"]);
    assert!(ok && out.contains("removed 1 entry ("), "{out}{err}");
    assert!(entries(&cache).is_empty());

    let (ok, _, err) = icicle(&cache, "lots", &["cache"]);
    assert!(
        !ok && err.contains("ICICLE_CACHE_MAX_GB") && !err.contains("panicked"),
        "{err}"
    );
}
