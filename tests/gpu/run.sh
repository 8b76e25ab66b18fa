#!/usr/bin/env bash
# Configures, builds (Release, Ninja, -j16) and runs the GPU suite on the GPU machine, then
# prints a summary. See tests/gpu/README.md for how the sources, the model and the
# dependencies get there. Run from anywhere: bash tests/gpu/run.sh
#
# Layout it expects (the "carry" folder sent along with the device call):
#   carry/cuda-src/   this source tree
#   carry/debs/       Debian .deb files of oneDNN, ONNX, protobuf, GoogleTest, OpenCL ICD
#   carry/models/     mobilenet_v2.onnx
#   carry/prebuilt/   optional: cppnn_gpu_tests + libcppnn.so + libcppnn_cuda.so built on a developer
#                     machine, run only if the build here fails
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
carry=$(cd "$src/.." && pwd)
out=${OUT:-/tmp/cppnn-gpu-out}
build=${CPPNN_GPU_BUILD:-/tmp/cppnn-gpu-build}
prefix=/tmp/cppnn-deps
mkdir -p "$out"

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi failed"
(nvcc --version || /usr/local/cuda/bin/nvcc --version) 2>/dev/null | tail -2
g++ --version | head -1
cmake --version | head -1
echo "ninja $(ninja --version)"
echo "== development packages already installed"
dpkg -l | grep -E 'dnnl|protobuf|onnx|gtest|googletest|opencl' | awk '{print $2, $3}' || true

# oneDNN, ONNX, protobuf and GoogleTest are not on the GPU machine: the carried Debian
# packages are unpacked into a private prefix (never into /), and CMake and the loader
# are pointed at it. They are Debian 12 builds (glibc 2.36), which run on newer systems.
if [ -d "$carry/debs" ]; then
  rm -rf "$prefix" && mkdir -p "$prefix"
  for deb in "$carry"/debs/*.deb; do dpkg -x "$deb" "$prefix"; done
  echo "== unpacked $(ls "$carry"/debs/*.deb | wc -l) packages into $prefix"
fi
libdir=$prefix/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH=$libdir:$prefix/usr/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export CPPNN_MODELS_DIR=${CPPNN_MODELS_DIR:-$carry/models}
export PATH=/usr/local/cuda/bin:$PATH

# cuDNN: PyTorch's 9.19 first on the loader path, linked by full path, with the carried
# 9.19 headers (carry/cudnn/include) when they came along.
cudnn_lib=$(bash "$src/tests/gpu/find_cudnn.sh")
cudnn_args=()
if [ -n "$cudnn_lib" ]; then
  export LD_LIBRARY_PATH=$cudnn_lib:$LD_LIBRARY_PATH
  cudnn_so=$(ls "$cudnn_lib"/libcudnn.so* | head -1)
  cudnn_args+=(-DCUDNN_LIBRARY="$cudnn_so")
fi
[ -f "$carry/cudnn/include/cudnn.h" ] && cudnn_args+=(-DCUDNN_INCLUDE_DIR="$carry/cudnn/include")
echo "== cuDNN: ${cudnn_lib:-system} ${cudnn_args[*]}"

echo "== configure"
t0=$(date +%s)
built=0
if cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
     -DCPPNN_BUILD_TESTS=OFF -DCPPNN_BUILD_BENCH=OFF -DCPPNN_BUILD_GPU_TESTS=ON \
     -DCMAKE_PREFIX_PATH="$prefix/usr" -DCUDAToolkit_ROOT=/usr/local/cuda "${cudnn_args[@]}" \
     -DCMAKE_CUDA_ARCHITECTURES="${CPPNN_GPU_ARCHS:-native}" \
     >"$out/configure.log" 2>&1; then
  tail -3 "$out/configure.log"
  echo "== build"
  if ninja -C "$build" -j"${CPPNN_GPU_JOBS:-16}" cppnn_cuda cppnn_gpu_tests >"$out/build.log" 2>&1; then
    built=1
    grep -ciE 'warning:' "$out/build.log" | sed 's/^/compiler warnings: /'
  else
    echo "BUILD FAILED; the end of its log:"
    grep -E 'error|FAILED' "$out/build.log" | head -30
  fi
else
  echo "CONFIGURE FAILED; the end of its log:"
  tail -30 "$out/configure.log"
fi
echo "configure + build: $(( $(date +%s) - t0 )) s"

bin=$build
if [ $built = 0 ]; then
  if [ -x "$carry/prebuilt/cppnn_gpu_tests" ]; then
    echo "== running the carried prebuilt binaries instead (built on the developer machine)"
    bin=/tmp/cppnn-prebuilt
    rm -rf "$bin" && mkdir -p "$bin" && cp "$carry"/prebuilt/* "$bin"/
  else
    echo "no build and no prebuilt binaries: nothing to run"
    exit 1
  fi
fi

echo "== plugin"
readelf -d "$bin/libcppnn_cuda.so" | grep -E 'NEEDED|RUNPATH' | sed 's/^ *//'
echo "exported: $(nm -D --defined-only "$bin/libcppnn_cuda.so" | awk '{print $3}' | tr '\n' ' ')"

echo "== GPU suite"
timeout ${CPPNN_GPU_SUITE_TIMEOUT:-400} "$bin/cppnn_gpu_tests" --gtest_output=xml:"$out/gpu_tests.xml" 2>&1 | tee "$out/gpu_tests.log"
rc=${PIPESTATUS[0]}

# CPPNN_GPU_SANITIZE=1: the correctness tests once more under compute-sanitizer's memcheck
# (out-of-bounds and misaligned device accesses, CUDA API errors); the timing and
# out-of-memory tests are left out.
if [ "${CPPNN_GPU_SANITIZE:-0}" = 1 ] && command -v compute-sanitizer >/dev/null; then
  echo "== compute-sanitizer memcheck"
  timeout 300 compute-sanitizer --tool memcheck --error-exitcode 99 "$bin/cppnn_gpu_tests" \
    --gtest_filter='CudaMatmul.*:CudaGemm.*:CudaPlan.Mixed*:CudaPlan.Wrong*:CudaPlan.Fallback*:CudaJit.*' \
    >"$out/sanitizer.log" 2>&1
  src_rc=$?
  grep -E 'ERROR SUMMARY|^\[  (PASSED|FAILED) ' "$out/sanitizer.log" | sort -u
  echo "compute-sanitizer exit: $src_rc"
fi

echo "== summary"
grep -E '^\[ (timing|mobilenet|gelu|backend|op coverage|conv timing|model)' "$out/gpu_tests.log" || true
names() { grep -E "^\[  $1 *\] [A-Za-z]" "$out/gpu_tests.log" | sed -E 's/^\[[^]]*\] ([^ ]+).*/\1/' | sort -u; }
for t in $(names FAILED); do echo "FAILED: $t"; done
for t in $(names SKIPPED); do echo "SKIPPED: $t"; done
passed=$(grep -cE '^\[       OK \]' "$out/gpu_tests.log")
failed=$(names FAILED | wc -l)
skipped=$(names SKIPPED | wc -l)
echo "binaries: $([ $built = 1 ] && echo 'built on this machine' || echo 'carried prebuilt')"
echo "gpu suite: $passed passed, $failed failed, $skipped skipped (exit $rc)"
exit $rc
