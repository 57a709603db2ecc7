//! The IDX format of MNIST and Fashion-MNIST (big-endian header, then raw u8 data),
//! read from plain or gzip-compressed bytes.
use anyhow::{Context, Result, bail};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// An unsigned-byte IDX array: `dims` as stored, values row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads an IDX file; `.gz` is recognised by its magic bytes, not its name.
pub fn read_file(path: &Path) -> Result<IdxArray> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&bytes).with_context(|| format!("{} is not a valid IDX file", path.display()))
}

/// Parses IDX bytes, gunzipping first when they start with the gzip magic.
pub fn parse(bytes: &[u8]) -> Result<IdxArray> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut raw = Vec::new();
        GzDecoder::new(bytes)
            .read_to_end(&mut raw)
            .context("gzip stream is corrupt or truncated")?;
        return parse_raw(&raw);
    }
    parse_raw(bytes)
}

fn parse_raw(bytes: &[u8]) -> Result<IdxArray> {
    if bytes.len() < 4 {
        bail!(
            "file is {} bytes long, too short for an IDX header",
            bytes.len()
        );
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        bail!(
            "bad magic number {:02x}{:02x}{:02x}{:02x}",
            bytes[0],
            bytes[1],
            bytes[2],
            bytes[3]
        );
    }
    if bytes[2] != 0x08 {
        bail!(
            "element type 0x{:02x} is not unsigned byte (0x08)",
            bytes[2]
        );
    }
    let ndim = bytes[3] as usize;
    if ndim == 0 {
        bail!("IDX header declares zero dimensions");
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        bail!(
            "header declares {ndim} dimensions but the file ends after {} bytes",
            bytes.len()
        );
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|i| {
            let o = 4 + 4 * i;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let len = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .context("dimensions overflow")?;
    let data = &bytes[header..];
    if data.len() != len {
        bail!(
            "dimensions {dims:?} need {len} data bytes but the file has {} (truncated or padded)",
            data.len()
        );
    }
    Ok(IdxArray {
        dims,
        data: data.to_vec(),
    })
}

/// Images (N×H×W) and their labels (N), checked against each other.
pub fn images_and_labels(images: IdxArray, labels: IdxArray) -> Result<(IdxArray, Vec<i64>)> {
    if images.dims.len() != 3 {
        bail!(
            "images must have 3 dimensions (N×H×W), found {:?}",
            images.dims
        );
    }
    if labels.dims.len() != 1 {
        bail!("labels must have 1 dimension, found {:?}", labels.dims);
    }
    if images.dims[0] != labels.dims[0] {
        bail!("{} images but {} labels", images.dims[0], labels.dims[0]);
    }
    let labels = labels.data.iter().map(|&l| l as i64).collect();
    Ok((images, labels))
}
