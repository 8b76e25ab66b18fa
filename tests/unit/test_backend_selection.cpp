// Backend selection: the CPU when asked for or when no usable CUDA backend loads, with the
// reason; a plugin is loaded only through the documented ABI.
#include <cstdlib>

#include "runtime/backend.h"
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
  EXPECT_NE(c.backend_reason().find("not a cppnn backend plugin"), std::string::npos);
}

TEST_F(BackendSelection, WrongAbiIsRefused) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_OLD_ABI_PLUGIN, 1);
  Context c = accelerated();
  EXPECT_EQ(c.backend(), "cpu");
  EXPECT_NE(c.backend_reason().find("backend ABI 999"), std::string::npos);
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

TEST_F(BackendSelection, ReportComesFromThePluginPlan) {
  setenv("CPPNN_CUDA_BACKEND", FAKE_GOOD_PLUGIN, 1);
  Context c = accelerated();
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  Graph g = b.build({{"y", b.relu(x)}});
  EXPECT_EQ(c.report(g), "fake plan: everything on the fake device");
}

TEST_F(BackendSelection, CpuReportIsEmptyAndChecksTheGraph) {
  ContextOptions o;
  o.accelerated = false;
  Context c = Context::create(o);
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  Graph g = b.build({{"y", b.relu(x)}});
  EXPECT_EQ(c.report(g), "");
  c.destroy();
  testing::expect_error([&] { c.report(g); }, ErrorKind::InvalidStateError, "destroyed");
}

}  // namespace
}  // namespace cppnn
