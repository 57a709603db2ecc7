//! features.npy: the learned features of a run as a NumPy array (N×D, little-endian f32), so
//! the app can reopen a run's embedding and users can load it with `numpy.load`.
use crate::atomic;
use anyhow::{Context, Result, bail};
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY\x01\x00";

pub fn write_f32(path: &Path, data: &[f32], rows: usize, cols: usize) -> Result<()> {
    if data.len() != rows * cols {
        bail!("{} values for a {rows}×{cols} array", data.len());
    }
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // The header (with magic and length) is padded to a multiple of 64 bytes, ending in \n.
    let unpadded = MAGIC.len() + 2 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    atomic::write_with(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&(header.len() as u16).to_le_bytes())?;
        w.write_all(header.as_bytes())?;
        for v in data {
            w.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    })
}

/// Reads what `write_f32` writes: (values, rows, cols).
pub fn read_f32(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bad = |why: &str| anyhow::anyhow!("{}: not a features file: {why}", path.display());
    if bytes.len() < 10 || &bytes[..8] != MAGIC {
        return Err(bad("no NumPy v1 header"));
    }
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(
        bytes
            .get(10..10 + hlen)
            .ok_or_else(|| bad("short header"))?,
    )
    .map_err(|_| bad("header is not text"))?;
    if !header.contains("'<f4'") || header.contains("'fortran_order': True") {
        return Err(bad("only little-endian f32 in C order is read"));
    }
    let shape = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("no shape"))?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad("shape is not numbers")))
        .collect::<Result<_>>()?;
    let [rows, cols] = dims[..] else {
        return Err(bad("not a 2-d array"));
    };
    let body = &bytes[10 + hlen..];
    if body.len() != rows * cols * 4 {
        return Err(bad("data length does not match the shape"));
    }
    let data = body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((data, rows, cols))
}
