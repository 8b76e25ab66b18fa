// bfloat16 precision on the GPU: a bfloat16 engine (float32 interface, bfloat16 inside)
// computed by the CUDA backend against the CPU backend. On the device: the generated
// element-wise kernels (bfloat16 loads, stores and roundings, bit-identical to the CPU's),
// matmul / gemm on cuBLASLt (CUDA_R_16BF, float32 compute), conv2d / convTranspose2d on
// cuDNN (CUDNN_DATA_BFLOAT16, float accumulation; our own conv and GEMM kernels stay off),
// softmax and layerNormalization on the row kernels (statistics in float32), the movement
// and gather steps that move bytes (reshape, transpose, slice, concat, gather...); every
// other node on bfloat16 operands (pooling, pad, resample...) takes the CPU fallback
// (decide_on_device), which computes it in float32 exactly as the CPU backend does. The
// report is printed.
//
// Tolerances: bfloat16 keeps 8 significant bits (2^-9 relative per rounding). Against the
// CPU computing the *same* bfloat16 engine, the GPU differs only by float32 summation order
// in the GEMMs, which may flip a bfloat16 rounding: relative L2 < 1e-2. Against the float32
// model (what bfloat16 costs in accuracy): relative L2 < 2e-2, about 2.5x what the CPU
// measures for the same engines (tests/unit/test_precision_bfloat16.cpp: MobileNetV2
// 8.1e-3; the block below 4.5e-3), and the same top-1 class for MobileNetV2.
#include <cstdio>
#include <filesystem>

#include "cppnn/engine.h"
#include "cppnn/onnx.h"
#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using testing::random_tensor;

constexpr DataType f32 = DataType::float32;

Engine build_bf16(const Graph& g) {
  EngineBuildOptions o;
  o.precision = Precision::bfloat16;
  return Engine::from_bytes(Engine::build(g, o).to_bytes());  // through the file
}

size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// A BERT-style encoder layer (hidden 256, 4 heads of 64, FFN 1024) with an additive mask
// built as BERT's (1 - mask) * float32-lowest: matmuls, gelu, softmax, layer norms and
// residual adds, the head split and merge.
struct Block {
  Graph graph;
  NamedTensors inputs;
};

Block bert_block(uint32_t batch, uint32_t seq) {
  const uint32_t hidden = 256, heads = 4, dh = 64, ffn = 1024;
  GraphBuilder b;
  Operand x = b.input("x", f32, {batch, seq, hidden});
  Operand mask = b.input("mask", f32, {batch, 1, 1, seq});
  uint32_t seed = 100;
  auto weight = [&](Dims shape, double scale) { return b.constant(random_tensor(f32, shape, -scale, scale, seed++)); };
  auto dense = [&](Operand in, uint32_t k, uint32_t n) {
    return b.add(b.matmul(in, weight({k, n}, 1.0 / std::sqrt(double(k)))), weight({n}, 0.1));
  };
  auto norm = [&](Operand in) {
    LayerNormalizationOptions o;
    o.axes = std::vector<uint32_t>{2};
    o.scale = b.constant(random_tensor(f32, {hidden}, 0.8, 1.2, seed++));
    o.bias = weight({hidden}, 0.1);
    return b.layer_normalization(in, o);
  };
  auto split_heads = [&](Operand in) {  // [b, s, h*d] -> [b, h, s, d]
    TransposeOptions t;
    t.permutation = std::vector<uint32_t>{0, 2, 1, 3};
    return b.transpose(b.reshape(in, {batch, seq, heads, dh}), t);
  };
  Operand q = split_heads(dense(x, hidden, hidden)), v = split_heads(dense(x, hidden, hidden));
  TransposeOptions kt;
  kt.permutation = std::vector<uint32_t>{0, 2, 3, 1};
  Operand k = b.transpose(b.reshape(dense(x, hidden, hidden), {batch, seq, heads, dh}), kt);
  Operand lowest = b.constant(Tensor::from<float>(f32, {1}, {-3.4028234e38f}));
  Operand one = b.constant(Tensor::from<float>(f32, {1}, {1.0f}));
  Operand scores = b.add(b.div(b.matmul(q, k), b.constant(f32, 8.0)), b.mul(b.sub(one, mask), lowest));
  Operand context = b.matmul(b.softmax(scores, 3), v);  // [b, h, s, d]
  TransposeOptions merge;
  merge.permutation = std::vector<uint32_t>{0, 2, 1, 3};
  Operand merged = b.reshape(b.transpose(context, merge), {batch, seq, hidden});
  Operand h = norm(b.add(x, dense(merged, hidden, hidden)));
  Operand out = norm(b.add(h, dense(b.gelu(dense(h, hidden, ffn)), ffn, hidden)));
  Block blk;
  blk.graph = b.build({{"out", out}});
  std::vector<float> m(size_t(batch) * seq, 1.0f);
  for (uint32_t s = seq - seq / 4; s < seq; ++s) m[size_t(batch - 1) * seq + s] = 0.0f;  // padding
  blk.inputs = {{"x", random_tensor(f32, {batch, seq, hidden}, -1, 1, 7)},
                {"mask", Tensor::from<float>(f32, {batch, 1, 1, seq}, m)}};
  return blk;
}

TEST(CudaBfloat16, BertBlockEngineMatchesTheCpu) {
  REQUIRE_CUDA();
  Block blk = bert_block(2, 128);
  Engine e = build_bf16(blk.graph);
  Tensor gpu = cuda_context().compute(e.graph(), blk.inputs).at("out");
  Tensor cpu = cpu_context().compute(e.graph(), blk.inputs).at("out");
  Tensor exact = cpu_context().compute(blk.graph, blk.inputs).at("out");
  double vs_cpu = gpu_testing::rel_l2(gpu, cpu), vs_fp32 = gpu_testing::rel_l2(gpu, exact);
  double cpu_vs_fp32 = gpu_testing::rel_l2(cpu, exact);
  std::string report = cuda_context().report(e.graph());
  std::printf("[ bf16     ] BERT block: gpu vs cpu bf16 %.2e, gpu vs fp32 %.2e (cpu bf16 vs fp32 %.2e); "
              "%zu cuBLASLt bf16 steps, %zu cpu fallback steps\n%s\n",
              vs_cpu, vs_fp32, cpu_vs_fp32, count_of(report, "cuBLASLt bf16"),
              count_of(report, "cpu fallback"), report.c_str());
  EXPECT_LT(vs_cpu, 1e-2);
  EXPECT_LT(vs_fp32, 2e-2);
  EXPECT_GT(vs_fp32, 1e-5) << "float32-exact: the engine did not compute in bfloat16";
  // The matmuls run on cuBLASLt in bfloat16, never as float16; softmax and the layer norms
  // on the device.
  EXPECT_GE(count_of(report, "cuBLASLt bf16"), 4u) << report;
  EXPECT_GE(count_of(report, "cuda kernel, bfloat16"), 3u) << report;
  // (The CPU fallback steps are printed above, not asserted: a cuBLASLt epilogue that does
  // not take bfloat16, say, sends its node there, correctly. None is expected.)
  EXPECT_EQ(count_of(report, "fp16"), 0u) << report;
  double ms = gpu_testing::median_ms([&] { cuda_context().compute(e.graph(), blk.inputs); }, 3, 20);
  std::printf("[ bf16     ] BERT block batch 2 seq 128: %.3f ms per compute (printed, not asserted)\n", ms);
}

TEST(CudaBfloat16, ContextPrecisionLowersAsTheEngineDoes) {
  REQUIRE_CUDA();
  Block blk = bert_block(1, 64);
  ContextOptions o;
  o.power_preference = PowerPreference::high_performance;
  o.precision = Precision::bfloat16;
  Context c = Context::create(o);
  EXPECT_EQ(c.precision(), Precision::bfloat16);
  std::string report = c.report(blk.graph);
  EXPECT_NE(report.find("precision bfloat16"), std::string::npos) << report.substr(0, 400);
  Tensor direct = c.compute(blk.graph, blk.inputs).at("out");
  Tensor engine = cuda_context().compute(build_bf16(blk.graph).graph(), blk.inputs).at("out");
  EXPECT_LT(gpu_testing::rel_l2(direct, engine), 1e-6) << "the context and the engine lower differently";
  c.destroy();
}

TEST(CudaBfloat16, MobileNetV2EngineMatchesTheCpu) {
  REQUIRE_CUDA();
  std::string path = gpu_testing::models_dir() + "/mobilenet_v2.onnx";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is missing (CPPNN_MODELS_DIR)";
  Graph g = load_onnx(path);
  Tensor x(f32, {1, 3, 224, 224});
  for (size_t i = 0; i < x.element_count(); ++i) x.data_as<float>()[i] = float(std::sin(double(i) * 0.001));
  NamedTensors in{{"input.1", x}};
  Engine e = build_bf16(g);
  Tensor gpu = cuda_context().compute(e.graph(), in).at("536");
  Tensor cpu = cpu_context().compute(e.graph(), in).at("536");
  Tensor exact = cpu_context().compute(g, in).at("536");
  double vs_cpu = gpu_testing::rel_l2(gpu, cpu), vs_fp32 = gpu_testing::rel_l2(gpu, exact);
  std::string report = cuda_context().report(e.graph());
  std::printf("[ bf16     ] MobileNetV2: gpu vs cpu bf16 %.2e, gpu vs fp32 %.2e; %zu cuDNN bf16 convs, "
              "%zu cpu fallback steps\n%s\n",
              vs_cpu, vs_fp32, count_of(report, "cuDNN bf16"), count_of(report, "cpu fallback"),
              report.c_str());
  EXPECT_GE(count_of(report, "cuDNN bf16"), 1u) << "no convolution ran on cuDNN in bfloat16";
  EXPECT_LT(vs_cpu, 1e-2);
  EXPECT_LT(vs_fp32, 2e-2);
  std::vector<double> gv = gpu.to_doubles(), wv = exact.to_doubles();
  EXPECT_EQ(std::max_element(gv.begin(), gv.end()) - gv.begin(), std::max_element(wv.begin(), wv.end()) - wv.begin());
  EXPECT_EQ(count_of(report, "fp16"), 0u) << report;
  double ms = gpu_testing::median_ms([&] { cuda_context().compute(e.graph(), in); }, 3, 20);
  std::printf("[ bf16     ] MobileNetV2 batch 1: %.3f ms per compute (printed, not asserted)\n", ms);
}

}  // namespace
}  // namespace cppnn
