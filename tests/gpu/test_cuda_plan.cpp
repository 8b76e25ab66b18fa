// The CUDA plan as a whole: graphs mixing cuBLASLt and CPU-fallback nodes, MobileNetV2
// against the CPU backend, the report, and errors after which the context keeps working.
#include <cstring>
#include <filesystem>
#include <map>

#include "cppnn/onnx.h"
#include "gpu/gpu_test_support.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using gpu_testing::expect_rel_close;
using testing::random_tensor;

// Destroys the suite's contexts before static destruction, while CUDA is still up.
class ContextsTeardown : public ::testing::Environment {
 public:
  void TearDown() override {
    cuda_context().destroy();
    cpu_context().destroy();
  }
};
const auto* const kTeardown = ::testing::AddGlobalTestEnvironment(new ContextsTeardown);

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// A CUDA context like the suite's, made now: the backend reads its switches (CPPNN_CUDA_*)
// when a context is created, so a test that sets one computes on a context of its own.
Context fresh_cuda_context() {
  ContextOptions o;
  o.power_preference = PowerPreference::high_performance;
  return Context::create(o);
}

// Device results read by host steps, host results read by device steps, an input read on
// both sides and an intermediate that is also an output.
TEST(CudaPlan, MixedGpuAndFallbackGraphMatchesCpu) {
  REQUIRE_CUDA();
  // Every op has a GPU kernel: layerNormalization is sent to the CPU fallback on purpose.
  gpu_testing::ScopedEnv cpu_ops("CPPNN_CUDA_CPU_OPS", "layerNormalization");
  Context ctx = fresh_cuda_context();
  ASSERT_EQ(ctx.backend(), "cuda");
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 64, 96});
  Operand h = b.relu(b.add(b.matmul(x, b.constant(random_tensor(DataType::float32, {96, 128}, -1, 1, 1))),
                           b.constant(random_tensor(DataType::float32, {128}, -1, 1, 2))));
  TransposeOptions perm;
  perm.permutation = std::vector<uint32_t>{0, 2, 1};
  Operand t = b.transpose(h, perm);                                  // [2, 128, 64]
  // layerNormalization, on the host: a host step between devices.
  LayerNormalizationOptions lead;
  lead.axes = std::vector<uint32_t>{0};
  Operand n = b.layer_normalization(t, lead);
  Operand s = b.reshape(b.softmax(b.reshape(n, {256, 64}), 1), {2, 128, 64});
  Operand z = b.matmul(h, s);                                        // [2, 64, 64]
  Operand m = b.layer_normalization(x, lead);                        // x read on the host too
  Graph g = b.build({{"h", h}, {"z", b.mul(z, b.constant(DataType::float32, 0.5))}, {"m", m}});
  for (uint32_t seed : {11u, 12u}) {
    NamedTensors in{{"x", random_tensor(DataType::float32, {2, 64, 96}, -1, 1, seed)}};
    NamedTensors want = cpu_context().compute(g, in), got = ctx.compute(g, in);
    for (const auto& [name, tensor] : want) expect_rel_close(got.at(name), tensor, 1e-4, name);
  }
  std::string report = ctx.report(g);
  std::printf("%s", report.c_str());
  EXPECT_EQ(count_of(report, "[gpu] matmul"), 2u) << report;
  EXPECT_TRUE(contains(report, "fallback ops:")) << report;
  EXPECT_TRUE(contains(report, "fallback ops: layerNormalization x2\n")) << report;
  for (const char* step : {"[gpu] softmax", "[gpu] transpose"})
    EXPECT_TRUE(contains(report, step)) << step << " missing from\n" << report;
  EXPECT_TRUE(contains(report, "[gpu] mul as generated kernel")) << report;
  EXPECT_TRUE(contains(report, "listed in CPPNN_CUDA_CPU_OPS")) << report;
  // The same decision before compiling, through Backend::supports_op and the plugin table
  // (runtime/partition.h), on the graph as built.
  std::string placement = ctx.placement(g);
  std::printf("[ placement] %s\n", placement.c_str());
  // Element-wise ops count as on the device: the plan puts them into generated kernels.
  EXPECT_EQ(placement,
            "9 of 11 nodes on the device; on the host: layerNormalization x2 (listed in "
            "CPPNN_CUDA_CPU_OPS)");
  ctx.destroy();
}

TEST(CudaPlan, MobileNetV2MatchesCpu) {
  REQUIRE_CUDA();
  std::string path = gpu_testing::models_dir() + "/mobilenet_v2.onnx";
  ASSERT_TRUE(std::filesystem::exists(path))
      << path << " is missing: carry it (tests/gpu/README.md) or set CPPNN_MODELS_DIR";
  Graph g = load_onnx(path);
  NamedTensors in{{"input.1", random_tensor(DataType::float32, {1, 3, 224, 224}, -1, 1, 5)}};
  NamedTensors want = cpu_context().compute(g, in), got = cuda_context().compute(g, in);
  ASSERT_EQ(got.at("536").shape(), (Dims{1, 1000}));
  double err = gpu_testing::rel_l2(got.at("536"), want.at("536"));
  std::printf("[ mobilenet] relative L2 error vs the CPU backend: %.3g\n", err);
  EXPECT_LT(err, 1e-4);
  std::string report = cuda_context().report(g);
  std::printf("%s", report.substr(0, report.find("steps:")).c_str());
  EXPECT_TRUE(contains(report, "[gpu] gemm")) << report;
  EXPECT_TRUE(contains(report, "fallback ops: none")) << report;
  EXPECT_TRUE(contains(report, "CUDA graphs: 1 of 1 device segments captured")) << report;

  double cpu_ms = gpu_testing::median_ms([&] { cpu_context().compute(g, in); }, 2, 10);
  double gpu_ms = gpu_testing::median_ms([&] { cuda_context().compute(g, in); }, 2, 10);
  std::printf("[ timing   ] MobileNetV2 batch 1: cpu %.2f ms, cuda %.2f ms\n", cpu_ms, gpu_ms);
}

TEST(CudaPlan, WrongInputShapeIsAnErrorAndTheContextKeepsWorking) {
  REQUIRE_CUDA();
  GraphBuilder b;
  Operand a = b.input("a", DataType::float32, {4, 8});
  Graph g = b.build({{"y", b.matmul(a, b.constant(random_tensor(DataType::float32, {8, 3}, -1, 1, 3)))}});
  testing::expect_error(
      [&] { cuda_context().compute(g, {{"a", random_tensor(DataType::float32, {4, 9}, -1, 1)}}); },
      ErrorKind::TypeError, "has shape [4, 9], the graph expects [4, 8]");
  NamedTensors in{{"a", random_tensor(DataType::float32, {4, 8}, -1, 1, 4)}};
  expect_rel_close(cuda_context().compute(g, in).at("y"), cpu_context().compute(g, in).at("y"), 1e-4);
}

TEST(CudaPlan, OutOfDeviceMemoryIsAnOperationErrorAndTheContextKeepsWorking) {
  REQUIRE_CUDA();
  // Six 92000 x 92000 fp32 products (34 GB each, near the builder's limit per operand), all
  // alive at the first add: about 200 GB of arena, more than any one GPU of today holds.
  const int64_t n = 92000;
  GraphBuilder b;
  Operand c = b.input("c", DataType::float32, {1, n});
  NamedTensors in{{"c", random_tensor(DataType::float32, {1, n}, -1, 1)}};
  std::vector<Operand> products;
  for (int i = 0; i < 6; ++i) {
    std::string name = "x";
    name.push_back(char('0' + i));
    products.push_back(b.matmul(b.input(name, DataType::float32, {n, 1}), c));
    in[name] = random_tensor(DataType::float32, {n, 1}, -1, 1, uint32_t(i + 20));
  }
  Operand sum = products[0];
  for (size_t i = 1; i < products.size(); ++i) sum = b.add(sum, products[i]);
  Graph huge = b.build({{"s", b.reduce_sum(sum)}});
  testing::expect_error([&] { cuda_context().compute(huge, in); }, ErrorKind::OperationError,
                        "out of device memory");
  GraphBuilder b2;
  Operand x = b2.input("x", DataType::float32, {16, 32});
  Graph small = b2.build({{"y", b2.matmul(x, b2.constant(random_tensor(DataType::float32, {32, 8}, -1, 1, 9)))}});
  NamedTensors in2{{"x", random_tensor(DataType::float32, {16, 32}, -1, 1, 10)}};
  expect_rel_close(cuda_context().compute(small, in2).at("y"), cpu_context().compute(small, in2).at("y"), 1e-4);
}

// Context::peak_memory counts cppnn's device allocations: a 64 MiB device tensor shows, and
// after a reset only what is held or allocated since counts.
TEST(CudaPlan, PeakMemoryCountsDeviceAllocations) {
  REQUIRE_CUDA();
  Context& c = cuda_context();
  c.reset_peak_memory();
  const size_t held = c.peak_memory();
  size_t with_tensor = 0;
  {
    DeviceTensor t = c.create_tensor(DataType::float32, {16, 1024, 1024});
    with_tensor = c.peak_memory();
    EXPECT_GE(with_tensor, held + (size_t(64) << 20));
    t.destroy();
  }
  c.reset_peak_memory();
  EXPECT_LT(c.peak_memory(), with_tensor) << "the tensor is freed and the count started again";
  std::printf("[ memory   ] held %.1f MiB, with a 64 MiB tensor %.1f MiB\n", double(held) / (1 << 20),
              double(with_tensor) / (1 << 20));
}

// A graph with no GPU node at all, and an output folded to a constant at compile time.
TEST(CudaPlan, FallbackOnlyGraphAndConstantOutput) {
  REQUIRE_CUDA();
  // A list of two: the op named second is found too.
  gpu_testing::ScopedEnv cpu_ops("CPPNN_CUDA_CPU_OPS", "softmax,layerNormalization");
  Context ctx = fresh_cuda_context();
  ASSERT_EQ(ctx.backend(), "cuda");
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {3, 5});
  Operand k = b.constant(random_tensor(DataType::float32, {5}, -1, 1, 6));
  // Element-wise ops would become generated kernels: none here, and layerNormalization is
  // sent to the CPU fallback.
  LayerNormalizationOptions lead;
  lead.axes = std::vector<uint32_t>{0};
  Graph g = b.build({{"y", b.layer_normalization(x, lead)}, {"k2", b.add(k, k)}});
  NamedTensors in{{"x", random_tensor(DataType::float32, {3, 5}, -1, 1, 7)}};
  NamedTensors want = cpu_context().compute(g, in), got = ctx.compute(g, in);
  for (const auto& [name, tensor] : want) expect_rel_close(got.at(name), tensor, 1e-6, name);
  std::string report = ctx.report(g);
  EXPECT_TRUE(contains(report, "0 on the GPU")) << report;
  EXPECT_TRUE(contains(report, "fallback ops: layerNormalization x1")) << report;
  EXPECT_TRUE(contains(report, "generated kernels: 0")) << report;
  ctx.destroy();
}

// The library steps (cuDNN convolutions, cuBLASLt products) are made on build workers in
// parallel: the plan must be the one the in-order build makes, and say how it was built.
TEST(CudaPlan, LibraryStepsBuiltInParallelMatchTheInOrderBuild) {
  REQUIRE_CUDA();
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 8, 20, 20});
  Operand h = x;
  // Convolutions of different shapes (distinct cuDNN problems), then products.
  for (int i = 0; i < 6; ++i) {
    int64_t c_in = h.shape()[1], c_out = 8 + 4 * i;
    Conv2dOptions o;
    o.padding = {1, 1, 1, 1};
    o.strides = {uint32_t(i % 2 + 1), uint32_t(i % 2 + 1)};
    o.bias = b.constant(random_tensor(DataType::float32, {c_out}, -0.1, 0.1, uint32_t(40 + i)));
    h = b.relu(b.conv2d(h, b.constant(random_tensor(DataType::float32, {c_out, c_in, 3, 3}, -0.2, 0.2, uint32_t(50 + i))), o));
  }
  Operand flat = b.reshape(h, {2, uint32_t(h.shape()[1] * h.shape()[2] * h.shape()[3])});
  Operand y = b.matmul(flat, b.constant(random_tensor(DataType::float32, {flat.shape()[1], 64}, -0.05, 0.05, 60)));
  y = b.matmul(b.relu(y), b.constant(random_tensor(DataType::float32, {64, 10}, -0.1, 0.1, 61)));
  Graph g = b.build({{"y", y}});
  NamedTensors in{{"x", random_tensor(DataType::float32, {2, 8, 20, 20}, -1, 1, 62)}};
  Tensor want = cpu_context().compute(g, in).at("y");

  std::map<std::string, Tensor> got;
  for (const char* threads : {"1", "4"}) {
    gpu_testing::ScopedEnv env("CPPNN_CUDA_BUILD_THREADS", threads);
    Context ctx = Context::create({});
    ASSERT_EQ(ctx.backend(), "cuda");
    got[threads] = ctx.compute(g, in).at("y");
    expect_rel_close(got[threads], want, 1e-4);
    std::string report = ctx.report(g);
    std::string expected = std::string("library steps on ") + threads + (threads[0] == '1' ? " thread" : " threads");
    EXPECT_TRUE(contains(report, expected)) << report;
    EXPECT_TRUE(contains(report, "build phases:")) << report;
    EXPECT_TRUE(contains(report, "fallback ops: none")) << report;
    ctx.destroy();
  }
  // The second build reuses the first one's algorithm choices (kept per process): the same
  // kernels on the same inputs give the same bits.
  ASSERT_EQ(got["1"].byte_size(), got["4"].byte_size());
  EXPECT_EQ(std::memcmp(got["1"].data(), got["4"].data(), got["1"].byte_size()), 0);
}

// CPPNN_CUDA_PROFILE=1: each step's time in the report, timed inside the graph replay (and
// with CUDA graphs off, step by step); the values do not change.
TEST(CudaPlan, ProfileTimesEachStep) {
  REQUIRE_CUDA();
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 8, 12, 12});
  Conv2dOptions o;
  o.padding = {1, 1, 1, 1};
  Operand h = b.relu(b.conv2d(x, b.constant(random_tensor(DataType::float32, {8, 8, 3, 3}, -0.3, 0.3, 80)), o));
  LayerNormalizationOptions lead;
  lead.axes = std::vector<uint32_t>{0};
  Operand y = b.layer_normalization(b.softmax(b.reshape(h, {16, 144}), 1), lead);
  Graph g = b.build({{"y", y}});
  NamedTensors in{{"x", random_tensor(DataType::float32, {2, 8, 12, 12}, -1, 1, 81)}};
  Tensor want = cpu_context().compute(g, in).at("y");
  gpu_testing::ScopedEnv profile("CPPNN_CUDA_PROFILE", "1");
  gpu_testing::ScopedEnv cpu_ops("CPPNN_CUDA_CPU_OPS", "layerNormalization");  // a host step too
  for (const char* graphs : {"1", "0"}) {
    SCOPED_TRACE(std::string("CPPNN_CUDA_GRAPHS=") + graphs);
    gpu_testing::ScopedEnv use_graphs("CPPNN_CUDA_GRAPHS", graphs);
    Context ctx = Context::create({});
    ASSERT_EQ(ctx.backend(), "cuda");
    EXPECT_TRUE(contains(ctx.report(g), "no compute after the first yet")) << ctx.report(g);
    for (int i = 0; i < 4; ++i) expect_rel_close(ctx.compute(g, in).at("y"), want, 1e-4);
    std::string report = ctx.report(g);
    EXPECT_TRUE(contains(report, "mean of 3 computes after the first")) << report;
    EXPECT_TRUE(contains(report, graphs[0] == '1' ? "CUDA graphs: 1 of 1" : "CUDA graphs: 0 of")) << report;
    for (const char* op : {" conv2d x1 ", " softmax x1 ", " [cpu] layerNormalization x1 "})
      EXPECT_TRUE(contains(report, op)) << op << " missing from\n" << report;
    // Every step has a time: none of the slowest is shown with 0.
    EXPECT_TRUE(contains(report, "slowest steps:\n")) << report;
    EXPECT_FALSE(contains(report, "   0.000 ms  conv2d")) << report;
    ctx.destroy();
  }
}

// cuDNN's libraries open on a thread beside the CUDA context's creation (LibraryPreload), and
// CPPNN_CUDA_PRELOAD=0 turns that off; either way the convolutions compute the same.
TEST(CudaPlan, ContextStartupPreloadsCudnnLibraries) {
  REQUIRE_CUDA();
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {1, 4, 9, 9});
  Conv2dOptions o;
  o.padding = {1, 1, 1, 1};
  Graph g = b.build({{"y", b.conv2d(x, b.constant(random_tensor(DataType::float32, {6, 4, 3, 3}, -1, 1, 70)), o)}});
  NamedTensors in{{"x", random_tensor(DataType::float32, {1, 4, 9, 9}, -1, 1, 71)}};
  Tensor want = cpu_context().compute(g, in).at("y");
  for (const char* preload : {"1", "0"}) {
    SCOPED_TRACE(std::string("CPPNN_CUDA_PRELOAD=") + preload);
    gpu_testing::ScopedEnv env("CPPNN_CUDA_PRELOAD", preload);
    Context ctx = Context::create({});
    ASSERT_EQ(ctx.backend(), "cuda");
    expect_rel_close(ctx.compute(g, in).at("y"), want, 1e-4);
    std::string report = ctx.report(g);
    if (preload[0] == '1') {
      EXPECT_TRUE(contains(report, "context startup: 6 cuDNN libraries preloaded in")) << report;
      EXPECT_FALSE(contains(report, "not found")) << report;
    } else {
      EXPECT_TRUE(contains(report, "context startup: library preload off (CPPNN_CUDA_PRELOAD=0)")) << report;
    }
    ctx.destroy();
  }
}

}  // namespace
}  // namespace cppnn
