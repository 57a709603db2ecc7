//! Checkpoints: one file per stage holding the weights, the optimizer state and the progress
//! metadata, written atomically (temporary file, then rename), so a crash, a cancel or a NaN
//! always leaves the last good one in place.
use anyhow::{Context, Result};
use serde::{Serialize, de::DeserializeOwned};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor, nn};

const META: &str = "__meta_json";

pub fn path(run_dir: &Path, stage: &str) -> PathBuf {
    run_dir.join("checkpoints").join(format!("{stage}.ot"))
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

pub fn save<M: Serialize>(file: &Path, tensors: Vec<(String, Tensor)>, meta: &M) -> Result<()> {
    let dir = file.parent().context("checkpoint path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let json = serde_json::to_vec(meta)?;
    let mut all: Vec<(String, Tensor)> = tensors
        .into_iter()
        .map(|(n, t)| (n, t.to_device(Device::Cpu)))
        .collect();
    all.push((META.to_string(), Tensor::from_slice(&json)));
    // libtorch derives the archive name from the file name: no leading dot.
    let tmp = tempfile::Builder::new()
        .prefix("tmp-ckpt-")
        .suffix(".ot")
        .tempfile_in(dir)?
        .into_temp_path();
    Tensor::save_multi(&all, &tmp).map_err(|e| {
        anyhow::anyhow!(
            "cannot write checkpoint {}: {}",
            file.display(),
            first_line(&e)
        )
    })?;
    tmp.persist(file)
        .with_context(|| format!("cannot move checkpoint into {}", file.display()))?;
    Ok(())
}

pub fn load<M: DeserializeOwned>(
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
