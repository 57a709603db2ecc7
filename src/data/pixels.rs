//! A dataset's decoded pixels (N×C×H×W bytes): in memory for embedded and IDX data, or
//! memory-mapped from the decode cache for folders, so that a folder of hundreds of thousands
//! of photos does not have to fit in RAM: the OS pages images in as they are read (training
//! batches, thumbnails) and drops them again under memory pressure.
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

#[derive(Clone)]
pub enum Pixels {
    Ram(Vec<u8>),
    /// The first `len` bytes of a read-only map of the cache file at `path`.
    Mapped {
        map: Arc<memmap2::Mmap>,
        path: PathBuf,
        len: usize,
    },
}

impl Pixels {
    pub fn is_mapped(&self) -> bool {
        matches!(self, Pixels::Mapped { .. })
    }

    /// Keeps the first `n` bytes.
    pub fn truncate(&mut self, n: usize) {
        match self {
            Pixels::Ram(v) => v.truncate(n),
            Pixels::Mapped { len, .. } => *len = (*len).min(n),
        }
    }

    /// The bytes as a u8 tensor of `shape` on `device`. A mapped file becomes a tensor over
    /// libtorch's own private map of it (no copy on the CPU; the tensor keeps the map alive).
    pub fn tensor(&self, shape: [i64; 4], device: Device) -> Tensor {
        match self {
            Pixels::Ram(v) => Tensor::from_slice(v).view(shape).to_device(device),
            Pixels::Mapped { path, len, .. } => Tensor::from_file(
                &path.to_string_lossy(),
                false,
                *len as i64,
                (Kind::Uint8, Device::Cpu),
            )
            .view(shape)
            .to_device(device),
        }
    }
}

impl Default for Pixels {
    fn default() -> Self {
        Pixels::Ram(Vec::new())
    }
}

impl From<Vec<u8>> for Pixels {
    fn from(v: Vec<u8>) -> Self {
        Pixels::Ram(v)
    }
}

impl Deref for Pixels {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Pixels::Ram(v) => v,
            Pixels::Mapped { map, len, .. } => &map[..*len],
        }
    }
}

impl PartialEq for Pixels {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Pixels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pixels::Ram(v) => write!(f, "Pixels::Ram({} bytes)", v.len()),
            Pixels::Mapped { path, len, .. } => {
                write!(f, "Pixels::Mapped({len} bytes of {})", path.display())
            }
        }
    }
}
