//! Image folders: labels from class subfolders, every pixel format converted, bad files skipped
//! and listed, the decode cache.
use icicle_explorer::data::{FolderLayout, LoadOptions, Progress, load_folder};
use image::{DynamicImage, ImageBuffer, Luma, Rgb, Rgba};
use std::path::Path;

fn layout(side: usize, channels: Option<usize>) -> FolderLayout {
    FolderLayout {
        height: side,
        width: side,
        channels,
    }
}

fn load(root: &Path, l: FolderLayout) -> anyhow::Result<icicle_explorer::data::Dataset> {
    load_folder(root, "t", l, &LoadOptions::default(), &Progress::none())
}

fn write_mixed_folder(root: &Path) {
    for d in ["cats", "dogs", ".thumbs"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    // 8-bit gray PNG, colour JPEG, RGBA PNG, 16-bit gray PNG, palette GIF.
    DynamicImage::ImageLuma8(ImageBuffer::from_pixel(20, 10, Luma([200u8])))
        .save(root.join("cats/a.png"))
        .unwrap();
    DynamicImage::ImageRgb8(ImageBuffer::from_pixel(12, 12, Rgb([250u8, 10, 10])))
        .save(root.join("cats/b.jpg"))
        .unwrap();
    DynamicImage::ImageRgba8(ImageBuffer::from_pixel(8, 8, Rgba([0u8, 0, 255, 128])))
        .save(root.join("dogs/c.png"))
        .unwrap();
    DynamicImage::ImageLuma16(ImageBuffer::from_pixel(9, 9, Luma([65535u16])))
        .save(root.join("dogs/d.png"))
        .unwrap();
    DynamicImage::ImageRgba8(ImageBuffer::from_pixel(5, 5, Rgba([0u8, 255, 0, 255])))
        .save(root.join("dogs/e.gif"))
        .unwrap();
    // Bad files: empty, not an image, truncated image; hidden folder ignored.
    std::fs::write(root.join("dogs/empty.png"), b"").unwrap();
    std::fs::write(root.join("dogs/notes.txt"), b"hello, not an image").unwrap();
    let png = std::fs::read(root.join("cats/a.png")).unwrap();
    std::fs::write(root.join("cats/broken.png"), &png[..png.len() / 2]).unwrap();
    std::fs::copy(root.join("cats/a.png"), root.join(".thumbs/x.png")).unwrap();
}

#[test]
fn class_folders_give_labels_and_every_format_is_converted() {
    let dir = tempfile::tempdir().unwrap();
    write_mixed_folder(dir.path());
    let d = load(dir.path(), layout(16, None)).unwrap();
    assert_eq!(d.class_names, vec!["cats", "dogs"]);
    assert_eq!(
        d.items,
        vec![
            "cats/a.png",
            "cats/b.jpg",
            "dogs/c.png",
            "dogs/d.png",
            "dogs/e.gif"
        ]
    );
    assert_eq!(d.labels, Some(vec![0, 0, 1, 1, 1]));
    assert_eq!(
        (d.channels, d.height, d.width),
        (3, 16, 16),
        "auto picks colour: b.jpg is red"
    );
    let hw = 16 * 16;
    assert_eq!(d.image(0)[0], 200, "gray → equal RGB planes");
    assert_eq!(d.image(0)[hw], 200);
    assert!(
        d.image(1)[0] > 200 && d.image(1)[hw] < 60,
        "red JPEG stays red"
    );
    assert_eq!(
        (d.image(2)[0], d.image(2)[2 * hw]),
        (127, 255),
        "RGBA (0, 0, 255, alpha 128): composited on white"
    );
    assert_eq!(d.image(3)[0], 255, "16-bit white → 255");
    assert_eq!(d.image(4)[hw], 255, "palette GIF green");
    let mut skipped: Vec<(&str, &str)> = d
        .skipped
        .iter()
        .map(|s| (s.path.as_str(), s.reason.as_str()))
        .collect();
    skipped.sort();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped[0].0 == "cats/broken.png" && skipped[0].1.contains("decode"),
        "{skipped:?}"
    );
    assert!(
        skipped[1].0 == "dogs/empty.png" && skipped[1].1.contains("empty"),
        "{skipped:?}"
    );
    assert!(
        skipped[2].0 == "dogs/notes.txt" && skipped[2].1.contains("not an image"),
        "{skipped:?}"
    );
}

#[test]
fn forced_gray_and_all_gray_folders_have_one_channel() {
    let dir = tempfile::tempdir().unwrap();
    write_mixed_folder(dir.path());
    let d = load(dir.path(), layout(8, Some(1))).unwrap();
    assert_eq!(d.channels, 1);
    assert_eq!(d.pixels.len(), 5 * 64);

    let gray = tempfile::tempdir().unwrap();
    for i in 0..3 {
        DynamicImage::ImageLuma8(ImageBuffer::from_pixel(4, 4, Luma([i * 50u8])))
            .save(gray.path().join(format!("{i}.png")))
            .unwrap();
    }
    let g = load(gray.path(), layout(4, None)).unwrap();
    assert_eq!(g.channels, 1);
    assert_eq!(g.image(2), &[100u8; 16]);
}

#[test]
fn flat_folder_or_images_beside_subfolders_are_unlabelled() {
    let dir = tempfile::tempdir().unwrap();
    DynamicImage::ImageLuma8(ImageBuffer::from_pixel(4, 4, Luma([1u8])))
        .save(dir.path().join("x.png"))
        .unwrap();
    let d = load(dir.path(), layout(4, None)).unwrap();
    assert_eq!(d.labels, None);
    assert!(d.class_names.is_empty());

    std::fs::create_dir(dir.path().join("sub")).unwrap();
    DynamicImage::ImageLuma8(ImageBuffer::from_pixel(4, 4, Luma([1u8])))
        .save(dir.path().join("sub/y.png"))
        .unwrap();
    let d = load(dir.path(), layout(4, None)).unwrap();
    assert_eq!(d.labels, None);
    assert_eq!(d.items, vec!["sub/y.png", "x.png"]);
}

#[test]
fn empty_missing_and_all_bad_folders_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = format!("{:#}", load(dir.path(), layout(4, None)).unwrap_err());
    assert!(e.contains("contains no files"), "{e}");

    let e = format!(
        "{:#}",
        load(&dir.path().join("nope"), layout(4, None)).unwrap_err()
    );
    assert!(e.contains("does not exist"), "{e}");

    std::fs::write(dir.path().join("a.jpg"), b"").unwrap();
    std::fs::write(dir.path().join("b.txt"), b"text").unwrap();
    let e = format!("{:#}", load(dir.path(), layout(4, None)).unwrap_err());
    assert!(
        e.contains("no readable images") && e.contains("2 files"),
        "{e}"
    );
}

#[test]
fn decoded_folders_are_cached_and_the_cache_follows_changes() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    write_mixed_folder(dir.path());
    let opts = LoadOptions {
        cache_dir: Some(cache.path().to_path_buf()),
    };
    let first = load_folder(dir.path(), "t", layout(8, None), &opts, &Progress::none()).unwrap();
    let files: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "one cache entry");
    let again = load_folder(dir.path(), "t", layout(8, None), &opts, &Progress::none()).unwrap();
    assert_eq!(first, again);
    assert_eq!(first.pixels, again.pixels);

    // A changed folder is decoded afresh, not served stale from the cache.
    std::fs::remove_file(dir.path().join("dogs/e.gif")).unwrap();
    let changed = load_folder(dir.path(), "t", layout(8, None), &opts, &Progress::none()).unwrap();
    assert_eq!(changed.len(), 4);

    // A corrupt cache entry is ignored.
    for f in std::fs::read_dir(cache.path()).unwrap() {
        std::fs::write(f.unwrap().path(), b"garbage").unwrap();
    }
    let fresh = load_folder(dir.path(), "t", layout(8, None), &opts, &Progress::none()).unwrap();
    assert_eq!(fresh.len(), 4);
}

/// A symlink loop, a broken link and an unreadable subfolder are skipped and listed with their
/// reason; the rest of the folder loads, labels included.
#[cfg(unix)]
#[test]
fn loops_broken_links_and_unreadable_folders_are_skipped_not_fatal() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (class, v) in [("cats", 30u8), ("dogs", 220)] {
        std::fs::create_dir(root.join(class)).unwrap();
        for i in 0..3 {
            DynamicImage::ImageLuma8(ImageBuffer::from_pixel(6, 6, Luma([v + i])))
                .save(root.join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    symlink("..", root.join("cats/loop")).unwrap();
    symlink("/nonexistent/picture.png", root.join("dogs/broken.png")).unwrap();
    let locked = root.join("dogs/locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let ds = load(root, layout(6, None)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(ds.len(), 6);
    assert_eq!(ds.class_names, ["cats", "dogs"], "still labelled");
    let reason = |p: &str| {
        ds.skipped
            .iter()
            .find(|s| s.path == p)
            .map(|s| s.reason.clone())
            .unwrap_or_else(|| panic!("{p} not listed: {:?}", ds.skipped))
    };
    assert!(reason("cats/loop").contains("symlink loop"));
    assert!(reason("dogs/broken.png").contains("cannot list"));
    // Root ignores permissions; elsewhere the locked folder is listed as unreadable.
    if ds.skipped.iter().any(|s| s.path == "dogs/locked") {
        assert!(reason("dogs/locked").contains("cannot list"));
    }
}

/// With a decode cache, a folder is decoded straight into the cache file and its pixels are
/// mapped from it, not held in memory; they are the same pixels as a decode into memory, for
/// colour and for gray folders (whose colour planes collapse to one), and the same tensor.
/// A cache that cannot be written falls back to memory.
#[test]
fn a_cached_folder_is_memory_mapped_and_matches_decoding_into_memory() {
    let dir = tempfile::tempdir().unwrap();
    write_mixed_folder(dir.path());
    let gray = tempfile::tempdir().unwrap();
    for i in 0..3u8 {
        DynamicImage::ImageLuma8(ImageBuffer::from_pixel(6, 6, Luma([40 * i])))
            .save(gray.path().join(format!("{i}.png")))
            .unwrap();
    }
    for (root, channels) in [(dir.path(), 3), (gray.path(), 1)] {
        let cache = tempfile::tempdir().unwrap();
        let opts = LoadOptions {
            cache_dir: Some(cache.path().to_path_buf()),
        };
        let mapped = load_folder(root, "t", layout(8, None), &opts, &Progress::none()).unwrap();
        let memory = load(root, layout(8, None)).unwrap();
        assert!(mapped.pixels.is_mapped() && !memory.pixels.is_mapped());
        assert_eq!(mapped.channels, channels);
        assert_eq!(mapped, memory);
        let (a, b) = (
            mapped.to_u8_tensor(tch::Device::Cpu),
            memory.to_u8_tensor(tch::Device::Cpu),
        );
        assert_eq!(a.size(), [mapped.len() as i64, channels as i64, 8, 8]);
        assert!(a.equal(&b));
        // The cache hit maps the same file again.
        let hit = load_folder(root, "t", layout(8, None), &opts, &Progress::none()).unwrap();
        assert!(hit.pixels.is_mapped());
        assert_eq!(hit, memory);
    }
    // A cache folder that cannot be created (a file is in the way): decoded into memory.
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let opts = LoadOptions {
        cache_dir: Some(blocker.path().join("cache")),
    };
    let d = load_folder(dir.path(), "t", layout(8, None), &opts, &Progress::none()).unwrap();
    assert!(!d.pixels.is_mapped());
    assert_eq!(d, load(dir.path(), layout(8, None)).unwrap());
}
