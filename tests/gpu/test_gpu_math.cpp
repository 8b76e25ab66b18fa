// The math ops on the hand-written kernels of kernels/math.cu against the CPU backend:
// pooling (every option, both layouts), softmax (any axis), layer / batch / instance
// normalization and the ten reductions (axis patterns, keepDimensions, integer types), on
// fresh random inputs; each checks that the op's step really ran on the GPU, and one
// rejected case that it fell back and still matches.
#include <algorithm>
#include <optional>

#include "gpu/gpu_test_support.h"
#include "graph/op_id.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using gpu_testing::expect_rel_close;
using testing::random_tensor;

constexpr double kFp32 = 2e-5;
constexpr double kFp32Sum = 1e-4;  // long float sums, added in another order than the CPU's
constexpr double kFp16 = 5e-3;

uint32_t seed_counter = 5000;
Tensor fresh(DataType t, const Dims& shape, double lo = -1, double hi = 1) {
  return random_tensor(t, shape, lo, hi, ++seed_counter);
}

// Runs `g` on both contexts with the same inputs and compares every output.
void expect_matches_cpu(const Graph& g, const NamedTensors& inputs, double rtol,
                        const std::string& what) {
  NamedTensors want = cpu_context().compute(g, inputs);
  NamedTensors got = cuda_context().compute(g, inputs);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, tensor] : want)
    expect_rel_close(got.at(name), tensor, rtol, what + " " + name);
}

// The op's line in the plan report says where it ran.
void expect_step(const Graph& g, const std::string& op, bool gpu) {
  std::string report = cuda_context().report(g);
  // "[gpu] softmax [2, 3]: ..." or, for a labelless fallback step, "[cpu] softmax: ...".
  std::string line = std::string(gpu ? "[gpu] " : "[cpu] ") + op + (gpu ? " " : "");
  EXPECT_NE(report.find(line), std::string::npos) << "expected a step '" << line << "':\n"
                                                  << report;
}

std::string type_name(DataType t) { return std::string(to_string(t)); }

// ---- Pooling -------------------------------------------------------------------------

enum class Pool { average, l2, max };
const char* pool_op(Pool p) {
  return p == Pool::average ? "averagePool2d" : p == Pool::l2 ? "l2Pool2d" : "maxPool2d";
}

struct PoolCase {
  std::vector<uint32_t> window, padding, strides, dilations, output_sizes;
  RoundingType rounding = RoundingType::floor;
  bool empty_windows = false;  // some window has no tap inside the input
  std::string name;
};

void check_pool(Pool kind, DataType t, InputLayout layout, const Dims& nchw_shape,
                const PoolCase& c, double rtol) {
  Dims shape = layout == InputLayout::nchw
                   ? nchw_shape
                   : Dims{nchw_shape[0], nchw_shape[2], nchw_shape[3], nchw_shape[1]};
  std::string what = std::string(pool_op(kind)) + " " + type_name(t) + " " + to_string(shape) +
                     (layout == InputLayout::nchw ? " nchw " : " nhwc ") + c.name;
  SCOPED_TRACE(what);
  GraphBuilder b;
  Operand x = b.input("x", t, shape);
  Pool2dOptions o;
  o.window_dimensions = c.window;
  o.padding = c.padding;
  o.strides = c.strides;
  o.dilations = c.dilations;
  o.output_sizes = c.output_sizes;
  o.output_shape_rounding = c.rounding;
  o.layout = layout;
  Operand y = kind == Pool::average ? b.average_pool2d(x, o)
              : kind == Pool::l2    ? b.l2_pool2d(x, o)
                                    : b.max_pool2d(x, o);
  Graph g = b.build({{"y", y}});
  bool integer = t != DataType::float32 && t != DataType::float16;
  for (int run = 0; run < 2; ++run)
    expect_matches_cpu(g, {{"x", integer ? fresh(t, shape, -100, 100) : fresh(t, shape)}}, rtol,
                       what);
  expect_step(g, pool_op(kind), true);
}

std::vector<PoolCase> pool_cases() {
  std::vector<PoolCase> cases;
  cases.push_back({{}, {}, {}, {}, {}, RoundingType::floor, false, "global (default window)"});
  cases.push_back({{3, 3}, {}, {}, {}, {}, RoundingType::floor, false, "3x3"});
  cases.push_back({{3, 3}, {1, 1, 1, 1}, {2, 2}, {}, {}, RoundingType::floor, false,
                   "3x3 stride 2 pad 1"});
  cases.push_back({{2, 2}, {}, {2, 2}, {}, {}, RoundingType::ceil, false, "2x2 stride 2 ceil"});
  cases.push_back({{3, 2}, {2, 1, 0, 1}, {1, 2}, {2, 1}, {}, RoundingType::floor, false,
                   "3x2 dilated 2x1, asymmetric padding"});
  cases.push_back({{3, 3}, {}, {2, 2}, {2, 3}, {}, RoundingType::floor, false,
                   "dilations 2x3 stride 2"});
  cases.push_back({{2, 2}, {}, {2, 2}, {}, {5, 6}, RoundingType::floor, false,
                   "outputSizes (the ceil of 9x11 by 2x2 stride 2)"});
  cases.push_back({{2, 2}, {3, 3, 3, 3}, {}, {}, {}, RoundingType::floor, true,
                   "padding wider than the window (empty windows)"});
  return cases;
}

TEST(GpuMath, PoolingMatchesCpu) {
  REQUIRE_CUDA();
  const Dims shape = {2, 5, 9, 11};
  for (const PoolCase& c : pool_cases())
    for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc})
      for (Pool kind : {Pool::average, Pool::l2, Pool::max}) {
        // Empty windows give -infinity for max, which a relative comparison cannot take.
        if (c.empty_windows && kind == Pool::max) continue;
        check_pool(kind, DataType::float32, layout, shape, c, kFp32);
        check_pool(kind, DataType::float16, layout, shape, c, kFp16);
      }
}

TEST(GpuMath, MaxPoolIntegerTypesExact) {
  REQUIRE_CUDA();
  for (DataType t : {DataType::int32, DataType::uint32, DataType::int64, DataType::uint64,
                     DataType::int8, DataType::uint8})
    for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc}) {
      check_pool(Pool::max, t, layout, {2, 5, 9, 11},
                 {{3, 3}, {1, 1, 1, 1}, {2, 2}, {}, {}, RoundingType::floor, false, "3x3 s2 p1"},
                 0);
      check_pool(Pool::max, t, layout, {2, 5, 9, 11}, pool_cases()[0], 0);
    }
}

TEST(GpuMath, ModelPoolsMatchCpu) {
  REQUIRE_CUDA();
  // ResNet-50's stem max pool, MobileNetV2's / ResNet-50's global average pools.
  PoolCase stem{{3, 3}, {1, 1, 1, 1}, {2, 2}, {}, {}, RoundingType::floor, false, "stem"};
  check_pool(Pool::max, DataType::float32, InputLayout::nhwc, {1, 64, 112, 112}, stem, 0);
  check_pool(Pool::max, DataType::float16, InputLayout::nhwc, {1, 64, 112, 112}, stem, 0);
  check_pool(Pool::max, DataType::float32, InputLayout::nchw, {1, 64, 112, 112}, stem, 0);
  for (DataType t : {DataType::float32, DataType::float16})
    for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc}) {
      double rtol = t == DataType::float32 ? kFp32 : kFp16;
      check_pool(Pool::average, t, layout, {2, 1280, 7, 7}, pool_cases()[0], rtol);
      check_pool(Pool::average, t, layout, {2, 2048, 7, 7}, pool_cases()[0], rtol);
    }
}

// ---- softmax -------------------------------------------------------------------------

void check_softmax(DataType t, const Dims& shape, uint32_t axis, double rtol) {
  std::string what = "softmax " + type_name(t) + " " + to_string(shape) + " axis " +
                     std::to_string(axis);
  SCOPED_TRACE(what);
  GraphBuilder b;
  Operand x = b.input("x", t, shape);
  Graph g = b.build({{"y", b.softmax(x, axis)}});
  for (int run = 0; run < 2; ++run) expect_matches_cpu(g, {{"x", fresh(t, shape, -8, 8)}}, rtol, what);
  expect_step(g, "softmax", true);
}

TEST(GpuMath, SoftmaxMatchesCpu) {
  REQUIRE_CUDA();
  struct Case {
    Dims shape;
    uint32_t axis;
  };
  const Case cases[] = {
      {{2, 4096}, 1},       {{4, 30522}, 1},  {{2, 12, 128, 128}, 3},  // BERT's attention
      {{3, 100}, 1},        {{6, 10}, 1},     {{1, 1}, 0},             // short rows: per thread
      {{3, 5, 7}, 0},       {{3, 5, 7}, 1},   {{3, 5, 7}, 2},
      {{2, 300, 9}, 1},     {{4096, 3}, 0},   {{7}, 0},
  };
  for (const Case& c : cases) {
    check_softmax(DataType::float32, c.shape, c.axis, kFp32);
    check_softmax(DataType::float16, c.shape, c.axis, kFp16);
  }
}

// ---- layerNormalization --------------------------------------------------------------

void check_layer_norm(DataType t, const Dims& shape, std::optional<std::vector<uint32_t>> axes,
                      bool with_scale, bool with_bias, bool constant_params, bool on_gpu,
                      double rtol) {
  std::string what = "layerNormalization " + type_name(t) + " " + to_string(shape) +
                     (with_scale ? " scale" : "") + (with_bias ? " bias" : "") +
                     (constant_params ? " (constants)" : " (inputs)");
  SCOPED_TRACE(what);
  Dims pshape;
  if (axes) {
    for (uint32_t a : *axes) pshape.push_back(shape[a]);
  } else {
    pshape.assign(shape.begin() + 1, shape.end());
  }
  GraphBuilder b;
  Operand x = b.input("x", t, shape);
  LayerNormalizationOptions o;
  o.axes = axes;
  o.epsilon = 1e-3;
  NamedTensors in;
  auto param = [&](const char* name, bool present) {
    if (!present) return Operand();
    if (constant_params) return b.constant(fresh(t, pshape));
    in[name] = fresh(t, pshape);
    return b.input(name, t, pshape);
  };
  o.scale = param("scale", with_scale);
  o.bias = param("bias", with_bias);
  Graph g = b.build({{"y", b.layer_normalization(x, o)}});
  for (int run = 0; run < 2; ++run) {
    in["x"] = fresh(t, shape, -3, 5);  // a mean away from 0
    expect_matches_cpu(g, in, rtol, what);
  }
  expect_step(g, "layerNormalization", on_gpu);
}

TEST(GpuMath, LayerNormalizationMatchesCpu) {
  REQUIRE_CUDA();
  using Axes = std::vector<uint32_t>;
  for (DataType t : {DataType::float32, DataType::float16}) {
    double rtol = t == DataType::float32 ? kFp32 : kFp16;
    check_layer_norm(t, {2, 128, 768}, Axes{2}, true, true, true, true, rtol);  // BERT
    check_layer_norm(t, {2, 128, 768}, Axes{2}, true, true, false, true, rtol);
    check_layer_norm(t, {3, 4096}, Axes{1}, false, false, true, true, rtol);
    check_layer_norm(t, {2, 30522}, Axes{1}, true, false, true, true, rtol);
    check_layer_norm(t, {2, 3, 4, 5}, std::nullopt, true, true, false, true, rtol);  // default axes
    check_layer_norm(t, {2, 3, 4, 5}, Axes{2, 3}, false, true, true, true, rtol);
    check_layer_norm(t, {64, 7}, Axes{1}, true, true, true, true, rtol);
    check_layer_norm(t, {5, 3}, Axes{}, true, true, true, true, rtol);  // no axes: rows of 1
  }
}

// Axes that are not the trailing ones in order: the strided kernel.
TEST(GpuMath, LayerNormalizationOverAnyAxesMatchesCpu) {
  REQUIRE_CUDA();
  using Axes = std::vector<uint32_t>;
  check_layer_norm(DataType::float32, {8, 16}, Axes{0}, true, true, true, true, kFp32);
  check_layer_norm(DataType::float32, {4, 6, 5}, Axes{2, 1}, true, true, false, true, kFp32);
  check_layer_norm(DataType::float16, {4, 6, 5}, Axes{0, 2}, true, false, true, true, kFp16);
  check_layer_norm(DataType::float32, {3, 4, 5, 6}, Axes{3, 0, 1}, false, true, true, true, kFp32);
  check_layer_norm(DataType::float32, {2, 700, 3}, Axes{1}, true, true, true, true, kFp32);
}

// ---- batchNormalization and instanceNormalization ------------------------------------

void check_batch_norm(DataType t, const Dims& shape, uint32_t axis, bool with_scale,
                      bool with_bias, bool constant_params, double rtol) {
  std::string what = "batchNormalization " + type_name(t) + " " + to_string(shape) + " axis " +
                     std::to_string(axis) + (constant_params ? " (constants)" : " (inputs)");
  SCOPED_TRACE(what);
  Dims pshape = {shape[axis]};
  GraphBuilder b;
  Operand x = b.input("x", t, shape);
  NamedTensors in;
  auto param = [&](const char* name, double lo, double hi) {
    if (constant_params) return b.constant(fresh(t, pshape, lo, hi));
    in[name] = fresh(t, pshape, lo, hi);
    return b.input(name, t, pshape);
  };
  Operand mean = param("mean", -1, 1);
  Operand variance = param("variance", 0.2, 2);
  BatchNormalizationOptions o;
  o.axis = axis;
  o.epsilon = 1e-3;
  if (with_scale) o.scale = param("scale", -2, 2);
  if (with_bias) o.bias = param("bias", -1, 1);
  Graph g = b.build({{"y", b.batch_normalization(x, mean, variance, o)}});
  for (int run = 0; run < 2; ++run) {
    in["x"] = fresh(t, shape, -2, 2);
    expect_matches_cpu(g, in, rtol, what);
  }
  expect_step(g, "batchNormalization", true);
}

TEST(GpuMath, BatchNormalizationMatchesCpu) {
  REQUIRE_CUDA();
  for (DataType t : {DataType::float32, DataType::float16}) {
    double rtol = t == DataType::float32 ? kFp32 : kFp16;
    check_batch_norm(t, {2, 16, 5, 7}, 1, true, true, true, rtol);
    check_batch_norm(t, {2, 16, 5, 7}, 1, true, true, false, rtol);
    check_batch_norm(t, {2, 5, 7, 16}, 3, true, false, true, rtol);
    check_batch_norm(t, {6, 10}, 1, false, true, true, rtol);
    check_batch_norm(t, {10, 3}, 0, false, false, false, rtol);
  }
}

void check_instance_norm(DataType t, InputLayout layout, const Dims& nchw_shape, bool params,
                         double rtol) {
  Dims shape = layout == InputLayout::nchw
                   ? nchw_shape
                   : Dims{nchw_shape[0], nchw_shape[2], nchw_shape[3], nchw_shape[1]};
  std::string what = "instanceNormalization " + type_name(t) + " " + to_string(shape) +
                     (layout == InputLayout::nchw ? " nchw" : " nhwc");
  SCOPED_TRACE(what);
  GraphBuilder b;
  Operand x = b.input("x", t, shape);
  InstanceNormalizationOptions o;
  o.layout = layout;
  if (params) {
    o.scale = b.constant(fresh(t, {nchw_shape[1]}, -2, 2));
    o.bias = b.constant(fresh(t, {nchw_shape[1]}));
  }
  Graph g = b.build({{"y", b.instance_normalization(x, o)}});
  for (int run = 0; run < 2; ++run)
    expect_matches_cpu(g, {{"x", fresh(t, shape, -1, 3)}}, rtol, what);
  expect_step(g, "instanceNormalization", true);
}

TEST(GpuMath, InstanceNormalizationMatchesCpu) {
  REQUIRE_CUDA();
  for (DataType t : {DataType::float32, DataType::float16})
    for (InputLayout layout : {InputLayout::nchw, InputLayout::nhwc}) {
      double rtol = t == DataType::float32 ? kFp32 : kFp16;
      check_instance_norm(t, layout, {2, 8, 9, 11}, true, rtol);
      check_instance_norm(t, layout, {1, 3, 64, 64}, false, rtol);
      check_instance_norm(t, layout, {2, 70, 1, 1}, true, rtol);
    }
}

// ---- Reductions ----------------------------------------------------------------------

using ReduceFn = Operand (GraphBuilder::*)(const Operand&, const ReduceOptions&);

using detail::OpId;

struct ReduceOp {
  OpId id;
  ReduceFn fn;
  double lo, hi;  // input range (logs need positive values)
};

const ReduceOp kReduceOps[] = {
    {OpId::reduceL1, &GraphBuilder::reduce_l1, -1, 1},
    {OpId::reduceL2, &GraphBuilder::reduce_l2, -1, 1},
    {OpId::reduceLogSum, &GraphBuilder::reduce_log_sum, 0.1, 2},
    {OpId::reduceLogSumExp, &GraphBuilder::reduce_log_sum_exp, -8, 8},
    {OpId::reduceMax, &GraphBuilder::reduce_max, -1, 1},
    {OpId::reduceMean, &GraphBuilder::reduce_mean, -1, 1},
    {OpId::reduceMin, &GraphBuilder::reduce_min, -1, 1},
    {OpId::reduceProduct, &GraphBuilder::reduce_product, 0.9, 1.1},
    {OpId::reduceSum, &GraphBuilder::reduce_sum, -1, 1},
    {OpId::reduceSumSquare, &GraphBuilder::reduce_sum_square, -1, 1},
};

void check_reduce(const ReduceOp& op, DataType t, const Dims& shape,
                  std::optional<std::vector<uint32_t>> axes, bool keep, double rtol, double lo,
                  double hi) {
  std::string what = detail::op_name(op.id) + " " + type_name(t) + " " + to_string(shape) +
                     " axes " + (axes ? to_string(Dims(axes->begin(), axes->end())) : "(all)") +
                     (keep ? " keep" : "");
  SCOPED_TRACE(what);
  GraphBuilder b;
  Operand x = b.input("x", t, shape);
  ReduceOptions o;
  o.axes = axes;
  o.keep_dimensions = keep;
  Graph g = b.build({{"y", (b.*op.fn)(x, o)}});
  for (int run = 0; run < 2; ++run) expect_matches_cpu(g, {{"x", fresh(t, shape, lo, hi)}}, rtol, what);
  expect_step(g, detail::op_name(op.id), true);
}

struct ReduceCase {
  Dims shape;
  std::optional<std::vector<uint32_t>> axes;
  bool keep;
};

const ReduceCase kReduceCases[] = {
    {{4, 4096}, std::vector<uint32_t>{1}, false},      // rows: block per output
    {{3, 30522}, std::vector<uint32_t>{1}, true},
    {{2, 128, 768}, std::vector<uint32_t>{2}, true},   // layer-norm statistics
    {{6, 40}, std::vector<uint32_t>{1}, false},        // short rows: thread per output
    {{30522, 3}, std::vector<uint32_t>{0}, false},     // innermost kept
    {{2, 7, 7, 96}, std::vector<uint32_t>{1, 2}, true},  // NHWC global average pool
    {{2, 96, 7, 7}, std::vector<uint32_t>{2, 3}, false}, // NCHW global average pool
    {{2, 3, 4, 5}, std::vector<uint32_t>{1, 3}, false},  // alternating groups
    {{2, 3, 4, 5}, std::vector<uint32_t>{0, 2}, true},
    {{3, 40, 5, 30}, std::vector<uint32_t>{1, 3}, false},  // alternating, long rows
    {{2, 3, 4, 5}, std::nullopt, false},                // everything
    {{2, 3, 4, 5}, std::nullopt, true},
    {{5, 1, 6}, std::vector<uint32_t>{1}, false},       // only a size-1 dim
    {{1, 1}, std::nullopt, false},                      // a single element
};

TEST(GpuMath, ReductionsFloat32MatchCpu) {
  REQUIRE_CUDA();
  for (const ReduceOp& op : kReduceOps)
    for (const ReduceCase& c : kReduceCases) {
      // Products of thousands of factors over- or underflow: keep them to short extents.
      bool product = op.id == OpId::reduceProduct;
      if (product && element_count(c.shape) > 4096 * 4) continue;
      bool exact = op.id == OpId::reduceMax || op.id == OpId::reduceMin;
      check_reduce(op, DataType::float32, c.shape, c.axes, c.keep, exact ? 0 : kFp32Sum, op.lo,
                   op.hi);
    }
}

TEST(GpuMath, ReductionsFloat16MatchCpu) {
  REQUIRE_CUDA();
  for (const ReduceOp& op : kReduceOps)
    for (const ReduceCase& c : kReduceCases) {
      bool product = op.id == OpId::reduceProduct;
      if (product && element_count(c.shape) > 4096 * 4) continue;
      check_reduce(op, DataType::float16, c.shape, c.axes, c.keep, kFp16, op.lo, op.hi);
    }
}

TEST(GpuMath, IntegerReductionsExact) {
  REQUIRE_CUDA();
  // Sums, norms and products wrap like the CPU's (products of 64 factors in [-3, 3] do).
  const OpId summing[] = {OpId::reduceL1,        OpId::reduceProduct, OpId::reduceSum,
                          OpId::reduceSumSquare, OpId::reduceMax,     OpId::reduceMin};
  for (const ReduceOp& op : kReduceOps) {
    bool sums = std::find(std::begin(summing), std::end(summing), op.id) != std::end(summing);
    if (!sums) continue;
    bool product = op.id == OpId::reduceProduct;
    bool minmax = op.id == OpId::reduceMax || op.id == OpId::reduceMin;
    std::vector<DataType> types = {DataType::int32, DataType::uint32, DataType::int64,
                                   DataType::uint64};
    if (minmax) types.insert(types.end(), {DataType::int8, DataType::uint8});
    for (DataType t : types) {
      bool is_unsigned = t == DataType::uint32 || t == DataType::uint64 || t == DataType::uint8;
      double lo = product ? (is_unsigned ? 0 : -3) : (is_unsigned ? 0 : -100);
      double hi = product ? 3 : 100;
      check_reduce(op, t, {4, 4096}, std::vector<uint32_t>{1}, false, 0, lo, hi);
      check_reduce(op, t, {64, 3}, std::vector<uint32_t>{0}, true, 0, lo, hi);
      check_reduce(op, t, {3, 64, 5}, std::vector<uint32_t>{0, 2}, false, 0, lo, hi);
      check_reduce(op, t, {2, 7, 7, 8}, std::vector<uint32_t>{1, 2}, false, 0, lo, hi);
    }
  }
}

}  // namespace
}  // namespace cppnn
