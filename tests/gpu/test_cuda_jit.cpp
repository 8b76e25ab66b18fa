// Element-wise groups of a CUDA plan run as generated kernels (NVRTC, one module per plan):
// values against the CPU backend, the report, the BERT-like block with gelu on the GPU,
// and the runtime cache (cold vs warm JIT, a corrupted entry ignored and rebuilt).
#include <filesystem>
#include <fstream>
#include <regex>

#include "cuda_jit/codegen_cases.h"
#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using testing::random_tensor;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Context new_cuda_context() {
  ContextOptions o;
  o.power_preference = PowerPreference::high_performance;
  return Context::create(o);
}

// Chains in fp32, fp16 and int32 with broadcast inputs, a comparison feeding where, a cast,
// and an inlined small constant.
Graph chains_graph() {
  GraphBuilder b;
  Operand a = b.input("a", DataType::float32, {4, 33, 17});
  Operand w = b.input("w", DataType::float32, {17});
  Operand c = b.input("c", DataType::float32, {33, 1});
  Operand y1 = b.gelu(b.add(b.mul(a, w), c));
  Operand y2 = b.where(b.greater(a, c), b.sigmoid(a), b.tanh(b.sub(w, b.constant(DataType::float32, 0.25))));
  Operand h = b.input("h", DataType::float16, {8, 64});
  Operand hb = b.input("hb", DataType::float16, {64});
  Operand hc = b.constant(random_tensor(DataType::float16, {8, 1}, -0.5, 0.5, 31));
  Operand yh = b.relu(b.sub(b.mul(h, hb), hc));
  Operand yh32 = b.cast(b.sigmoid(b.add(h, hb)), DataType::float32);
  Operand i = b.input("i", DataType::int32, {6, 10});
  Operand j = b.input("j", DataType::int32, {10});
  Operand yi = b.max(b.add(b.mul(i, j), b.constant(DataType::int32, 7)), b.neg(b.abs(j)));
  Operand yc = b.cast(b.add(y1, b.constant(DataType::float32, 1.5)), DataType::int32);
  return b.build({{"y1", y1}, {"y2", y2}, {"yh", yh}, {"yh32", yh32}, {"yi", yi}, {"yc", yc}});
}

NamedTensors chains_inputs(uint32_t seed) {
  return {{"a", random_tensor(DataType::float32, {4, 33, 17}, -3, 3, seed)},
          {"w", random_tensor(DataType::float32, {17}, -2, 2, seed + 1)},
          {"c", random_tensor(DataType::float32, {33, 1}, -1, 1, seed + 2)},
          {"h", random_tensor(DataType::float16, {8, 64}, -2, 2, seed + 3)},
          {"hb", random_tensor(DataType::float16, {64}, -2, 2, seed + 4)},
          {"i", random_tensor(DataType::int32, {6, 10}, -50, 50, seed + 5)},
          {"j", random_tensor(DataType::int32, {10}, -9, 9, seed + 6)}};
}

void expect_matches_cpu(Context& cuda, const Graph& g, const NamedTensors& in) {
  NamedTensors want = cpu_context().compute(g, in), got = cuda.compute(g, in);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, tensor] : want) testing::expect_codegen_match(got.at(name), tensor, name);
}

// The JIT time the report gives, in ms; -1 when it gives none.
double jit_ms(const std::string& report) {
  std::smatch m;
  if (!std::regex_search(report, m, std::regex("JIT ([0-9.]+) ms"))) return -1;
  return std::stod(m[1].str());
}

TEST(CudaJit, ElementwiseChainsMatchCpuWithNoFallback) {
  REQUIRE_CUDA();
  Graph g = chains_graph();
  for (uint32_t seed : {1u, 50u}) {
    SCOPED_TRACE(seed);
    expect_matches_cpu(cuda_context(), g, chains_inputs(seed));
  }
  std::string report = cuda_context().report(g);
  std::printf("%s", report.c_str());
  EXPECT_TRUE(contains(report, "fallback ops: none")) << report;
  EXPECT_TRUE(contains(report, "0 on the CPU fallback")) << report;
  EXPECT_TRUE(contains(report, "generated kernels: ")) << report;
  EXPECT_FALSE(contains(report, "generated kernels: 0")) << report;
  EXPECT_FALSE(contains(report, "[cpu]")) << report;
  EXPECT_TRUE(contains(report, "[gpu] mul+add+gelu")) << report;
  EXPECT_GE(jit_ms(report), 0) << report;
}

// BERT's matmul + bias + gelu + residual + layerNormalization: the product (bias in the
// epilogue) on cuBLASLt, gelu and the residual add in one generated kernel, layerNorm on
// the CPU fallback.
TEST(CudaJit, BertBlockRunsGeluOnGpu) {
  REQUIRE_CUDA();
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {128, 768});
  Operand h = b.add(b.matmul(x, b.constant(random_tensor(DataType::float32, {768, 768}, -0.05, 0.05, 41))),
                    b.constant(random_tensor(DataType::float32, {768}, -0.1, 0.1, 42)));
  Operand r = b.add(b.gelu(h), x);
  LayerNormalizationOptions ln;
  ln.scale = b.constant(random_tensor(DataType::float32, {768}, 0.5, 1.5, 43));
  ln.bias = b.constant(random_tensor(DataType::float32, {768}, -0.5, 0.5, 44));
  ln.axes = std::vector<uint32_t>{1};
  Graph g = b.build({{"y", b.layer_normalization(r, ln)}});
  NamedTensors in{{"x", random_tensor(DataType::float32, {128, 768}, -1, 1, 45)}};
  gpu_testing::expect_rel_close(cuda_context().compute(g, in).at("y"),
                                cpu_context().compute(g, in).at("y"), 1e-4, "y");
  std::string report = cuda_context().report(g);
  std::printf("%s", report.c_str());
  EXPECT_TRUE(contains(report, "[gpu] matmul")) << report;
  EXPECT_TRUE(contains(report, "[gpu] gelu")) << report;
  EXPECT_FALSE(contains(report, "[cpu] gelu")) << report;
  EXPECT_TRUE(contains(report, "[gpu] layerNormalization")) << report;
  // The residual add goes into the layer norm's kernel (fusion.cpp, fuse_norm_residual).
  EXPECT_TRUE(contains(report, "residual added first")) << report;
  EXPECT_TRUE(contains(report, "fallback ops: none")) << report;
}

std::vector<std::filesystem::path> cache_files(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(folder))
    if (e.is_regular_file() && e.path().extension() == ".cache") files.push_back(e.path());
  return files;
}

// A fresh context per compile, so nothing but the cache folder carries the cubin over.
// Cold: NVRTC compiles and stores; warm: the cubin comes from the cache; then the entry's
// bytes are overwritten: it is rejected, compiled again and stored again.
TEST(CudaJit, RuntimeCacheColdWarmAndCorruptEntry) {
  REQUIRE_CUDA();
  std::string dir_template =
      (std::filesystem::temp_directory_path() / "cppnn-jit-cache-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
  std::filesystem::path dir = dir_template;
  gpu_testing::ScopedEnv env("CPPNN_CACHE_DIR", dir.c_str());
  Graph g = chains_graph();
  NamedTensors in = chains_inputs(77);

  auto compile_once = [&](const char* expect, const char* what) {
    Context c = new_cuda_context();
    std::string report = c.report(g);
    EXPECT_TRUE(contains(report, expect)) << what << ":\n" << report;
    expect_matches_cpu(c, g, in);
    double ms = jit_ms(report);
    std::string line = report.substr(report.find("generated kernels:"));
    std::printf("[ jit      ] %s: %s", what, line.substr(0, line.find('\n') + 1).c_str());
    c.destroy();
    return ms;
  };
  double cold = compile_once("compiled", "cold (NVRTC)");
  ASSERT_EQ(cache_files(dir).size(), 1u);
  double warm = compile_once("cache hit", "warm (runtime cache)");
  std::printf("[ jit      ] cold %.1f ms, warm %.1f ms\n", cold, warm);
  EXPECT_LT(warm, cold);

  std::filesystem::path entry = cache_files(dir).at(0);
  auto size = std::filesystem::file_size(entry);
  ASSERT_GT(size, 64u);
  {
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    for (auto at : {size_t(size / 2), size_t(size - 8)}) {
      f.seekg(std::streamoff(at));
      char bytes[8];
      f.read(bytes, sizeof bytes);
      for (char& ch : bytes) ch = char(~ch);
      f.seekp(std::streamoff(at));
      f.write(bytes, sizeof bytes);
    }
  }
  compile_once("compiled", "after corrupting the entry");
  compile_once("cache hit", "after the rebuild");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cppnn

namespace cppnn {
namespace {

// Groups that differ only in name (same ops, same shapes) compile once and launch twice
// with their own pointers; a group of another shape is a kernel of its own.
TEST(CudaJit, IdenticalGroupsShareOneCompiledKernel) {
  REQUIRE_CUDA();
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {64, 96});
  Operand y = b.input("y", DataType::float32, {64, 96});
  Operand z = b.input("z", DataType::float32, {32, 96});
  Operand w = b.constant(random_tensor(DataType::float32, {96, 96}, -0.1, 0.1, 61));
  // matmul ends each group, so the two tanh(add) groups stay apart.
  Operand a = b.matmul(b.tanh(b.add(x, y)), w);
  Operand c = b.matmul(b.tanh(b.add(a, y)), w);
  Operand d = b.tanh(b.add(z, z));
  Graph g = b.build({{"c", c}, {"d", d}});
  NamedTensors in{{"x", random_tensor(DataType::float32, {64, 96}, -1, 1, 62)},
                  {"y", random_tensor(DataType::float32, {64, 96}, -1, 1, 63)},
                  {"z", random_tensor(DataType::float32, {32, 96}, -1, 1, 64)}};
  NamedTensors want = cpu_context().compute(g, in), got = cuda_context().compute(g, in);
  for (const auto& [name, t] : want) gpu_testing::expect_rel_close(got.at(name), t, 1e-5, name);
  std::string report = cuda_context().report(g);
  EXPECT_TRUE(contains(report, "generated kernels: 3 (6 element-wise nodes, 2 distinct)")) << report;
}

}  // namespace
}  // namespace cppnn
