//! Checkpoints: one file per stage holding the weights, the optimizer state and the progress
//! metadata. They are safetensors (no pickled code runs on load), serialised here and written
//! by our own code through `atomic::write_with` (temporary file, then rename): a full disk or
//! any I/O error is an ordinary error naming the file and the bytes needed, the previous
//! checkpoint stays loadable, and a process killed mid-write leaves it in place too.
//! Runs saved before this (libtorch `.ot` files) are still read.
use anyhow::{Context, Result, bail};
use safetensors::tensor::{Dtype, SafeTensors, View};
use serde::{Serialize, de::DeserializeOwned};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor, nn};

const META: &str = "__meta_json";

/// The checkpoint of `stage` in a run folder.
pub fn path(run_dir: &Path, stage: &str) -> PathBuf {
    run_dir
        .join("checkpoints")
        .join(format!("{stage}.safetensors"))
}

/// Where runs saved before safetensors kept it (read only).
fn legacy_path(file: &Path) -> PathBuf {
    file.with_extension("ot")
}

/// Whether a checkpoint of this stage exists, in either format.
pub fn exists(file: &Path) -> bool {
    existing(file).is_some()
}

/// The file that holds this stage's checkpoint: the safetensors one, or an older run's `.ot`.
pub fn existing(file: &Path) -> Option<PathBuf> {
    [file.to_path_buf(), legacy_path(file)]
        .into_iter()
        .find(|f| f.is_file())
}

/// The variables of `vs` named under `prefix`.
pub fn named_vars(vs: &nn::VarStore, prefix: &str) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(n, t)| (format!("{prefix}{n}"), t))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// One tensor's bytes, for the safetensors writer.
struct Bytes {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Bytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn dtype(kind: Kind) -> Result<(Dtype, usize)> {
    Ok(match kind {
        Kind::Float => (Dtype::F32, 4),
        Kind::Double => (Dtype::F64, 8),
        Kind::Int64 => (Dtype::I64, 8),
        Kind::Int => (Dtype::I32, 4),
        Kind::Uint8 => (Dtype::U8, 1),
        Kind::Bool => (Dtype::BOOL, 1),
        other => bail!("cannot checkpoint a {other:?} tensor"),
    })
}

fn kind(dtype: Dtype) -> Result<Kind> {
    Ok(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::U8 => Kind::Uint8,
        Dtype::BOOL => Kind::Bool,
        other => bail!("unexpected tensor type {other:?}"),
    })
}

/// The checkpoint file's bytes: the tensors and the metadata as JSON in the header.
pub fn serialize<M: Serialize>(tensors: &[(String, Tensor)], meta: &M) -> Result<Vec<u8>> {
    let mut owned = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let t = t.to_device(Device::Cpu).contiguous();
        let (dt, size) = dtype(t.kind())?;
        let numel = t.numel();
        let mut data = vec![0u8; numel * size];
        t.copy_data_u8(&mut data, numel);
        let shape = t.size().iter().map(|&d| d as usize).collect();
        owned.push((
            name.clone(),
            Bytes {
                dtype: dt,
                shape,
                data,
            },
        ));
    }
    let info = HashMap::from([(META.to_string(), serde_json::to_string(meta)?)]);
    safetensors::tensor::serialize(owned.iter().map(|(n, b)| (n.as_str(), b)), &Some(info))
        .map_err(|e| anyhow::anyhow!("cannot serialise the checkpoint: {e:?}"))
}

/// Writes a checkpoint atomically; an I/O error (a full disk) is returned, naming the file.
pub fn save<M: Serialize>(file: &Path, tensors: Vec<(String, Tensor)>, meta: &M) -> Result<()> {
    let dir = file.parent().context("checkpoint path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let bytes = serialize(&tensors, meta)?;
    crate::atomic::write_with(file, |w| Ok(w.write_all(&bytes)?)).with_context(|| {
        format!(
            "cannot write checkpoint {} ({:.1} MB needed); the previous checkpoint is kept",
            file.display(),
            bytes.len() as f64 / 1e6
        )
    })
}

/// Reads a checkpoint: its tensors on `device` and its metadata.
pub fn load<M: DeserializeOwned>(
    file: &Path,
    device: Device,
) -> Result<(HashMap<String, Tensor>, M)> {
    if !file.is_file() && legacy_path(file).is_file() {
        return load_legacy(&legacy_path(file), device);
    }
    let bytes = std::fs::read(file)
        .with_context(|| format!("cannot read checkpoint {}", file.display()))?;
    let bad = |e: safetensors::SafeTensorError| {
        anyhow::anyhow!("{} is not a readable checkpoint: {e:?}", file.display())
    };
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(bad)?;
    let json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(META))
        .with_context(|| format!("{} has no metadata", file.display()))?;
    let meta = serde_json::from_str(json)
        .with_context(|| format!("{} has corrupt metadata", file.display()))?;
    let st = SafeTensors::deserialize(&bytes).map_err(bad)?;
    let mut map = HashMap::new();
    for (name, view) in st.tensors() {
        let size: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        let t = Tensor::f_from_data_size(view.data(), &size, kind(view.dtype())?)
            .map_err(|e| anyhow::anyhow!("{}: tensor {name}: {e}", file.display()))?;
        map.insert(name, t.to_device(device));
    }
    Ok((map, meta))
}

/// Runs saved before safetensors checkpoints: libtorch's own format.
fn load_legacy<M: DeserializeOwned>(
    file: &Path,
    device: Device,
) -> Result<(HashMap<String, Tensor>, M)> {
    let named = Tensor::load_multi_with_device(file, device).map_err(|e| {
        anyhow::anyhow!(
            "cannot read checkpoint {}: {}",
            file.display(),
            first_line(&e)
        )
    })?;
    let mut map: HashMap<String, Tensor> = named.into_iter().collect();
    let meta = map
        .remove(META)
        .with_context(|| format!("{} has no metadata", file.display()))?;
    let bytes: Vec<u8> = Vec::try_from(&meta.to_device(Device::Cpu).to_kind(Kind::Uint8))?;
    let meta = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} has corrupt metadata", file.display()))?;
    Ok((map, meta))
}

/// Copies saved values into the variables of `vs` named under `prefix`; all must be present.
pub fn restore_vars(
    vs: &nn::VarStore,
    saved: &HashMap<String, Tensor>,
    prefix: &str,
) -> Result<()> {
    let _guard = tch::no_grad_guard();
    for (name, mut t) in vs.variables() {
        let key = format!("{prefix}{name}");
        let src = saved
            .get(&key)
            .with_context(|| format!("checkpoint lacks {key}"))?;
        t.copy_(src);
    }
    Ok(())
}

/// libtorch errors carry a C++ backtrace; people need the first line.
fn first_line(e: &tch::TchError) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}
