#!/usr/bin/env bash
# Packs what a GPU machine (PyPI torch, none of this project's Debian libraries) needs for the
# GPU check, as two archives in gpu/ (git-ignored), each under what the device tool carries
# beside the working tree (64 MiB in all):
#   gpu/base.tar.xz       the stripped release binary, the Debian libraries it links that such a
#                         machine lacks (libheif and its codecs, libturbojpeg, libnuma), the
#                         EfficientNet-Lite0 weights, the emoji folder, a registry
#   gpu/fashion70k.tar.xz the binary and libraries again, Fashion-MNIST 70k (IDX), a registry
# Needs `make setup` and `make datasets` first. On the device (carry: ["gpu/base.tar.xz"], then
# ["gpu/fashion70k.tar.xz"]): scripts/gpu-check/run.sh base|fashion70k [SECONDS].
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --bin icicle
mkdir -p gpu
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
common() {
  local d=$1
  mkdir -p "$d/libs"
  cp target/release/icicle "$d/icicle"
  strip "$d/icicle"
  # Every library resolved from the system folders but glibc's, the C++ runtime and zlib.
  ldd target/release/icicle | awk '$3 ~ /^\/(usr\/)?lib/ {print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so* | libm.so* | libdl.so* | librt.so* | libpthread.so* | libutil.so* | \
        libgcc_s.so* | libstdc++.so* | libz.so* | ld-linux*) ;;
      *) cp -L "$lib" "$d/libs/" ;;
    esac
  done
  # The registry with paths relative to itself (how the registry reads relative paths).
  sed -e 's#/usr/share/datasets/fashion-mnist/\([a-z0-9-]*\)\.gz#fashion-mnist/\1#g' \
    -e 's#\.data/emoji/images#emoji/images#' datasets.toml > "$d/registry.toml"
  git rev-parse --short HEAD > "$d/commit"
}
common "$stage/base"
mkdir -p "$stage/base/models" "$stage/base/emoji"
cp .venv/models/efficientnet-lite0.safetensors "$stage/base/models/"
cp -r .data/emoji/images "$stage/base/emoji/images"
tar -C "$stage/base" -cf - . | xz -T2 -6 > gpu/base.tar.xz
common "$stage/f70"
mkdir -p "$stage/f70/fashion-mnist"
for f in /usr/share/datasets/fashion-mnist/*.gz; do
  gunzip -c "$f" > "$stage/f70/fashion-mnist/$(basename "$f" .gz)"
done
tar -C "$stage/f70" -cf - . | xz -T2 -9 > gpu/fashion70k.tar.xz
ls -la gpu/*.tar.xz
