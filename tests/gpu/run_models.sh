#!/usr/bin/env bash
# Real models on the GPU machine: the cppnn tool runs ResNet-50 and BERT-base (generated
# there from the carried generator) and MobileNetV2 on the CUDA backend and on the CPU
# backend, on the same inputs; prints the relative L2 error between them and both
# latencies. Run after tests/gpu/run.sh in the same call (it reuses its build and deps).
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
carry=$(cd "$src/.." && pwd)
build=${CPPNN_GPU_BUILD:-/tmp/cppnn-gpu-build}
prefix=/tmp/cppnn-deps
export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu:$prefix/usr/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
models=/tmp/cppnn-models
work=/tmp/cppnn-model-runs
mkdir -p "$models" "$work"

echo "== build the cppnn tool"
ninja -C "$build" -j16 cppnn-cli >"$work/build.log" 2>&1 || { grep -E 'error' "$work/build.log" | head; exit 1; }
echo "== generate models"
python3 "$carry/models/make_models_onnx.py" "$models" --models resnet50,bert_base >"$work/gen.log" 2>&1 ||
  { tail -5 "$work/gen.log"; exit 1; }
cp "$carry/models/mobilenet_v2.onnx" "$models/"

python3 - "$work" <<'PY'
import numpy as np, sys, pathlib
w = pathlib.Path(sys.argv[1])
ids = ((np.arange(128) * 7919) % 30000 + 1).astype(np.int64).reshape(1, 128)
mask = np.ones((1, 128), np.int64); mask[:, -8:] = 0
np.save(w / "input_ids.npy", ids); np.save(w / "attention_mask.npy", mask)
PY

status=0
run() {  # name model device extra-args...
  local name=$1 model=$2 device=$3; shift 3
  mkdir -p "$work/$name-$device"
  "$build/cppnn" run "$model" --device "$device" --iterations 20 --save "$work/$name-$device" "$@" \
    >"$work/$name-$device.log" 2>&1 || { echo "$name on $device FAILED:"; tail -5 "$work/$name-$device.log"; status=1; }
}
for spec in "mobilenet_v2:$models/mobilenet_v2.onnx:" "resnet50:$models/resnet50.onnx:--dim N=1" \
            "bert_base:$models/bert_base.onnx:--dim N=1 --dim S=128 --input input_ids=$work/input_ids.npy --input attention_mask=$work/attention_mask.npy"; do
  IFS=: read -r name model extra <<<"$spec"
  run "$name" "$model" cpu $extra
  run "$name" "$model" auto $extra
  python3 - "$work" "$name" <<'PY'
import numpy as np, sys, pathlib, re
w, name = pathlib.Path(sys.argv[1]), sys.argv[2]
def lat(dev):
    t = (w / f"{name}-{dev}.log").read_text()
    m = re.search(r"median ([0-9.]+) ms", t); d = re.search(r"device +(\S+)", t)
    return (float(m.group(1)) if m else float("nan")), (d.group(1) if d else "?")
for f in sorted((w / f"{name}-cpu").glob("*.npy")):
    a = np.load(f).astype(np.float64); b = np.load(w / f"{name}-auto" / f.name).astype(np.float64)
    err = np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-30)
    (c, _), (g, dev) = lat("cpu"), lat("auto")
    print(f"[ model    ] {name:13s} {f.stem}: {dev} vs cpu relative L2 {err:.2e}; "
          f"latency cpu {c:.2f} ms, {dev} {g:.2f} ms")
PY
done
grep -h "device" "$work"/*-auto.log | sort -u
exit $status
