// scatterElements and scatterND: values against naive index arithmetic written here (every
// data type, every index type, ranks 1 to 4), with duplicate-free indices, negative indices
// counting from the end, out-of-range indices clamped (as the gathers' are: the spec asks
// for indices in range and leaves the rest to the implementation, which must never write
// out of bounds), repeated indices (the last update wins), the spec's examples, and each
// validation rule.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>

#include "index_test_support.h"

namespace cppnn {
namespace {

using testing::count;
using testing::expect_error;
using testing::Index;
using testing::random_of;
using testing::ravel;
using testing::unravel;
constexpr ErrorKind kType = ErrorKind::TypeError;
constexpr const auto& kAll = testing::kAllDataTypes;
constexpr DataType kIndexTypes[] = {DataType::int32, DataType::uint32, DataType::int64};

Tensor index_tensor(DataType itype, const Dims& shape, const std::vector<int64_t>& v) {
  if (itype == DataType::int64) return Tensor::from(itype, shape, v);
  if (itype == DataType::int32)
    return Tensor::from(itype, shape, std::vector<int32_t>(v.begin(), v.end()));
  std::vector<uint32_t> u;
  for (int64_t x : v) u.push_back(uint32_t(x));
  return Tensor::from(itype, shape, u);
}

// An index below 0 counts from the end, then anything out of [0, dim) is clamped.
int64_t expected_index(int64_t v, int64_t dim) {
  if (v < 0) v += dim;
  return std::min(std::max<int64_t>(v, 0), dim - 1);
}

int64_t as_stored(DataType itype, int64_t v) {
  return itype == DataType::uint32 ? int64_t(uint32_t(v)) : v;
}

// `n` distinct positions of [0, dim), each written from the end (negative) half the time
// when the index type can hold it.
std::vector<int64_t> distinct(DataType itype, int64_t n, int64_t dim, std::mt19937& gen) {
  std::vector<int64_t> all(static_cast<size_t>(dim));
  std::iota(all.begin(), all.end(), int64_t(0));
  std::shuffle(all.begin(), all.end(), gen);
  all.resize(size_t(n));
  for (int64_t& v : all)
    if (itype != DataType::uint32 && (gen() & 1u)) v -= dim;
  return all;
}

std::string what(const char* op, DataType t, DataType it, const Dims& shape) {
  return std::string(op) + " " + std::string(to_string(t)) + " indices " +
         std::string(to_string(it)) + " " + to_string(shape);
}

// iv: the indices as stored; empty draws distinct ones (n <= shape[axis]).
void check_scatter_elements(DataType t, const Dims& shape, uint32_t axis, DataType itype,
                            int64_t n, uint32_t seed, std::vector<int64_t> iv = {}) {
  Dims ishape = shape;
  ishape[axis] = n;
  if (iv.empty()) {
    std::mt19937 gen(seed);
    iv.assign(count(ishape), 0);
    // Each column (every index but the axis) gets its own distinct positions.
    Dims cols = ishape;
    cols[axis] = 1;
    for (size_t c = 0; c < count(cols); ++c) {
      Index at = unravel(c, cols);
      std::vector<int64_t> pos = distinct(itype, n, shape[axis], gen);
      for (int64_t j = 0; j < n; ++j) {
        at[axis] = j;
        iv[ravel(at, ishape)] = pos[size_t(j)];
      }
    }
  }
  GraphBuilder b;
  ScatterOptions o;
  o.axis = axis;
  Operand y = b.scatter_elements(b.input("x", t, shape), b.input("i", itype, ishape),
                                 b.input("u", t, ishape), o);
  Tensor xt = random_of(t, shape, seed), ut = random_of(t, ishape, seed + 1);
  NamedTensors out = testing::run_cpu(
      b.build({{"y", y}}), {{"x", xt}, {"i", index_tensor(itype, ishape, iv)}, {"u", ut}});
  std::vector<double> want = xt.to_doubles(), uv = ut.to_doubles();
  for (size_t f = 0; f < uv.size(); ++f) {  // row-major: a repeated index's last update wins
    Index at = unravel(f, ishape);
    at[axis] = expected_index(as_stored(itype, iv[f]), shape[axis]);
    want[ravel(at, shape)] = uv[f];
  }
  const Tensor& got = out.at("y");
  std::string w = what("scatterElements", t, itype, shape) + " axis " + std::to_string(axis);
  EXPECT_EQ(got.data_type(), t) << w;
  EXPECT_EQ(got.shape(), shape) << w;
  testing::expect_close(got, want, {0, 0}, w);
}

// iv: the coordinate tuples as stored; empty draws distinct ones.
void check_scatter_nd(DataType t, const Dims& shape, const Dims& ishape, DataType itype,
                      uint32_t seed, std::vector<int64_t> iv = {}) {
  size_t c = size_t(ishape.back());
  size_t m = count(Dims(ishape.begin(), ishape.end() - 1));
  Dims lead(shape.begin(), shape.begin() + int64_t(c));
  if (iv.empty()) {
    std::mt19937 gen(seed);
    std::vector<int64_t> flat = distinct(DataType::uint32, int64_t(m), int64_t(count(lead)), gen);
    for (int64_t f : flat) {
      Index at = unravel(size_t(f), lead);
      for (size_t d = 0; d < c; ++d)
        iv.push_back(itype != DataType::uint32 && (gen() & 1u) ? at[d] - shape[d] : at[d]);
    }
  }
  Dims ushape(ishape.begin(), ishape.end() - 1);
  ushape.insert(ushape.end(), shape.begin() + int64_t(c), shape.end());
  GraphBuilder b;
  Operand y = b.scatter_nd(b.input("x", t, shape), b.input("i", itype, ishape),
                           b.input("u", t, ushape));
  Tensor xt = random_of(t, shape, seed), ut = random_of(t, ushape, seed + 1);
  NamedTensors out = testing::run_cpu(
      b.build({{"y", y}}), {{"x", xt}, {"i", index_tensor(itype, ishape, iv)}, {"u", ut}});
  std::vector<double> want = xt.to_doubles(), uv = ut.to_doubles();
  size_t slice = count(Dims(shape.begin() + int64_t(c), shape.end()));
  for (size_t r = 0; r < m; ++r) {
    Index at;
    for (size_t d = 0; d < c; ++d)
      at.push_back(expected_index(as_stored(itype, iv[r * c + d]), shape[d]));
    at.resize(shape.size(), 0);
    size_t base = ravel(at, shape);
    for (size_t k = 0; k < slice; ++k) want[base + k] = uv[r * slice + k];
  }
  const Tensor& got = out.at("y");
  std::string w = what("scatterND", t, itype, shape) + " indices " + to_string(ishape);
  EXPECT_EQ(got.data_type(), t) << w;
  EXPECT_EQ(got.shape(), shape) << w;
  testing::expect_close(got, want, {0, 0}, w);
}

TEST(ScatterElements, EveryDataTypeIndexTypeAndAxisRanks1To4) {
  uint32_t seed = 1;
  for (DataType t : kAll)
    for (DataType it : kIndexTypes) {
      check_scatter_elements(t, {7}, 0, it, 5, seed++);
      check_scatter_elements(t, {4, 5}, 0, it, 3, seed++);
      check_scatter_elements(t, {4, 5}, 1, it, 5, seed++);
      for (uint32_t axis = 0; axis < 3; ++axis)
        check_scatter_elements(t, {3, 4, 5}, axis, it, 2 + axis, seed++);
      for (uint32_t axis = 0; axis < 4; ++axis)
        check_scatter_elements(t, {2, 3, 4, 5}, axis, it, 2, seed++);
    }
}

TEST(ScatterElements, OutOfRangeIsClampedAndTheLastRepeatWins) {
  for (DataType t : {DataType::float32, DataType::float16, DataType::int8, DataType::uint64}) {
    // Column 0 of axis 0: -1 -> 5, 100 -> 5 (repeat: the later one wins), -100 -> 0 ...
    check_scatter_elements(t, {6, 4}, 0, DataType::int32, 2, 3,
                           {-1, -6, 100, -100, 100, -7, 6, 0});
    check_scatter_elements(t, {6, 4}, 1, DataType::int64, 3, 4,
                           {int64_t(1) << 40, -(int64_t(1) << 40), -4, 3, -5, 4, 0, 0, 0, 9, 9,
                            -9, 1, 2, 3, -1, -2, -3});
    check_scatter_elements(t, {6, 4}, 1, DataType::uint32, 2, 5,
                           {0xffffffffLL, 0x80000000LL, 3, 3, 0, 1, 2, 1, 0, 0, 5, 4});
  }
}

TEST(ScatterElements, LargeTensorsUseEveryThread) {
  check_scatter_elements(DataType::float32, {300, 257}, 0, DataType::int32, 200, 11);
  check_scatter_elements(DataType::float16, {64, 40, 33}, 1, DataType::int64, 30, 12);
  check_scatter_elements(DataType::int8, {129, 1000}, 1, DataType::uint32, 999, 13);
}

TEST(ScatterElements, SpecExamples) {
  GraphBuilder b;
  Operand x = b.constant(Tensor::from(DataType::float32, {3, 3}, std::vector<float>(9, 0)));
  Operand i1 = b.constant(
      Tensor::from(DataType::uint32, {2, 3}, std::vector<uint32_t>{1, 0, 2, 0, 2, 1}));
  Operand u1 = b.constant(Tensor::from(DataType::float32, {2, 3},
                                       std::vector<float>{1.0f, 1.1f, 1.2f, 2.0f, 2.1f, 2.2f}));
  Operand x2 = b.constant(Tensor::from(DataType::float32, {1, 5}, std::vector<float>{1, 2, 3, 4, 5}));
  Operand i2 = b.constant(Tensor::from(DataType::int32, {1, 2}, std::vector<int32_t>{1, 3}));
  Operand u2 = b.constant(Tensor::from(DataType::float32, {1, 2}, std::vector<float>{1.1f, 2.1f}));
  ScatterOptions axis1;
  axis1.axis = 1;
  NamedTensors out = testing::run_cpu(
      b.build({{"a", b.scatter_elements(x, i1, u1)}, {"b", b.scatter_elements(x2, i2, u2, axis1)}}),
      {});
  testing::expect_close(out.at("a"), {2.0, 1.1, 0, 1.0, 0, 2.2, 0, 2.1, 1.2}, {0, 1e-7},
                        "example 1");
  testing::expect_close(out.at("b"), {1, 1.1, 3, 2.1, 5}, {0, 1e-7}, "example 2");
}

TEST(ScatterND, EveryDataTypeIndexTypeAndCoordinateSizeRanks1To4) {
  uint32_t seed = 100;
  for (DataType t : kAll)
    for (DataType it : kIndexTypes) {
      check_scatter_nd(t, {7}, {4, 1}, it, seed++);
      check_scatter_nd(t, {7}, {1}, it, seed++);
      check_scatter_nd(t, {4, 5}, {3, 2}, it, seed++);
      check_scatter_nd(t, {4, 5}, {2, 2, 1}, it, seed++);
      check_scatter_nd(t, {3, 4, 5}, {2, 3}, it, seed++);
      check_scatter_nd(t, {3, 4, 5}, {5, 2}, it, seed++);
      check_scatter_nd(t, {2, 3, 4, 5}, {2, 2, 2, 4}, it, seed++);
      check_scatter_nd(t, {2, 3, 4, 5}, {3, 3}, it, seed++);
      check_scatter_nd(t, {2, 3, 4, 5}, {2, 1}, it, seed++);
    }
}

TEST(ScatterND, OutOfRangeIsClampedAndTheLastRepeatWins) {
  for (DataType t : {DataType::float32, DataType::float16, DataType::uint8, DataType::int64}) {
    // (-1, -6) -> (4, 0); (100, -100) -> (4, 0) again: the later tuple wins.
    check_scatter_nd(t, {5, 6}, {4, 2}, DataType::int32, 7, {-1, -6, 100, -100, -5, 6, 4, -7});
    check_scatter_nd(t, {5, 6, 3}, {3, 2}, DataType::int64, 8,
                     {int64_t(1) << 40, -(int64_t(1) << 40), -2, 0, 4, -6});
    check_scatter_nd(t, {5, 6}, {2, 2}, DataType::uint32, 9, {0xffffffffLL, 0x80000000LL, 2, 5});
  }
}

TEST(ScatterND, LargeTensorsUseEveryThread) {
  check_scatter_nd(DataType::float32, {1000, 64}, {300, 1}, DataType::int32, 21);
  check_scatter_nd(DataType::float16, {40, 50, 30}, {60, 7, 2}, DataType::int64, 22);
  check_scatter_nd(DataType::int32, {30, 40, 50}, {20000, 3}, DataType::uint32, 23);
}

TEST(ScatterND, SpecExamples) {
  GraphBuilder b;
  auto u32 = [&](Dims shape, std::vector<uint32_t> v) {
    return b.constant(Tensor::from(DataType::uint32, std::move(shape), v));
  };
  auto f32 = [&](Dims shape, std::vector<float> v) {
    return b.constant(Tensor::from(DataType::float32, std::move(shape), v));
  };
  NamedTensors out = testing::run_cpu(
      b.build({{"o1", b.scatter_nd(f32({8}, {0, 1, 2, 3, 4, 5, 6, 7}), u32({4, 1}, {4, 3, 1, 7}),
                                   f32({4}, {-1, -2, -3, -4}))},
               {"o2", b.scatter_nd(f32({2, 2}, {0, 1, 2, 3}), u32({2, 2}, {0, 0, 1, 1}),
                                   f32({2}, {-1, -2}))},
               {"o3", b.scatter_nd(f32({3, 2}, {0, 1, 2, 3, 4, 5}), u32({2, 1}, {2, 0}),
                                   f32({2, 2}, {-1, -2, -3, -4}))}}),
      {});
  testing::expect_close(out.at("o1"), {0, -3, 2, -2, -1, 5, 6, -4}, {0, 0}, "example 1");
  testing::expect_close(out.at("o2"), {-1, 1, 2, -2}, {0, 0}, "example 2");
  testing::expect_close(out.at("o3"), {-3, -4, 2, 3, -1, -2}, {0, 0}, "example 3");
}

TEST(ScatterErrors, ScatterElements) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4, 5});
  Operand idx = b.input("i", DataType::int32, {2, 5});
  Operand upd = b.input("u", DataType::float32, {2, 5});
  EXPECT_EQ(b.scatter_elements(x, idx, upd).shape(), (Dims{4, 5}));
  EXPECT_EQ(b.scatter_elements(x, idx, upd).data_type(), DataType::float32);
  expect_error([&] { b.scatter_elements(x, b.input("f", DataType::float32, {2, 5}), upd); },
               kType, "operand 'indices' has data type float32; allowed: int32, uint32, int64");
  expect_error([&] { b.scatter_elements(x, b.input("u8", DataType::uint8, {2, 5}), upd); },
               kType, "allowed: int32, uint32, int64");
  expect_error([&] { b.scatter_elements(x, idx, b.input("uh", DataType::float16, {2, 5})); },
               kType, "operand 'updates' has data type float16 but operand 'input' has float32");
  expect_error(
      [&] {
        b.scatter_elements(b.input("s", DataType::float32, {}), b.input("si", DataType::int32, {}),
                           b.input("su", DataType::float32, {}));
      },
      kType, "operand 'input' must have rank 1 or more");
  expect_error([&] { b.scatter_elements(x, b.input("r1", DataType::int32, {5}), upd); }, kType,
               "operand 'indices' of shape [5] must have the rank of operand 'input'");
  expect_error([&] { b.scatter_elements(x, idx, b.input("ur", DataType::float32, {10})); }, kType,
               "operand 'updates' of shape [10] must have the rank of operand 'input'");
  ScatterOptions axis2;
  axis2.axis = 2;
  expect_error([&] { b.scatter_elements(x, idx, upd, axis2); }, kType, "axis 2 is out of range");
  expect_error(
      [&] {
        b.scatter_elements(x, b.input("bad", DataType::int32, {2, 4}),
                           b.input("bu", DataType::float32, {2, 4}));
      },
      kType, "in every dimension but axis 0 (expected [2, 5])");
  expect_error([&] { b.scatter_elements(x, idx, b.input("us", DataType::float32, {3, 5})); }, kType,
               "operand 'updates' of shape [3, 5] must have the shape of operand 'indices' [2, 5]");
  ScatterOptions labelled;
  labelled.label = "se";
  labelled.axis = 1;
  expect_error([&] { b.scatter_elements(x, idx, upd, labelled); }, kType, "scatterElements 'se'");
  ScatterOptions axis1;
  axis1.axis = 1;
  EXPECT_EQ(b.scatter_elements(x, b.input("w", DataType::int64, {4, 9}),
                               b.input("wu", DataType::float32, {4, 9}), axis1)
                .shape(),
            (Dims{4, 5}));
}

TEST(ScatterErrors, ScatterND) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::int8, {4, 5, 6});
  Operand upd = b.input("u", DataType::int8, {2, 6});
  EXPECT_EQ(b.scatter_nd(x, b.input("i", DataType::int32, {2, 2}), upd).shape(), (Dims{4, 5, 6}));
  expect_error([&] { b.scatter_nd(x, b.input("f", DataType::float16, {2, 2}), upd); }, kType,
               "operand 'indices' has data type float16; allowed: int32, uint32, int64");
  expect_error([&] { b.scatter_nd(x, b.input("i2", DataType::int32, {2, 2}),
                                  b.input("uf", DataType::float32, {2, 6})); },
               kType, "operand 'updates' has data type float32 but operand 'input' has int8");
  expect_error(
      [&] {
        b.scatter_nd(b.input("s", DataType::float32, {}), b.input("si", DataType::int32, {1}),
                     b.input("su", DataType::float32, {}));
      },
      kType, "operand 'input' must have rank 1 or more");
  expect_error([&] { b.scatter_nd(x, b.input("scalar", DataType::int32, {}), upd); }, kType,
               "operand 'indices' must have rank 1 or more");
  expect_error([&] { b.scatter_nd(x, b.input("c4", DataType::int32, {2, 4}), upd); }, kType,
               "the coordinate size 4 (last dimension of operand 'indices' of shape [2, 4]) is "
               "greater than the rank of operand 'input'");
  expect_error([&] { b.scatter_nd(x, b.input("c1", DataType::int32, {2, 1}), upd); }, kType,
               "operand 'updates' of shape [2, 6] must be [2, 5, 6]");
  expect_error([&] { b.scatter_nd(x, b.input("c3", DataType::int32, {2, 3}), upd, {"snd"}); },
               kType, "scatterND 'snd'");
  EXPECT_EQ(b.scatter_nd(x, b.input("c3ok", DataType::int64, {2, 3}),
                         b.input("u3", DataType::int8, {2}))
                .shape(),
            (Dims{4, 5, 6}));
}

}  // namespace
}  // namespace cppnn
