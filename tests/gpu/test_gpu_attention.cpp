// Fused attention on the GPU (compiler/fuse_attention.cpp, kernels/attention.cuh): exported
// spellings of softmax(q k^T * scale + mask) v in float16 become one kernel reading the split
// heads in place, checked against the CPU backend computing the same graph in float32 from
// the same float16 inputs (the fused kernel accumulates in float and rounds the
// probabilities to float16 once: a float16 graph on the CPU, which rounds the scores too,
// would be the less exact side). Printed beside: the unfused GPU path's error and both
// latencies.
#include <cstdio>
#include <functional>

#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using testing::random_tensor;
using testing::tensor_from_doubles;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TransposeOptions perm(std::vector<uint32_t> p) {
  TransposeOptions o;
  o.permutation = std::move(p);
  return o;
}

struct Shape {
  uint32_t batch = 2, heads = 4, sq = 64, sk = 64, d = 64;
};

// gpt2_masked_fill: where(not_causal, -inf, scores) with a constant [1, 1, sq, sk] table;
// gpt2_additive: scores + a constant 0 / -inf bias sliced from a 1024 x 1024 table
// (bench_gpu.py --gpt2-mask add). Both with the past sk - sq: query q sees keys up to
// q + sk - sq. The plan recognizes both as causal (fuse_attention.cpp) and drops the mask.
enum class Spelling { bert, sdpa, whisper_cross, gpt2_masked_fill, gpt2_additive };

// q [b, sq, h, d], k and v [b, sk, h, d], mask [b, 1, 1 or sq, sk] (all float16 inputs),
// computed in `type`; output [b, sq, h * d].
Graph attention_graph(const Shape& s, Spelling sp, DataType type, bool mask_per_query) {
  GraphBuilder g;
  auto in = [&](const char* name, Dims shape) {
    Operand x = g.input(name, DataType::float16, shape);
    return type == DataType::float16 ? x : g.cast(x, type);
  };
  Operand q4 = in("q", {s.batch, s.sq, s.heads, s.d});
  Operand k4 = in("k", {s.batch, s.sk, s.heads, s.d});
  Operand v4 = in("v", {s.batch, s.sk, s.heads, s.d});
  Operand q = g.transpose(q4, perm({0, 2, 1, 3}));
  Operand v = g.transpose(v4, perm({0, 2, 1, 3}));
  Operand scores;
  double scale = 1.0 / std::sqrt(double(s.d));
  if (sp == Spelling::sdpa) {
    Operand c = g.constant(type, std::sqrt(scale));
    Operand kt = g.transpose(g.transpose(k4, perm({0, 2, 1, 3})), perm({0, 1, 3, 2}));
    scores = g.matmul(g.mul(q, c), g.mul(kt, c));
  } else {
    scores = g.div(g.matmul(q, g.transpose(k4, perm({0, 2, 3, 1}))), g.constant(type, 1.0 / scale));
  }
  if (sp == Spelling::gpt2_masked_fill) {
    // masked_fill(~causal, -inf) as exported: where(not_causal, -inf, scores).
    std::vector<uint8_t> c(size_t(s.sq) * s.sk);
    for (uint32_t i = 0; i < s.sq; ++i)
      for (uint32_t k = 0; k < s.sk; ++k) c[size_t(i) * s.sk + k] = uint8_t(k > i + (s.sk - s.sq));
    Operand cond = g.constant(DataType::uint8, {1, 1, s.sq, s.sk}, c.data(), c.size());
    scores = g.where(cond, g.constant(type, -INFINITY), scores);
  } else if (sp == Spelling::gpt2_additive) {
    const uint32_t n = 1024;
    std::vector<double> bias(size_t(n) * n);
    for (uint32_t i = 0; i < n; ++i)
      for (uint32_t k = 0; k < n; ++k) bias[size_t(i) * n + k] = k <= i ? 0.0 : -INFINITY;
    Operand table = g.constant(tensor_from_doubles(type, {1, 1, n, n}, bias));
    scores = g.add(scores, g.slice(table, {0, 0, s.sk - s.sq, 0}, {1, 1, s.sq, s.sk}));
  } else if (sp != Spelling::whisper_cross) {
    scores = g.add(scores, in("mask", {s.batch, 1, mask_per_query ? s.sq : 1, s.sk}));
  }
  Operand p = g.softmax(scores, 3);
  if (sp == Spelling::sdpa) p = g.where(g.is_nan(p), g.constant(type, 0.0), p);
  Operand out = g.transpose(g.matmul(p, v), perm({0, 2, 1, 3}));
  return g.build({{"y", g.reshape(out, {s.batch, s.sq, s.heads * s.d})}});
}

NamedTensors inputs(const Shape& s, Spelling sp, bool mask_per_query, int masked_keys, bool all_masked_row,
                    uint32_t seed) {
  NamedTensors in{{"q", random_tensor(DataType::float16, {s.batch, s.sq, s.heads, s.d}, -2, 2, seed)},
                  {"k", random_tensor(DataType::float16, {s.batch, s.sk, s.heads, s.d}, -2, 2, seed + 1)},
                  {"v", random_tensor(DataType::float16, {s.batch, s.sk, s.heads, s.d}, -1, 1, seed + 2)}};
  if (sp == Spelling::whisper_cross || sp == Spelling::gpt2_masked_fill || sp == Spelling::gpt2_additive)
    return in;
  uint32_t rows = mask_per_query ? s.sq : 1;
  std::vector<double> m(size_t(s.batch) * rows * s.sk, 0.0);
  for (uint32_t b = 0; b < s.batch; ++b)
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t k = 0; k < s.sk; ++k) {
        double v = mask_per_query ? double((r * 7 + k * 3) % 5) - 2.0 : 0.0;
        if (int(k) >= int(s.sk) - masked_keys) v = -10000.0;
        if (all_masked_row && b == 0 && r == 1) v = -INFINITY;
        m[(size_t(b) * rows + r) * s.sk + k] = v;
      }
  in.emplace("mask", tensor_from_doubles(DataType::float16, {s.batch, 1, rows, s.sk}, m));
  return in;
}

struct Case {
  std::string name;
  Shape shape;
  Spelling spelling = Spelling::bert;
  bool mask_per_query = false;
  int masked_keys = 0;
  bool all_masked_row = false;
  std::string expect_mask;  // in the report's attention line, e.g. "causal (offset 0)"
};

void check(const Case& c) {
  SCOPED_TRACE(c.name);
  Graph fused = attention_graph(c.shape, c.spelling, DataType::float16, c.mask_per_query);
  Graph reference = attention_graph(c.shape, c.spelling, DataType::float32, c.mask_per_query);
  NamedTensors in = inputs(c.shape, c.spelling, c.mask_per_query, c.masked_keys, c.all_masked_row, 7);
  Tensor got = cuda_context().compute(fused, in).at("y");
  Tensor want = cpu_context().compute(reference, in).at("y");  // float32
  got = tensor_from_doubles(DataType::float32, got.shape(), got.to_doubles());
  std::string report = cuda_context().report(fused);
  EXPECT_TRUE(contains(report, "[gpu] attention")) << report;
  EXPECT_TRUE(contains(report, "fused cuda kernel")) << report;
  EXPECT_FALSE(contains(report, "softmax")) << report;
  EXPECT_FALSE(contains(report, "] transpose")) << report;
  if (!c.expect_mask.empty()) {
    EXPECT_TRUE(contains(report, c.expect_mask)) << report;
  }
  // float16 output of sums of up to sk terms with probabilities rounded to float16.
  gpu_testing::expect_rel_close(got, want, 1e-2, c.name);
  double fused_err = gpu_testing::rel_l2(got, want);
  Context unfused_ctx = [] {
    gpu_testing::ScopedEnv off("CPPNN_CUDA_FUSED_ATTENTION", "0");
    ContextOptions o;
    o.power_preference = PowerPreference::high_performance;
    return Context::create(o);
  }();
  Tensor unfused = unfused_ctx.compute(fused, in).at("y");
  unfused = tensor_from_doubles(DataType::float32, unfused.shape(), unfused.to_doubles());
  EXPECT_FALSE(contains(unfused_ctx.report(fused), "[gpu] attention"));
  double unfused_err = gpu_testing::rel_l2(unfused, want);
  double t_fused = gpu_testing::median_ms([&] { cuda_context().compute(fused, in); }, 3, 15);
  double t_unfused = gpu_testing::median_ms([&] { unfused_ctx.compute(fused, in); }, 3, 15);
  std::printf("[ attention ] %-52s rel L2 fused %.2e unfused %.2e; compute() %.3f ms fused, %.3f ms unfused\n",
              c.name.c_str(), fused_err, unfused_err, t_fused, t_unfused);
  EXPECT_LE(fused_err, 2e-3);
  unfused_ctx.destroy();
}

TEST(GpuAttention, BertPaddingMask) {
  REQUIRE_CUDA();
  Case c;
  c.name = "BERT: b2 h12 s128 d64, padding mask (8 keys)";
  c.shape = {2, 12, 128, 128, 64}, c.masked_keys = 8;
  check(c);
  c.name = "BERT batch 32";
  c.shape.batch = 32;
  check(c);
}

TEST(GpuAttention, SdpaOddLengthsAndMaskedRows) {
  REQUIRE_CUDA();
  Case c;
  c.name = "SDPA: b2 h4 s77 d32, mask per query, a row all -inf";
  c.shape = {2, 4, 77, 77, 32}, c.spelling = Spelling::sdpa, c.mask_per_query = true, c.all_masked_row = true;
  check(c);
  c.name = "SDPA: b1 h2 s200 d128, mask per query";
  c.shape = {1, 2, 200, 200, 128}, c.all_masked_row = false, c.masked_keys = 70;
  check(c);
}

TEST(GpuAttention, Gpt2CausalMaskedFill) {
  REQUIRE_CUDA();
  Case c;
  c.name = "GPT-2 prefill: b1 h12 s512 d64, causal masked_fill";
  c.shape = {1, 12, 512, 512, 64}, c.spelling = Spelling::gpt2_masked_fill;
  c.expect_mask = "fused cuda kernel, float16, causal (offset 0)";
  check(c);
  c.name = "GPT-2 decode: b1 h12 one query over 512 keys";
  c.shape = {1, 12, 1, 512, 64}, c.expect_mask = "causal (offset 511)";
  check(c);
}

// The causal kernel (p.causal: the key tiles past a query block's diagonal skipped, the
// diagonal masked from indices) against the CPU's unfused graph with the mask.
TEST(GpuAttention, Gpt2CausalPrefill) {
  REQUIRE_CUDA();
  Case c;
  c.name = "GPT-2 prefill: b1 h12 s512 d64, additive bias sliced from 1024 x 1024";
  c.shape = {1, 12, 512, 512, 64}, c.spelling = Spelling::gpt2_additive;
  c.expect_mask = "fused cuda kernel, float16, causal (offset 0)";
  check(c);
  c.name = "b2 h4 s77 d128 (not a multiple of the tiles), masked_fill";
  c.shape = {2, 4, 77, 77, 128}, c.spelling = Spelling::gpt2_masked_fill;
  check(c);
  c.name = "prefill 100 after a past of 300, additive";
  c.shape = {1, 12, 100, 400, 64}, c.spelling = Spelling::gpt2_additive, c.expect_mask = "causal (offset 300)";
  check(c);
  c.name = "prefill 20 after a past of 700 (keys split), masked_fill";
  c.shape = {1, 12, 20, 720, 64}, c.spelling = Spelling::gpt2_masked_fill, c.expect_mask = "causal (offset 700)";
  check(c);
  c.name = "GPT-2 prefill batch 8, s512";
  c.shape = {8, 12, 512, 512, 64}, c.expect_mask = "causal (offset 0)";
  check(c);
}

// BERT's separate q, k and v projections (constant weights and biases) become one GEMM
// (merge_projections.cpp) whose output the fused kernel reads in place, through column
// offsets: no split, no transpose left. Against the CPU's unmerged float32 graph.
// whisper: q times 64^-0.5 after its projection (folded into the merged weights), k
// without a bias, no mask, the scores unscaled.
Graph projected_attention_graph(uint32_t batch, uint32_t seq, DataType type, bool whisper = false) {
  const uint32_t heads = 12, d = 64, c = heads * d;
  GraphBuilder g;
  auto f16 = [&](const Tensor& t) {
    Operand x = g.constant(t);
    return type == DataType::float16 ? x : g.cast(x, type);
  };
  Operand x = g.input("x", DataType::float16, {batch, seq, c});
  if (type != DataType::float16) x = g.cast(x, type);
  Operand mask = whisper ? Operand() : g.input("mask", DataType::float16, {batch, 1, 1, seq});
  if (!whisper && type != DataType::float16) mask = g.cast(mask, type);
  Operand heads4[3];
  for (uint32_t i = 0; i < 3; ++i) {
    Operand y = g.matmul(x, f16(random_tensor(DataType::float16, {c, c}, -0.05, 0.05, 40 + i)));
    if (!(whisper && i == 1)) y = g.add(y, f16(random_tensor(DataType::float16, {c}, -0.5, 0.5, 50 + i)));
    if (whisper && i == 0) y = g.mul(y, g.constant(type, 0.125));
    heads4[i] = g.reshape(y, {batch, seq, heads, d});
  }
  Operand q = g.transpose(heads4[0], perm({0, 2, 1, 3}));
  Operand kt = g.transpose(heads4[1], perm({0, 2, 3, 1}));
  Operand v = g.transpose(heads4[2], perm({0, 2, 1, 3}));
  Operand s = whisper ? g.matmul(q, kt) : g.add(g.div(g.matmul(q, kt), g.constant(type, 8.0)), mask);
  Operand out = g.transpose(g.matmul(g.softmax(s, 3), v), perm({0, 2, 1, 3}));
  return g.build({{"y", g.reshape(out, {batch, seq, c})}});
}

TEST(GpuAttention, BertProjectionsMergedAndReadInPlace) {
  REQUIRE_CUDA();
  for (uint32_t batch : {1u, 32u}) {
    const uint32_t seq = 128;
    Graph fused = projected_attention_graph(batch, seq, DataType::float16);
    Graph reference = projected_attention_graph(batch, seq, DataType::float32);
    std::vector<double> m(size_t(batch) * seq, 0.0);
    for (size_t i = 0; i < m.size(); ++i) m[i] = i % seq >= seq - 8 ? -10000.0 : 0.0;
    NamedTensors in{{"x", random_tensor(DataType::float16, {batch, seq, 768}, -1, 1, 3)},
                    {"mask", tensor_from_doubles(DataType::float16, {batch, 1, 1, seq}, m)}};
    Tensor got = cuda_context().compute(fused, in).at("y");
    Tensor want = cpu_context().compute(reference, in).at("y");
    got = tensor_from_doubles(DataType::float32, got.shape(), got.to_doubles());
    std::string report = cuda_context().report(fused);
    EXPECT_TRUE(contains(report, "[gpu] attention")) << report;
    EXPECT_FALSE(contains(report, "] split")) << report;
    EXPECT_FALSE(contains(report, "] transpose")) << report;
    gpu_testing::expect_rel_close(got, want, 1e-2, "merged projections");
    double err = gpu_testing::rel_l2(got, want);
    double t = gpu_testing::median_ms([&] { cuda_context().compute(fused, in); }, 3, 15);
    std::printf("[ attention ] BERT-base layer's attention, b%u s128, merged q/k/v: rel L2 %.2e, %.3f ms\n",
                batch, err, t);
    EXPECT_LE(err, 2e-3);
  }
}

TEST(GpuAttention, WhisperProjectionsScaledQMergedAndReadInPlace) {
  REQUIRE_CUDA();
  const uint32_t batch = 2, seq = 200;
  Graph fused = projected_attention_graph(batch, seq, DataType::float16, true);
  Graph reference = projected_attention_graph(batch, seq, DataType::float32, true);
  NamedTensors in{{"x", random_tensor(DataType::float16, {batch, seq, 768}, -1, 1, 5)}};
  Tensor got = cuda_context().compute(fused, in).at("y");
  Tensor want = cpu_context().compute(reference, in).at("y");
  got = tensor_from_doubles(DataType::float32, got.shape(), got.to_doubles());
  std::string report = cuda_context().report(fused);
  EXPECT_TRUE(contains(report, "[gpu] attention")) << report;
  EXPECT_FALSE(contains(report, "] split")) << report;
  EXPECT_FALSE(contains(report, "] mul")) << report;
  gpu_testing::expect_rel_close(got, want, 1e-2, "whisper projections");
  EXPECT_LE(gpu_testing::rel_l2(got, want), 2e-3);
}

TEST(GpuAttention, CrossAttentionWithoutMask) {
  REQUIRE_CUDA();
  Case c;
  c.name = "cross: b1 h8 sq50 sk300 d64, no mask";
  c.shape = {1, 8, 50, 300, 64}, c.spelling = Spelling::whisper_cross;
  check(c);
  c.name = "Whisper-base encoder: b1 h8 s1500 d64, no mask";
  c.shape = {1, 8, 1500, 1500, 64};
  check(c);
  c.name = "head dim 80";
  c.shape = {1, 4, 65, 129, 80};
  check(c);
}

}  // namespace
}  // namespace cppnn
