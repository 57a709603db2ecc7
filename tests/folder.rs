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
        labels: icicle_explorer::data::folder::Labels::Auto,
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

/// A JPEG of `img` carrying an EXIF orientation tag (APP1 right after SOI, big-endian TIFF,
/// one IFD entry: 0x0112 = `orientation`).
fn jpeg_with_orientation(img: &image::RgbImage, orientation: u16) -> Vec<u8> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
        .encode_image(img)
        .unwrap();
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    [&jpeg[..2], &app1[..], &jpeg[2..]].concat()
}

/// Phone photos are stored turned and tagged: each of the eight EXIF orientations comes out
/// upright (quadrants red, green / blue, white as the camera saw them).
#[test]
fn exif_orientations_come_out_upright() {
    use image::imageops::{flip_horizontal, flip_vertical, rotate90, rotate180, rotate270};
    let colours = [
        [220u8, 20, 20],
        [20, 200, 20],
        [20, 20, 220],
        [240, 240, 240],
    ];
    let upright = image::RgbImage::from_fn(32, 32, |x, y| {
        Rgb(colours[(y as usize / 16) * 2 + x as usize / 16])
    });
    let u = &upright;
    // What the camera stored for each tag: the upright image turned the other way.
    let stored: [(u16, image::RgbImage); 8] = [
        (1, u.clone()),
        (2, flip_horizontal(u)),
        (3, rotate180(u)),
        (4, flip_vertical(u)),
        (5, flip_horizontal(&rotate90(u))),
        (6, rotate270(u)),
        (7, flip_vertical(&rotate90(u))),
        (8, rotate90(u)),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (o, img) in &stored {
        std::fs::write(
            dir.path().join(format!("o{o}.jpg")),
            jpeg_with_orientation(img, *o),
        )
        .unwrap();
    }
    let d = load(dir.path(), layout(8, Some(3))).unwrap();
    assert_eq!(d.len(), 8, "{:?}", d.skipped);
    for (i, item) in d.items.iter().enumerate() {
        let px = d.image(i);
        // Centres of the four 4×4 quadrants of the 8×8 planes.
        for (q, (x, y)) in [(2, 2), (6, 2), (2, 6), (6, 6)].into_iter().enumerate() {
            let got: Vec<i32> = (0..3).map(|c| px[c * 64 + y * 8 + x] as i32).collect();
            let want = colours[q];
            assert!(
                got.iter().zip(want).all(|(g, w)| (g - w as i32).abs() < 40),
                "{item}: quadrant {q} is {got:?}, not {want:?}"
            );
        }
    }
}

fn png(path: &Path, v: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    DynamicImage::ImageLuma8(ImageBuffer::from_pixel(6, 6, Luma([v])))
        .save(path)
        .unwrap();
}

fn with_labels(labels: icicle_explorer::data::folder::Labels) -> FolderLayout {
    FolderLayout {
        labels,
        ..layout(8, None)
    }
}

/// Labels are decided on the images only: a README, COPYRIGHT, Thumbs.db or desktop.ini beside
/// the class folders is listed as skipped and the folder stays labelled.
#[test]
fn files_beside_the_class_folders_do_not_drop_the_labels() {
    let dir = tempfile::tempdir().unwrap();
    for (class, v) in [("cats", 10u8), ("dogs", 200)] {
        for i in 0..3 {
            png(&dir.path().join(class).join(format!("{i}.png")), v);
        }
    }
    for f in [
        "README.md",
        "COPYRIGHT",
        "Thumbs.db",
        "desktop.ini",
        "dogs/notes",
    ] {
        std::fs::write(dir.path().join(f), b"not an image at all").unwrap();
    }
    let d = load(dir.path(), layout(8, None)).unwrap();
    assert_eq!(d.class_names, ["cats", "dogs"]);
    assert_eq!(d.len(), 6);
    let mut skipped: Vec<&str> = d.skipped.iter().map(|s| s.path.as_str()).collect();
    skipped.sort_unstable();
    assert_eq!(
        skipped,
        [
            "COPYRIGHT",
            "README.md",
            "Thumbs.db",
            "desktop.ini",
            "dogs/notes"
        ]
    );
    assert!(d.skipped.iter().all(|s| s.reason.contains("not an image")));
}

/// An album sorted by year is not "labelled by year" unless asked; `subfolders` and `none`
/// say what the person means.
#[test]
fn dated_folders_are_not_classes_unless_asked_and_the_switch_decides() {
    use icicle_explorer::data::folder::Labels;
    let dir = tempfile::tempdir().unwrap();
    png(&dir.path().join("2023/0.png"), 10);
    png(&dir.path().join("2023/1.png"), 20);
    png(&dir.path().join("2024-07/0.png"), 30);
    let opts = LoadOptions::default();
    let load_as =
        |l: Labels| load_folder(dir.path(), "t", with_labels(l), &opts, &Progress::none());
    assert!(load_as(Labels::Auto).unwrap().labels.is_none());
    let by_year = load_as(Labels::Subfolders).unwrap();
    assert_eq!(by_year.class_names, ["2023", "2024-07"]);
    // Real classes are labelled by auto, and not by none.
    let pets = tempfile::tempdir().unwrap();
    png(&pets.path().join("cats/0.png"), 10);
    png(&pets.path().join("dogs/0.png"), 200);
    let pets_as =
        |l: Labels| load_folder(pets.path(), "t", with_labels(l), &opts, &Progress::none());
    assert_eq!(pets_as(Labels::Auto).unwrap().class_names, ["cats", "dogs"]);
    assert!(pets_as(Labels::None).unwrap().labels.is_none());
    // `subfolders` with an image beside the class folders: that image is skipped, not a class.
    png(&pets.path().join("stray.png"), 99);
    assert!(
        pets_as(Labels::Auto).unwrap().labels.is_none(),
        "auto: not every image is in a class"
    );
    let forced = pets_as(Labels::Subfolders).unwrap();
    assert_eq!(forced.len(), 2);
    assert!(
        forced
            .skipped
            .iter()
            .any(|s| s.path == "stray.png" && s.reason.contains("outside"))
    );
}

/// iPhone HEIC and AVIF photos decode (libheif): the fixtures are a 64×48 image of four
/// coloured quadrants (red, green / blue, white) made with libheif's heif-enc.
#[test]
fn heic_and_avif_photos_decode() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for f in ["quadrants.heic", "quadrants.avif"] {
        std::fs::copy(fixtures.join(f), dir.path().join(f)).unwrap();
    }
    // Renamed without its extension, a HEIC is still found by its first bytes.
    std::fs::copy(fixtures.join("quadrants.heic"), dir.path().join("IMG_0001")).unwrap();
    let d = load(dir.path(), layout(8, Some(3))).unwrap();
    assert_eq!(d.len(), 3, "{:?}", d.skipped);
    let colours = [[220, 30, 30], [30, 180, 30], [30, 30, 220], [240, 240, 240]];
    for (i, item) in d.items.iter().enumerate() {
        let px = d.image(i);
        for (q, (x, y)) in [(2, 2), (6, 2), (2, 6), (6, 6)].into_iter().enumerate() {
            let got: Vec<i32> = (0..3).map(|c| px[c * 64 + y * 8 + x] as i32).collect();
            assert!(
                got.iter().zip(colours[q]).all(|(g, w)| (g - w).abs() < 40),
                "{item}: quadrant {q} is {got:?}, not {:?}",
                colours[q]
            );
        }
    }
}

/// A large JPEG is decoded at the smallest DCT scale that still covers the target (libjpeg-
/// turbo), and the result matches a full decode followed by the same resize.
#[test]
fn large_jpegs_decode_scaled_to_the_same_pixels() {
    use icicle_explorer::data::{convert, jpeg};
    // 2048×1536: smooth gradients with a few hard edges, like a photo at this scale.
    let img = image::RgbImage::from_fn(2048, 1536, |x, y| {
        let edge = if (x / 256 + y / 256) % 2 == 0 { 40 } else { 0 };
        Rgb([
            (x / 9) as u8 / 2 + edge,
            (y / 7) as u8 / 2 + edge,
            ((x + y) / 15) as u8 / 2,
        ])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&img)
        .unwrap();
    // Chosen: 1/8 of 2048×1536 is 256×192, the smallest scale still ≥ 64×64; none for 4096.
    let small = jpeg::decode_scaled(&bytes, 64, 64)
        .unwrap()
        .expect("scaled");
    assert_eq!((small.width(), small.height()), (256, 192));
    let half = jpeg::decode_scaled(&bytes, 1000, 700)
        .unwrap()
        .expect("scaled");
    assert_eq!((half.width(), half.height()), (1024, 768));
    assert!(jpeg::decode_scaled(&bytes, 4096, 64).unwrap().is_none());

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("photo.jpg"), &bytes).unwrap();
    let d = load(dir.path(), layout(64, Some(3))).unwrap();
    let full = convert::to_chw(&image::load_from_memory(&bytes).unwrap(), 64, 64, 3);
    let diffs: Vec<i32> = d
        .image(0)
        .iter()
        .zip(&full)
        .map(|(&a, &b)| (a as i32 - b as i32).abs())
        .collect();
    let mean = diffs.iter().sum::<i32>() as f64 / diffs.len() as f64;
    let max = *diffs.iter().max().unwrap();
    assert!(mean < 2.0 && max < 48, "mean {mean:.2}, max {max}");
}

#[test]
fn auto_side_keeps_small_images_and_decodes_photos_at_the_backbone_side() {
    use icicle_explorer::data::folder::AUTO;
    use icicle_explorer::rundir::DataRecord;
    // A folder of 8×8 gray images (digits) loads at 8, not blown up to 32.
    let small = tempfile::tempdir().unwrap();
    for c in ["0", "1"] {
        std::fs::create_dir_all(small.path().join(c)).unwrap();
        for i in 0..3 {
            DynamicImage::ImageLuma8(ImageBuffer::from_pixel(8, 8, Luma([40 * i as u8])))
                .save(small.path().join(format!("{c}/{i}.png")))
                .unwrap();
        }
    }
    let d = load(small.path(), layout(AUTO, None)).unwrap();
    assert_eq!((d.height, d.width, d.channels), (8, 8, 1));
    // 1,000-px colour photos load at the pretrained backbone's side, straight from the file.
    let photos = tempfile::tempdir().unwrap();
    for (i, px) in [[200u8, 30, 30], [30, 200, 30]].into_iter().enumerate() {
        DynamicImage::ImageRgb8(ImageBuffer::from_pixel(1000, 750, Rgb(px)))
            .save(photos.path().join(format!("p{i}.jpg")))
            .unwrap();
    }
    let side = icicle_explorer::config::frozen_side(tch::Cuda::is_available());
    let p = load(photos.path(), layout(AUTO, None)).unwrap();
    assert_eq!((p.height, p.width, p.channels), (side, side, 3));
    // The same through a run's data record ("auto" in data.json), and a number still wins.
    let mut rec = DataRecord::registry(None);
    rec.folder = Some(photos.path().to_path_buf());
    assert_eq!(rec.size, 0, "auto is the default");
    let json = serde_json::to_string(&rec).unwrap();
    assert!(json.contains("\"size\":\"auto\""), "{json}");
    let back: DataRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, rec);
    let reg = icicle_explorer::data::Registry::builtin().unwrap();
    let opts = LoadOptions::default();
    assert_eq!(
        rec.load(&reg, &opts, &Progress::none()).unwrap().height,
        side
    );
    rec.size = 48;
    assert_eq!(rec.load(&reg, &opts, &Progress::none()).unwrap().height, 48);
    let bad = serde_json::from_str::<DataRecord>(&json.replace("\"auto\"", "\"big\""));
    assert!(format!("{}", bad.unwrap_err()).contains("size"));
}
