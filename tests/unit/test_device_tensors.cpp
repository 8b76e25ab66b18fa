// Device tensors (WebNN's MLTensor) on the CPU backend: create / write / read / dispatch,
// chaining graphs without host copies, and every misuse as a clear error that leaves the
// context working. The GPU suite runs the same on the CUDA backend.
#include <gtest/gtest.h>

#include <cmath>

#include "cppnn/cppnn.h"
#include "test_support.h"

namespace cppnn {
namespace {

using testing::expect_close;
using testing::expect_error;
using testing::random_tensor;

constexpr DataType f32 = DataType::float32;

Context cpu() {
  ContextOptions o;
  o.accelerated = false;
  return Context::create(o);
}

// y = relu(x * w + 1) for x [2, 3], w [3, 4] constant.
struct Affine {
  Graph graph;
  std::vector<double> w;
};

Affine affine(uint32_t seed) {
  Tensor w = random_tensor(f32, {3, 4}, -1, 1, seed);
  GraphBuilder b;
  Operand x = b.input("x", f32, {2, 3});
  Operand one = b.constant(Tensor::from<float>(f32, {1}, {1.0f}));
  return {b.build({{"y", b.relu(b.add(b.matmul(x, b.constant(w)), one))}}), w.to_doubles()};
}

std::vector<double> affine_reference(const std::vector<double>& x, const std::vector<double>& w) {
  std::vector<double> y(8);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      double s = 1;
      for (int k = 0; k < 3; ++k) s += x[size_t(i * 3 + k)] * w[size_t(k * 4 + j)];
      y[size_t(i * 4 + j)] = std::max(s, 0.0);
    }
  return y;
}

TEST(DeviceTensors, CreateIsZeroedWriteReadRoundTrips) {
  Context c = cpu();
  DeviceTensor t = c.create_tensor(f32, {2, 3});
  EXPECT_TRUE(t.valid());
  EXPECT_FALSE(t.on_device());
  EXPECT_EQ(t.byte_size(), 24u);
  EXPECT_EQ(t.shape(), (Dims{2, 3}));
  expect_close(c.read_tensor(t), std::vector<double>(6, 0.0), {0, 0}, "zeroed");
  Tensor x = random_tensor(f32, {2, 3}, -1, 1, 1);
  c.write_tensor(t, x);
  expect_close(c.read_tensor(t), x.to_doubles(), {0, 0}, "round trip");
}

TEST(DeviceTensors, DispatchChainsTwoGraphsThroughTensors) {
  Context c = cpu();
  Affine a = affine(3);
  // Second graph: z = y * 2 over [2, 4].
  GraphBuilder b;
  Operand y = b.input("y", f32, {2, 4});
  Graph twice = b.build({{"z", b.mul(y, b.constant(Tensor::from<float>(f32, {1}, {2.0f})))}});

  DeviceTensor x = c.create_tensor(f32, {2, 3}), mid = c.create_tensor(f32, {2, 4}),
               z = c.create_tensor(f32, {2, 4});
  for (uint32_t round = 0; round < 3; ++round) {
    Tensor xv = random_tensor(f32, {2, 3}, -1, 1, 10 + round);
    c.write_tensor(x, xv);
    c.dispatch(a.graph, {{"x", x}}, {{"y", mid}});
    c.dispatch(twice, {{"y", mid}}, {{"z", z}});
    std::vector<double> want = affine_reference(xv.to_doubles(), a.w);
    for (double& v : want) v *= 2;
    expect_close(c.read_tensor(z), want, testing::default_tolerance(f32), "z");
  }
}

TEST(DeviceTensors, WrapUsesHostMemoryInPlace) {
  Context c = cpu();
  Affine a = affine(4);
  auto in = std::make_shared<std::vector<float>>(6, 0.5f);
  auto out = std::make_shared<std::vector<float>>(8, -1.0f);
  DeviceTensor x = c.wrap_tensor(f32, {2, 3}, in->data(), in);
  DeviceTensor y = c.wrap_tensor(f32, {2, 4}, out->data(), out);
  c.dispatch(a.graph, {{"x", x}}, {{"y", y}});
  std::vector<double> got(out->begin(), out->end());
  std::vector<double> want = affine_reference(std::vector<double>(6, 0.5), a.w);
  for (size_t i = 0; i < 8; ++i) EXPECT_NEAR(got[i], want[i], 1e-5);
}

TEST(DeviceTensors, MisuseIsAClearErrorAndTheContextKeepsWorking) {
  Context c = cpu();
  Affine a = affine(5);
  DeviceTensor x = c.create_tensor(f32, {2, 3}), y = c.create_tensor(f32, {2, 4});
  expect_error([&] { c.write_tensor(x, random_tensor(f32, {3, 2}, 0, 1, 1)); },
               ErrorKind::TypeError, "the tensor is float32 [2, 3]");
  expect_error([&] { c.write_tensor(x, random_tensor(DataType::float16, {2, 3}, 0, 1, 1)); },
               ErrorKind::TypeError, "data is float16");
  expect_error([&] { c.dispatch(a.graph, {}, {{"y", y}}); }, ErrorKind::TypeError,
               "input 'x' is missing");
  expect_error([&] { c.dispatch(a.graph, {{"x", x}}, {}); }, ErrorKind::TypeError,
               "output 'y' is missing");
  expect_error([&] { c.dispatch(a.graph, {{"x", x}, {"q", x}}, {{"y", y}}); },
               ErrorKind::TypeError, "no input named 'q'");
  expect_error([&] { c.dispatch(a.graph, {{"x", y}}, {{"y", y}}); }, ErrorKind::TypeError,
               "the graph expects float32 [2, 3]");
  DeviceTensor x_as_y = c.create_tensor(f32, {2, 4});
  GraphBuilder b;
  Operand in = b.input("a", f32, {2, 4});
  Graph same = b.build({{"b", b.neg(in)}});
  expect_error([&] { c.dispatch(same, {{"a", x_as_y}}, {{"b", x_as_y}}); }, ErrorKind::TypeError,
               "is also given as output");
  expect_error([&] { c.create_tensor(f32, {2, -1}); }, ErrorKind::TypeError, "negative dimension");
  expect_error([&] { c.wrap_tensor(f32, {2}, nullptr, nullptr); }, ErrorKind::TypeError, "null data");

  Context other = cpu();
  DeviceTensor foreign = other.create_tensor(f32, {2, 3});
  expect_error([&] { c.dispatch(a.graph, {{"x", foreign}}, {{"y", y}}); }, ErrorKind::TypeError,
               "belongs to another context");
  expect_error([&] { c.read_tensor(foreign); }, ErrorKind::TypeError, "another context");

  DeviceTensor gone = c.create_tensor(f32, {2, 3});
  DeviceTensor copy = gone;
  gone.destroy();
  EXPECT_FALSE(copy.valid());
  expect_error([&] { c.read_tensor(copy); }, ErrorKind::InvalidStateError, "destroyed");
  expect_error([&] { c.dispatch(a.graph, {{"x", copy}}, {{"y", y}}); },
               ErrorKind::InvalidStateError, "destroyed");
  DeviceTensor none;
  expect_error([&] { none.shape(); }, ErrorKind::InvalidStateError, "not valid");

  // Still works.
  Tensor xv = random_tensor(f32, {2, 3}, -1, 1, 2);
  c.write_tensor(x, xv);
  c.dispatch(a.graph, {{"x", x}}, {{"y", y}});
  expect_close(c.read_tensor(y), affine_reference(xv.to_doubles(), a.w),
               testing::default_tolerance(f32), "after the errors");

  c.destroy();
  expect_error([&] { c.create_tensor(f32, {1}); }, ErrorKind::InvalidStateError, "destroyed");
  expect_error([&] { c.read_tensor(x); }, ErrorKind::InvalidStateError, "destroyed");
  x.destroy();  // after its context: no crash
}

}  // namespace
}  // namespace cppnn

namespace cppnn {
namespace {

TEST(ContextOptionsCheck, BadGpuShareOrThreadsIsATypeError) {
  ContextOptions o;
  o.gpu_sm_share = 0;
  testing::expect_error([&] { Context::create(o); }, ErrorKind::TypeError, "gpu_sm_share must be in (0, 1]");
  o.gpu_sm_share = 1;
  o.num_threads = -2;
  testing::expect_error([&] { Context::create(o); }, ErrorKind::TypeError, "num_threads must be >= 0");
  // The CPU ignores the GPU manners.
  o.num_threads = 0;
  o.accelerated = false;
  o.gpu_low_priority = true;
  o.gpu_sm_share = 0.5;
  EXPECT_EQ(Context::create(o).backend(), "cpu");
}

}  // namespace
}  // namespace cppnn
