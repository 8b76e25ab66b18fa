#!/usr/bin/env bash
# Start-up and new-shape costs on the GPU machine, from prebuilt binaries (the carry of
# tests/gpu/run_prebuilt.sh: carry/prebuilt with cppnn_gpu_tests, libcppnn.so,
# libcppnn_cuda.so, cppnn; carry/debs; carry/models with make_models_onnx.py and
# mobilenet_v2.onnx). What bench/results/gpu_new_shape.txt holds:
#   - the dynamic-shape GPU test with CPPNN_CUDA_BUILD_LOG=1: the first compute at each new
#     shape of a BERT-base profile engine, each plan's build phases, each capture's time;
#   - cold / warm / warm again `cppnn run` of float16 engines (MobileNetV2, ResNet-50,
#     BERT-base) in fresh processes, with each plan's build line and phases;
#   - their latency, and, with BASE=folder (an older build's cppnn, libcppnn.so and
#     libcppnn_cuda.so), the same for that build, interleaved.
#
#   cd carry/cuda-src && bash bench/gpu/run_startup_probe.sh            # in a device call
#   BASE=/tmp/base bash bench/gpu/run_startup_probe.sh
#
# Writes $OUT/dyn.log and $OUT/startup.log (and prints the summary lines).
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
carry=$(cd "$src/.." && pwd)
out=${OUT:-/tmp/cppnn-probe-out}; mkdir -p "$out"
prefix=/tmp/cppnn-deps
mkdir -p $prefix; [ -d $prefix/usr ] || for d in "$carry"/debs/*.deb; do dpkg -x "$d" "$prefix"; done
cudnn=$(bash "$src/tests/gpu/find_cudnn.sh")
export LD_LIBRARY_PATH=$cudnn:$prefix/usr/lib/x86_64-linux-gnu:$prefix/usr/lib:/usr/local/cuda/lib64
new=/tmp/pre; [ -x $new/cppnn ] || { rm -rf $new && cp -r "$carry/prebuilt" $new && chmod +x $new/*; }
models=/tmp/probe-models; mkdir -p $models
[ -f $models/bert_base.onnx ] || python3 "$carry/models/make_models_onnx.py" $models --models resnet50,bert_base > /dev/null 2>&1
cp "$carry/models/mobilenet_v2.onnx" $models/
builds="new"; [ -n "${BASE:-}" ] && builds="base new"
bin_of() { [ "$1" = new ] && echo $new || echo "$BASE"; }

echo "== dynamic shapes (new build)"
(cd $new && CPPNN_MODELS_DIR=$models CPPNN_CUDA_BUILD_LOG=1 timeout 240 ./cppnn_gpu_tests \
   --gtest_filter='DynamicShapesGpu.*' > "$out/dyn.log" 2>&1; echo "exit $?")
grep -E "^\[ dynamic|PASSED|FAILED" "$out/dyn.log"

: > "$out/startup.log"
for m in mobilenet_v2 resnet50 bert_base; do
  for b in $builds; do
    bin=$(bin_of $b)
    $bin/cppnn build $models/$m.onnx -o $models/$m.$b.cppnn --precision float16 > /dev/null 2>&1 || echo "build $m $b failed"
    rm -rf /tmp/probe-cache-$m.$b
    for i in cold warm warm2; do
      echo "== $m $b $i" | tee -a "$out/startup.log"
      CPPNN_CUDA_BUILD_LOG=1 CPPNN_CACHE_DIR=/tmp/probe-cache-$m.$b LD_LIBRARY_PATH=$bin:$LD_LIBRARY_PATH \
        $bin/cppnn run $models/$m.$b.cppnn --iterations 5 >> "$out/startup.log" 2>&1
      tail -n 40 "$out/startup.log" | grep -E "^compile|^first|cppnn cuda: plan built|^build phases" | tail -4 | cut -c1-600
    done
  done
  echo "== $m latency, float16 engine, warm cache, interleaved"
  for r in 1 2; do for b in $builds; do
    bin=$(bin_of $b)
    echo -n "$b: "
    CPPNN_CACHE_DIR=/tmp/probe-cache-$m.$b LD_LIBRARY_PATH=$bin:$LD_LIBRARY_PATH $bin/cppnn run \
      $models/$m.$b.cppnn --iterations 300 --warmup 30 2>&1 | grep -E "^latency"
  done; done
done
