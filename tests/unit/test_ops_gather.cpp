// gatherElements and gatherND: values against naive index arithmetic written here (every data
// type, every index type, ranks 1..4, negative indices counting from the end and out-of-range
// indices clamped as cppnn's gather does), the spec's own examples, and each validation rule.
#include <algorithm>
#include <cstdint>
#include <random>

#include "index_test_support.h"

namespace cppnn {
namespace {

using testing::expect_error;
constexpr ErrorKind kType = ErrorKind::TypeError;

using testing::count;
using testing::Index;
using testing::random_of;
using testing::ravel;
using testing::unravel;
constexpr const auto& kAll = testing::kAllDataTypes;
constexpr DataType kIndexTypes[] = {DataType::int32, DataType::uint32, DataType::int64};

// Random index values for a dimension of `dim`: in range, negative, and past both ends
// (uint32 cannot hold negatives: in range and past the end only).
std::vector<int64_t> random_indices(DataType itype, size_t n, int64_t dim, uint32_t seed) {
  std::mt19937 gen(seed);
  int64_t lo = itype == DataType::uint32 ? 0 : -dim - 3;
  std::uniform_int_distribution<int64_t> dist(lo, dim + 2);
  std::vector<int64_t> v(n);
  for (int64_t& x : v) x = dist(gen);
  return v;
}

Tensor index_tensor(DataType itype, const Dims& shape, const std::vector<int64_t>& v) {
  if (itype == DataType::int64) return Tensor::from(itype, shape, v);
  if (itype == DataType::int32)
    return Tensor::from(itype, shape, std::vector<int32_t>(v.begin(), v.end()));
  std::vector<uint32_t> u;
  for (int64_t x : v) u.push_back(uint32_t(x));
  return Tensor::from(itype, shape, u);
}

// The semantics the test expects, written independently of the kernels: an index below 0
// counts from the end, then anything out of [0, dim) is clamped to the nearest end.
int64_t expected_index(int64_t v, int64_t dim) {
  if (v < 0) v += dim;
  return std::min(std::max<int64_t>(v, 0), dim - 1);
}

// What an index of `itype` holding `v` reads as (uint32 0xffffffff is 4294967295, not -1).
int64_t as_stored(DataType itype, int64_t v) {
  return itype == DataType::uint32 ? int64_t(uint32_t(v)) : v;
}

std::string what(const char* op, DataType t, DataType it, const Dims& shape) {
  return std::string(op) + " " + std::string(to_string(t)) + " indices " +
         std::string(to_string(it)) + " " + to_string(shape);
}

void check_gather_elements(DataType t, const Dims& shape, uint32_t axis, DataType itype, int64_t n,
                           uint32_t seed, const std::vector<int64_t>& forced = {}) {
  Dims ishape = shape;
  ishape[axis] = n;
  std::vector<int64_t> iv = random_indices(itype, count(ishape), shape[axis], seed);
  std::copy(forced.begin(), forced.begin() + int64_t(std::min(forced.size(), iv.size())),
            iv.begin());
  GraphBuilder b;
  GatherOptions o;
  o.axis = axis;
  Operand y = b.gather_elements(b.input("x", t, shape), b.input("i", itype, ishape), o);
  Tensor xt = random_of(t, shape, seed);
  std::vector<double> xv = xt.to_doubles();
  NamedTensors out =
      testing::run_cpu(b.build({{"y", y}}), {{"x", xt}, {"i", index_tensor(itype, ishape, iv)}});
  std::vector<double> want(count(ishape));
  for (size_t f = 0; f < want.size(); ++f) {
    Index at = unravel(f, ishape);
    at[axis] = expected_index(as_stored(itype, iv[f]), shape[axis]);
    want[f] = xv[ravel(at, shape)];
  }
  const Tensor& got = out.at("y");
  std::string w = what("gatherElements", t, itype, shape) + " axis " + std::to_string(axis);
  EXPECT_EQ(got.data_type(), t) << w;
  EXPECT_EQ(got.shape(), ishape) << w;
  testing::expect_close(got, want, {0, 0}, w);
}

void check_gather_nd(DataType t, const Dims& shape, const Dims& ishape, DataType itype,
                     uint32_t seed, const std::vector<int64_t>& forced = {}) {
  size_t c = size_t(ishape.back());
  size_t m = count(ishape) / std::max<size_t>(c, 1);
  std::vector<int64_t> iv(count(ishape));
  // Coordinate d of every tuple is drawn for input dimension d.
  for (size_t d = 0; d < c; ++d) {
    std::vector<int64_t> col = random_indices(itype, m, shape[d], seed + uint32_t(d));
    for (size_t r = 0; r < m; ++r) iv[r * c + d] = col[r];
  }
  std::copy(forced.begin(), forced.begin() + int64_t(std::min(forced.size(), iv.size())),
            iv.begin());
  GraphBuilder b;
  Operand y = b.gather_nd(b.input("x", t, shape), b.input("i", itype, ishape));
  Tensor xt = random_of(t, shape, seed);
  std::vector<double> xv = xt.to_doubles();
  NamedTensors out =
      testing::run_cpu(b.build({{"y", y}}), {{"x", xt}, {"i", index_tensor(itype, ishape, iv)}});
  Dims oshape(ishape.begin(), ishape.end() - 1);
  oshape.insert(oshape.end(), shape.begin() + int64_t(c), shape.end());
  std::vector<double> want(count(oshape));
  size_t lead = ishape.size() - 1;
  for (size_t f = 0; f < want.size(); ++f) {
    Index o = unravel(f, oshape);
    Index tuple(o.begin(), o.begin() + int64_t(lead));
    size_t r = ravel(tuple, Dims(ishape.begin(), ishape.end() - 1));
    Index at;
    for (size_t d = 0; d < c; ++d)
      at.push_back(expected_index(as_stored(itype, iv[r * c + d]), shape[d]));
    at.insert(at.end(), o.begin() + int64_t(lead), o.end());
    want[f] = xv[ravel(at, shape)];
  }
  const Tensor& got = out.at("y");
  std::string w = what("gatherND", t, itype, shape) + " indices " + to_string(ishape);
  EXPECT_EQ(got.data_type(), t) << w;
  EXPECT_EQ(got.shape(), oshape) << w;
  testing::expect_close(got, want, {0, 0}, w);
}

TEST(GatherElements, EveryDataTypeIndexTypeAndAxisRanks1To4) {
  uint32_t seed = 1;
  for (DataType t : kAll)
    for (DataType it : kIndexTypes) {
      check_gather_elements(t, {7}, 0, it, 5, seed++);
      check_gather_elements(t, {4, 5}, 0, it, 3, seed++);
      check_gather_elements(t, {4, 5}, 1, it, 6, seed++);
      for (uint32_t axis = 0; axis < 3; ++axis)
        check_gather_elements(t, {3, 4, 5}, axis, it, 2 + axis, seed++);
      for (uint32_t axis = 0; axis < 4; ++axis)
        check_gather_elements(t, {2, 3, 4, 5}, axis, it, 3, seed++);
    }
}

TEST(GatherElements, NegativeIndicesCountFromTheEndAndOutOfRangeIsClamped) {
  for (DataType t : {DataType::float32, DataType::float16, DataType::int8}) {
    check_gather_elements(t, {6, 4}, 0, DataType::int32, 2, 3, {-1, -6, 100, -100, 5, -7, 6, 0});
    check_gather_elements(t, {6, 4}, 1, DataType::int64, 3, 4,
                          {int64_t(1) << 40, -(int64_t(1) << 40), -4, 3, -5, 4});
    check_gather_elements(t, {6, 4}, 1, DataType::uint32, 2, 5, {0xffffffffLL, 0x80000000LL, 3});
  }
}

TEST(GatherElements, LargeTensorsUseEveryThread) {
  check_gather_elements(DataType::float32, {300, 257}, 0, DataType::int32, 500, 11);
  check_gather_elements(DataType::float16, {64, 40, 33}, 1, DataType::int64, 70, 12);
  check_gather_elements(DataType::int8, {129, 1000}, 1, DataType::uint32, 999, 13);
}

TEST(GatherElements, SpecExamples) {
  GraphBuilder b;
  Operand x = b.constant(Tensor::from(
      DataType::float32, {4, 3}, std::vector<float>{0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32}));
  Operand i1 =
      b.constant(Tensor::from(DataType::uint32, {2, 3}, std::vector<uint32_t>{3, 1, 1, 2, 0, 3}));
  Operand i2 =
      b.constant(Tensor::from(DataType::uint32, {4, 1}, std::vector<uint32_t>{2, 1, 0, 2}));
  GatherOptions axis1;
  axis1.axis = 1;
  NamedTensors out = testing::run_cpu(
      b.build({{"a", b.gather_elements(x, i1)}, {"b", b.gather_elements(x, i2, axis1)}}), {});
  testing::expect_close(out.at("a"), {30, 11, 12, 20, 1, 32}, {0, 0}, "example 1");
  testing::expect_close(out.at("b"), {2, 11, 20, 32}, {0, 0}, "example 2");
}

TEST(GatherND, EveryDataTypeIndexTypeAndCoordinateSizeRanks1To4) {
  uint32_t seed = 100;
  for (DataType t : kAll)
    for (DataType it : kIndexTypes) {
      check_gather_nd(t, {7}, {4, 1}, it, seed++);
      check_gather_nd(t, {7}, {1}, it, seed++);
      check_gather_nd(t, {4, 5}, {3, 2}, it, seed++);
      check_gather_nd(t, {4, 5}, {2, 3, 1}, it, seed++);
      check_gather_nd(t, {3, 4, 5}, {2, 3}, it, seed++);
      check_gather_nd(t, {3, 4, 5}, {5, 2}, it, seed++);
      check_gather_nd(t, {2, 3, 4, 5}, {2, 2, 2, 4}, it, seed++);
      check_gather_nd(t, {2, 3, 4, 5}, {3, 3}, it, seed++);
      check_gather_nd(t, {2, 3, 4, 5}, {2, 1}, it, seed++);
    }
}

TEST(GatherND, NegativeIndicesCountFromTheEndAndOutOfRangeIsClamped) {
  for (DataType t : {DataType::float32, DataType::float16, DataType::uint8}) {
    check_gather_nd(t, {5, 6}, {4, 2}, DataType::int32, 7, {-1, -6, 100, -100, -5, 6, 4, -7});
    check_gather_nd(t, {5, 6, 3}, {3, 2}, DataType::int64, 8,
                    {int64_t(1) << 40, -(int64_t(1) << 40), -2, 0, 4, -6});
    check_gather_nd(t, {5, 6}, {2, 2}, DataType::uint32, 9, {0xffffffffLL, 0x80000000LL, 2, 5});
  }
}

TEST(GatherND, LargeTensorsUseEveryThread) {
  check_gather_nd(DataType::float32, {1000, 64}, {3000, 1}, DataType::int32, 21);
  check_gather_nd(DataType::float16, {40, 50, 30}, {60, 70, 2}, DataType::int64, 22);
  check_gather_nd(DataType::int32, {30, 40, 50}, {20000, 3}, DataType::uint32, 23);
}

TEST(GatherND, SpecExamples) {
  GraphBuilder b;
  auto u32 = [&](Dims shape, std::vector<uint32_t> v) {
    return b.constant(Tensor::from(DataType::uint32, std::move(shape), v));
  };
  Operand x1 = b.constant(Tensor::from(DataType::float32, {2, 2}, std::vector<float>{0, 1, 2, 3}));
  Operand x2 = b.constant(
      Tensor::from(DataType::float32, {2, 2, 2}, std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}));
  NamedTensors out = testing::run_cpu(
      b.build(
          {{"o1", b.gather_nd(x1, u32({3, 2}, {0, 0, 1, 1, 1, 0}))},
           {"o2", b.gather_nd(x1, u32({2, 1}, {1, 0}))},
           {"o3", b.gather_nd(x2, u32({2, 2}, {0, 1, 1, 0}))},
           {"o4", b.gather_nd(x2, u32({3, 1}, {1, 0, 1}))},
           {"o5", b.gather_nd(x2, u32({5, 3}, {0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1}))}}),
      {});
  EXPECT_EQ(out.at("o1").shape(), (Dims{3}));
  testing::expect_close(out.at("o1"), {0, 3, 2}, {0, 0}, "example 1");
  EXPECT_EQ(out.at("o2").shape(), (Dims{2, 2}));
  testing::expect_close(out.at("o2"), {2, 3, 0, 1}, {0, 0}, "example 2");
  EXPECT_EQ(out.at("o3").shape(), (Dims{2, 2}));
  testing::expect_close(out.at("o3"), {2, 3, 4, 5}, {0, 0}, "example 3");
  EXPECT_EQ(out.at("o4").shape(), (Dims{3, 2, 2}));
  testing::expect_close(out.at("o4"), {4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7}, {0, 0}, "example 4");
  EXPECT_EQ(out.at("o5").shape(), (Dims{5}));
  testing::expect_close(out.at("o5"), {1, 2, 4, 6, 7}, {0, 0}, "example 5");
}

// After the errors, the same builder still builds and runs a graph of the op.
// `idx` is the input named "ok".
void expect_builder_still_works(GraphBuilder& b, const Operand& x, const Operand& idx) {
  Operand y = b.gather_nd(x, idx);
  Tensor it =
      index_tensor(idx.data_type(), idx.shape(), std::vector<int64_t>(count(idx.shape()), 0));
  NamedTensors out =
      testing::run_cpu(b.build({{"y", y}}),
                       {{"x", testing::random_tensor(x.data_type(), x.shape(), 0, 5)}, {"ok", it}});
  EXPECT_EQ(out.at("y").shape(), y.shape());
}

TEST(GatherErrors, GatherElements) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4, 5});
  Operand idx = b.input("i", DataType::int32, {2, 5});
  expect_error(
      [&] {
        b.gather_elements(x, b.input("f", DataType::float32, {2, 5}));
      },
      kType, "operand 'indices' has data type float32; allowed: int32, uint32, int64");
  expect_error(
      [&] {
        b.gather_elements(x, b.input("u8", DataType::uint8, {2, 5}));
      },
      kType, "allowed: int32, uint32, int64");
  expect_error(
      [&] {
        b.gather_elements(x, b.input("u64", DataType::uint64, {2, 5}));
      },
      kType, "has data type uint64");
  expect_error(
      [&] {
        b.gather_elements(b.input("s", DataType::float32, {}), b.input("si", DataType::int32, {}));
      },
      kType, "operand 'input' must have rank 1 or more");
  expect_error([&] { b.gather_elements(x, b.input("r1", DataType::int32, {5})); }, kType,
               "must have the rank of operand 'input'");
  expect_error(
      [&] {
        b.gather_elements(x, b.input("r3", DataType::int32, {2, 5, 1}));
      },
      kType, "must have the rank of operand 'input'");
  GatherOptions axis2;
  axis2.axis = 2;
  expect_error([&] { b.gather_elements(x, idx, axis2); }, kType, "axis 2 is out of range");
  // Only the axis dimension may differ.
  expect_error(
      [&] {
        b.gather_elements(x, b.input("bad", DataType::int32, {2, 4}));
      },
      kType, "in every dimension but axis 0 (expected [2, 5])");
  GatherOptions axis1;
  axis1.axis = 1;
  expect_error([&] { b.gather_elements(x, idx, axis1); }, kType, "(expected [4, 5])");
  GatherOptions labelled;
  labelled.label = "ge2";
  labelled.axis = 1;
  expect_error([&] { b.gather_elements(x, idx, labelled); }, kType, "'ge2'");
  EXPECT_EQ(b.gather_elements(x, idx).shape(), (Dims{2, 5}));
  EXPECT_EQ(b.gather_elements(x, b.input("w", DataType::int64, {4, 9}), axis1).shape(),
            (Dims{4, 9}));
  EXPECT_EQ(b.gather_elements(x, idx).data_type(), DataType::float32);
  expect_builder_still_works(b, x, b.input("ok", DataType::int64, {3, 2}));
}

TEST(GatherErrors, GatherND) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::int8, {4, 5, 6});
  expect_error(
      [&] {
        b.gather_nd(x, b.input("f", DataType::float16, {2, 2}));
      },
      kType, "operand 'indices' has data type float16; allowed: int32, uint32, int64");
  expect_error(
      [&] {
        b.gather_nd(x, b.input("i8", DataType::int8, {2, 2}));
      },
      kType, "allowed: int32, uint32, int64");
  expect_error(
      [&] {
        b.gather_nd(b.input("s", DataType::float32, {}), b.input("si", DataType::int32, {1}));
      },
      kType, "operand 'input' must have rank 1 or more");
  expect_error([&] { b.gather_nd(x, b.input("scalar", DataType::int32, {})); }, kType,
               "operand 'indices' must have rank 1 or more");
  expect_error(
      [&] {
        b.gather_nd(x, b.input("c4", DataType::int32, {2, 4}));
      },
      kType,
      "the coordinate size 4 (last dimension of operand 'indices' of shape [2, 4]) is "
      "greater than the rank of operand 'input'");
  expect_error(
      [&] {
        b.gather_nd(x, b.input("c4l", DataType::int32, {2, 4}), {"nd1"});
      },
      kType, "gatherND 'nd1'");
  EXPECT_EQ(b.gather_nd(x, b.input("c3", DataType::int32, {2, 3})).shape(), (Dims{2}));
  EXPECT_EQ(b.gather_nd(x, b.input("c1", DataType::uint32, {7, 2, 1})).shape(), (Dims{7, 2, 5, 6}));
  EXPECT_EQ(b.gather_nd(x, b.input("v", DataType::int64, {2})).shape(), (Dims{6}));
  EXPECT_EQ(b.gather_nd(x, b.input("v3", DataType::int64, {3})).shape(), (Dims{}));
  EXPECT_EQ(b.gather_nd(x, b.input("v1", DataType::int64, {1})).data_type(), DataType::int8);
  expect_builder_still_works(b, x, b.input("ok", DataType::int32, {3, 2}));
}

}  // namespace
}  // namespace cppnn
