//! NumPy arrays of a run: features.npy (N×D, little-endian f32), so the app can reopen a
//! run's embedding and users can load it with `numpy.load`, and the k-NN graphs
//! (graph_a.npy, graph_b.npy: N×k neighbour indices, i64).
use crate::atomic;
use anyhow::{Context, Result, bail};
use std::path::Path;

const MAGIC: &[u8] = b"\x93NUMPY\x01\x00";

pub fn write_f32(path: &Path, data: &[f32], rows: usize, cols: usize) -> Result<()> {
    write(path, "<f4", rows, cols, data.len(), |w| {
        for v in data {
            w.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    })
}

/// The same for whole numbers (little-endian i64): a run's k-NN graphs, one row of neighbour
/// indices per image.
pub fn write_i64(path: &Path, data: &[i64], rows: usize, cols: usize) -> Result<()> {
    write(path, "<i8", rows, cols, data.len(), |w| {
        for v in data {
            w.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    })
}

fn write(
    path: &Path,
    descr: &str,
    rows: usize,
    cols: usize,
    len: usize,
    body: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
) -> Result<()> {
    if len != rows * cols {
        bail!("{len} values for a {rows}×{cols} array");
    }
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // The header (with magic and length) is padded to a multiple of 64 bytes, ending in \n.
    let unpadded = MAGIC.len() + 2 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    atomic::write_with(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&(header.len() as u16).to_le_bytes())?;
        w.write_all(header.as_bytes())?;
        body(w)
    })
}

/// Reads what `write_f32` writes: (values, rows, cols).
pub fn read_f32(path: &Path) -> Result<(Vec<f32>, usize, usize)> {
    let (body, rows, cols) = read(path, "<f4")?;
    let data = body
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((data, rows, cols))
}

/// Reads what `write_i64` writes: (values, rows, cols).
pub fn read_i64(path: &Path) -> Result<(Vec<i64>, usize, usize)> {
    let (body, rows, cols) = read(path, "<i8")?;
    let data = body
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    Ok((data, rows, cols))
}

/// The data bytes of a 2-d C-order array of `descr` elements, with its shape.
fn read(path: &Path, descr: &str) -> Result<(Vec<u8>, usize, usize)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bad = |why: &str| anyhow::anyhow!("{}: not a {descr} array file: {why}", path.display());
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
    if !header.contains(&format!("'{descr}'")) || header.contains("'fortran_order': True") {
        return Err(bad("other element type or Fortran order"));
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
    let size = if descr.ends_with('8') { 8 } else { 4 };
    let body = &bytes[10 + hlen..];
    if body.len() != rows * cols * size {
        return Err(bad("data length does not match the shape"));
    }
    Ok((body.to_vec(), rows, cols))
}
