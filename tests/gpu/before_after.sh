#!/usr/bin/env bash
# Before/after on the GPU machine, same run: builds a baseline tree (carry/base-src, e.g.
# `git archive 8ecd9f7 | tar -x -C carry/base-src`) beside run.sh's build of this tree
# (run run.sh first, in the same call), then times both cppnn tools on MobileNetV2,
# ResNet-50 and BERT-base (float32 and float16, CUDA), interleaved, best median of 3 rounds.
# carry/models needs mobilenet_v2.onnx and ../shared/models/make_models_onnx.py.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
carry=$(cd "$src/.." && pwd)
prefix=/tmp/cppnn-deps
new=/tmp/cppnn-gpu-build; base=/tmp/cppnn-base-build
export PATH=/usr/local/cuda/bin:$PATH
cudnn_lib=$(bash "$src/tests/gpu/find_cudnn.sh")
cudnn_so=$(ls "$cudnn_lib"/libcudnn.so* | head -1)
export LD_LIBRARY_PATH=$cudnn_lib:$prefix/usr/lib/x86_64-linux-gnu:$prefix/usr/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
t0=$(date +%s)
cmake -S "$carry/base-src" -B "$base" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCPPNN_BUILD_TESTS=OFF \
  -DCPPNN_BUILD_BENCH=OFF -DCMAKE_PREFIX_PATH="$prefix/usr" -DCUDAToolkit_ROOT=/usr/local/cuda \
  -DCUDNN_LIBRARY="$cudnn_so" -DCUDNN_INCLUDE_DIR="$carry/cudnn/include" \
  -DCMAKE_CUDA_ARCHITECTURES=native >/tmp/base-configure.log 2>&1 || { tail -5 /tmp/base-configure.log; exit 1; }
( ninja -C "$base" -j16 cppnn-cli cppnn_cuda >/tmp/base-build.log 2>&1 || { grep -E "error" /tmp/base-build.log | head; exit 1; } ) &
( ninja -C "$new" -j16 cppnn-cli >/tmp/new-build.log 2>&1 || { grep -E "error" /tmp/new-build.log | head; exit 1; } ) &
m=/tmp/ab-models; mkdir -p $m
python3 "$carry/models/make_models_onnx.py" $m --models resnet50,bert_base >/tmp/gen.log 2>&1 || tail -3 /tmp/gen.log
cp "$carry/models/mobilenet_v2.onnx" $m/
wait
echo "builds done: $(( $(date +%s) - t0 )) s"
python3 - "$base/cppnn" "$new/cppnn" $m <<'PY'
import re, subprocess, sys
A, B, m = sys.argv[1:4]
cases = [("mobilenet_v2 b1", "mobilenet_v2.onnx", []),
         ("resnet50 b1", "resnet50.onnx", ["--dim", "N=1"]), ("resnet50 b8", "resnet50.onnx", ["--dim", "N=8"]),
         ("bert_base b1 s128", "bert_base.onnx", ["--dim", "N=1", "--dim", "S=128"]),
         ("bert_base b8 s128", "bert_base.onnx", ["--dim", "N=8", "--dim", "S=128"])]
def run(cli, model, extra, prec):
    r = subprocess.run([cli, "run", f"{m}/{model}", "--device", "auto", "--precision", prec, "--iterations", "100",
                        "--warmup", "10"] + extra, capture_output=True, text=True)
    x = re.search(r"median ([0-9.]+) ms", r.stdout)
    if not x: print(r.stdout[-400:], r.stderr[-400:]); return float("nan")
    return float(x.group(1))
for name, model, extra in cases:
    for prec in ("float32", "float16"):
        a = b = float("inf")
        for _ in range(3):
            a = min(a, run(A, model, extra, prec)); b = min(b, run(B, model, extra, prec))
        print(f"{name:18s} {prec}: before {a:7.3f} ms  after {b:7.3f} ms  after/before {b / a:.3f}", flush=True)
PY
