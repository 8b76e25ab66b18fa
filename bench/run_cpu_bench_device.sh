#!/usr/bin/env bash
# bench/bench_cpu.py (cppnn against ONNX Runtime on the CPU, issue #20) on the GPU machine's
# 16 cores. Uses the webnn package that tests/gpu/run_python.sh builds in
# /tmp/cppnn-gpu-build (CPPNN_GPU_BUILD), building it first through run_python.sh's build
# step when it is not there (a cold machine; CPPNN_CPU_BENCH_REBUILD=1 forces it), sets the
# loader and Python paths as bench/gpu/run_bench.sh does, and runs the benchmark with every
# argument given here, writing $OUT/cpu_bench.json unless --out says otherwise:
#
#   cd carry/cuda-src && bash bench/run_cpu_bench_device.sh --threads 16 --batches 1,8
#   cd carry/cuda-src && bash bench/run_cpu_bench_device.sh --threads 2,4,8,16 --batches 1 \
#       --models resnet50,vit_tiny --out $OUT/cpu_scaling_1.json
#
# Models, each folder taken from the carry when it is there, else made here once and kept
# in /tmp/cppnn-cpu-bench for the next call of a warm machine:
# - the PyTorch-made ones (bench/cpu_models.py): carry/bench_models, else exported here with
#   the machine's torch + transformers (CPPNN_BENCH_MODELS);
# - ResNet-50, MobileNetV2 (symbolic N), BERT-base: ../shared/models/make_models_onnx.py
#   (numpy + onnx; CPPNN_MODELS);
# - the shared MobileNetV2 (batch 1): ../shared/models (CPPNN_SHARED);
# - PP-OCRv4 and Silero VAD: carry/pretrained (CPPNN_PRETRAINED), as run_python.sh has them.
# A model whose file is missing is recorded as such in the JSON; the others still run.
# CPPNN_BENCH_LIMIT (default 570): seconds this script may take in all (a device call ends
# at 600); the benchmark gets what the build and the model generation left, minus
# CPPNN_BENCH_TAIL (default 60) s for its --budget (cases not started by then are recorded
# as skipped), and is interrupted at the limit (the JSON is rewritten after every case).
# CPPNN_COMMIT names the cppnn commit in the JSON where the tree has no .git.
#
# CPPNN_CPU_BENCH_CLI=PATH: no package build; cppnn is timed through that prebuilt `cppnn`
# tool (bench_cpu.py --cppnn-cli; libcppnn.so beside it, built on the developer machine and
# carried), which is how the session-12 16-core run was made (README, Speed):
#
#   CPPNN_CPU_BENCH_CLI=$PWD/../cpubench/cppnn bash bench/run_cpu_bench_device.sh \
#       --batches 1 --threads 2,16 --rounds 3 --round-seconds 0.25
set -uo pipefail
t0=$(date +%s)
src=$(cd "$(dirname "$0")/.." && pwd)
carry=${CPPNN_CARRY:-$(cd "$src/.." && pwd)}
out=${OUT:-/tmp/cppnn-cpu-out}
build=${CPPNN_GPU_BUILD:-/tmp/cppnn-gpu-build}
work=${CPPNN_CPU_BENCH_WORK:-/tmp/cppnn-cpu-bench}
prefix=/tmp/cppnn-deps
limit=${CPPNN_BENCH_LIMIT:-570}
tail_s=${CPPNN_BENCH_TAIL:-60}
mkdir -p "$out" "$work"

echo "== machine"
grep -m1 "model name" /proc/cpuinfo || true
echo "cores: $(nproc)"
python3 -c "import sys, onnxruntime; print('python', sys.version.split()[0], '| onnxruntime', onnxruntime.__version__)" || true

cli=${CPPNN_CPU_BENCH_CLI:-}
if [ -n "$cli" ]; then
  echo "== using the prebuilt tool $cli"
  chmod +x "$cli"
  export LD_LIBRARY_PATH=$(dirname "$cli")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  [ -d "$prefix/usr" ] || for d in "$carry"/debs/*.deb; do dpkg -x "$d" "$prefix"; done
elif [ "${CPPNN_CPU_BENCH_REBUILD:-0}" = 1 ] || [ ! -f "$build/python/webnn/__init__.py" ]; then
  echo "== build (tests/gpu/run_python.sh, build only)"
  CPPNN_PY_BUILD_ONLY=1 bash "$src/tests/gpu/run_python.sh"
  rc=$?
  if [ $rc != 0 ] || [ ! -f "$build/python/webnn/__init__.py" ]; then
    echo "BUILD FAILED (exit $rc): nothing to run"; exit 1
  fi
else
  echo "== using the build in $build"
fi

# The carried Debian libraries libcppnn.so needs (oneDNN, ONNX, protobuf), as run_bench.sh
# sets them; the CUDA libraries are not needed here (CPU contexts only).
libdir=$prefix/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$libdir:$prefix/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONPATH=$build/python${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
export CPPNN_BUILD=$build

# Model folders.
shared=${CPPNN_SHARED:-}
for d in "$src/../shared" "$src/../../shared" "$carry/shared"; do
  [ -z "$shared" ] && [ -f "$d/models/make_models_onnx.py" ] && shared=$(cd "$d" && pwd)
done
export CPPNN_SHARED=${shared:-$src/../shared}
if [ -z "${CPPNN_BENCH_MODELS:-}" ]; then
  if [ -d "$carry/bench_models" ]; then export CPPNN_BENCH_MODELS=$carry/bench_models
  else export CPPNN_BENCH_MODELS=$work/bench_models; fi
fi
export CPPNN_MODELS=${CPPNN_MODELS:-$work/models}
export CPPNN_PRETRAINED=${CPPNN_PRETRAINED:-$carry/pretrained}
echo "== models: torch-made $CPPNN_BENCH_MODELS | numpy-made $CPPNN_MODELS | shared $CPPNN_SHARED | pretrained $CPPNN_PRETRAINED"

cd "$src"
# Only the models this call runs are made (the --models argument, else all).
models=all
prev=""
for a in "$@"; do
  [ "$prev" = --models ] && models=$a
  case $a in --models=*) models=${a#--models=};; esac
  prev=$a
done
wants() { [ "$models" = all ] || [[ ",$models," == *",$1,"* ]]; }
if wants resnet50 || wants mobilenet_v2 || wants bert_base; then
  need=()
  for m in resnet50 mobilenet_v2 bert_base; do
    wants $m && [ ! -f "$CPPNN_MODELS/$m.onnx" ] && need+=($m)
  done
  if [ ${#need[@]} -gt 0 ] && [ -f "$CPPNN_SHARED/models/make_models_onnx.py" ]; then
    echo "== make_models_onnx.py ${need[*]}"
    mkdir -p "$CPPNN_MODELS"
    python3 "$CPPNN_SHARED/models/make_models_onnx.py" "$CPPNN_MODELS" --models "$(IFS=,; echo "${need[*]}")" | tail -4
  fi
fi
torch_made=$(python3 -c "
import sys; sys.path.insert(0, 'bench'); import cpu_models
want = '$models'.split(',')
print(','.join(n for n, m in cpu_models.MODELS.items() if m.source == 'torch' and ('$models' == 'all' or n in want)))")
if [ -n "$torch_made" ]; then
  echo "== bench/cpu_models.py --models $torch_made"
  python3 bench/cpu_models.py --out "$CPPNN_BENCH_MODELS" --models "$torch_made" 2>&1 | grep -v -i warning | grep -v "^  " || true
fi

left=$(( limit - ($(date +%s) - t0) ))
budget=$(( left - tail_s ))
[ $budget -lt 30 ] && budget=30
echo "== bench_cpu.py: ${left} s left, new cases start until ${budget} s"
timeout -s INT -k 20 "$left" python3 bench/bench_cpu.py --out "$out/cpu_bench.json" --budget "$budget" \
  ${cli:+--cppnn-cli "$cli"} "$@" \
  2>&1 | tee "$out/bench_cpu.log"
rc=${PIPESTATUS[0]}
echo "bench_cpu exit $rc after $(( $(date +%s) - t0 )) s; results in $out"
exit $rc
