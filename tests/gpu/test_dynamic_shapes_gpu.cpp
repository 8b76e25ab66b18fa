// Dynamic shapes on the GPU (docs/dynamic-shapes.md): one BERT-base engine with a profile
// (N in [1, 8], S in [16, 256], opt 1 x 128), float16 and float32, run on the CUDA backend at
// the profile's corners, at opt and at odd shapes between, against the CPU backend computing
// the float32 dynamic graph at the same shape. Printed (`[ dynamic  ]`): the cost of the
// first compute at a new shape (specialization + the plan for that shape, the runtime
// cache warm) and the latency there against a fixed-shape engine built at that shape.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cppnn/engine.h"
#include "cppnn/onnx.h"
#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;

NamedTensors bert_inputs(int64_t n, int64_t s, uint32_t seed) {
  Tensor ids(DataType::int64, {n, s}), mask(DataType::int64, {n, s});
  uint32_t x = seed;
  for (int64_t i = 0; i < n * s; ++i) {
    x = x * 1664525u + 1013904223u;
    ids.data_as<int64_t>()[i] = 1 + int64_t(x % 29999);
    mask.data_as<int64_t>()[i] = (i < s && i > s / 2) ? 0 : 1;  // padding in row 0
  }
  return {{"input_ids", ids}, {"attention_mask", mask}};
}

TEST(DynamicShapesGpu, BertProfileEngineAtEveryShapeMatchesTheCpu) {
  std::string path = gpu_testing::models_dir() + "/bert_base.onnx";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is missing (CPPNN_MODELS_DIR)";
  OnnxImportOptions io;
  io.dynamic = {{"N", {1, 1, 8}}, {"S", {16, 128, 256}}};
  Graph g = load_onnx(path, io);
  ASSERT_TRUE(g.dynamic());
  Context& gpu = cuda_context();
  Context& cpu = cpu_context();
  for (Precision p : {Precision::float16, Precision::float32}) {
    EngineBuildOptions eo;
    eo.precision = p;
    Engine e = Engine::build(g, eo);
    ASSERT_TRUE(e.graph().dynamic());
    const double bound = p == Precision::float16 ? 5e-3 : 1e-4;
    for (auto [n, s] : {std::pair<int64_t, int64_t>{1, 128}, {1, 16}, {8, 256}, {3, 77}, {8, 16}, {1, 256}}) {
      NamedTensors in = bert_inputs(n, s, uint32_t(n * 1000 + s));
      auto t0 = std::chrono::steady_clock::now();
      NamedTensors got = gpu.compute(e.graph(), in);
      double first_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      Tensor want = cpu.compute(g, in).at("last_hidden_state");
      double err = gpu_testing::rel_l2(got.at("last_hidden_state"), want);
      EXPECT_LT(err, bound) << to_string(p) << " N=" << n << " S=" << s;
      // Against a fixed-shape engine at this shape, interleaved rounds, best median each.
      Engine fixed = Engine::build(g.specialize({{"N", n}, {"S", s}}), eo);
      gpu.compute(fixed.graph(), in);
      double dyn_ms = 1e30, fixed_ms = 1e30;
      for (int round = 0; round < 3; ++round) {
        dyn_ms = std::min(dyn_ms, gpu_testing::median_ms([&] { gpu.compute(e.graph(), in); }, 2, 15));
        fixed_ms = std::min(fixed_ms, gpu_testing::median_ms([&] { gpu.compute(fixed.graph(), in); }, 2, 15));
      }
      std::printf("[ dynamic  ] BERT %s N=%lld S=%lld: rel L2 %.1e, first compute %.1f ms, "
                  "then %.3f ms vs fixed-shape engine %.3f ms (%.2f)\n",
                  std::string(to_string(p)).c_str(), (long long)n, (long long)s, err, first_ms, dyn_ms,
                  fixed_ms, dyn_ms / fixed_ms);
    }
    // Plans over the same weights share their device copies: a second graph specialized from
    // the engine's (the same host constants) reads them from the first one's plan.
    {
      std::map<std::string, int64_t> at = {{"N", 2}, {"S", 64}};
      Graph first = e.graph().specialize(at), second = e.graph().specialize(at);
      gpu.compile(first);
      std::string report = gpu.report(second);
      EXPECT_NE(report.find("read from another plan's copies"), std::string::npos) << report;
      Tensor a = gpu.compute(first, bert_inputs(2, 64, 7)).at("last_hidden_state");
      Tensor b = gpu.compute(second, bert_inputs(2, 64, 7)).at("last_hidden_state");
      EXPECT_LT(gpu_testing::rel_l2(a, b), 1e-6) << "the same choices on the same weights";
    }
    // A shape outside the profile: a TypeError naming the range, and the context still works.
    try {
      gpu.compute(e.graph(), bert_inputs(1, 300, 1));
      ADD_FAILURE() << "S=300 outside [16, 256] ran";
    } catch (const Error& err) {
      EXPECT_EQ(err.kind(), ErrorKind::TypeError) << err.what();
    }
  }
}

}  // namespace
}  // namespace cppnn
