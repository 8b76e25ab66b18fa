#!/usr/bin/env bash
# The cppnn-cuda wheel on a GPU machine, as `pip install cppnn[cuda]` leaves it: the plugin
# in site-packages/cppnn_cuda beside NVIDIA's wheels (site-packages/nvidia/...), found through
# its own run path, with no LD_LIBRARY_PATH pointing at any CUDA library.
#
# The GPU machine has no network: NVIDIA's CUDA 13 wheels come from the machine's PyTorch
# venv (torch 2.11+cu130 depends on them), so the plugin wheel is installed there
# (--no-deps). The core is the carried prebuilt cppnn tool and its libcppnn.so (the plugin
# needs the core already loaded or in ../webnn; here the tool loads it first).
#
#   cd carry/cuda-src && WHEEL=../wheels/cppnn_cuda-*.whl bash tests/wheel/check_cuda_wheel_device.sh
#
# Prints "cuda wheel check: ok" (exit 0) when the plugin resolves every CUDA library from
# NVIDIA's wheels and `cppnn run` computes MobileNetV2 on the GPU through it, matching the
# same tool's CPU run.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
carry=$(cd "$src/.." && pwd)
wheel=$(ls ${WHEEL:-$carry/wheels/cppnn_cuda-*.whl} 2>/dev/null | head -1)
[ -n "$wheel" ] || { echo "cuda wheel check: no wheel"; exit 1; }
py=${PYTHON:-python3}
site=$($py -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "python $($py -c 'import sys; print(sys.version.split()[0])'), site-packages $site"
ls -d "$site"/nvidia/* 2>/dev/null | sed 's|.*/||' | tr '\n' ' '; echo
$py -m pip install -q --no-deps --force-reinstall "$wheel" || { echo "cuda wheel check: pip failed"; exit 1; }
plugin=$site/cppnn_cuda/libcppnn_cuda.so
[ -f "$plugin" ] || { echo "cuda wheel check: no plugin at $plugin"; exit 1; }
echo "== run path"; readelf -d "$plugin" | grep -E "RUNPATH|RPATH"
# The core's own dependencies (oneDNN, ONNX, protobuf: Debian packages, carried) only.
prefix=/tmp/cppnn-deps
mkdir -p $prefix; [ -d $prefix/usr ] || for d in "$carry"/debs/*.deb; do dpkg -x "$d" "$prefix"; done
core_libs=$prefix/usr/lib/x86_64-linux-gnu:$prefix/usr/lib
echo "== what the plugin resolves (LD_LIBRARY_PATH unset)"
env -u LD_LIBRARY_PATH ldd "$plugin" | grep -E "cublas|cudnn|nvrtc|cudart|libcuda|cppnn|not found"
missing=$(env -u LD_LIBRARY_PATH ldd "$plugin" | grep "not found" | grep -v libcppnn.so)
bad=0
[ -z "$missing" ] || { echo "unresolved: $missing"; bad=1; }
for lib in cublasLt cudnn nvrtc; do
  env -u LD_LIBRARY_PATH ldd "$plugin" | grep "lib$lib" | grep -q "/nvidia/" ||
    { echo "lib$lib does not come from NVIDIA's wheels"; bad=1; }
done
bin=/tmp/wheel-pre && rm -rf $bin && cp -r "$carry/prebuilt" $bin && chmod +x $bin/*
model=$carry/models/mobilenet_v2.onnx
echo "== cppnn run on the wheel's plugin"
LD_LIBRARY_PATH=$core_libs CPPNN_CUDA_BACKEND=$plugin $bin/cppnn run "$model" --device cuda \
  --iterations 20 --save /tmp/wheel-gpu > /tmp/wheel-gpu.log 2>&1; rc=$?
grep -E "device|backend|median" /tmp/wheel-gpu.log | head -5
[ $rc = 0 ] || { tail -20 /tmp/wheel-gpu.log; bad=1; }
grep -qE "^device +cuda" /tmp/wheel-gpu.log || { echo "not on the CUDA backend"; bad=1; }
LD_LIBRARY_PATH=$core_libs $bin/cppnn run "$model" --device cpu --iterations 2 --save /tmp/wheel-cpu \
  > /tmp/wheel-cpu.log 2>&1 || { tail -5 /tmp/wheel-cpu.log; bad=1; }
$py - <<'PY' || bad=1
import glob, os, numpy as np
worst = 0.0
for f in sorted(glob.glob("/tmp/wheel-gpu/*.npy")):
    g = np.load(f).astype(np.float64); c = np.load(os.path.join("/tmp/wheel-cpu", os.path.basename(f))).astype(np.float64)
    rel = np.linalg.norm(g - c) / max(np.linalg.norm(c), 1e-30)
    print(f"{os.path.basename(f)}: relative L2 GPU vs CPU {rel:.2e}")
    worst = max(worst, rel)
if not glob.glob("/tmp/wheel-gpu/*.npy") or worst > 1e-4:
    raise SystemExit(1)
PY
[ $bad = 0 ] && echo "cuda wheel check: ok" || { echo "cuda wheel check: FAILED"; exit 1; }
