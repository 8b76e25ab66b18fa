#!/usr/bin/env bash
# bench/gpu/bench_gpu.py on the GPU machine. Builds (or, on a machine still warm from an
# earlier call, updates) the webnn Python package, the CUDA plugin and the cppnn tool in
# /tmp/cppnn-gpu-build through tests/gpu/run_python.sh's build step (the same carry: debs,
# nanobind, cuDNN headers), then runs the benchmark with the machine's python3 (torch) and
# every argument given here:
#
#   cd carry/cuda-src && bash bench/gpu/run_bench.sh --models bert_base,resnet50 --profile
#
# Writes $OUT/gpu_bench.json (rewritten after every case), $OUT/bench_gpu.log and, with
# --profile, $OUT/profiles/. Pass --out to name the JSON otherwise (one per call when a run
# is split over calls; the report mode merges them).
# CPPNN_BENCH_LIMIT (default 570): seconds this script may take in all (a device call ends
# at 600): the benchmark gets what the build left, and cases not started CPPNN_BENCH_TAIL
# (default 150) seconds before that are skipped (a case with torch.compile takes 1-2 min).
# The ONNX files stay in /tmp/cppnn-bench (CPPNN_BENCH_WORK) for the next call.
set -uo pipefail
t0=$(date +%s)
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-/tmp/cppnn-gpu-out}
build=${CPPNN_GPU_BUILD:-/tmp/cppnn-gpu-build}
prefix=/tmp/cppnn-deps
limit=${CPPNN_BENCH_LIMIT:-570}
tail_s=${CPPNN_BENCH_TAIL:-150}
mkdir -p "$out"

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
python3 -c "import torch, sys; print('python', sys.version.split()[0], '| torch', torch.__version__, '| cuda', torch.version.cuda, torch.cuda.is_available())" || true

echo "== build (tests/gpu/run_python.sh, build only)"
CPPNN_PY_BUILD_ONLY=1 CPPNN_PY_TARGETS=cppnn-cli bash "$src/tests/gpu/run_python.sh"
rc=$?
if [ $rc != 0 ] || [ ! -f "$build/python/webnn/__init__.py" ]; then
  echo "BUILD FAILED (exit $rc): nothing to run"; exit 1
fi

# The loader path. PyTorch's own CUDA libraries (site-packages/nvidia/*/lib: cuBLAS, cuDNN,
# NVRTC, ...) first, so that nothing else shadows what torch loads and the plugin binds to
# the same copies; then the carried Debian libraries libcppnn.so needs (oneDNN, ONNX,
# protobuf); the system CUDA last, for whatever torch does not bring.
# CPPNN_BENCH_TORCH_LIBS_FIRST=0: only PyTorch's cuDNN first, as run_python.sh does.
if [ "${CPPNN_BENCH_TORCH_LIBS_FIRST:-1}" = 0 ]; then
  torch_libs=$(bash "$src/tests/gpu/find_cudnn.sh")
else
  torch_libs=$(python3 - 2>/dev/null <<'PY'
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except Exception:
    roots = []
dirs = sorted({os.path.dirname(f) for r in roots for f in glob.glob(os.path.join(r, "**", "lib*.so*"), recursive=True)})
print(":".join(dirs))
PY
)
fi
libdir=$prefix/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=${torch_libs:+$torch_libs:}$libdir:$prefix/usr/lib:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONPATH=$build/python${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
echo "== first on the loader path: ${torch_libs:-none found}"

left=$(( limit - ($(date +%s) - t0) ))
budget=$(( left - tail_s ))
[ $budget -lt 30 ] && budget=30
echo "== bench_gpu.py: ${left} s left, new cases start until ${budget} s"
cd "$src"
timeout -s INT -k 20 "$left" python3 bench/gpu/bench_gpu.py --budget "$budget" \
  --cppnn "$build/cppnn" --out "$out/gpu_bench.json" "$@" 2>&1 | tee "$out/bench_gpu.log"
rc=${PIPESTATUS[0]}
echo "bench_gpu exit $rc after $(( $(date +%s) - t0 )) s; results in $out"
exit $rc
