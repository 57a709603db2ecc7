//! Turning any decoded image into the dataset's layout: C×H×W u8 at the configured size.
use image::DynamicImage;
use image::imageops::{FilterType, resize};

/// Converts (gray, RGBA, 16-bit and palette images alike) to `channels` (1 or 3) and resizes to
/// h×w with a bilinear filter, as torchvision's Resize does. Transparent pixels are
/// composited on white, as an image viewer shows them (icons and emoji keep their shape
/// instead of turning into whatever colour the transparent pixels happen to store).
pub fn to_chw(img: &DynamicImage, h: usize, w: usize, channels: usize) -> Vec<u8> {
    let (h32, w32) = (h as u32, w as u32);
    let flat;
    let img = if img.color().has_alpha() {
        flat = on_white(img);
        &flat
    } else {
        img
    };
    if channels == 1 {
        let g = img.to_luma8();
        let g = if g.dimensions() == (w32, h32) {
            g
        } else {
            resize(&g, w32, h32, FilterType::Triangle)
        };
        g.into_raw()
    } else {
        let rgb = img.to_rgb8();
        let rgb = if rgb.dimensions() == (w32, h32) {
            rgb
        } else {
            resize(&rgb, w32, h32, FilterType::Triangle)
        };
        let hw = h * w;
        let mut out = vec![0u8; 3 * hw];
        for (i, px) in rgb.pixels().enumerate() {
            out[i] = px[0];
            out[hw + i] = px[1];
            out[2 * hw + i] = px[2];
        }
        out
    }
}

/// An image with alpha, composited on a white background (8-bit RGB).
fn on_white(img: &DynamicImage) -> DynamicImage {
    let mut rgba = img.to_rgba8();
    for px in rgba.pixels_mut() {
        let a = px[3] as u32;
        for c in 0..3 {
            px[c] = ((px[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
        }
        px[3] = 255;
    }
    DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba).to_rgb8())
}

/// C×H×W gray planes → the same image as an 8-bit `DynamicImage` (for resizing IDX data).
pub fn gray_image(pixels: &[u8], h: usize, w: usize) -> DynamicImage {
    DynamicImage::ImageLuma8(
        image::GrayImage::from_raw(w as u32, h as u32, pixels.to_vec()).expect("h·w pixels"),
    )
}

/// Collapses C×H×W RGB planes to one gray plane, for folders whose images all were gray.
pub fn rgb_planes_to_gray(rgb: &[u8]) -> Vec<u8> {
    rgb[..rgb.len() / 3].to_vec()
}

/// Image `i` of `ds` as interleaved RGBA (H×W×4), gray expanded to three channels: for
/// thumbnails and PNG export.
pub fn to_rgba(ds: &super::Dataset, i: usize) -> Vec<u8> {
    let px = ds.image(i);
    let plane = ds.height * ds.width;
    let mut out = Vec::with_capacity(plane * 4);
    for p in 0..plane {
        let (r, g, b) = if ds.channels == 3 {
            (px[p], px[plane + p], px[2 * plane + p])
        } else {
            (px[p], px[p], px[p])
        };
        out.extend_from_slice(&[r, g, b, 255]);
    }
    out
}

/// Image `i` of `ds` as an `image` picture (gray or RGB, as the dataset).
pub fn to_image(ds: &super::Dataset, i: usize) -> DynamicImage {
    let (w, h) = (ds.width as u32, ds.height as u32);
    if ds.channels == 3 {
        let rgba = to_rgba(ds, i);
        let rgb: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|c| [c[0], c[1], c[2]])
            .collect();
        DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, rgb).expect("sized"))
    } else {
        gray_image(ds.image(i), ds.height, ds.width)
    }
}
