// Timings of BERT-base-like matrix products on the CUDA and CPU backends, printed and never
// asserted: each number is one compute() through the public API (inputs copied in, the
// product, outputs copied back), the median of several after a warm-up.
#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using gpu_testing::median_ms;
using testing::random_tensor;

struct Product {
  const char* what;
  int64_t rows, k, n;
};

void time_products(Context& gpu, const char* label) {
  const Product products[] = {
      {"QKV projection", 128, 768, 768},   {"FFN up", 128, 768, 3072},
      {"FFN down", 128, 3072, 768},        {"FFN up, batch 8", 1024, 768, 3072},
      {"FFN down, batch 8", 1024, 3072, 768},
  };
  std::printf("[ timing   ] %-20s %6s %6s %6s %10s %10s %10s %10s\n", label, "rows", "k", "n",
              "cpu ms", "cuda ms", "cpu GF/s", "cuda GF/s");
  for (const Product& p : products) {
    GraphBuilder b;
    Operand x = b.input("x", DataType::float32, {p.rows, p.k});
    Operand w = b.constant(random_tensor(DataType::float32, {p.k, p.n}, -0.05, 0.05, 3));
    Graph g = b.build({{"y", b.matmul(x, w)}});
    NamedTensors in{{"x", random_tensor(DataType::float32, {p.rows, p.k}, -1, 1, 4)}};
    double cpu_ms = median_ms([&] { cpu_context().compute(g, in); }, 2, 10);
    double gpu_ms = median_ms([&] { gpu.compute(g, in); }, 3, 30);
    double gflop = 2.0 * double(p.rows) * double(p.k) * double(p.n) / 1e9;
    std::printf("[ timing   ] %-20s %6lld %6lld %6lld %10.3f %10.3f %10.0f %10.0f\n", p.what,
                (long long)p.rows, (long long)p.k, (long long)p.n, cpu_ms, gpu_ms,
                gflop / cpu_ms * 1e3, gflop / gpu_ms * 1e3);
  }
}

TEST(CudaTiming, BertLikeMatmulsVsCpu) {
  REQUIRE_CUDA();
  time_products(cuda_context(), "fp32 (no TF32)");
  gpu_testing::ScopedEnv tf32("CPPNN_CUDA_TF32", "1");
  Context fast = Context::create({});
  time_products(fast, "TF32 allowed");
  fast.destroy();
}

// BERT's feed-forward block on 8 x 128 tokens: with ReLU the whole block stays on the GPU;
// with GELU (WebNN's erf form) the activation runs as a generated kernel between the products.
TEST(CudaTiming, FeedForwardBlockVsCpu) {
  REQUIRE_CUDA();
  for (bool gelu : {false, true}) {
    GraphBuilder b;
    Operand x = b.input("x", DataType::float32, {1024, 768});
    Operand h = b.add(b.matmul(x, b.constant(random_tensor(DataType::float32, {768, 3072}, -0.05, 0.05, 5))),
                      b.constant(random_tensor(DataType::float32, {3072}, -0.1, 0.1, 6)));
    h = gelu ? b.gelu(h) : b.relu(h);
    Operand y = b.add(b.matmul(h, b.constant(random_tensor(DataType::float32, {3072, 768}, -0.05, 0.05, 7))),
                      b.constant(random_tensor(DataType::float32, {768}, -0.1, 0.1, 8)));
    Graph g = b.build({{"y", y}});
    NamedTensors in{{"x", random_tensor(DataType::float32, {1024, 768}, -1, 1, 9)}};
    NamedTensors want = cpu_context().compute(g, in);
    gpu_testing::expect_rel_close(cuda_context().compute(g, in).at("y"), want.at("y"), 1e-4);
    double cpu_ms = median_ms([&] { cpu_context().compute(g, in); }, 2, 10);
    double gpu_ms = median_ms([&] { cuda_context().compute(g, in); }, 3, 20);
    std::printf("[ timing   ] FFN block 1024x768 -> 3072 -> 768 with %s: cpu %.3f ms, cuda %.3f ms\n",
                gelu ? "gelu (generated kernel)" : "relu (epilogue)", cpu_ms, gpu_ms);
  }
}

}  // namespace
}  // namespace cppnn
