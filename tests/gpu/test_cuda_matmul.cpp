// matmul and gemm on cuBLASLt against the CPU backend (oneDNN), and one case against a
// float64 reference written here: shapes up to BERT's, batch broadcasting, transposes,
// alpha/beta and every form of gemm's c, the bias / ReLU epilogues and split activations.
#include <optional>

#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using gpu_testing::expect_rel_close;
using testing::random_tensor;

constexpr double kFp32Tolerance = 1e-4;
constexpr double kFp16Tolerance = 4e-3;

// Runs `g` on both contexts with the same inputs and compares every output.
void expect_matches_cpu(const Graph& g, const NamedTensors& inputs, double rtol,
                        const std::string& what) {
  NamedTensors want = cpu_context().compute(g, inputs);
  NamedTensors got = cuda_context().compute(g, inputs);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, tensor] : want) expect_rel_close(got.at(name), tensor, rtol, what + " " + name);
}

uint32_t seed_counter = 100;
Tensor fresh(DataType t, const Dims& shape) { return random_tensor(t, shape, -1, 1, ++seed_counter); }

struct MatmulCase {
  Dims a, b;
};

// a is always a graph input; b an input or a constant (as weights are).
void check_matmul(DataType t, const Dims& as, const Dims& bs, bool constant_b, double rtol) {
  std::string what = std::string(to_string(t)) + " " + to_string(as) + " x " + to_string(bs) +
                     (constant_b ? " (b constant)" : " (b input)");
  SCOPED_TRACE(what);
  GraphBuilder builder;
  Operand a = builder.input("a", t, as);
  Operand b = constant_b ? builder.constant(fresh(t, bs)) : builder.input("b", t, bs);
  Graph g = builder.build({{"y", builder.matmul(a, b)}});
  // Twice with fresh inputs: the plan's buffers must not keep anything of the first run.
  for (int run = 0; run < 2; ++run) {
    NamedTensors in{{"a", fresh(t, as)}};
    if (!constant_b) in["b"] = fresh(t, bs);
    expect_matches_cpu(g, in, rtol, what);
  }
  std::string report = cuda_context().report(g);
  EXPECT_NE(report.find("[gpu] matmul"), std::string::npos) << report;
  EXPECT_NE(report.find("fallback ops: none"), std::string::npos) << report;
}

TEST(CudaMatmul, ContextIsCuda) {
  REQUIRE_CUDA();
  std::printf("[ backend  ] %s: %s\n", cuda_context().backend().c_str(),
              cuda_context().backend_reason().c_str());
}

TEST(CudaMatmul, ShapesMatchCpu) {
  REQUIRE_CUDA();
  const Dims shapes[][2] = {
      {{1, 1}, {1, 1}},        {{7, 13}, {13, 5}},        {{64, 64}, {64, 64}},
      {{257, 129}, {129, 65}}, {{128, 768}, {768, 768}},  {{128, 768}, {768, 3072}},
      {{128, 3072}, {3072, 768}}, {{3, 1000}, {1000, 1}}, {{1, 1280}, {1280, 1000}},
  };
  for (const auto& s : shapes)
    for (bool constant_b : {true, false}) check_matmul(DataType::float32, s[0], s[1], constant_b, kFp32Tolerance);
}

TEST(CudaMatmul, BatchBroadcastingMatchesCpu) {
  REQUIRE_CUDA();
  const Dims shapes[][2] = {
      {{2, 3, 17, 19}, {19, 11}},          // b shared: one tall product
      {{5, 17, 19}, {5, 19, 11}},          // plain strided batch
      {{17, 19}, {4, 19, 11}},             // a shared: stride 0
      {{2, 3, 17, 19}, {3, 19, 11}},       // looped over the outer dim, batch of 3
      {{2, 1, 17, 19}, {1, 3, 19, 11}},    // both broadcast
      {{3, 1, 2, 8, 16}, {4, 1, 16, 8}},   // rank 5, broadcast in the middle
      {{1, 128, 768}, {768, 3072}},        // BERT's FFN with its batch of one
      {{12, 128, 64}, {12, 64, 128}},      // BERT's attention scores
  };
  for (const auto& s : shapes)
    for (bool constant_b : {true, false}) check_matmul(DataType::float32, s[0], s[1], constant_b, kFp32Tolerance);
}

TEST(CudaMatmul, Float16MatchesCpu) {
  REQUIRE_CUDA();
  check_matmul(DataType::float16, {33, 64}, {64, 40}, true, kFp16Tolerance);
  check_matmul(DataType::float16, {2, 16, 32}, {2, 32, 8}, false, kFp16Tolerance);
}

// Bias + ReLU in the epilogue; checked against float64 loops, not only the CPU backend.
TEST(CudaMatmul, BiasReluEpilogueMatchesFloat64Reference) {
  REQUIRE_CUDA();
  const int64_t M = 64, K = 96, N = 48;
  Tensor a = fresh(DataType::float32, {M, K}), w = fresh(DataType::float32, {K, N}),
         bias = fresh(DataType::float32, {N});
  GraphBuilder builder;
  Operand x = builder.input("a", DataType::float32, {M, K});
  Operand y = builder.relu(builder.add(builder.matmul(x, builder.constant(w)), builder.constant(bias)));
  Graph g = builder.build({{"y", y}});
  Tensor got = cuda_context().compute(g, {{"a", a}}).at("y");
  std::vector<double> av = a.to_doubles(), wv = w.to_doubles(), bv = bias.to_doubles(), want(size_t(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = bv[size_t(n)];
      for (int64_t k = 0; k < K; ++k) s += av[size_t(m * K + k)] * wv[size_t(k * N + n)];
      want[size_t(m * N + n)] = std::max(s, 0.0);
    }
  testing::expect_close(got, want, {1e-5, 1e-4});
  std::string report = cuda_context().report(g);
  EXPECT_NE(report.find("epilogue bias+relu"), std::string::npos) << report;
  EXPECT_NE(report.find("fallback ops: none"), std::string::npos) << report;
}

// Activations cuBLASLt cannot apply exactly are split off: the product stays on the GPU.
TEST(CudaMatmul, OtherActivationsAreSplitOffAndMatchCpu) {
  REQUIRE_CUDA();
  struct Act {
    const char* op;
    std::function<Operand(GraphBuilder&, const Operand&)> apply;
  };
  const Act acts[] = {
      {"gelu", [](GraphBuilder& b, const Operand& x) { return b.gelu(x); }},
      {"sigmoid", [](GraphBuilder& b, const Operand& x) { return b.sigmoid(x); }},
      {"clamp", [](GraphBuilder& b, const Operand& x) {
         ClampOptions o;
         o.min_value = -0.5, o.max_value = 0.75;
         return b.clamp(x, o);
       }},
      {"leakyRelu", [](GraphBuilder& b, const Operand& x) {
         LeakyReluOptions o;
         o.alpha = 0.3;
         return b.leaky_relu(x, o);
       }},
  };
  for (const Act& act : acts) {
    SCOPED_TRACE(act.op);
    GraphBuilder builder;
    Operand x = builder.input("a", DataType::float32, {128, 768});
    Operand h = builder.add(builder.matmul(x, builder.constant(fresh(DataType::float32, {768, 256}))),
                            builder.constant(fresh(DataType::float32, {256})));
    Graph g = builder.build({{"y", act.apply(builder, h)}});
    expect_matches_cpu(g, {{"a", fresh(DataType::float32, {128, 768})}}, kFp32Tolerance, act.op);
    std::string report = cuda_context().report(g);
    EXPECT_NE(report.find("[gpu] matmul"), std::string::npos) << report;
    EXPECT_NE(report.find("epilogue bias"), std::string::npos) << report;
    // Split off the product, the activation runs as a generated kernel.
    EXPECT_NE(report.find(std::string("[gpu] ") + act.op + " as generated kernel"), std::string::npos) << report;
  }
}

struct GemmCase {
  const char* what;
  int64_t m, k, n;
  bool a_t, b_t;
  double alpha, beta;
  std::optional<Dims> c_shape;  // nullopt: no c
  bool c_constant;
  bool relu;
  const char* c_form;  // how the report says c enters cuBLASLt (empty: no c)
};

TEST(CudaGemm, OptionsAndCFormsMatchCpu) {
  REQUIRE_CUDA();
  const char* none = "";
  const char* matrix = "epilogue C = c";
  const char* expanded = "epilogue C = broadcast c";
  const char* bias = "epilogue bias = beta * c";
  const char* into_output = "epilogue C = c broadcast into the output";
  const GemmCase cases[] = {
      {"plain", 65, 33, 17, false, false, 1, 1, std::nullopt, false, false, none},
      {"transposes", 65, 33, 17, true, true, 1, 1, std::nullopt, false, false, none},
      {"a transposed", 40, 24, 56, true, false, 0.5, 1, std::nullopt, false, false, none},
      {"b transposed", 40, 24, 56, false, true, 1, 1, std::nullopt, false, false, none},
      {"c matrix input", 40, 24, 56, false, false, 0.5, 2, Dims{40, 56}, false, false, matrix},
      {"c matrix constant", 40, 24, 56, true, false, 1, -1.5, Dims{40, 56}, true, true, matrix},
      {"c row constant", 128, 768, 3072, false, false, 1, 1, Dims{3072}, true, false, bias},
      {"c row scaled", 31, 64, 45, false, true, 2, 0.25, Dims{1, 45}, true, true, bias},
      {"c row input", 31, 64, 45, false, false, 1, 1, Dims{45}, false, false, bias},
      {"c row input scaled", 31, 64, 45, false, false, 1, 0.5, Dims{45}, false, false, into_output},
      {"c scalar constant", 31, 64, 45, false, false, 1, 3, Dims{}, true, false, bias},
      {"c scalar input, relu", 31, 64, 45, true, false, 1, 1, Dims{}, false, true, into_output},
      {"c [1] constant", 31, 64, 45, false, false, 2, 1, Dims{1}, true, false, bias},
      {"c column constant", 31, 64, 45, false, false, 1, 0.5, Dims{31, 1}, true, false, expanded},
      {"c column input", 31, 64, 45, false, false, 1, 0.5, Dims{31, 1}, false, false, into_output},
      {"beta zero", 31, 64, 45, false, false, 1, 0, Dims{31, 45}, false, false, none},
  };
  for (const GemmCase& gc : cases) {
    SCOPED_TRACE(gc.what);
    GraphBuilder builder;
    Dims as = gc.a_t ? Dims{gc.k, gc.m} : Dims{gc.m, gc.k};
    Dims bs = gc.b_t ? Dims{gc.n, gc.k} : Dims{gc.k, gc.n};
    NamedTensors in{{"a", fresh(DataType::float32, as)}};
    Operand a = builder.input("a", DataType::float32, as);
    Operand b = builder.constant(fresh(DataType::float32, bs));
    GemmOptions o;
    o.alpha = gc.alpha, o.beta = gc.beta, o.a_transpose = gc.a_t, o.b_transpose = gc.b_t;
    if (gc.c_shape) {
      const Dims& cs = *gc.c_shape;
      if (gc.c_constant) {
        o.c = builder.constant(fresh(DataType::float32, cs));
      } else {
        o.c = builder.input("c", DataType::float32, cs);
        in["c"] = fresh(DataType::float32, cs);
      }
    }
    Operand y = builder.gemm(a, b, o);
    if (gc.relu) y = builder.relu(y);
    Graph g = builder.build({{"y", y}});
    expect_matches_cpu(g, in, kFp32Tolerance, gc.what);
    std::string report = cuda_context().report(g);
    EXPECT_NE(report.find("[gpu] gemm"), std::string::npos) << report;
    if (*gc.c_form) {
      EXPECT_NE(report.find(gc.c_form), std::string::npos) << report;
    } else {
      EXPECT_EQ(report.find("epilogue C ="), std::string::npos) << report;
      EXPECT_EQ(report.find("epilogue bias"), std::string::npos) << report;
    }
  }
}

// cuBLASLt's GELU epilogue is opt-in (CPPNN_CUDA_GELU_EPILOGUE=1) because WebNN's gelu is
// the erf form; this measures how far the epilogue is from it, for the record.
TEST(CudaMatmul, GeluEpilogueIsOptInAndMeasured) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv env("CPPNN_CUDA_GELU_EPILOGUE", "1");
  ContextOptions o;
  Context fused = Context::create(o);
  ASSERT_EQ(fused.backend(), "cuda");
  GraphBuilder builder;
  Operand x = builder.input("a", DataType::float32, {128, 768});
  Operand h = builder.add(builder.matmul(x, builder.constant(random_tensor(DataType::float32, {768, 512}, -0.1, 0.1, 7))),
                          builder.constant(fresh(DataType::float32, {512})));
  Graph g = builder.build({{"y", builder.gelu(h)}});
  NamedTensors in{{"a", fresh(DataType::float32, {128, 768})}};
  Tensor got = fused.compute(g, in).at("y"), want = cpu_context().compute(g, in).at("y");
  std::vector<double> gv = got.to_doubles(), wv = want.to_doubles();
  double worst = 0;
  for (size_t i = 0; i < wv.size(); ++i) worst = std::max(worst, std::abs(gv[i] - wv[i]));
  std::printf("[ gelu     ] cuBLASLt GELU epilogue vs erf GELU: max abs difference %.3g (rel L2 %.3g)\n",
              worst, gpu_testing::rel_l2(got, want));
  std::string report = fused.report(g);
  EXPECT_NE(report.find("epilogue bias+gelu"), std::string::npos) << report;
  EXPECT_LT(worst, 1e-2);
  fused.destroy();
}

}  // namespace
}  // namespace cppnn
