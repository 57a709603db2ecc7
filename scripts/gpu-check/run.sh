#!/usr/bin/env bash
# The GPU check of issue 20 on the device machine, from the repository root, after
# scripts/gpu-check/pack.sh here. `run.sh base [SECONDS]`: the default on digits, MNIST-test,
# Fashion-MNIST-test and emoji, a profiled digits run, then the other gray routes while time is
# left. `run.sh fashion70k [SECONDS]`: Fashion-MNIST 70k end to end. Archives in gpu/ are
# unpacked into gpu-work/ (git-ignored, so a warm machine keeps it for the next call). Steps
# each run under `timeout` and none starts after SECONDS (default 480). Writes
# $OUT/summary.tsv (step, exit status, seconds, ACC, answer) as it goes, prints it at the end,
# and keeps every log and metrics.json in $OUT/logs.tar.gz (the device tool returns few files).
set -uo pipefail
mode=${1:-base}
budget=${2:-480}
OUT=${OUT:-$(mktemp -d)}
begin=$(date +%s)
W=$PWD/gpu-work
mkdir -p "$W" "$OUT/logs"
for a in gpu/*.tar.xz; do
  [ -f "$a" ] && { tar -xJf "$a" -C "$W" || echo "cannot unpack $a"; }
done
[ -x "$W/icicle" ] || { echo "no binary: carry gpu/base.tar.xz or gpu/fashion70k.tar.xz"; exit 1; }
torch_lib=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')/lib
export LD_LIBRARY_PATH="$W/libs:$torch_lib"
export ICICLE_MODELS_DIR="$W/models" ICICLE_CACHE_DIR="$W/cache"
rm -rf "$W/runs"
mkdir -p "$W/runs"
{
  cat "$W/commit"
  nvidia-smi
  python3 -c 'import torch;print("torch",torch.__version__,torch.cuda.is_available())'
} > "$OUT/logs/machine.txt" 2>&1
printf 'step\trc\tseconds\tacc\tanswer\n' > "$OUT/summary.tsv"

# step NAME LIMIT ARGS...: one icicle command under timeout into runs/NAME; skipped once the
# budget is spent.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((budget - ($(date +%s) - begin)))
  if [ "$left" -lt 20 ]; then
    printf '%s\tskipped\t\t\t\n' "$name" >> "$OUT/summary.tsv"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  local t0 rc t1 acc answer
  t0=$(date +%s.%N)
  timeout "$limit" "$W/icicle" "$@" > "$OUT/logs/$name.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  acc=$(grep -m1 -o 'final: ACC [0-9.]*' "$OUT/logs/$name.log" | awk '{print $3}')
  answer=$(grep -m1 -o '^answer: [a-z0-9-]*' "$OUT/logs/$name.log" | awk '{print $2}')
  [ -f "$W/runs/$name/metrics.json" ] && cp "$W/runs/$name/metrics.json" "$OUT/logs/$name.metrics.json"
  printf '%s\t%s\t%.1f\t%s\t%s\n' "$name" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
    "$acc" "$answer" >> "$OUT/summary.tsv"
}
train() {
  local name=$1 limit=$2
  shift 2
  step "$name" "$limit" train --registry "$W/registry.toml" --out "$W/runs/$name" "$@"
}

case $mode in
  base)
    step info 60 info
    # The default as a person runs it (targets: digits <= 8 s, MNIST-test <= 60 s).
    train digits 120 --dataset digits
    train mnist-test 150 --dataset mnist-test
    train fashion-mnist-test 150 --dataset fashion-mnist-test
    train emoji 150 --dataset emoji
    # Where a stage-1 step goes on the GPU (item 1).
    step speed-digits 90 bench speed --dataset digits --epochs 4 --iterations 20 \
      --out "$W/runs/speed-digits"
    # The other routes for gray images (item 3).
    train mnist-test-frozen224 150 --dataset mnist-test --set backbone=efficientnet-lite0 \
      --set input_size=224
    train fashion-test-frozen224 150 --dataset fashion-mnist-test \
      --set backbone=efficientnet-lite0 --set input_size=224
    train fashion-test-epochs3x 200 --dataset fashion-mnist-test --set epochs=54
    train mnist-test-resnet34 200 --dataset mnist-test --set backbone=resnet34 \
      --set input_size=224
    ;;
  fashion70k)
    # Target <= 3 min. Without the weights (a fresh machine: only this archive came) the
    # graphs cannot be checked against the pretrained features: said in the summary.
    if [ -f "$W/models/efficientnet-lite0.safetensors" ]; then
      train fashion-mnist 400 --dataset fashion-mnist
    else
      train fashion-mnist-no-weights 400 --dataset fashion-mnist --set graph_features=backbone
    fi
    ;;
  *) echo "usage: run.sh base|fashion70k [SECONDS]"; exit 2 ;;
esac

tar -C "$OUT" -czf "$OUT/logs.tar.gz" logs && rm -rf "$OUT/logs"
cat "$OUT/summary.tsv"
