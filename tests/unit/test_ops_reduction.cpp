// Reduction ops (reduce*, argMin/argMax, cumulativeSum, softmax) against float64 references
// written here with naive loops.
#include <algorithm>
#include <limits>
#include <optional>

#include "graph/ir.h"
#include "test_support.h"

namespace cppnn {
namespace {

using testing::default_tolerance;
using testing::expect_close;
using testing::expect_error;
using testing::random_tensor;
using testing::run_cpu;
using testing::tensor_from_doubles;
using testing::Tolerance;
using Axes = std::optional<std::vector<uint32_t>>;

// Present axes (possibly none); std::nullopt means the default, every axis.
Axes ax(std::vector<uint32_t> axes) { return axes; }

// Row-major multi-index of a flat position.
std::vector<size_t> unflatten(size_t flat, const Dims& shape) {
  std::vector<size_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % size_t(shape[d]);
    flat /= size_t(shape[d]);
  }
  return idx;
}

// The values each output of a reduction combines, and the output shape.
struct Groups {
  Dims shape;
  std::vector<std::vector<double>> values;
};

Groups group_values(const std::vector<double>& x, const Dims& shape, const Axes& axes, bool keep) {
  std::vector<bool> reduced(shape.size(), !axes.has_value());
  if (axes)
    for (uint32_t a : *axes) reduced[a] = true;
  Groups g;
  size_t outputs = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d]) {
      g.shape.push_back(shape[d]);
      outputs *= size_t(shape[d]);
    } else if (keep) {
      g.shape.push_back(1);
    }
  }
  g.values.resize(outputs);
  for (size_t flat = 0; flat < x.size(); ++flat) {
    std::vector<size_t> idx = unflatten(flat, shape);
    size_t o = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      if (!reduced[d]) o = o * size_t(shape[d]) + idx[d];
    g.values[o].push_back(x[flat]);
  }
  return g;
}

double reference(const std::string& op, const std::vector<double>& v) {
  double acc = 0;
  if (op == "reduceL1") {
    for (double x : v) acc += std::abs(x);
  } else if (op == "reduceL2") {
    for (double x : v) acc += x * x;
    acc = std::sqrt(acc);
  } else if (op == "reduceLogSum") {
    for (double x : v) acc += x;
    acc = std::log(acc);
  } else if (op == "reduceLogSumExp") {
    for (double x : v) acc += std::exp(x);
    acc = std::log(acc);
  } else if (op == "reduceMax") {
    acc = *std::max_element(v.begin(), v.end());
  } else if (op == "reduceMin") {
    acc = *std::min_element(v.begin(), v.end());
  } else if (op == "reduceMean") {
    for (double x : v) acc += x;
    acc /= double(v.size());
  } else if (op == "reduceProduct") {
    acc = 1;
    for (double x : v) acc *= x;
  } else if (op == "reduceSum") {
    for (double x : v) acc += x;
  } else if (op == "reduceSumSquare") {
    for (double x : v) acc += x * x;
  } else {
    ADD_FAILURE() << "no reference for " << op;
  }
  return acc;
}

Operand reduce(GraphBuilder& b, const std::string& op, const Operand& x, const ReduceOptions& o) {
  if (op == "reduceL1") return b.reduce_l1(x, o);
  if (op == "reduceL2") return b.reduce_l2(x, o);
  if (op == "reduceLogSum") return b.reduce_log_sum(x, o);
  if (op == "reduceLogSumExp") return b.reduce_log_sum_exp(x, o);
  if (op == "reduceMax") return b.reduce_max(x, o);
  if (op == "reduceMean") return b.reduce_mean(x, o);
  if (op == "reduceMin") return b.reduce_min(x, o);
  if (op == "reduceProduct") return b.reduce_product(x, o);
  if (op == "reduceSum") return b.reduce_sum(x, o);
  return b.reduce_sum_square(x, o);
}

std::string describe(const std::string& op, DataType type, const Dims& shape, const Axes& axes,
                     bool keep) {
  std::string s = op + " " + std::string(to_string(type)) + " " + to_string(shape) + " axes ";
  s += axes ? to_string(Dims(axes->begin(), axes->end())) : "default";
  return s + (keep ? " keep" : "");
}

// Runs one reduction on `x` and compares every output with the float64 reference.
void check_reduce(const std::string& op, const Tensor& x, const Axes& axes, bool keep,
                  std::optional<Tolerance> tol = std::nullopt) {
  std::string what = describe(op, x.data_type(), x.shape(), axes, keep);
  GraphBuilder b;
  Operand in = b.input("x", x.data_type(), x.shape());
  ReduceOptions o;
  o.axes = axes;
  o.keep_dimensions = keep;
  Operand y = reduce(b, op, in, o);
  Groups g = group_values(x.to_doubles(), x.shape(), axes, keep);
  EXPECT_EQ(y.shape(), g.shape) << what;
  EXPECT_EQ(y.data_type(), x.data_type()) << what;
  Tensor out = run_cpu(b.build({{"y", y}}), {{"x", x}}).at("y");
  EXPECT_EQ(out.shape(), g.shape) << what;
  std::vector<double> want;
  for (const auto& v : g.values) want.push_back(reference(op, v));
  expect_close(out, want, tol.value_or(default_tolerance(x.data_type())), what);
}

// Inputs valid for each op: logSum needs a positive sum, products stay near 1.
std::pair<double, double> float_range(const std::string& op) {
  if (op == "reduceLogSum") return {0.1, 2};
  if (op == "reduceProduct") return {0.8, 1.25};
  return {-2, 2};
}

const std::vector<std::string> kAllReductions = {
    "reduceL1",   "reduceL2",  "reduceLogSum",  "reduceLogSumExp", "reduceMax",
    "reduceMean", "reduceMin", "reduceProduct", "reduceSum",       "reduceSumSquare"};

const std::vector<Axes> kAxesCases = {std::nullopt, ax({}),     ax({0}),
                                      ax({3}),      ax({1, 2}), ax({0, 2}),
                                      ax({3, 1}),   ax({0, 3}), ax({0, 1, 2, 3})};

TEST(Reduction, EveryOpFloatTypesAllAxesCases) {
  for (const std::string& op : kAllReductions)
    for (DataType type : {DataType::float32, DataType::float16}) {
      auto [lo, hi] = float_range(op);
      Tensor x = random_tensor(type, {2, 3, 4, 5}, lo, hi, 7);
      // Products of 120 float32 factors carry more rounding than one operation.
      Tolerance tol = type == DataType::float32 ? Tolerance{1e-5, 3e-5} : default_tolerance(type);
      for (const Axes& axes : kAxesCases)
        for (bool keep : {false, true}) check_reduce(op, x, axes, keep, tol);
    }
}

TEST(Reduction, ScalarInputReducesToItself) {
  for (const std::string& op : kAllReductions) {
    Tensor x = tensor_from_doubles(DataType::float32, {}, {op == "reduceLogSum" ? 2.5 : -1.5});
    check_reduce(op, x, std::nullopt, false);
    check_reduce(op, x, std::nullopt, true);
  }
}

// Layer-norm statistics, NCHW and NHWC global pooling, a long reduce-all and tall columns:
// each takes a different path through the kernel (runs, tiles, splitting between threads).
TEST(Reduction, ModelShapes) {
  struct Case {
    Dims shape;
    std::vector<uint32_t> axes;
  };
  std::vector<Case> cases = {
      {{3, 7, 1000}, {2}}, {{2, 5, 9, 11}, {2, 3}}, {{2, 9, 11, 600}, {1, 2}}, {{700, 3}, {0}},
      {{100003}, {0}},     {{2, 70001}, {1}},       {{3, 2100, 5}, {1}}};
  for (const Case& c : cases)
    for (DataType type : {DataType::float32, DataType::float16})
      for (const char* op :
           {"reduceMean", "reduceSum", "reduceMax", "reduceL2", "reduceLogSumExp"}) {
        Tensor x = random_tensor(type, c.shape, 0, 1, 3);
        Tolerance tol = type == DataType::float32 ? Tolerance{1e-4, 1e-5} : Tolerance{1e-3, 2e-3};
        check_reduce(op, x, c.axes, false, tol);
      }
}

TEST(Reduction, IntegerTypes) {
  for (DataType type : {DataType::int32, DataType::uint32, DataType::int64, DataType::uint64}) {
    bool is_signed_type = type == DataType::int32 || type == DataType::int64;
    for (const char* op :
         {"reduceL1", "reduceSum", "reduceSumSquare", "reduceMax", "reduceMin", "reduceProduct"}) {
      Tensor x = random_tensor(type, {2, 3, 4, 5}, is_signed_type ? -20 : 0, 40, 11);
      if (std::string(op) == "reduceProduct") {
        // Factors of magnitude 1 or 2 over a [2, 3, 4] input: no product exceeds 2^24, so
        // the float64 reference is exact and nothing wraps.
        std::vector<double> v =
            random_tensor(DataType::float32, {2, 3, 4}, -2.4, 2.4, 5).to_doubles();
        for (double& e : v) {
          e = std::round(e);
          if (e == 0) e = 1;
          if (!is_signed_type) e = std::abs(e);
        }
        x = tensor_from_doubles(type, {2, 3, 4}, v);
        for (const Axes& axes : {Axes{}, ax({}), ax({1}), ax({0, 2})})
          for (bool keep : {false, true}) check_reduce(op, x, axes, keep);
        continue;
      }
      for (const Axes& axes : kAxesCases)
        for (bool keep : {false, true}) check_reduce(op, x, axes, keep);
    }
  }
}

TEST(Reduction, MaxMinAcceptEveryType) {
  for (DataType type : kAllDataTypes) {
    double lo = is_signed(type) ? -100 : 0;
    Tensor x = random_tensor(type, {3, 5, 7}, lo, 100, 13);
    for (const char* op : {"reduceMax", "reduceMin"})
      for (const Axes& axes : {Axes{}, ax({1}), ax({0, 2}), ax({2})})
        check_reduce(op, x, axes, true);
  }
}

TEST(Reduction, IntegersWrapInTheirOwnType) {
  auto run = [](const std::string& op, DataType type, const Tensor& x) {
    GraphBuilder b;
    Operand y = reduce(b, op, b.input("x", type, x.shape()), {});
    return run_cpu(b.build({{"y", y}}), {{"x", x}}).at("y");
  };
  Tensor i32 = Tensor::from(DataType::int32, {2}, std::vector<int32_t>{2147483647, 1});
  EXPECT_EQ(run("reduceSum", DataType::int32, i32).data_as<int32_t>()[0], -2147483647 - 1);
  Tensor sq = Tensor::from(DataType::int32, {2}, std::vector<int32_t>{65536, 3});
  EXPECT_EQ(run("reduceSumSquare", DataType::int32, sq).data_as<int32_t>()[0], 9);
  Tensor u32 = Tensor::from(DataType::uint32, {3}, std::vector<uint32_t>{4294967295u, 2, 5});
  EXPECT_EQ(run("reduceSum", DataType::uint32, u32).data_as<uint32_t>()[0], 6u);
  Tensor p32 = Tensor::from(DataType::int32, {3}, std::vector<int32_t>{65536, 65536, 7});
  EXPECT_EQ(run("reduceProduct", DataType::int32, p32).data_as<int32_t>()[0], 0);
  Tensor l1 = Tensor::from(DataType::int32, {2}, std::vector<int32_t>{-2147483647 - 1, -5});
  EXPECT_EQ(run("reduceL1", DataType::int32, l1).data_as<int32_t>()[0], -2147483647 - 1 + 5);
  // 64-bit values beyond float64's 53 bits must come out exact.
  Tensor i64 = Tensor::from(DataType::int64, {2}, std::vector<int64_t>{(int64_t(1) << 60) + 1, 1});
  EXPECT_EQ(run("reduceSum", DataType::int64, i64).data_as<int64_t>()[0], (int64_t(1) << 60) + 2);
  Tensor u64 = Tensor::from(DataType::uint64, {3},
                            std::vector<uint64_t>{(uint64_t(1) << 63) + 5, 3, ~uint64_t(0) - 1});
  EXPECT_EQ(run("reduceMax", DataType::uint64, u64).data_as<uint64_t>()[0], ~uint64_t(0) - 1);
  EXPECT_EQ(run("reduceMin", DataType::uint64, u64).data_as<uint64_t>()[0], 3u);
}

TEST(Reduction, LogSumExpIsStableForLargeValues) {
  Tensor x = random_tensor(DataType::float32, {4, 50}, 300, 310, 2);
  check_reduce("reduceLogSumExp", x, ax({1}), false);
  check_reduce("reduceLogSumExp", x, ax({0}), true);
  Tensor inf =
      tensor_from_doubles(DataType::float32, {2, 2}, {-INFINITY, -INFINITY, -INFINITY, 0.5});
  check_reduce("reduceLogSumExp", inf, ax({1}), false);
}

TEST(Reduction, DefaultsAreFilledIntoAttributes) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3, 4});
  Graph g = b.build({{"y", b.reduce_sum(x)}, {"z", b.arg_max(x, 1)}});
  for (const detail::Node& node : g.ir().nodes) {
    if (node.op == detail::OpId::reduceSum) {
      EXPECT_EQ(node.attrs.ints("axes"), (std::vector<int64_t>{0, 1, 2}));
      EXPECT_FALSE(node.attrs.b("keepDimensions"));
    } else {
      EXPECT_EQ(node.attrs.s("outputDataType"), "int32");
    }
  }
}

TEST(Reduction, ReduceErrors) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3, 4});
  ReduceOptions out_of_range;
  out_of_range.axes = std::vector<uint32_t>{0, 3};
  expect_error([&] { b.reduce_sum(x, out_of_range); }, ErrorKind::TypeError,
               "reduceSum: option 'axes' [0, 3]: axis 3 is out of range for rank 3");
  ReduceOptions duplicate;
  duplicate.axes = std::vector<uint32_t>{1, 2, 1};
  duplicate.label = "dup";
  expect_error([&] { b.reduce_mean(x, duplicate); }, ErrorKind::TypeError,
               "reduceMean 'dup': option 'axes' [1, 2, 1]: axis 1 repeats");
  Operand scalar = b.input("s", DataType::float32, {});
  expect_error([&] { b.reduce_max(scalar, out_of_range); }, ErrorKind::TypeError,
               "out of range for rank 0");
  Operand i32 = b.input("i", DataType::int32, {2});
  Operand i8 = b.input("j", DataType::int8, {2});
  for (auto f : {&GraphBuilder::reduce_mean, &GraphBuilder::reduce_l2,
                 &GraphBuilder::reduce_log_sum, &GraphBuilder::reduce_log_sum_exp})
    expect_error([&] { (b.*f)(i32, {}); }, ErrorKind::TypeError,
                 "operand 'input' has data type int32; allowed: float32, float16");
  for (auto f : {&GraphBuilder::reduce_sum, &GraphBuilder::reduce_l1, &GraphBuilder::reduce_product,
                 &GraphBuilder::reduce_sum_square})
    expect_error([&] { (b.*f)(i8, {}); }, ErrorKind::TypeError, "has data type int8");
  // The builder still works after the errors.
  Operand y = b.reduce_max(i8);
  Tensor out = run_cpu(b.build({{"y", y}}),
                       {{"j", Tensor::from(DataType::int8, {2}, std::vector<int8_t>{-3, -7})}})
                   .at("y");
  EXPECT_EQ(out.data_as<int8_t>()[0], -3);
}

// ---- argMin / argMax ----------------------------------------------------------------------

void check_arg(bool is_max, const Tensor& x, uint32_t axis, bool keep, DataType index_type) {
  std::string what = std::string(is_max ? "argMax " : "argMin ") +
                     std::string(to_string(x.data_type())) + " " + to_string(x.shape()) + " axis " +
                     std::to_string(axis) + (keep ? " keep" : "");
  GraphBuilder b;
  Operand in = b.input("x", x.data_type(), x.shape());
  ArgMinMaxOptions o;
  o.keep_dimensions = keep;
  o.output_data_type = index_type;
  Operand y = is_max ? b.arg_max(in, axis, o) : b.arg_min(in, axis, o);
  Tensor out = run_cpu(b.build({{"y", y}}), {{"x", x}}).at("y");
  EXPECT_EQ(out.data_type(), index_type) << what;
  Groups g = group_values(std::vector<double>(x.element_count()), x.shape(), ax({axis}), keep);
  EXPECT_EQ(out.shape(), g.shape) << what;
  // First index of the extreme value along `axis`, per output position.
  std::vector<double> v = x.to_doubles();
  std::vector<double> best(g.values.size()), want(g.values.size(), -1);
  const Dims& shape = x.shape();
  for (size_t flat = 0; flat < v.size(); ++flat) {
    std::vector<size_t> idx = unflatten(flat, shape);
    size_t o_index = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      if (d != axis) o_index = o_index * size_t(shape[d]) + idx[d];
    bool better = is_max ? v[flat] > best[o_index] : v[flat] < best[o_index];
    if (want[o_index] < 0 || better) {
      best[o_index] = v[flat];
      want[o_index] = double(idx[axis]);
    }
  }
  expect_close(out, want, {0, 0}, what);
}

TEST(Reduction, ArgMinMaxTypesAxesAndIndexTypes) {
  for (DataType type :
       {DataType::float32, DataType::float16, DataType::int32, DataType::int8, DataType::uint64}) {
    Tensor x = random_tensor(type, {3, 4, 5}, is_signed(type) ? -50 : 0, 50, 17);
    for (uint32_t axis = 0; axis < 3; ++axis)
      for (bool keep : {false, true})
        for (bool is_max : {false, true})
          check_arg(is_max, x, axis, keep, keep ? DataType::int64 : DataType::int32);
  }
  // Long rows (blocks of float16) and wide tiles.
  for (DataType type : {DataType::float32, DataType::float16}) {
    Tensor x = random_tensor(type, {2, 3000}, -100, 100, 19);
    check_arg(true, x, 1, false, DataType::int32);
    check_arg(false, x, 0, true, DataType::int64);
    Tensor wide = random_tensor(type, {3, 6, 700}, -100, 100, 23);
    check_arg(true, wide, 1, false, DataType::int32);
  }
}

TEST(Reduction, ArgMinMaxTiesGiveTheFirstIndex) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::int32, {2, 5});
  Graph g = b.build({{"max1", b.arg_max(x, 1)},
                     {"min1", b.arg_min(x, 1)},
                     {"max0", b.arg_max(x, 0)},
                     {"min0", b.arg_min(x, 0)}});
  Tensor in = Tensor::from(DataType::int32, {2, 5},
                           std::vector<int32_t>{1, 3, 3, 0, 3,  //
                                                3, 0, 3, 0, 1});
  NamedTensors out = run_cpu(g, {{"x", in}});
  expect_close(out.at("max1"), {1, 0}, {0, 0}, "max1");
  expect_close(out.at("min1"), {3, 1}, {0, 0}, "min1");
  expect_close(out.at("max0"), {1, 0, 0, 0, 0}, {0, 0}, "max0");
  expect_close(out.at("min0"), {0, 1, 0, 0, 1}, {0, 0}, "min0");
  // Long rows full of ties: the kernel splits rows into lanes and blocks, and the first
  // occurrence must survive both.
  for (DataType type : {DataType::int8, DataType::float16, DataType::float32, DataType::int64}) {
    Tensor x = random_tensor(type, {3, 2500}, -3, 3, 71);
    for (bool is_max : {false, true}) check_arg(is_max, x, 1, false, DataType::int32);
  }
  std::vector<double> late(2000, 0.0);
  late[1999] = late[1500] = 5;  // the extreme appears only in the last block
  check_arg(true, tensor_from_doubles(DataType::float16, {1, 2000}, late), 1, false,
            DataType::int64);
}

TEST(Reduction, ArgMinMaxErrors) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3});
  expect_error([&] { b.arg_max(x, 2); }, ErrorKind::TypeError,
               "argMax: axis 2 must be less than the rank 2 of operand 'input'");
  Operand scalar = b.input("s", DataType::float32, {});
  expect_error([&] { b.arg_min(scalar, 0); }, ErrorKind::TypeError, "rank 0");
  for (DataType bad : {DataType::float32, DataType::uint32, DataType::int8}) {
    ArgMinMaxOptions o;
    o.output_data_type = bad;
    expect_error([&] { b.arg_min(x, 0, o); }, ErrorKind::TypeError,
                 "argMin: option 'outputDataType' must be int32 or int64, got " +
                     std::string(to_string(bad)));
  }
  Tensor out =
      run_cpu(
          b.build({{"y", b.arg_max(x, 1)}}),
          {{"x", Tensor::from(DataType::float32, {2, 3}, std::vector<float>{0, 5, 1, 9, 2, 3})}})
          .at("y");
  expect_close(out, {1, 0}, {0, 0});
}

// ---- cumulativeSum ------------------------------------------------------------------------

std::vector<double> cumulative_reference(const Tensor& x, uint32_t axis, bool exclusive,
                                         bool reversed) {
  std::vector<double> v = x.to_doubles(), want(v.size());
  const Dims& shape = x.shape();
  size_t n = size_t(shape[axis]);
  size_t stride = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d) stride *= size_t(shape[d]);
  for (size_t flat = 0; flat < v.size(); ++flat) {
    size_t pos = unflatten(flat, shape)[axis];
    size_t start = flat - pos * stride;
    double acc = 0;
    for (size_t k = 0; k < n; ++k) {
      bool included =
          reversed ? (exclusive ? k > pos : k >= pos) : (exclusive ? k < pos : k <= pos);
      if (included) acc += v[start + k * stride];
    }
    want[flat] = acc;
  }
  return want;
}

void check_cumulative(const Tensor& x, uint32_t axis, bool exclusive, bool reversed,
                      Tolerance tol) {
  std::string what = "cumulativeSum " + std::string(to_string(x.data_type())) + " " +
                     to_string(x.shape()) + " axis " + std::to_string(axis) +
                     (exclusive ? " exclusive" : "") + (reversed ? " reversed" : "");
  GraphBuilder b;
  CumulativeSumOptions o;
  o.exclusive = exclusive;
  o.reversed = reversed;
  Operand y = b.cumulative_sum(b.input("x", x.data_type(), x.shape()), axis, o);
  Tensor out = run_cpu(b.build({{"y", y}}), {{"x", x}}).at("y");
  EXPECT_EQ(out.shape(), x.shape()) << what;
  EXPECT_EQ(out.data_type(), x.data_type()) << what;
  expect_close(out, cumulative_reference(x, axis, exclusive, reversed), tol, what);
}

TEST(Reduction, CumulativeSumEveryTypeAxisAndDirection) {
  for (DataType type : {DataType::float32, DataType::float16, DataType::int32, DataType::uint32,
                        DataType::int64, DataType::uint64}) {
    Tensor x = random_tensor(type, {3, 4, 5}, is_signed(type) ? -10 : 0, 10, 29);
    for (uint32_t axis = 0; axis < 3; ++axis)
      for (bool exclusive : {false, true})
        for (bool reversed : {false, true})
          check_cumulative(x, axis, exclusive, reversed, default_tolerance(type));
  }
  for (DataType type : {DataType::float32, DataType::float16}) {
    Tensor x = random_tensor(type, {2, 3000}, -1, 1, 31);
    Tolerance tol = type == DataType::float32 ? Tolerance{1e-4, 1e-5} : Tolerance{2e-2, 2e-3};
    check_cumulative(x, 1, false, true, tol);
    check_cumulative(x, 0, true, false, tol);
    Tensor wide = random_tensor(type, {2, 9, 600}, -1, 1, 37);
    check_cumulative(wide, 1, true, true, tol);
  }
}

TEST(Reduction, CumulativeSumWrapsAndRejectsBadArguments) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::uint32, {3});
  expect_error([&] { b.cumulative_sum(x, 1); }, ErrorKind::TypeError,
               "cumulativeSum: axis 1 must be less than the rank 1");
  Operand i8 = b.input("i8", DataType::int8, {3});
  expect_error([&] { b.cumulative_sum(i8, 0); }, ErrorKind::TypeError, "has data type int8");
  Tensor out =
      run_cpu(
          b.build({{"y", b.cumulative_sum(x, 0)}}),
          {{"x", Tensor::from(DataType::uint32, {3}, std::vector<uint32_t>{4294967295u, 1, 1})}})
          .at("y");
  EXPECT_EQ(out.data_as<uint32_t>()[0], 4294967295u);
  EXPECT_EQ(out.data_as<uint32_t>()[1], 0u);
  EXPECT_EQ(out.data_as<uint32_t>()[2], 1u);
}

// ---- softmax ------------------------------------------------------------------------------

std::vector<double> softmax_reference(const Tensor& x, uint32_t axis) {
  std::vector<double> v = x.to_doubles(), want(v.size());
  const Dims& shape = x.shape();
  size_t n = size_t(shape[axis]);
  size_t stride = 1;
  for (size_t d = axis + 1; d < shape.size(); ++d) stride *= size_t(shape[d]);
  // Each line along `axis` starts at a flat position whose axis index is 0.
  for (size_t start = 0; start < v.size(); ++start) {
    if (unflatten(start, shape)[axis] != 0) continue;
    double max = -INFINITY, sum = 0;
    for (size_t k = 0; k < n; ++k) max = std::max(max, v[start + k * stride]);
    for (size_t k = 0; k < n; ++k) sum += std::exp(v[start + k * stride] - max);
    for (size_t k = 0; k < n; ++k)
      want[start + k * stride] = std::exp(v[start + k * stride] - max) / sum;
  }
  return want;
}

void check_softmax(const Tensor& x, uint32_t axis) {
  std::string what = "softmax " + std::string(to_string(x.data_type())) + " " +
                     to_string(x.shape()) + " axis " + std::to_string(axis);
  GraphBuilder b;
  Operand y = b.softmax(b.input("x", x.data_type(), x.shape()), axis);
  Tensor out = run_cpu(b.build({{"y", y}}), {{"x", x}}).at("y");
  EXPECT_EQ(out.shape(), x.shape()) << what;
  EXPECT_EQ(out.data_type(), x.data_type()) << what;
  expect_close(out, softmax_reference(x, axis), default_tolerance(x.data_type()), what);
}

TEST(Reduction, SoftmaxEveryAxis) {
  for (DataType type : {DataType::float32, DataType::float16}) {
    Tensor x = random_tensor(type, {2, 3, 4, 33}, -4, 4, 41);
    for (uint32_t axis = 0; axis < 4; ++axis) check_softmax(x, axis);
    check_softmax(random_tensor(type, {7}, -4, 4, 43), 0);
  }
}

TEST(Reduction, SoftmaxModelShapes) {
  for (DataType type : {DataType::float32, DataType::float16}) {
    check_softmax(random_tensor(type, {2, 4, 16, 16}, -8, 8, 47), 3);  // attention scores
    check_softmax(random_tensor(type, {2, 5000}, -8, 8, 53), 1);       // long rows
    check_softmax(random_tensor(type, {2, 10, 7, 90}, -8, 8, 59), 1);  // channels of NCHW
  }
}

TEST(Reduction, SoftmaxIsStableAndHandlesMaskedLogits) {
  // exp(1000) overflows float: only a max-subtracting softmax gets these right.
  check_softmax(random_tensor(DataType::float32, {3, 40}, 990, 1000, 61), 1);
  check_softmax(random_tensor(DataType::float32, {3, 40}, -1000, -990, 67), 0);
  std::vector<double> masked = {0.5, -INFINITY, 1.5, -INFINITY, -INFINITY, 2, 0, -1};
  check_softmax(tensor_from_doubles(DataType::float32, {2, 4}, masked), 1);
  check_softmax(tensor_from_doubles(DataType::float16, {2, 4}, masked), 1);
}

TEST(Reduction, SoftmaxErrors) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3});
  expect_error([&] { b.softmax(x, 2, {"probs"}); }, ErrorKind::TypeError,
               "softmax 'probs': axis 2 must be less than the rank 2 of operand 'input'");
  Operand scalar = b.input("s", DataType::float32, {});
  expect_error([&] { b.softmax(scalar, 0); }, ErrorKind::TypeError, "rank 0");
  Operand i32 = b.input("i", DataType::int32, {2, 3});
  expect_error([&] { b.softmax(i32, 1); }, ErrorKind::TypeError,
               "operand 'input' has data type int32; allowed: float32, float16");
  Tensor out =
      run_cpu(
          b.build({{"y", b.softmax(x, 1)}}),
          {{"x", Tensor::from(DataType::float32, {2, 3}, std::vector<float>{0, 0, 0, 1, 1, 1})}})
          .at("y");
  expect_close(out, std::vector<double>(6, 1.0 / 3), {1e-6, 1e-6});
}

}  // namespace
}  // namespace cppnn
