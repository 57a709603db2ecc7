//! JPEGs decoded straight to the size a run needs. A 12-megapixel photo kept at 32–224 pixels
//! a side does not need its full-resolution pixels: libjpeg-turbo (Debian's libturbojpeg)
//! scales in the DCT, by 1/8, 1/4, 3/8, 1/2, …, so the inverse transform, colour conversion and
//! upsampling run on an eighth of the pixels or fewer. The scale chosen is the smallest that
//! still leaves the image at least as large as the target; the usual resize does the rest.
//! Anything libjpeg-turbo declines (CMYK, a damaged file) goes back to the `image` crate.
use image::{DynamicImage, RgbImage};
use std::sync::atomic::{AtomicBool, Ordering};
use turbojpeg_sys as tj;

/// The image crate's default allocation limit, for scaled decodes too.
const MAX_BYTES: usize = 512 * 1024 * 1024;

static SCALED: AtomicBool = AtomicBool::new(true);

/// Turns DCT-scaled decoding on or off for the whole process (`icicle bench decode --full`
/// compares the two; everything else keeps it on).
pub fn set_scaled(on: bool) {
    SCALED.store(on, Ordering::Relaxed);
}

pub fn scaled_enabled() -> bool {
    SCALED.load(Ordering::Relaxed)
}

/// A TurboJPEG decompressor, destroyed when dropped.
struct Decompressor(tj::tjhandle);

impl Drop for Decompressor {
    fn drop(&mut self) {
        // Safety: the handle came from tjInitDecompress and is destroyed once.
        unsafe { tj::tjDestroy(self.0) };
    }
}

impl Decompressor {
    fn new() -> Result<Self, String> {
        // Safety: no arguments; a null handle is checked.
        let h = unsafe { tj::tjInitDecompress() };
        if h.is_null() {
            return Err("cannot start libjpeg-turbo".into());
        }
        Ok(Self(h))
    }

    fn error(&self) -> String {
        // Safety: the handle is valid; the library returns a NUL-terminated static string.
        let s = unsafe { std::ffi::CStr::from_ptr(tj::tjGetErrorStr2(self.0)) };
        s.to_string_lossy().into_owned()
    }
}

/// The size libjpeg-turbo gives `dim` at `num/denom` (its TJSCALED macro).
fn scaled(dim: i32, num: i32, denom: i32) -> i32 {
    (dim * num + denom - 1) / denom
}

/// `bytes` (a JPEG) decoded at the smallest DCT scale that is at least `min_w` × `min_h`.
/// `Ok(None)` when no scale below 1 fits or the colour space is one libjpeg-turbo should not
/// convert (CMYK, YCCK): the caller decodes in full then. `Err` for a file it cannot read.
pub fn decode_scaled(bytes: &[u8], min_w: u32, min_h: u32) -> Result<Option<DynamicImage>, String> {
    if !scaled_enabled() {
        return Ok(None);
    }
    let d = Decompressor::new()?;
    let (mut w, mut h, mut subsamp, mut colourspace) = (0, 0, 0, 0);
    // Safety: the buffer and its length are valid; the out-pointers point at locals.
    let r = unsafe {
        tj::tjDecompressHeader3(
            d.0,
            bytes.as_ptr(),
            bytes.len() as libc::c_ulong,
            &mut w,
            &mut h,
            &mut subsamp,
            &mut colourspace,
        )
    };
    if r != 0 {
        return Err(format!("cannot decode: {}", d.error()));
    }
    if colourspace == tj::TJCS_TJCS_CMYK as i32 || colourspace == tj::TJCS_TJCS_YCCK as i32 {
        return Ok(None);
    }
    let mut n = 0;
    // Safety: returns a pointer to a static array of `n` factors (or null).
    let factors = unsafe { tj::tjGetScalingFactors(&mut n) };
    if factors.is_null() || n <= 0 {
        return Ok(None);
    }
    // Safety: the library owns `n` factors at `factors` for the life of the process.
    let factors = unsafe { std::slice::from_raw_parts(factors, n as usize) };
    let best = factors
        .iter()
        .filter(|f| f.num < f.denom)
        .map(|f| (scaled(w, f.num, f.denom), scaled(h, f.num, f.denom)))
        .filter(|&(sw, sh)| sw >= min_w as i32 && sh >= min_h as i32)
        .min_by_key(|&(sw, sh)| sw as i64 * sh as i64);
    let Some((sw, sh)) = best else {
        return Ok(None);
    };
    let len = sw as usize * sh as usize * 3;
    if len > MAX_BYTES {
        return Err(format!(
            "cannot decode: Memory limit exceeded ({w}×{h} scaled to {sw}×{sh})"
        ));
    }
    let mut px = vec![0u8; len];
    // Safety: `px` holds sw × sh RGB pixels with no row padding (pitch 0 = sw × 3), the size
    // tjDecompress2 writes for these exact scaled dimensions.
    let r = unsafe {
        tj::tjDecompress2(
            d.0,
            bytes.as_ptr(),
            bytes.len() as libc::c_ulong,
            px.as_mut_ptr(),
            sw,
            0,
            sh,
            tj::TJPF_TJPF_RGB,
            0,
        )
    };
    if r != 0 {
        return Err(format!("cannot decode: {}", d.error()));
    }
    let img = RgbImage::from_raw(sw as u32, sh as u32, px).ok_or("cannot decode: bad buffer")?;
    Ok(Some(DynamicImage::ImageRgb8(img)))
}
