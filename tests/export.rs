//! Exports: features.npy round trip, assignments as JSON, and one folder per cluster (copies
//! only, never overwriting) from image folders and from IDX data.
mod common;
use icicle_explorer::data::{FolderLayout, LoadOptions, Progress, load_folder};
use icicle_explorer::export::{self, npy};

#[test]
fn npy_round_trip_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.npy");
    let data: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 1.0).collect();
    npy::write_f32(&p, &data, 3, 4).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    // NumPy's format: the header ends on a 64-byte boundary with a newline.
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + hlen) % 64, 0);
    assert_eq!(bytes[10 + hlen - 1], b'\n');
    assert_eq!(npy::read_f32(&p).unwrap(), (data, 3, 4));
    assert!(npy::write_f32(&p, &[1.0; 5], 2, 3).is_err());
    std::fs::write(&p, b"not numpy").unwrap();
    let e = npy::read_f32(&p).unwrap_err().to_string();
    assert!(e.contains("f.npy") && e.contains("not a <f4 array"), "{e}");
    // Neighbour indices as i64; an f32 file is not read as one.
    let g = dir.path().join("g.npy");
    let idx: Vec<i64> = (0..6).map(|i| i * 1000 - 2).collect();
    npy::write_i64(&g, &idx, 2, 3).unwrap();
    assert_eq!(npy::read_i64(&g).unwrap(), (idx, 2, 3));
    npy::write_f32(&p, &[0.0; 6], 2, 3).unwrap();
    assert!(npy::read_i64(&p).unwrap_err().to_string().contains("<i8"));
}

fn png(path: &std::path::Path, v: u8) {
    image::GrayImage::from_pixel(6, 6, image::Luma([v]))
        .save(path)
        .unwrap();
}

#[test]
fn folder_dataset_exports_copies_into_cluster_folders() {
    let src = tempfile::tempdir().unwrap();
    for (class, v) in [("cats", 10u8), ("dogs", 200)] {
        std::fs::create_dir_all(src.path().join(class)).unwrap();
        for i in 0..3 {
            png(&src.path().join(class).join(format!("{i}.png")), v + i);
        }
    }
    let layout = FolderLayout {
        height: 6,
        width: 6,
        channels: None,
        labels: Default::default(),
    };
    let ds = load_folder(
        src.path(),
        "pets",
        layout,
        &LoadOptions::default(),
        &Progress::none(),
    )
    .unwrap();
    let clusters: Vec<i64> = (0..ds.len()).map(|i| (i % 2) as i64).collect();
    let conf = vec![0.5f32; ds.len()];

    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("clusters");
    let r = export::export_cluster_folders(
        &ds,
        &clusters,
        &dest,
        &Default::default(),
        &Progress::none(),
    )
    .unwrap();
    assert_eq!((r.folders, r.files), (2, 6));
    assert!(r.failed.is_empty());
    let c0: Vec<String> = std::fs::read_dir(dest.join("cluster_00"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(c0.len(), 3);
    assert!(c0.contains(&"cats__0.png".to_string()), "{c0:?}");
    // Copies are byte-identical and the originals are still there.
    let orig = std::fs::read(src.path().join("cats/0.png")).unwrap();
    assert_eq!(
        std::fs::read(dest.join("cluster_00/cats__0.png")).unwrap(),
        orig
    );
    assert_eq!(
        std::fs::read_dir(src.path().join("cats")).unwrap().count(),
        3
    );

    // A second export into the same folder is refused: nothing is overwritten.
    let e = export::export_cluster_folders(
        &ds,
        &clusters,
        &dest,
        &Default::default(),
        &Progress::none(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("not empty"), "{e}");

    // JSON assignments carry path, cluster, confidence and label.
    let j = out.path().join("a.json");
    export::write_assignments_json(&j, &ds, &clusters, &conf, &Default::default()).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&j).unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 6);
    assert_eq!(v[0]["path"], "cats/0.png");
    assert_eq!(v[0]["label"], "cats");
    assert_eq!(v[1]["cluster"], 1);
    assert!(
        export::write_assignments_json(&j, &ds, &clusters[..2], &conf, &Default::default())
            .is_err()
    );
}

#[test]
fn idx_dataset_exports_pngs_from_pixels() {
    let ds = common::builtin_first("digits", 20);
    let clusters: Vec<i64> = (0..20).map(|i| (i % 12) as i64).collect();
    let out = tempfile::tempdir().unwrap();
    let r = export::export_cluster_folders(
        &ds,
        &clusters,
        out.path(),
        &Default::default(),
        &Progress::none(),
    )
    .unwrap();
    assert_eq!((r.folders, r.files), (12, 20));
    // Two-digit names sort, and the PNG holds the item's pixels.
    let img = image::open(out.path().join("cluster_11/000011.png"))
        .unwrap()
        .to_luma8();
    assert_eq!(img.dimensions(), (8, 8));
    assert_eq!(img.as_raw().as_slice(), ds.image(11));
}
