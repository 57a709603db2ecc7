//! Link-time details of libtorch that tch's own build script leaves out:
//! * an rpath to libtorch's folder, so the binaries run without LD_LIBRARY_PATH;
//! * libtorch_cuda linked with --no-as-needed: nothing references its symbols directly, so the
//!   linker would drop it and libtorch would silently run without CUDA;
//! * the libtorch version, for `icicle info`.
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Some(root) = std::env::var_os("LIBTORCH").map(PathBuf::from) else {
        println!("cargo:rustc-env=ICICLE_LIBTORCH_VERSION=unknown");
        return;
    };
    let root = root.canonicalize().unwrap_or_else(|_| {
        panic!(
            "libtorch not found at {} — run `make setup` (scripts/setup.sh) first",
            root.display()
        )
    });
    let lib = root.join("lib");
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
    let version = std::fs::read_to_string(root.join("version.py"))
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("__version__ = ")
                    .map(|v| v.trim_matches(['\'', '"']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=ICICLE_LIBTORCH_VERSION={version}");
    println!("cargo:rustc-env=ICICLE_LIBTORCH_LIB={}", lib.display());
}
