//! The training augmentations of spec §4, batched on tensors on the training device:
//! random resized crop, horizontal flip, colour jitter (brightness, contrast, saturation, hue in
//! a random order per image, with probability p), random grayscale, optional Gaussian blur.
//! Randomness comes from libtorch's generator, which the trainer seeds per step.
//!
//! Gray (1-channel) images: brightness and contrast apply; saturation, hue and grayscale have
//! nothing to act on and are skipped. Images keep their channel count here (ResNets repeat a
//! gray channel to 3 themselves), so a gray dataset costs a third of the compute.
use crate::config::Augment;
use tch::{Device, Kind, Tensor};

fn uniform(n: i64, lo: f64, hi: f64, device: Device) -> Tensor {
    Tensor::rand([n], (Kind::Float, device)) * (hi - lo) + lo
}

fn per_image(t: &Tensor) -> Tensor {
    t.view([-1, 1, 1, 1])
}

/// ITU-R 601 luma, B×1×H×W.
fn gray(x: &Tensor) -> Tensor {
    if x.size()[1] == 1 {
        return x.shallow_clone();
    }
    let w = Tensor::from_slice(&[0.299f32, 0.587, 0.114])
        .to_device(x.device())
        .view([1, 3, 1, 1]);
    (x * w).sum_dim_intlist(1, true, Kind::Float)
}

/// Random resized crop (area scale ∈ [min_scale, 1], aspect ratio ∈ [3/4, 4/3]) with an
/// optional horizontal flip, resampled bilinearly to side×side in one affine grid sample.
pub fn resized_crop(x: &Tensor, side: i64, min_scale: f64, flip: bool) -> Tensor {
    rotated_crop(x, side, min_scale, flip, 0.0)
}

/// `resized_crop` with each crop also rotated by a uniform angle in ±`degrees` (the area
/// outside the image reads as 0, the background of dark-ground gray sets). The angle is
/// drawn only when `degrees` > 0, so without rotation the random draws, and the views, are
/// `resized_crop`'s.
pub fn rotated_crop(x: &Tensor, side: i64, min_scale: f64, flip: bool, degrees: f64) -> Tensor {
    let (b, c) = (x.size()[0], x.size()[1]);
    let dev = x.device();
    let scale = uniform(b, min_scale, 1.0, dev);
    let log_ratio = uniform(b, (3.0f64 / 4.0).ln(), (4.0f64 / 3.0).ln(), dev);
    let ratio = log_ratio.exp();
    // Width and height as fractions of the image. A crop that does not fit falls back to the
    // whole image, as torchvision does once its ten tries fail (here after one).
    let w = (&scale * &ratio).sqrt();
    let h = (&scale / &ratio).sqrt();
    let fits = w.le(1.0).logical_and(&h.le(1.0));
    let one = w.ones_like();
    let (w, h) = (w.where_self(&fits, &one), h.where_self(&fits, &one));
    let cx = (Tensor::rand([b], (Kind::Float, dev)) * 2.0 - 1.0) * (1.0 - &w);
    let cy = (Tensor::rand([b], (Kind::Float, dev)) * 2.0 - 1.0) * (1.0 - &h);
    let sign = if flip {
        Tensor::rand([b], (Kind::Float, dev))
            .lt(0.5)
            .to_kind(Kind::Float)
            * -2.0
            + 1.0
    } else {
        Tensor::ones([b], (Kind::Float, dev))
    };
    let zero = Tensor::zeros([b], (Kind::Float, dev));
    let theta = if degrees > 0.0 {
        // Output → input coordinates: scale (and flip) after rotating, so the crop's size
        // is the one drawn above.
        let r = degrees.to_radians();
        let a = uniform(b, -r, r, dev);
        let (cos, sin) = (a.cos(), a.sin());
        let ws = &w * &sign;
        Tensor::stack(
            &[&ws * &cos, -(&ws * &sin), cx, &h * &sin, &h * &cos, cy],
            1,
        )
    } else {
        Tensor::stack(&[&w * &sign, zero.shallow_clone(), cx, zero, h, cy], 1)
    }
    .view([b, 2, 3]);
    let grid = Tensor::affine_grid_generator(&theta, [b, c, side, side], false);
    x.grid_sampler(&grid, 0, 1, false)
}

fn brightness(x: &Tensor, f: &Tensor) -> Tensor {
    (x * per_image(f)).clamp(0.0, 1.0)
}

fn contrast(x: &Tensor, f: &Tensor) -> Tensor {
    let mean = gray(x).mean_dim(&[1i64, 2, 3][..], true, Kind::Float);
    ((x - &mean) * per_image(f) + mean).clamp(0.0, 1.0)
}

fn saturation(x: &Tensor, f: &Tensor) -> Tensor {
    let g = gray(x);
    ((x - &g) * per_image(f) + g).clamp(0.0, 1.0)
}

/// Hue shift by a fraction of a turn, as a rotation of the chroma plane in YIQ space.
fn hue(x: &Tensor, shift: &Tensor) -> Tensor {
    let to_yiq = Tensor::from_slice(&[
        0.299f32, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312,
    ])
    .to_device(x.device())
    .view([3, 3]);
    let from_yiq = to_yiq.inverse();
    let yiq = Tensor::einsum("ij,bjhw->bihw", &[&to_yiq, x], None::<i64>);
    let angle = shift * (2.0 * std::f64::consts::PI);
    let (cos, sin) = (per_image(&angle.cos()), per_image(&angle.sin()));
    let y = yiq.narrow(1, 0, 1);
    let i = yiq.narrow(1, 1, 1);
    let q = yiq.narrow(1, 2, 1);
    let rotated = Tensor::cat(&[y, &i * &cos - &q * &sin, &i * &sin + &q * &cos], 1);
    Tensor::einsum("ij,bjhw->bihw", &[&from_yiq, &rotated], None::<i64>).clamp(0.0, 1.0)
}

/// Colour jitter with strength s, applied to each image with probability p, its four
/// operations in an order drawn per image.
pub fn color_jitter(x: &Tensor, s: f64, p: f64) -> Tensor {
    let (b, c) = (x.size()[0], x.size()[1]);
    let dev = x.device();
    let applied = Tensor::rand([b], (Kind::Float, dev)).lt(p);
    let bf = uniform(b, (1.0 - 0.8 * s).max(0.0), 1.0 + 0.8 * s, dev);
    let cf = uniform(b, (1.0 - 0.8 * s).max(0.0), 1.0 + 0.8 * s, dev);
    let sf = uniform(b, (1.0 - 0.8 * s).max(0.0), 1.0 + 0.8 * s, dev);
    let hf = uniform(b, -0.2 * s, 0.2 * s, dev);
    // order[i, slot] = which operation image i gets in that slot.
    let order = Tensor::rand([b, 4], (Kind::Float, dev)).argsort(1, false);
    let mut out = x.shallow_clone();
    for slot in 0..4 {
        for op in 0..4i64 {
            if c == 1 && op >= 2 {
                continue;
            }
            let mask = order.select(1, slot).eq(op).logical_and(&applied);
            let changed = match op {
                0 => brightness(&out, &bf),
                1 => contrast(&out, &cf),
                2 => saturation(&out, &sf),
                _ => hue(&out, &hf),
            };
            out = changed.where_self(&per_image(&mask), &out);
        }
    }
    out
}

pub fn random_grayscale(x: &Tensor, p: f64) -> Tensor {
    if x.size()[1] == 1 {
        return x.shallow_clone();
    }
    let b = x.size()[0];
    let mask = per_image(&Tensor::rand([b], (Kind::Float, x.device())).lt(p));
    gray(x).expand_as(x).where_self(&mask, x)
}

/// Gaussian blur with probability 0.5 and σ ~ U[0.1, 2.0) (in pixels at 224, scaled to the
/// image), kernel about a tenth of the side (23 at 224), reflected borders.
pub fn random_blur(x: &Tensor) -> Tensor {
    let (b, c, side) = (x.size()[0], x.size()[1], x.size()[3]);
    let dev = x.device();
    let radius = ((side as f64 * 11.0 / 224.0).round() as i64).clamp(1, (side - 1) / 2);
    let sigma = uniform(b, 0.1, 2.0, dev) * (side as f64 / 224.0);
    let taps = Tensor::arange_start(-radius, radius + 1, (Kind::Float, dev));
    let k = (-(taps.unsqueeze(0).square()) / (sigma.unsqueeze(1).square() * 2.0)).exp();
    let k = &k / k.sum_dim_intlist(1, true, Kind::Float); // B×(2r+1)
    let k = k.repeat_interleave_self_int(c, 0, None); // (B·C)×(2r+1)
    let ks = 2 * radius + 1;
    let flat = x
        .reshape([1, b * c, x.size()[2], side])
        .reflection_pad2d([radius, radius, radius, radius]);
    let h = flat.conv2d(
        &k.view([b * c, 1, 1, ks]),
        None::<Tensor>,
        [1, 1],
        [0, 0],
        [1, 1],
        b * c,
    );
    let v = h.conv2d(
        &k.view([b * c, 1, ks, 1]),
        None::<Tensor>,
        [1, 1],
        [0, 0],
        [1, 1],
        b * c,
    );
    let blurred = v.view([b, c, x.size()[2], side]);
    let mask = per_image(&Tensor::rand([b], (Kind::Float, dev)).lt(0.5));
    blurred.where_self(&mask, x)
}

/// One augmented view of a batch (B×C×H×W in [0, 1]) at side×side.
pub fn view(x: &Tensor, side: i64, a: &Augment) -> Tensor {
    let mut v = rotated_crop(x, side, a.crop_min_scale, a.flip, a.rotate_degrees);
    if a.jitter_p > 0.0 && a.jitter_strength > 0.0 {
        v = color_jitter(&v, a.jitter_strength, a.jitter_p);
    }
    if a.grayscale_p > 0.0 {
        v = random_grayscale(&v, a.grayscale_p);
    }
    if a.blur {
        v = random_blur(&v);
    }
    v
}

/// The deterministic test transform: resize to side×side (bilinear), nothing else.
pub fn test_view(x: &Tensor, side: i64) -> Tensor {
    let s = x.size();
    if s[2] == side && s[3] == side {
        return x.shallow_clone();
    }
    x.upsample_bilinear2d([side, side], false, None, None)
}
