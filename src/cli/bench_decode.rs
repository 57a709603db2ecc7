//! `icicle bench decode`: how fast a folder of photos decodes to the side a run needs, with
//! DCT-scaled JPEG decoding and without (full decode, then resize), peak memory, and — on a
//! labelled folder — whether scaling changes what K-means on the pixels finds.
use crate::data::folder::{FolderLayout, Labels};
use crate::data::{LoadOptions, Progress, jpeg, load_folder};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct DecodeBench {
    /// A folder of images (class subfolders add a K-means check of the pixels).
    #[arg(long)]
    pub folder: PathBuf,
    /// Side the images are decoded to.
    #[arg(long, default_value_t = 64)]
    pub side: usize,
    /// Write this many synthetic 4032×3024 photo-like JPEGs (10 classes) into --folder first.
    #[arg(long, default_value_t = 0)]
    pub make: usize,
}

/// 4032×3024 JPEGs at quality 90 in 10 class folders: a class colour and pattern over smooth
/// gradients, with sensor-like noise so the files are the size of real phone photos (~3 MB).
fn make(folder: &std::path::Path, count: usize) -> Result<()> {
    use rand::{Rng, SeedableRng};
    use rayon::prelude::*;
    (0..count).into_par_iter().try_for_each(|i| -> Result<()> {
        let class = i % 10;
        let dir = folder.join(format!("class{class}"));
        std::fs::create_dir_all(&dir)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(i as u64);
        let (cx, cy) = (rng.gen_range(1000..3000u32), rng.gen_range(800..2200u32));
        let img = image::RgbImage::from_fn(4032, 3024, |x, y| {
            let d = ((x as i32 - cx as i32).abs() + (y as i32 - cy as i32).abs()) as u32;
            let stripe = ((x + y * class as u32) / (40 + 12 * class as u32)) % 2;
            let base = [
                (class * 25) as u32 + x / 40,
                120 + stripe * 60 + y / 60,
                (255 - class * 20) as u32 + d / 200,
            ];
            let n: i32 = rng.gen_range(-12..=12);
            image::Rgb(base.map(|v| (v as i32 % 256 + n).clamp(0, 255) as u8))
        });
        let mut out =
            std::io::BufWriter::new(std::fs::File::create(dir.join(format!("IMG_{i:05}.jpg")))?);
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img)?;
        Ok(())
    })
}

pub fn decode(a: &DecodeBench) -> Result<()> {
    if a.make > 0 {
        let t = Instant::now();
        make(&a.folder, a.make)?;
        println!(
            "wrote {} JPEGs of 4032×3024 into {} in {:.0} s",
            a.make,
            a.folder.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let layout = FolderLayout {
        height: a.side,
        width: a.side,
        channels: None,
        labels: Labels::Auto,
    };
    let mut rows = vec![];
    for scaled in [true, false] {
        jpeg::set_scaled(scaled);
        // The kernel's high-water mark restarts, so each row's peak is its own.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let t = Instant::now();
        // No cache: every run decodes every file.
        let ds = load_folder(
            &a.folder,
            "bench",
            layout,
            &LoadOptions::default(),
            &Progress::none(),
        )?;
        let secs = t.elapsed().as_secs_f64();
        let peak_mb = super::bench::proc_status_kb("VmHWM:").unwrap_or(0) as f64 / 1024.0;
        let acc = match &ds.labels {
            Some(_) => {
                let b = crate::baseline::run(
                    &ds,
                    ds.num_classes(),
                    0,
                    tch::Device::Cpu,
                    &Progress::none(),
                )?;
                b.evaluation
                    .map(|e| {
                        format!(
                            "{:.3} / {:.3} / {:.3}",
                            e.scores.acc, e.scores.nmi, e.scores.ari
                        )
                    })
                    .unwrap_or_default()
            }
            None => "— (no labels)".into(),
        };
        rows.push(format!(
            "| {} | {} | {:.1} s | **{:.1}** | {peak_mb:.0} MB | {acc} |",
            if scaled {
                "DCT-scaled (default)"
            } else {
                "full decode + resize"
            },
            ds.len(),
            secs,
            ds.len() as f64 / secs,
        ));
    }
    jpeg::set_scaled(true);
    println!(
        "\ndecode {} to {side}×{side}, {} threads:\n\
         | JPEG decoding | images | time | images/s | peak RSS | K-means on the pixels ACC / NMI / ARI |\n\
         |---|---|---|---|---|---|\n{}",
        a.folder.display(),
        rayon::current_num_threads(),
        rows.join("\n"),
        side = a.side,
    );
    Ok(())
}
