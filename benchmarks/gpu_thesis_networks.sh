#!/usr/bin/env bash
# The thesis's full-size U-Net and ResUNet on one GPU machine (Keras on JAX), in one call.
#
# Here, first (the GPU machine has JAX but no Keras, TensorFlow or imgaug, and no ../shared):
#   .venv/bin/python benchmarks/gpu_pack_data.py --data ../shared/tgs-salt --out .gpu/tgs_split.npz
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
#     --platform manylinux2014_x86_64 -d .whl keras==3.15.1 namex==0.1.0 optree==0.20.0 imaug==0.4.3 shapely==2.2.0
# Then on the GPU machine, from the repository root, with .gpu and .whl carried along:
#   bash benchmarks/gpu_thesis_networks.sh            (writes to $OUT, or to runs/gpu without it)
# And back here: .venv/bin/python benchmarks/gpu_score_records.py --runs <the returned folder>
#
# What it does: installs the carried wheels, measures train images/s of both thesis networks at
# batch 32 (float32 and mixed bfloat16), trains each with the thesis's recipe for up to 120 epochs
# (DEADLINE seconds is a safety cap, written into the record when it cuts), writes validation and
# test probabilities, histories and records; then proves `salt_lib train --devices all` on a small
# synthetic set if time is left (its output goes to the log only: the device returns at most 8 files).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-runs/gpu}"
DEADLINE="${DEADLINE:-430}"
mkdir -p "$OUT"
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=3
started=$(date +%s)
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH="/tmp/site:$PWD"
  else
    export PYTHONPATH="$PWD"
  fi
  python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)" || exit 1
  python3 benchmarks/gpu_thesis_networks.py --out "$OUT" --deadline "$DEADLINE" "$@"
  status=$?
  left=$(( DEADLINE + 130 - $(date +%s) + started ))
  if [ "$status" -eq 0 ] && [ "$left" -gt 75 ]; then
    echo "== salt_lib train --devices all on 200 synthetic tiles ($left s left)"
    # In a scratch folder, with relative paths, so the log names no machine's folders.
    (cd "$(mktemp -d)" && timeout $(( left - 10 )) sh -c "python3 -m salt_lib synth --out synth --n-train 200 --n-test 20 && \
      python3 -m salt_lib train --data synth --arch unet --epochs 2 --augment none --devices all --out cli-run")
  fi
  exit "$status"
} 2>&1 | tee "$OUT/log.txt"
