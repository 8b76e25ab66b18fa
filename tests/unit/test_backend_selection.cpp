// Backend selection: the CPU when asked for or when no usable CUDA backend loads, with the
// reason; a plugin is loaded only through its C function table (runtime/backend_plugin.h),
// of this build's version and core ABI, and every call and error crosses that table.
#include <link.h>

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "test_support.h"

namespace cppnn {
namespace {

class BackendSelection : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv("CPPNN_CUDA_BACKEND"); }
  static Context accelerated() {
    ContextOptions o;
    o.power_preference = PowerPreference::high_performance;
    return Context::create(o);
  }
};

TEST_F(BackendSelection, CpuWhenAcceleratedIsFalse) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  ContextOptions o;
  o.accelerated = false;
  Context c = Context::create(o);
  EXPECT_EQ(c.backend(), "cpu");
  EXPECT_NE(c.backend_reason().find("accelerated = false"), std::string::npos);
}

TEST_F(BackendSelection, CpuWhenLowPower) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  ContextOptions o;
  o.power_preference = PowerPreference::low_power;
  EXPECT_EQ(Context::create(o).backend(), "cpu");
}

TEST_F(BackendSelection, MissingPluginFallsBackToCpuAndSaysWhere) {
  setenv("CPPNN_CUDA_BACKEND", "/nonexistent/libcppnn_cuda.so", 1);
  Context c = accelerated();
  EXPECT_EQ(c.backend(), "cpu");
  EXPECT_NE(c.backend_reason().find("/nonexistent/libcppnn_cuda.so"), std::string::npos);
  // The fallback context computes.
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  Graph g = b.build({{"y", b.add(x, x)}});
  testing::expect_close(
      c.compute(g, {{"x", Tensor::from(DataType::float32, {2}, std::vector<float>{1, 2})}}).at("y"),
      {2, 4}, {0, 0});
}

TEST_F(BackendSelection, NotAPluginIsRefused) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_NOT_A_PLUGIN, 1);
  Context c = accelerated();
  EXPECT_EQ(c.backend(), "cpu");
  EXPECT_NE(c.backend_reason().find("not a cppnn backend plugin (it has no cppnn_backend_plugin)"),
            std::string::npos)
      << c.backend_reason();
}

TEST_F(BackendSelection, OtherTableVersionIsRefused) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_OLD_VERSION_PLUGIN, 1);
  Context c = accelerated();
  EXPECT_EQ(c.backend(), "cpu");
  EXPECT_NE(c.backend_reason().find("is backend plugin version 999, this cppnn has version 1"),
            std::string::npos)
      << c.backend_reason();
}

TEST_F(BackendSelection, PluginWithoutATableForThisVersionIsRefused) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_NO_TABLE_PLUGIN, 1);
  Context c = accelerated();
  EXPECT_EQ(c.backend(), "cpu");
  EXPECT_NE(c.backend_reason().find("does not offer backend plugin version 1"), std::string::npos)
      << c.backend_reason();
}

TEST_F(BackendSelection, PluginOfOtherSourcesIsRefused) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_OTHER_CORE_PLUGIN, 1);
  Context c = accelerated();
  EXPECT_EQ(c.backend(), "cpu");
  EXPECT_NE(c.backend_reason().find("was built from other cppnn sources (core ABI 0123456789abcdef"),
            std::string::npos)
      << c.backend_reason();
}

TEST_F(BackendSelection, PluginWithoutDeviceFallsBack) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_NO_DEVICE_PLUGIN, 1);
  Context c = accelerated();
  EXPECT_EQ(c.backend(), "cpu");
  EXPECT_NE(c.backend_reason().find("no NVIDIA GPU found"), std::string::npos);
}

TEST_F(BackendSelection, UsablePluginIsChosen) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  Context c = accelerated();
  EXPECT_EQ(c.backend(), "fake");
  EXPECT_EQ(c.backend_reason(), "CUDA device found");
}

// One core per process: with the plugin loaded, libcppnn.so is mapped once (the plugin
// found the program's copy rather than bringing one of its own).
TEST_F(BackendSelection, ThePluginUsesTheProgramsCore) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  Context c = accelerated();
  ASSERT_EQ(c.backend(), "fake");
  std::vector<std::string> loaded;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        if (info->dlpi_name) static_cast<std::vector<std::string>*>(out)->push_back(info->dlpi_name);
        return 0;
      },
      &loaded);
  size_t cores = 0, plugins = 0;
  for (const std::string& name : loaded) {
    std::string file = name.substr(name.rfind('/') + 1);
    cores += file == "libcppnn.so";
    plugins += name == FAKE_GOOD_PLUGIN;
  }
  EXPECT_EQ(cores, 1u);
  EXPECT_EQ(plugins, 1u);
}

TEST_F(BackendSelection, ReportComesFromThePluginPlan) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  Context c = accelerated();
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  Graph g = b.build({{"y", b.relu(x)}});
  EXPECT_EQ(c.report(g), "fake plan: everything on the fake device (precision float32)");
}

// Precision auto: float16 where the context got a GPU backend and asked for high
// performance, float32 elsewhere; the plugin's plan is handed the graph lowered by the core.
TEST_F(BackendSelection, AutoPrecisionIsFloat16OnAHighPerformanceGpuContext) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  Graph g = b.build({{"y", b.relu(x)}});
  ContextOptions o;
  o.precision = Precision::auto_;
  o.power_preference = PowerPreference::high_performance;
  Context fast = Context::create(o);
  ASSERT_EQ(fast.backend(), "fake");
  EXPECT_EQ(fast.precision(), Precision::float16);
  EXPECT_EQ(fast.report(g), "fake plan: everything on the fake device (precision float16)");
  o.power_preference = PowerPreference::default_;
  Context plain = Context::create(o);
  ASSERT_EQ(plain.backend(), "fake");
  EXPECT_EQ(plain.precision(), Precision::float32);
  EXPECT_EQ(plain.report(g), "fake plan: everything on the fake device (precision float32)");
  o.power_preference = PowerPreference::high_performance;
  o.accelerated = false;
  EXPECT_EQ(Context::create(o).precision(), Precision::float32);
  // Asked for explicitly, float16 is float16 on any backend.
  o.precision = Precision::float16;
  o.power_preference = PowerPreference::default_;
  EXPECT_EQ(Context::create(o).precision(), Precision::float16);
}

// The per-node answers (Backend::supports_op) cross the table and partition the graph in
// runtime/partition.h; the CPU runs every node.
TEST_F(BackendSelection, PlacementAsksThePluginPerNode) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  Operand y = b.gelu(b.relu(x));
  Graph g = b.build({{"y", b.gelu(b.add(y, x))}});
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  Context c = accelerated();
  ASSERT_EQ(c.backend(), "fake");
  EXPECT_EQ(c.placement(g), "2 of 4 nodes on the device; on the host: gelu x2 (fake: no gelu here)");
  ContextOptions o;
  o.accelerated = false;
  EXPECT_EQ(Context::create(o).placement(g), "4 of 4 nodes on the device");
}

// Errors raised in the plugin come back through the table's status codes as cppnn::Error
// of the same kind and message (std::bad_alloc as itself).
TEST_F(BackendSelection, PluginErrorsKeepTheirKindAndMessage) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  Context c = accelerated();
  ASSERT_EQ(c.backend(), "fake");
  {
    GraphBuilder b;
    Operand x = b.input("unsupported", DataType::float32, {2});
    Graph g = b.build({{"y", b.relu(x)}});
    testing::expect_error([&] { c.compile(g); }, ErrorKind::NotSupportedError,
                          "fake: the graph has an input named 'unsupported'");
  }
  GraphBuilder b;
  Operand boom = b.input("boom", DataType::float32, {2});
  Operand huge = b.input("huge", DataType::float32, {2});
  Graph g = b.build({{"y", b.add(boom, huge)}});
  Tensor two = Tensor::from(DataType::float32, {2}, std::vector<float>{1, 2});
  testing::expect_error([&] { c.compute(g, {{"boom", two}, {"huge", two}}); },
                        ErrorKind::OperationError, "fake: boom");
  GraphBuilder b2;
  Operand h = b2.input("huge", DataType::float32, {2});
  Graph g2 = b2.build({{"y", b2.relu(h)}});
  EXPECT_THROW(c.compute(g2, {{"huge", two}}), std::bad_alloc);
  testing::expect_error([&] { c.synchronize_external(nullptr); }, ErrorKind::DataError,
                        "fake: nothing to synchronize at a null pointer");
}

// Device tensors, dispatch and the DLPack calls go through the table too.
TEST_F(BackendSelection, PluginTensorsAndDispatchCrossTheTable) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  Context c = accelerated();
  ASSERT_EQ(c.backend(), "fake");
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {3});
  Graph g = b.build({{"y", b.relu(x)}});
  DeviceTensor in = c.create_tensor(DataType::float32, {3});
  DeviceTensor out = c.create_tensor(DataType::float32, {3});
  EXPECT_FALSE(in.on_device());
  c.write_tensor(in, Tensor::from(DataType::float32, {3}, std::vector<float>{1, -2, 3}));
  c.dispatch(g, {{"x", in}}, {{"y", out}});
  // The fake plan copies its input (it is no relu).
  testing::expect_close(c.read_tensor(out), {1, -2, 3}, {0, 0});
  std::vector<float> host(3, 5.0f);
  DeviceTensor wrapped = c.wrap_tensor(DataType::float32, {3}, host.data(), nullptr);
  EXPECT_EQ(wrapped.data(), host.data());
  testing::expect_close(c.read_tensor(wrapped), {5, 5, 5}, {0, 0});
  EXPECT_EQ(c.device_of(host.data()), 7);
  c.synchronize_external(host.data());
  c.synchronize();
  wrapped.destroy();
  c.destroy();
  // Both work on a destroyed context, as its tensors do.
  EXPECT_EQ(c.device_of(host.data()), 7);
}

TEST_F(BackendSelection, PeakMemoryCrossesTheTable) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  Context c = accelerated();
  ASSERT_EQ(c.backend(), "fake");
  EXPECT_EQ(c.peak_memory(), 1000u);
  EXPECT_EQ(c.peak_memory(), 2000u);
  c.reset_peak_memory();  // reads 3000, then starts again
  EXPECT_EQ(c.peak_memory(), 1000u);
  c.destroy();
  testing::expect_error([&] { c.peak_memory(); }, ErrorKind::InvalidStateError, "destroyed");
}

TEST_F(BackendSelection, CpuCountsNoPeakMemory) {
  ContextOptions o;
  o.accelerated = false;
  Context c = Context::create(o);
  EXPECT_EQ(c.peak_memory(), 0u);
  c.reset_peak_memory();
  EXPECT_EQ(c.peak_memory(), 0u);
}

TEST_F(BackendSelection, CpuHasNoExternalDevices) {
  ContextOptions o;
  o.accelerated = false;
  Context c = Context::create(o);
  float x = 1;
  EXPECT_EQ(c.device_of(&x), 0);
  c.synchronize_external(&x);  // nothing to wait for
}

TEST_F(BackendSelection, CpuReportListsTheStepsAndChecksTheGraph) {
  ContextOptions o;
  o.accelerated = false;
  o.num_threads = 1;
  Context c = Context::create(o);
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  Graph g = b.build({{"y", b.relu(x)}});
  EXPECT_EQ(c.report(g),
            "cpu plan: 1 nodes on 1 thread (num_threads), precision float32 (as built), layout nchw (0 of 0 "
            "conv2d channels-last)\nsteps:\n  relu -> float32 [2]\n");
  c.destroy();
  testing::expect_error([&] { c.report(g); }, ErrorKind::InvalidStateError, "destroyed");
}

}  // namespace
}  // namespace cppnn
