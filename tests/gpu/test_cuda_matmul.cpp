// matmul and gemm on cuBLASLt against the CPU backend (oneDNN), and one case against a
// float64 reference written here: shapes up to BERT's, batch broadcasting, transposes,
// alpha/beta and every form of gemm's c, the bias / ReLU epilogues and split activations.
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::expect_rel_close;
using testing::random_tensor;

constexpr double kFp32Tolerance = 1e-4;
constexpr double kFp16Tolerance = 4e-3;

// Contexts made under this file's switches (see switched_cuda_context).
Context& cuda_context() { return gpu_testing::switched_cuda_context({"CPPNN_CUDA_OWN_KERNELS"}); }

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
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  std::printf("[ backend  ] %s: %s\n", cuda_context().backend().c_str(),
              cuda_context().backend_reason().c_str());
}

TEST(CudaMatmul, ShapesMatchCpu) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
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
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
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
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
  check_matmul(DataType::float16, {33, 64}, {64, 40}, true, kFp16Tolerance);
  check_matmul(DataType::float16, {2, 16, 32}, {2, 32, 8}, false, kFp16Tolerance);
}

// Bias + ReLU in the epilogue; checked against float64 loops, not only the CPU backend.
TEST(CudaMatmul, BiasReluEpilogueMatchesFloat64Reference) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
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
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
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
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
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

// Our own kernels (CPPNN_CUDA_OWN_KERNELS=only) on matmul: the values against the CPU
// backend, and the report names the kernel, or cuBLASLt where ours do not take the problem.
void check_own_matmul(DataType t, const Dims& as, const Dims& bs, bool constant_b, const char* expect) {
  gpu_testing::ScopedEnv own("CPPNN_CUDA_OWN_KERNELS", "only");
  check_matmul(t, as, bs, constant_b, t == DataType::float16 ? kFp16Tolerance : kFp32Tolerance);
  GraphBuilder builder;
  Operand a = builder.input("a", t, as);
  Operand b = constant_b ? builder.constant(fresh(t, bs)) : builder.input("b", t, bs);
  std::string report = cuda_context().report(builder.build({{"y", builder.matmul(a, b)}}));
  EXPECT_NE(report.find(expect), std::string::npos)
      << to_string(as) << " x " << to_string(bs) << ": " << report;
}

TEST(OwnGemm, MatmulMatchesCpu) {
  REQUIRE_CUDA();
  const char* simt = "own fp32 kernel";
  const char* tensor = "own tensor-core kernel";
  const char* lt = "cuBLASLt";
  for (bool constant_b : {true, false}) {
    check_own_matmul(DataType::float32, {7, 13}, {13, 5}, constant_b, simt);
    check_own_matmul(DataType::float32, {1, 1280}, {1280, 1000}, constant_b, simt);  // a classifier
    check_own_matmul(DataType::float32, {12, 128, 64}, {12, 64, 128}, constant_b, simt);  // attention
    check_own_matmul(DataType::float32, {2, 3, 17, 19}, {19, 11}, constant_b, simt);  // b shared
    check_own_matmul(DataType::float32, {17, 19}, {4, 19, 11}, constant_b, simt);     // a shared
    check_own_matmul(DataType::float32, {2, 3, 17, 19}, {3, 19, 11}, constant_b, lt);  // two calls
  }
  check_own_matmul(DataType::float16, {33, 64}, {64, 40}, true, tensor);
  check_own_matmul(DataType::float16, {128, 768}, {768, 3072}, true, tensor);
  check_own_matmul(DataType::float16, {2, 3, 17, 24}, {24, 10}, true, tensor);  // b shared
  check_own_matmul(DataType::float16, {33, 64}, {64, 40}, false, tensor);  // b computed: read as [k, n]
  check_own_matmul(DataType::float16, {2, 16, 32}, {2, 32, 8}, false, tensor);  // a batch of b
  check_own_matmul(DataType::float16, {12, 128, 64}, {12, 64, 128}, false, tensor);  // attention scores
  check_own_matmul(DataType::float16, {17, 24}, {4, 24, 10}, false, tensor);  // a shared
  check_own_matmul(DataType::float16, {33, 60}, {60, 40}, true, tensor);  // k % 8: gathered
  check_own_matmul(DataType::float16, {33, 64}, {64, 41}, true, lt);      // an odd n
}

TEST(OwnGemm, GemmAndEpiloguesMatchCpu) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv own("CPPNN_CUDA_OWN_KERNELS", "only");
  struct Case {
    const char* what;
    DataType type;
    bool b_t, b_constant;
    std::optional<Dims> c;
    double alpha;
    bool relu;
    const char* expect;
  };
  const Case cases[] = {
      {"fp32 b^T constant", DataType::float32, true, true, std::nullopt, 1, false, "own fp32 kernel"},
      {"fp32 b^T input", DataType::float32, true, false, std::nullopt, 1, false, "cuBLASLt"},
      {"fp32 bias row relu", DataType::float32, false, true, Dims{56}, 1, true, "own fp32 kernel"},
      {"fp32 alpha", DataType::float32, false, true, std::nullopt, 0.5, false, "cuBLASLt"},
      {"fp32 c matrix", DataType::float32, false, true, Dims{40, 56}, 1, false, "cuBLASLt"},
      {"fp16 b^T input", DataType::float16, true, false, std::nullopt, 1, false, "own tensor-core kernel"},
      {"fp16 b constant bias relu", DataType::float16, false, true, Dims{56}, 1, true, "own tensor-core kernel"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const int64_t m = 40, k = 24, n = 56;
    GraphBuilder builder;
    Dims bs = c.b_t ? Dims{n, k} : Dims{k, n};
    NamedTensors in{{"a", fresh(c.type, {m, k})}};
    Operand a = builder.input("a", c.type, {m, k});
    Operand b = c.b_constant ? builder.constant(fresh(c.type, bs)) : builder.input("b", c.type, bs);
    if (!c.b_constant) in["b"] = fresh(c.type, bs);
    GemmOptions o;
    o.alpha = c.alpha, o.b_transpose = c.b_t;
    if (c.c) o.c = builder.constant(fresh(c.type, *c.c));
    Operand y = builder.gemm(a, b, o);
    if (c.relu) y = builder.relu(y);
    Graph g = builder.build({{"y", y}});
    expect_matches_cpu(g, in, c.type == DataType::float16 ? kFp16Tolerance : kFp32Tolerance, c.what);
    std::string report = cuda_context().report(g);
    EXPECT_NE(report.find(c.expect), std::string::npos) << report;
    if (c.relu) {
      EXPECT_NE(report.find("relu"), std::string::npos) << report;
    }
  }
}

// The float16 matrix-vector kernel (kernels/gemv.h) for 1 to 8 rows, b [k, n] (matmul) and
// b [n, k] (gemm with b^T), bias, relu and gelu in its epilogue, a leading batch of 1: on a
// fastest_start context, which takes it untimed wherever it applies, against the CPU
// backend. Rows past 8, a k that is not a multiple of 8 and a computed b^T go elsewhere.
TEST(OwnGemm, GemvMatchesCpu) {
  REQUIRE_CUDA();
  Context fast = gpu_testing::fastest_start_context();
  ASSERT_EQ(fast.backend(), "cuda");
  const DataType t = DataType::float16;
  struct Case {
    Dims a;
    int64_t n;
    bool b_t, bias;
    const char* act;  // "", "relu", "gelu"
    bool gemv;        // expected to run on the gemv kernel
  };
  const Case cases[] = {
      {{1, 768}, 2304, false, true, "", true},     // GPT-2's qkv projection, one token
      {{1, 1, 768}, 3072, false, true, "gelu", true},
      {{2, 768}, 768, true, true, "", true},
      {{3, 64}, 40, false, false, "relu", true},    // rows rounded up to 4: row 4 never read
      {{5, 3072}, 768, true, false, "", true},
      {{8, 256}, 24, false, true, "relu", true},
      {{1, 768}, 50264, true, false, "", true},     // an lm head's width (a multiple of 8)
      {{2, 256}, 8192, false, true, "relu", true},  // wide: 32 columns a block (else 8)
      {{9, 64}, 40, false, false, "", false},       // 9 rows: the tiled kernel
      {{1, 60}, 40, false, false, "", false},       // k % 8
  };
  for (const Case& c : cases) {
    const int64_t k = c.a.back();
    std::string what = to_string(c.a) + " x " + std::to_string(k) + "x" + std::to_string(c.n) +
                       (c.b_t ? " (b^T)" : "") + (c.bias ? " + bias" : "") + " " + c.act;
    SCOPED_TRACE(what);
    GraphBuilder builder;
    Operand a = builder.input("a", t, c.a);
    Operand b = builder.constant(fresh(t, c.b_t ? Dims{c.n, k} : Dims{k, c.n}));
    Operand y;
    if (c.b_t || c.a.size() == 2) {
      GemmOptions go;
      go.b_transpose = c.b_t;
      if (c.bias) go.c = builder.constant(fresh(t, {c.n}));
      y = builder.gemm(c.a.size() == 2 ? a : builder.reshape(a, {uint32_t(c.a[0]), uint32_t(k)}), b, go);
    } else {
      y = builder.matmul(a, b);
      if (c.bias) y = builder.add(y, builder.constant(fresh(t, {c.n})));
    }
    if (std::string(c.act) == "relu") y = builder.relu(y);
    if (std::string(c.act) == "gelu") y = builder.gelu(y);
    Graph g = builder.build({{"y", y}});
    for (int run = 0; run < 2; ++run) {
      NamedTensors in{{"a", fresh(t, c.a)}};
      expect_rel_close(fast.compute(g, in).at("y"), cpu_context().compute(g, in).at("y"), kFp16Tolerance, what);
    }
    std::string report = fast.report(g);
    EXPECT_EQ(report.find("own fp16 gemv") != std::string::npos, c.gemv) << report;
    EXPECT_NE(report.find("fallback ops: none"), std::string::npos) << report;
  }
  fast.destroy();
}

// Timed beside cuBLASLt (CPPNN_CUDA_OWN_KERNELS=1): BERT's and the classifiers' products,
// printed with what the timed choice took. No threshold: a print to read.
TEST(OwnGemm, Timing) {
  REQUIRE_CUDA();
  const Dims shapes[][2] = {{{128, 768}, {768, 768}}, {{128, 768}, {768, 3072}}, {{128, 3072}, {3072, 768}},
                            {{12, 128, 64}, {12, 64, 128}}, {{12, 128, 128}, {12, 128, 64}},
                            {{1, 1280}, {1280, 1000}}, {{1, 2048}, {2048, 1000}},
                            // a decoder's step (GPT-2 small): qkv, FFN in and out
                            {{1, 768}, {768, 2304}}, {{1, 768}, {768, 3072}}, {{1, 3072}, {3072, 768}}};
  for (DataType t : {DataType::float32, DataType::float16})
    for (const auto& sh : shapes) {
      bool batched = sh[1].size() == 3;
      auto time = [&](const char* mode, std::string* line) {
        gpu_testing::ScopedEnv own("CPPNN_CUDA_OWN_KERNELS", mode);
        GraphBuilder builder;
        Operand a = builder.input("a", t, sh[0]);
        Operand b = batched ? builder.input("b", t, sh[1]) : builder.constant(fresh(t, sh[1]));
        Graph g = builder.build({{"y", builder.matmul(a, b)}});
        Context& c = cuda_context();
        NamedDeviceTensors in, out;
        in["a"] = c.create_tensor(t, sh[0]);
        if (batched) in["b"] = c.create_tensor(t, sh[1]);
        Dims ys = sh[0];
        ys.back() = sh[1].back();
        out["y"] = c.create_tensor(t, ys);
        for (int i = 0; i < 5; ++i) c.dispatch(g, in, out);
        c.synchronize();
        double ms = gpu_testing::median_ms(
                        [&] {
                          for (int i = 0; i < 50; ++i) c.dispatch(g, in, out);
                          c.synchronize();
                        },
                        0, 5) / 50;
        std::string report = c.report(g);
        size_t at = report.find("[gpu] matmul");
        *line = at == std::string::npos ? report : report.substr(at, report.find('\n', at) - at);
        return ms;
      };
      std::string lt_line, own_line, timed_line;
      double lt = time("0", &lt_line), own = time("only", &own_line), timed = time("1", &timed_line);
      std::printf("[ gemm timing ] %s %s x %s: cuBLASLt %.4f ms, own %.4f ms (cuBLASLt/own %.2f), "
                  "timed choice %.4f ms: %s\n",
                  std::string(to_string(t)).c_str(), to_string(sh[0]).c_str(), to_string(sh[1]).c_str(),
                  lt, own, lt / own, timed, timed_line.find("own ") != std::string::npos ? "own" : "cuBLASLt");
    }
}

// cuBLASLt's GELU epilogue is opt-in (CPPNN_CUDA_GELU_EPILOGUE=1) because WebNN's gelu is
// the erf form; this measures how far the epilogue is from it, for the record.
TEST(CudaMatmul, GeluEpilogueIsOptInAndMeasured) {
  REQUIRE_CUDA();
  gpu_testing::ScopedEnv libraries_only("CPPNN_CUDA_OWN_KERNELS", "0");  // the library paths
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
