// Data-movement ops (and gather): each validation rule of the spec rejects a bad call with a
// TypeError naming the op and the rule, and the builder stays usable afterwards.
#include "test_support.h"

namespace cppnn {
namespace {

using testing::expect_error;
constexpr ErrorKind kType = ErrorKind::TypeError;

// After the errors, the same builder still builds and runs a graph of the op family.
void expect_builder_still_works(GraphBuilder& b, const Operand& x) {
  Operand y = b.reshape(b.transpose(x), {uint32_t(element_count(x.shape()))});
  NamedTensors out = testing::run_cpu(b.build({{"y", y}}),
                                      {{"x", testing::random_tensor(x.data_type(), x.shape(), 0, 5)}});
  EXPECT_EQ(out.at("y").element_count(), element_count(x.shape()));
}

TEST(ShapeErrors, Reshape) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3, 2});
  expect_error([&] { b.reshape(x, {5, 2}); }, kType, "holds 10 elements");
  expect_error([&] { b.reshape(x, {5, 2}, {"r1"}); }, kType, "reshape 'r1'");
  expect_error([&] { b.reshape(x, {12, 0}); }, kType, "not a valid dimension");
  expect_error([&] { b.reshape(x, {}); }, kType, "holds 1 elements");
  EXPECT_EQ(b.reshape(x, {4, 3}).shape(), (Dims{4, 3}));
  expect_builder_still_works(b, x);
}

TEST(ShapeErrors, Transpose) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float16, {2, 3, 4});
  auto perm = [](std::vector<uint32_t> p) {
    TransposeOptions o;
    o.permutation = p;
    return o;
  };
  expect_error([&] { b.transpose(x, perm({0, 1})); }, kType, "permutation has 2 values");
  expect_error([&] { b.transpose(x, perm({0, 1, 3})); }, kType, "out of range");
  expect_error([&] { b.transpose(x, perm({0, 1, 1})); }, kType, "repeats");
  expect_builder_still_works(b, x);
}

TEST(ShapeErrors, Concat) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3});
  Operand wide = b.input("wide", DataType::float32, {3, 4});
  Operand ints = b.input("ints", DataType::int32, {2, 3});
  Operand flat = b.input("flat", DataType::float32, {6});
  Operand scalar = b.input("scalar", DataType::float32, {});
  expect_error([&] { b.concat({x, wide}, 1); }, kType, "in dimension 0");
  expect_error([&] { b.concat({x, ints}, 0); }, kType, "data type int32");
  expect_error([&] { b.concat({x, flat}, 0); }, kType, "has rank 1");
  expect_error([&] { b.concat({x, x}, 2); }, kType, "axis 2 is out of range");
  expect_error([&] { b.concat({scalar}, 0); }, kType, "out of range");
  expect_error([&] { b.concat({}, 0); }, kType, "got 0 operands");
  expect_error([&] { b.concat(std::vector<Operand>(8193, x), 0); }, kType, "at most 8192");
  EXPECT_EQ(b.concat({x, x, x}, 0).shape(), (Dims{6, 3}));
  expect_builder_still_works(b, x);
}

TEST(ShapeErrors, Split) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::int32, {4, 6});
  SplitOptions axis1;
  axis1.axis = 1;
  expect_error([&] { b.split(x, std::vector<uint32_t>{2, 3}, axis1); }, kType, "sum to 5");
  expect_error([&] { b.split(x, std::vector<uint32_t>{6, 0}, axis1); }, kType, "not positive");
  expect_error([&] { b.split(x, std::vector<uint32_t>{}, axis1); }, kType, "valid tensor count");
  expect_error([&] { b.split(x, 4u, axis1); }, kType, "does not evenly divide");
  expect_error([&] { b.split(x, 0u, axis1); }, kType, "not a valid tensor count");
  SplitOptions axis2;
  axis2.axis = 2;
  expect_error([&] { b.split(x, 2u, axis2); }, kType, "axis 2 is out of range");
  EXPECT_EQ(b.split(x, 3u, axis1).size(), 3u);
  expect_builder_still_works(b, x);
}

TEST(ShapeErrors, Slice) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4, 5});
  expect_error([&] { b.slice(x, {2, 0}, {3, 5}); }, kType, "out of bounds");
  expect_error([&] { b.slice(x, {4, 0}, {1, 5}); }, kType, "out of bounds");
  expect_error([&] { b.slice(x, {0, 0}, {0, 5}); }, kType, "must not hold 0");
  expect_error([&] { b.slice(x, {0}, {4}); }, kType, "starts has 1 values");
  SliceOptions zero_stride;
  zero_stride.strides = {1, 0};
  expect_error([&] { b.slice(x, {0, 0}, {4, 5}, zero_stride); }, kType, "at least 1");
  SliceOptions short_strides;
  short_strides.strides = {1};
  expect_error([&] { b.slice(x, {0, 0}, {4, 5}, short_strides); }, kType, "strides has 1");
  SliceOptions step;
  step.strides = {3, 2};
  EXPECT_EQ(b.slice(x, {0, 1}, {4, 4}, step).shape(), (Dims{2, 2}));
  expect_builder_still_works(b, x);
}

TEST(ShapeErrors, Gather) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4, 5});
  Operand float_idx = b.input("fi", DataType::float32, {2});
  Operand int8_idx = b.input("bi", DataType::int8, {2});
  Operand idx = b.input("i", DataType::int64, {2, 3});
  Operand scalar = b.input("s", DataType::float32, {});
  expect_error([&] { b.gather(x, float_idx); }, kType, "operand 'indices' has data type float32");
  expect_error([&] { b.gather(x, int8_idx); }, kType, "allowed: int32, uint32, int64");
  GatherOptions axis2;
  axis2.axis = 2;
  expect_error([&] { b.gather(x, idx, axis2); }, kType, "axis 2 is out of range");
  expect_error([&] { b.gather(scalar, idx); }, kType, "out of range");
  GatherOptions axis1;
  axis1.axis = 1;
  EXPECT_EQ(b.gather(x, idx, axis1).shape(), (Dims{4, 2, 3}));
  expect_builder_still_works(b, x);
}

TEST(ShapeErrors, Expand) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {3, 1});
  expect_error([&] { b.expand(x, {2, 4}); }, kType, "not unidirectionally broadcastable");
  expect_error([&] { b.expand(x, {3}); }, kType, "not unidirectionally broadcastable");
  // The spec broadcasts one way only: a 3 in the input cannot meet a 1 in newShape.
  expect_error([&] { b.expand(x, {1, 4}); }, kType, "not unidirectionally broadcastable");
  expect_error([&] { b.expand(x, {3, 0}); }, kType, "not a valid dimension");
  EXPECT_EQ(b.expand(x, {2, 3, 4}).shape(), (Dims{2, 3, 4}));
  expect_builder_still_works(b, x);
}

TEST(ShapeErrors, Pad) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {3, 4});
  PadOptions reflect;
  reflect.mode = PaddingMode::reflection;
  expect_error([&] { b.pad(x, {3, 0}, {0, 0}, reflect); }, kType,
               "reflection padding must be smaller");
  expect_error([&] { b.pad(x, {0, 0}, {0, 4}, reflect); }, kType, "dimension 1 has size 4");
  expect_error([&] { b.pad(x, {1}, {1, 1}); }, kType, "beginningPadding has 1 values");
  expect_error([&] { b.pad(x, {1, 1}, {1, 1, 1}); }, kType, "endingPadding has 3 values");
  EXPECT_EQ(b.pad(x, {2, 3}, {0, 3}, reflect).shape(), (Dims{5, 10}));
  PadOptions edge;
  edge.mode = PaddingMode::edge;
  EXPECT_EQ(b.pad(x, {9, 0}, {0, 9}, edge).shape(), (Dims{12, 13}));
  expect_builder_still_works(b, x);
}

TEST(ShapeErrors, TileReverseTriangular) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {3, 4});
  Operand v = b.input("v", DataType::float32, {4});
  expect_error([&] { b.tile(x, {2}); }, kType, "repetitions has 1 values");
  expect_error([&] { b.tile(x, {2, 0}); }, kType, "must not hold 0");
  ReverseOptions rev;
  rev.axes = std::vector<uint32_t>{1, 1};
  expect_error([&] { b.reverse(x, rev); }, kType, "repeats");
  rev.axes = std::vector<uint32_t>{2};
  expect_error([&] { b.reverse(x, rev); }, kType, "out of range");
  expect_error([&] { b.triangular(v); }, kType, "at least 2-D");
  expect_builder_still_works(b, x);
}

TEST(ShapeErrors, Resample2d) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {1, 2, 4, 4});
  Operand x3 = b.input("x3", DataType::float32, {2, 4, 4});
  Operand ints = b.input("ints", DataType::int32, {1, 2, 4, 4});
  auto opts = [](std::vector<float> scales, std::vector<uint32_t> sizes,
                 std::vector<uint32_t> axes) {
    Resample2dOptions o;
    o.scales = std::move(scales);
    o.sizes = std::move(sizes);
    o.axes = std::move(axes);
    return o;
  };
  expect_error([&] { b.resample2d(x3); }, kType, "must be 4-D");
  expect_error([&] { b.resample2d(ints); }, kType, "data type int32");
  expect_error([&] { b.resample2d(x, opts({2}, {}, {})); }, kType, "scales must hold 2");
  expect_error([&] { b.resample2d(x, opts({2, -1}, {}, {})); }, kType, "scales must be positive");
  expect_error([&] { b.resample2d(x, opts({2, 2}, {0, 3}, {})); }, kType, "must not hold 0");
  expect_error([&] { b.resample2d(x, opts({}, {3}, {})); }, kType, "sizes must hold 2");
  expect_error([&] { b.resample2d(x, opts({}, {}, {2, 2})); }, kType, "repeats");
  expect_error([&] { b.resample2d(x, opts({}, {}, {1, 4})); }, kType, "out of range");
  expect_error([&] { b.resample2d(x, opts({}, {}, {1})); }, kType, "axes must hold 2");
  // floor(4 * 0.1) = 0 is not a valid dimension.
  expect_error([&] { b.resample2d(x, opts({0.1f, 1}, {}, {})); }, kType, "not a valid dimension");
  // Neither scales nor sizes: the spec's default scales [1, 1]. Both: sizes win.
  EXPECT_EQ(b.resample2d(x).shape(), (Dims{1, 2, 4, 4}));
  EXPECT_EQ(b.resample2d(x, opts({3, 3}, {5, 6}, {})).shape(), (Dims{1, 2, 5, 6}));
  expect_builder_still_works(b, x);
}

}  // namespace
}  // namespace cppnn
