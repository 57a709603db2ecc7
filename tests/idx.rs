//! The IDX reader, the embedded datasets, and IDX datasets from files.
mod common;
use flate2::{Compression, write::GzEncoder};
use icicle_explorer::data::idx::{images_and_labels, parse};
use icicle_explorer::data::{LoadOptions, Progress, Registry, load_entry};
use std::io::Write;

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(data);
    v
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn plain_and_gzip_idx_parse_the_same() {
    let raw = idx(&[2, 2, 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    let a = parse(&raw).unwrap();
    assert_eq!(a.dims, vec![2, 2, 3]);
    assert_eq!(a.data[11], 12);
    assert_eq!(parse(&gz(&raw)).unwrap(), a);
}

#[test]
fn corrupt_idx_is_a_clear_error() {
    let good = idx(&[2, 2, 2], &[0; 8]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (good[..good.len() - 1].to_vec(), "truncated"),
        (vec![1, 2, 3, 4, 5], "magic"),
        (vec![0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0], "unsigned byte"),
        (vec![0, 0, 8], "too short"),
        (gz(&good)[..20].to_vec(), "gzip"),
    ];
    for (bytes, words) in cases {
        let e = format!("{:#}", parse(&bytes).unwrap_err());
        assert!(e.contains(words), "expected '{words}' in: {e}");
    }
}

#[test]
fn image_and_label_counts_must_agree() {
    let images = parse(&idx(&[3, 1, 1], &[1, 2, 3])).unwrap();
    let labels = parse(&idx(&[2], &[0, 1])).unwrap();
    assert!(
        format!("{:#}", images_and_labels(images, labels).unwrap_err())
            .contains("3 images but 2 labels")
    );
}

fn embedded(name: &str) -> icicle_explorer::data::Dataset {
    common::load_builtin(name)
}

#[test]
fn embedded_digits_are_the_sklearn_digits() {
    let d = embedded("digits");
    assert_eq!((d.len(), d.height, d.width, d.channels), (1797, 8, 8, 1));
    let labels = d.labels.as_ref().unwrap();
    let mut counts = [0; 10];
    for &l in labels {
        counts[l as usize] += 1;
    }
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    assert_eq!(d.items[5], "#5");
    assert_eq!(*d.pixels.iter().max().unwrap(), 255);
}

#[test]
fn embedded_mnist_and_fashion_test_splits() {
    let m = embedded("mnist-test");
    assert_eq!((m.len(), m.height, m.width), (10000, 28, 28));
    assert_eq!(
        m.labels.as_ref().unwrap()[..10],
        [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    );
    let f = embedded("fashion-mnist-test");
    assert_eq!(
        f.labels.as_ref().unwrap()[..10],
        [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    );
    assert_eq!(f.class_names[9], "Ankle boot");
}

#[test]
fn idx_dataset_from_files_concatenates_parts_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("a-img.gz"),
        gz(&idx(&[2, 2, 2], &[10, 10, 10, 10, 20, 20, 20, 20])),
    )
    .unwrap();
    std::fs::write(p.join("a-lab"), idx(&[2], &[1, 0])).unwrap();
    std::fs::write(p.join("b-img"), idx(&[1, 2, 2], &[30, 30, 30, 30])).unwrap();
    std::fs::write(p.join("b-lab"), idx(&[1], &[2])).unwrap();
    let toml = r#"
[[dataset]]
name = "mini"
source = "idx"
parts = [{ images = "a-img.gz", labels = "a-lab" }, { images = "b-img", labels = "b-lab" }]
image_size = [2, 2]
channels = 1
classes = 3
"#;
    std::fs::write(p.join("reg.toml"), toml).unwrap();
    let r = Registry::load(&p.join("reg.toml")).unwrap();
    let d = load_entry(
        r.get("mini").unwrap(),
        &LoadOptions::default(),
        &Progress::none(),
    )
    .unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(d.labels, Some(vec![1, 0, 2]));
    assert_eq!(d.image(2), &[30, 30, 30, 30]);

    // A truncated part names its file.
    std::fs::write(p.join("b-img"), &idx(&[1, 2, 2], &[30, 30, 30, 30])[..18]).unwrap();
    let e = format!(
        "{:#}",
        load_entry(
            r.get("mini").unwrap(),
            &LoadOptions::default(),
            &Progress::none()
        )
        .unwrap_err()
    );
    assert!(e.contains("b-img") && e.contains("truncated"), "{e}");
}
