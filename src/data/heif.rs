//! HEIC/HEIF (the iPhone's default) and AVIF, decoded by libheif — Debian's libheif1, which
//! decodes HEVC through libde265 and AV1 through dav1d/libaom. The `image` crate reads
//! neither. libheif applies the file's rotation and mirroring (irot/imir) while decoding.
use image::{DynamicImage, RgbImage, RgbaImage};
use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};

/// ISO-BMFF major brands of still HEIF and AVIF images.
const BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"avif",
];

/// A HEIF or AVIF file, by its first 12 bytes (`....ftypBRND`).
pub fn sniff(head: &[u8]) -> bool {
    head.len() >= 12 && &head[4..8] == b"ftyp" && BRANDS.iter().any(|b| &head[8..12] == *b)
}

/// A HEIF/AVIF extension (the scan lists these as images before reading them).
pub fn extension(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["heic", "heif", "hif", "avif"].contains(&e.to_ascii_lowercase().as_str()))
}

/// The primary image of a HEIF/AVIF file, as RGB(A) pixels.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, String> {
    let fail =
        |what: &str, e: libheif_rs::HeifError| format!("cannot decode HEIF/AVIF ({what}): {e}");
    let ctx = HeifContext::read_from_bytes(bytes).map_err(|e| fail("container", e))?;
    let handle = ctx
        .primary_image_handle()
        .map_err(|e| fail("primary image", e))?;
    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let img = LibHeif::new()
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(|e| fail("pixels", e))?;
    let planes = img.planes();
    let plane = planes
        .interleaved
        .ok_or("cannot decode HEIF/AVIF: no interleaved RGB plane")?;
    let (w, h) = (plane.width, plane.height);
    let channels = if alpha { 4 } else { 3 };
    let row = w as usize * channels;
    // Rows may be padded: copy each without its stride's tail.
    let mut px = Vec::with_capacity(row * h as usize);
    for y in 0..h as usize {
        px.extend_from_slice(&plane.data[y * plane.stride..y * plane.stride + row]);
    }
    let bad = || "cannot decode HEIF/AVIF: pixel buffer of the wrong size".to_string();
    Ok(if alpha {
        DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, px).ok_or_else(bad)?)
    } else {
        DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, px).ok_or_else(bad)?)
    })
}
