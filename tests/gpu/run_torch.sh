#!/usr/bin/env bash
# cppnn against PyTorch on the GPU machine: MobileNetV2 and ResNet-50 (batch 1 and 8) and
# BERT-base exported from torchvision / transformers, timed in PyTorch (eager fp32 without
# TF32, eager fp16, torch.compile with TORCH_COMPILE=1) and in the cppnn tool (CUDA cold and
# warm JIT, CPU), outputs compared. Run after tests/gpu/run.sh in the same device call: it
# reuses that build (/tmp/cppnn-gpu-build) and the unpacked libraries (/tmp/cppnn-deps).
#
#   cd carry/cuda-src && bash tests/gpu/run.sh; bash tests/gpu/run_torch.sh
#
# Writes $OUT/gpu_models.json (and the cppnn logs to $OUT/torch_logs/); the table is printed.
# bench/gpu_report.py turns the JSON into bench/results/gpu.json and the README's table.
# Switches: TORCH_COMPILE=1 (adds torch.compile, about a minute a model), CPPNN_TORCH_MODELS
# (default mobilenet_v2,resnet50,bert_base), CPPNN_TORCH_BATCHES (default 1,8).
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${CPPNN_GPU_BUILD:-/tmp/cppnn-gpu-build}
prefix=/tmp/cppnn-deps
out=${OUT:-/tmp/cppnn-gpu-out}
work=${CPPNN_TORCH_WORK:-/tmp/cppnn-torch}
mkdir -p "$out"
rm -rf "$work" && mkdir -p "$work"

# PyTorch's own cuDNN (site-packages/nvidia/cudnn/lib, or wherever its libcudnn.so.* lies
# under site-packages/nvidia) goes first for the cppnn processes; fine if there is none.
cudnn=$(bash "$(dirname "$0")/find_cudnn.sh")
echo "== PyTorch's cuDNN: ${cudnn:-none found}"

# The loader path for the cppnn processes only. The Python process keeps the environment's
# own LD_LIBRARY_PATH: the carried Debian libraries and /usr/local/cuda/lib64 must not shadow
# the CUDA libraries PyTorch brings.
orig_ld=${LD_LIBRARY_PATH:-}
cppnn_ld=${cudnn:+$cudnn:}$prefix/usr/lib/x86_64-linux-gnu:$prefix/usr/lib:/usr/local/cuda/lib64${orig_ld:+:$orig_ld}
export PATH=/usr/local/cuda/bin:$PATH

echo "== build the cppnn tool"
if [ ! -f "$build/build.ninja" ]; then
  echo "no build in $build: run tests/gpu/run.sh first (same device call)"
  exit 1
fi
if ! LD_LIBRARY_PATH=$cppnn_ld ninja -C "$build" -j"${CPPNN_GPU_JOBS:-16}" cppnn-cli >"$work/build.log" 2>&1; then
  echo "BUILD FAILED:"; grep -E 'error|FAILED' "$work/build.log" | head -20
  exit 1
fi
LD_LIBRARY_PATH=$cppnn_ld ldd "$build/libcppnn_cuda.so" 2>/dev/null | grep -iE 'cudnn|cublas|not found' | sed 's/^\s*/plugin needs: /'

budget=270; limit=330
if [ "${TORCH_COMPILE:-0}" = 1 ]; then budget=480; limit=560; fi
echo "== models_vs_torch.py (budget ${budget} s)"
CPPNN_LD_LIBRARY_PATH=$cppnn_ld LD_LIBRARY_PATH=$orig_ld PYTHONUNBUFFERED=1 \
  timeout -s INT -k 20 "$limit" python3 "$src/tests/gpu/models_vs_torch.py" \
    --cppnn "$build/cppnn" --work "$work" --out "$work/gpu_models.json" --budget "$budget" \
    --models "${CPPNN_TORCH_MODELS:-mobilenet_v2,resnet50,bert_base}" \
    --batches "${CPPNN_TORCH_BATCHES:-1,8}" 2>&1 | tee "$work/models_vs_torch.log"
rc=${PIPESTATUS[0]}

cp "$work/gpu_models.json" "$out/" 2>/dev/null || echo "no JSON written"
mkdir -p "$out/torch_logs"
cp "$work/models_vs_torch.log" "$work"/logs/*.log "$out/torch_logs/" 2>/dev/null || true
echo "models_vs_torch exit $rc; results in $out/gpu_models.json"
exit $rc
