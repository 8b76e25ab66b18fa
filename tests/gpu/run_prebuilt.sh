#!/usr/bin/env bash
# The GPU suite from binaries built on the developer machine and carried in carry/prebuilt
# (cppnn_gpu_tests, libcppnn.so, libcppnn_cuda.so, cppnn; configure with
# -DCPPNN_BUILD_GPU_TESTS=ON -DCMAKE_CUDA_ARCHITECTURES=90-real), no build here: about 40 s
# of device time instead of several minutes.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
carry=$(cd "$src/.." && pwd)
prefix=/tmp/cppnn-deps; out=${OUT:-/tmp/out}; mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
rm -rf "$prefix" && mkdir -p "$prefix" && for d in "$carry"/debs/*.deb; do dpkg -x "$d" "$prefix"; done
cudnn=$(bash "$src/tests/gpu/find_cudnn.sh")
export LD_LIBRARY_PATH=$cudnn:$prefix/usr/lib/x86_64-linux-gnu:$prefix/usr/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
export CPPNN_MODELS_DIR=${CPPNN_MODELS_DIR:-$carry/models}
bin=/tmp/pre && rm -rf $bin && cp -r "$carry/prebuilt" $bin && chmod +x $bin/*
ldd $bin/libcppnn_cuda.so | grep -E "cudnn|cppnn|not found"
cd $bin && timeout ${SUITE_TIMEOUT:-330} ./cppnn_gpu_tests --gtest_output=xml:"$out/gpu_tests.xml" > "$out/gpu_tests.log" 2>&1
echo "suite exit $?"
grep -E "^\[  (PASSED|FAILED) |^\[  FAILED  \]|op coverage|tests ran|SKIPPED" "$out/gpu_tests.log" | head -40
$bin/cppnn run "$carry/models/mobilenet_v2.onnx" --iterations 50 2>&1 | grep -E "device|median" | head -4
$bin/cppnn run "$carry/models/mobilenet_v2.onnx" --iterations 50 --precision float16 2>&1 | grep -E "device|median" | head -4
