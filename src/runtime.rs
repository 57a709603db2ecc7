//! Which libtorch is loaded and which device computations run on.
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use tch::Device;

/// The user's device choice; `Auto` takes CUDA when libtorch sees a GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl DeviceChoice {
    pub fn resolve(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cuda => {
                if tch::Cuda::is_available() {
                    Ok(Device::Cuda(0))
                } else {
                    bail!(
                        "device cuda was asked for, but libtorch sees no CUDA GPU (libtorch {}); use --device cpu",
                        libtorch_version()
                    )
                }
            }
        }
    }
}

pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// The libtorch version this binary was built against (read from the wheel at build time).
pub fn libtorch_version() -> &'static str {
    env!("ICICLE_LIBTORCH_VERSION")
}

/// The libtorch_cpu.so that is mapped into this process, which shows where it was found.
pub fn loaded_libtorch() -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with("/libtorch_cpu.so"))
        .map(str::to_string)
}

/// The CPU this process runs on, in one line: its model (Linux's /proc/cpuinfo), the cores it
/// may use and whether it has AVX-512. Benchmarks print it: the same code and seed train to
/// different results on different CPUs (float sums ordered differently), so a figure is only
/// comparable with one measured on the same kind of machine.
pub fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    #[cfg(target_arch = "x86_64")]
    let avx512 = if std::arch::is_x86_feature_detected!("avx512f") {
        ", AVX-512"
    } else {
        ", no AVX-512"
    };
    #[cfg(not(target_arch = "x86_64"))]
    let avx512 = "";
    format!("{model}, {} cores{avx512}", crate::threads::cores())
}

/// One human-readable summary: the CPU, version, CUDA availability, the device `auto` picks.
pub fn summary() -> String {
    let cuda = tch::Cuda::is_available();
    let mut s = format!("cpu: {}\nlibtorch {}\n", machine(), libtorch_version());
    if let Some(path) = loaded_libtorch() {
        s.push_str(&format!("loaded from {path}\n"));
    }
    s.push_str(&format!("torch threads: {}\n", tch::get_num_threads()));
    if cuda {
        s.push_str(&format!(
            "CUDA: available, {} device(s), cuDNN {}\n",
            tch::Cuda::device_count(),
            if tch::Cuda::cudnn_is_available() {
                "yes"
            } else {
                "no"
            }
        ));
    } else {
        s.push_str("CUDA: not available (no GPU or driver seen by libtorch)\n");
    }
    s.push_str(&format!(
        "device: {} (auto)",
        device_name(Device::cuda_if_available())
    ));
    s
}
