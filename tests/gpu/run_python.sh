#!/usr/bin/env bash
# Builds the Python package `webnn` on the GPU machine and runs its GPU tests
# (tests/python/test_webnn_gpu.py, tests/python/test_webnn_mltensor.py) against the CUDA
# backend, with the machine's own python3 (3.12, torch, numpy). Nothing is installed:
# nanobind comes in the carry folder (tests/gpu/pack_python_deps.sh puts it in
# carry/nanobind), oneDNN & co. as for run.sh (carry/debs). Run from anywhere:
#   bash tests/gpu/run_python.sh
# It reuses run.sh's build folder (/tmp/cppnn-gpu-build) when run.sh ran first in the same
# call, else configures it; either way it adds -DCPPNN_BUILD_PYTHON=ON and builds the
# extension (_webnn) and the CUDA plugin (cppnn_cuda) that the context loads.
# Without pytest on the machine the test functions run under a tiny runner instead.
# CPPNN_PY_TARGETS: more targets to build beside those two (bench/gpu/run_bench.sh asks for
# cppnn-cli); CPPNN_PY_BUILD_ONLY=1: stop after the build and the context check, no tests.
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
# The carry folder: beside the source tree (carry/cuda-src), or CPPNN_CARRY.
carry=${CPPNN_CARRY:-$(cd "$src/.." && pwd)}
out=${OUT:-/tmp/cppnn-gpu-out}
build=${CPPNN_GPU_BUILD:-/tmp/cppnn-gpu-build}
prefix=/tmp/cppnn-deps
mkdir -p "$out"
py=$(command -v python3)

echo "== python: $($py --version 2>&1) at $py"
$py -c "import numpy, torch; print('numpy', numpy.__version__, '| torch', torch.__version__, '| cuda', torch.cuda.is_available())" || true
nb_dir=$carry/nanobind/cmake
if [ ! -f "$nb_dir/nanobind-config.cmake" ]; then
  nb_dir=$($py -c "import nanobind; print(nanobind.cmake_dir())" 2>/dev/null || true)
fi
if [ -z "$nb_dir" ] || [ ! -f "$nb_dir/nanobind-config.cmake" ]; then
  echo "no nanobind: carry it (bash tests/gpu/pack_python_deps.sh carry)"; exit 1
fi
echo "== nanobind: $nb_dir"

# The same dependency prefix as run.sh (unpacked here unless run.sh did it already).
if [ -d "$carry/debs" ] && [ ! -d "$prefix/usr" ]; then
  mkdir -p "$prefix"
  for deb in "$carry"/debs/*.deb; do dpkg -x "$deb" "$prefix"; done
  echo "== unpacked $(ls "$carry"/debs/*.deb | wc -l) packages into $prefix"
fi
libdir=$prefix/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$libdir:$prefix/usr/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export PATH=/usr/local/cuda/bin:$PATH
cudnn_lib=$(bash "$src/tests/gpu/find_cudnn.sh")
cudnn_args=()
if [ -n "$cudnn_lib" ]; then
  export LD_LIBRARY_PATH=$cudnn_lib:$LD_LIBRARY_PATH
  cudnn_args+=(-DCUDNN_LIBRARY="$(ls "$cudnn_lib"/libcudnn.so* | head -1)")
fi
[ -f "$carry/cudnn/include/cudnn.h" ] && cudnn_args+=(-DCUDNN_INCLUDE_DIR="$carry/cudnn/include")

echo "== configure (python on)"
t0=$(date +%s)
if ! cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
     -DCPPNN_BUILD_TESTS=OFF -DCPPNN_BUILD_BENCH=OFF \
     -DCMAKE_PREFIX_PATH="$prefix/usr" -DCUDAToolkit_ROOT=/usr/local/cuda "${cudnn_args[@]}" \
     -DCMAKE_CUDA_ARCHITECTURES="${CPPNN_GPU_ARCHS:-native}" \
     -DCPPNN_BUILD_PYTHON=ON -DPython_EXECUTABLE="$py" -Dnanobind_DIR="$nb_dir" \
     >"$out/configure_python.log" 2>&1; then
  echo "CONFIGURE FAILED; the end of its log:"; tail -30 "$out/configure_python.log"; exit 1
fi
echo "== build _webnn cppnn_cuda ${CPPNN_PY_TARGETS:-}"
# shellcheck disable=SC2086 # CPPNN_PY_TARGETS is a list of target names
if ! ninja -C "$build" -j"${CPPNN_GPU_JOBS:-16}" _webnn cppnn_cuda ${CPPNN_PY_TARGETS:-} >"$out/build_python.log" 2>&1; then
  echo "BUILD FAILED; the end of its log:"; grep -E 'error|FAILED' "$out/build_python.log" | head -30; exit 1
fi
echo "configure + build: $(( $(date +%s) - t0 )) s"

export PYTHONPATH=$build/python${PYTHONPATH:+:$PYTHONPATH}
$py -c "import webnn; c = webnn.ML().create_context(); print('context:', c.backend, '-', c.backend_reason)"
[ "${CPPNN_PY_BUILD_ONLY:-0}" = 1 ] && exit 0

tests=(tests/python/test_webnn_gpu.py tests/python/test_webnn_mltensor.py)
# The real pretrained models (scripts/fetch_pretrained.py's folder, carried as
# carry/pretrained), on the CPU and the CUDA backend, against ONNX Runtime.
if [ -d "$carry/pretrained/rapidocr" ]; then
  export CPPNN_PRETRAINED=$carry/pretrained
  tests+=(tests/python/test_pretrained_models.py)
fi
cd "$src"
echo "== tests"
if $py -c "import pytest" 2>/dev/null; then
  timeout ${CPPNN_PY_TIMEOUT:-300} $py -m pytest -q -rs -p no:cacheprovider "${tests[@]}" \
    --junitxml="$out/python_tests.xml" 2>&1 | tee "$out/python_tests.log"
  rc=${PIPESTATUS[0]}
else
  echo "(no pytest here: the tiny runner)"
  timeout ${CPPNN_PY_TIMEOUT:-300} $py "$src/tests/gpu/tiny_pytest.py" "${tests[@]}" 2>&1 | tee "$out/python_tests.log"
  rc=${PIPESTATUS[0]}
fi
echo "python gpu tests: exit $rc"
exit $rc
