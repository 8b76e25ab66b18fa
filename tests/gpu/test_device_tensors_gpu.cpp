// Device tensors and CUDA graphs on the CUDA backend: dispatch chains graphs in GPU memory,
// the device segments replay as CUDA graphs, external device memory is used in place, and
// misuse is a clear error after which the context keeps working.
#include <cuda.h>

#include <cstdlib>

#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using gpu_testing::expect_rel_close;
using gpu_testing::median_ms;
using testing::expect_error;
using testing::random_tensor;

constexpr DataType f32 = DataType::float32;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// An MLP block: matmul (cuBLASLt) + bias + gelu (generated kernel) + matmul + residual.
Graph mlp(uint32_t seed, int64_t tokens = 64, int64_t width = 256) {
  GraphBuilder b;
  Operand x = b.input("x", f32, {tokens, width});
  Operand w1 = b.constant(random_tensor(f32, {width, 4 * width}, -0.05, 0.05, seed));
  Operand b1 = b.constant(random_tensor(f32, {4 * width}, -0.1, 0.1, seed + 1));
  Operand w2 = b.constant(random_tensor(f32, {4 * width, width}, -0.05, 0.05, seed + 2));
  Operand h = b.gelu(b.add(b.matmul(x, w1), b1));
  return b.build({{"y", b.add(b.matmul(h, w2), x)}});
}

TEST(CudaDeviceTensors, DispatchChainMatchesCpuAndReplaysCudaGraphs) {
  REQUIRE_CUDA();
  Context& c = cuda_context();
  Graph g1 = mlp(1), g2 = mlp(7);
  DeviceTensor x = c.create_tensor(f32, {64, 256}), mid = c.create_tensor(f32, {64, 256}),
               y = c.create_tensor(f32, {64, 256});
  EXPECT_TRUE(x.on_device());
  for (uint32_t round = 0; round < 3; ++round) {
    Tensor xv = random_tensor(f32, {64, 256}, -1, 1, 100 + round);
    c.write_tensor(x, xv);
    c.dispatch(g1, {{"x", x}}, {{"y", mid}});
    c.dispatch(g2, {{"x", mid}}, {{"y", y}});
    Tensor want_mid = cpu_context().compute(g1, {{"x", xv}}).at("y");
    Tensor want = cpu_context().compute(g2, {{"x", want_mid}}).at("y");
    expect_rel_close(c.read_tensor(mid), want_mid, 1e-4, "mid");
    expect_rel_close(c.read_tensor(y), want, 1e-4, "y");
    // compute() on the same plan agrees with dispatch.
    expect_rel_close(c.compute(g1, {{"x", xv}}).at("y"), want_mid, 1e-4, "compute");
  }
  std::string report = c.report(g1);
  EXPECT_TRUE(has(report, "CUDA graphs: 1 of 1 device segments captured")) << report;
  EXPECT_FALSE(has(report, "[cpu]")) << report;

  double compute_ms = median_ms([&] { c.compute(g1, {{"x", c.read_tensor(x)}}); }, 3, 20);
  double dispatch_ms = median_ms([&] {
    c.dispatch(g1, {{"x", x}}, {{"y", mid}});
    c.synchronize();
  }, 3, 20);
  std::printf("[ timing   ] MLP 64x256x1024 block: compute (host I/O) %.3f ms, dispatch (device "
              "tensors) %.3f ms\n", compute_ms, dispatch_ms);
}

TEST(CudaDeviceTensors, CudaGraphsOffGivesTheSameValues) {
  REQUIRE_CUDA();
  // The backend reads CPPNN_CUDA_GRAPHS when a context is created: a context of its own.
  ::setenv("CPPNN_CUDA_GRAPHS", "0", 1);
  ContextOptions o;
  o.power_preference = PowerPreference::high_performance;
  Context c = Context::create(o);
  ::unsetenv("CPPNN_CUDA_GRAPHS");
  ASSERT_EQ(c.backend(), "cuda");
  Graph g = mlp(21);
  Tensor xv = random_tensor(f32, {64, 256}, -1, 1, 5);
  Tensor off = c.compute(g, {{"x", xv}}).at("y");
  std::string report = c.report(g);
  EXPECT_TRUE(has(report, "CPPNN_CUDA_GRAPHS=0")) << report;
  expect_rel_close(off, cpu_context().compute(g, {{"x", xv}}).at("y"), 1e-4, "graphs off");
  c.destroy();
}

TEST(CudaDeviceTensors, WrappedDeviceMemoryIsUsedInPlace) {
  REQUIRE_CUDA();
  Context& c = cuda_context();
  Graph g = mlp(31, 8, 64);
  CUdeviceptr in = 0, out = 0;
  ASSERT_EQ(cuMemAlloc(&in, 8 * 64 * 4), CUDA_SUCCESS);
  ASSERT_EQ(cuMemAlloc(&out, 8 * 64 * 4), CUDA_SUCCESS);
  Tensor xv = random_tensor(f32, {8, 64}, -1, 1, 6);
  ASSERT_EQ(cuMemcpyHtoD(in, xv.data(), xv.byte_size()), CUDA_SUCCESS);
  {
    DeviceTensor x = c.wrap_tensor(f32, {8, 64}, reinterpret_cast<void*>(in), nullptr);
    DeviceTensor y = c.wrap_tensor(f32, {8, 64}, reinterpret_cast<void*>(out), nullptr);
    c.dispatch(g, {{"x", x}}, {{"y", y}});
    c.synchronize();
    Tensor got = Tensor::uninitialized(f32, {8, 64});
    ASSERT_EQ(cuMemcpyDtoH(got.data(), out, got.byte_size()), CUDA_SUCCESS);
    expect_rel_close(got, cpu_context().compute(g, {{"x", xv}}).at("y"), 1e-4, "wrapped");
  }
  cuMemFree(in);
  cuMemFree(out);
  std::vector<float> host(8 * 64);
  expect_error([&] { c.wrap_tensor(f32, {8, 64}, host.data(), nullptr); }, ErrorKind::TypeError,
               "not device memory");
}

TEST(CudaDeviceTensors, MisuseIsAClearErrorAndTheContextKeepsWorking) {
  REQUIRE_CUDA();
  Context& c = cuda_context();
  Graph g = mlp(41, 8, 64);
  DeviceTensor x = c.create_tensor(f32, {8, 64}), y = c.create_tensor(f32, {8, 64});
  expect_error([&] { c.dispatch(g, {{"x", x}}, {{"y", x}}); }, ErrorKind::TypeError,
               "is also given as output");
  expect_error([&] { c.write_tensor(x, random_tensor(f32, {64, 8}, 0, 1, 1)); },
               ErrorKind::TypeError, "the tensor is float32 [8, 64]");
  expect_error([&] { cpu_context().read_tensor(x); }, ErrorKind::TypeError, "another context");
  expect_error([&] { c.create_tensor(f32, {int64_t(1) << 37}); }, ErrorKind::OperationError,
               "out of device memory");
  Tensor xv = random_tensor(f32, {8, 64}, -1, 1, 7);
  c.write_tensor(x, xv);
  c.dispatch(g, {{"x", x}}, {{"y", y}});
  expect_rel_close(c.read_tensor(y), cpu_context().compute(g, {{"x", xv}}).at("y"), 1e-4, "after");
}

}  // namespace
}  // namespace cppnn

namespace cppnn {
namespace {

// Desktop manners: a context confined to a quarter of the SMs (green context) on a
// low-priority stream still computes the same values; the reason says what it got, and the
// timing line shows the cap at work on a large product.
TEST(CudaManners, SmShareAndLowPriorityComputeTheSameAndSayWhatTheyGot) {
  REQUIRE_CUDA();
  ContextOptions o;
  o.power_preference = PowerPreference::high_performance;
  o.gpu_low_priority = true;
  o.gpu_sm_share = 0.25;
  Context small = Context::create(o);
  ASSERT_EQ(small.backend(), "cuda") << small.backend_reason();
  std::string reason = small.backend_reason();
  std::printf("[ backend  ] sm share 0.25 + low priority: %s\n", reason.c_str());
  EXPECT_TRUE(has(reason, "lowest stream priority")) << reason;
  EXPECT_TRUE(has(reason, "SMs (green context)") || has(reason, "whole GPU (")) << reason;

  GraphBuilder b;
  Operand x = b.input("x", f32, {2048, 2048});
  Operand w = b.constant(random_tensor(f32, {2048, 2048}, -0.02, 0.02, 3));
  Graph g = b.build({{"y", b.gelu(b.matmul(b.matmul(x, w), w))}});
  Tensor xv = random_tensor(f32, {2048, 2048}, -1, 1, 4);
  expect_rel_close(small.compute(g, {{"x", xv}}).at("y"), cuda_context().compute(g, {{"x", xv}}).at("y"),
                   1e-4, "quarter GPU vs whole GPU");
  DeviceTensor xs = small.create_tensor(f32, {2048, 2048}), ys = small.create_tensor(f32, {2048, 2048});
  DeviceTensor xf = cuda_context().create_tensor(f32, {2048, 2048}),
               yf = cuda_context().create_tensor(f32, {2048, 2048});
  small.write_tensor(xs, xv);
  cuda_context().write_tensor(xf, xv);
  double quarter = median_ms([&] { small.dispatch(g, {{"x", xs}}, {{"y", ys}}); small.synchronize(); }, 2, 10);
  double whole = median_ms([&] { cuda_context().dispatch(g, {{"x", xf}}, {{"y", yf}}); cuda_context().synchronize(); }, 2, 10);
  std::printf("[ timing   ] 2 x 2048^3 matmul + gelu: whole GPU %.3f ms, sm share 0.25 %.3f ms (x%.2f)\n",
              whole, quarter, quarter / whole);
  expect_error([&] {
    ContextOptions bad;
    bad.gpu_sm_share = 1.5;
    Context::create(bad);
  }, ErrorKind::TypeError, "gpu_sm_share");
  small.destroy();
}

}  // namespace
}  // namespace cppnn
