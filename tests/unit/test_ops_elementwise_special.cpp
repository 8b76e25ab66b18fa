// isNaN, isInfinite and roundEven: the ops whose point is special values (NaN, infinities,
// signed zeros, exact halves), so the inputs are mostly chosen rather than random. The
// references are float64 computations written here.
#include <cmath>
#include <cstring>
#include <limits>

#include "test_support.h"

namespace cppnn {
namespace {

using testing::expect_close;
using testing::expect_error;
using testing::random_tensor;
using testing::tensor_from_doubles;

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

using UnaryMethod = Operand (GraphBuilder::*)(const Operand&, const OperatorOptions&);

Tensor run_unary(UnaryMethod method, const Tensor& x) {
  GraphBuilder b;
  Operand in = b.input("x", x.data_type(), x.shape());
  Graph g = b.build({{"y", (b.*method)(in, {})}});
  return testing::run_cpu(g, {{"x", x}}).at("y");
}

// Random values in [-1e4, 1e4) of `type` with special values written over some elements:
// NaNs (a negative one and, in float32, one with a payload), infinities, zeros of both signs,
// the largest finite value and a subnormal.
Tensor specials_tensor(DataType type, const Dims& shape, uint32_t seed) {
  Tensor t = random_tensor(type, shape, -1e4, 1e4, seed);
  bool f16 = type == DataType::float16;
  const std::vector<double> specials = {kNaN,
                                        kInf,
                                        -kInf,
                                        -0.0,
                                        0.0,
                                        -kNaN,
                                        f16 ? 65504.0 : 3.4028234663852886e38,
                                        f16 ? -6e-8 : -1e-45,
                                        kInf,
                                        kNaN};
  size_t step = t.element_count() / specials.size();
  for (size_t k = 0; k < specials.size(); ++k) {
    size_t i = k * step + k % 3;
    if (f16)
      t.data_as<half>()[i] = half(float(specials[k]));
    else
      t.data_as<float>()[i] = float(specials[k]);
  }
  if (!f16) {
    uint32_t payload_nan = 0xffc01234u;  // negative, quiet, with payload bits
    std::memcpy(t.data_as<float>() + 1, &payload_nan, 4);
  } else {
    t.data_as<half>()[1].bits = 0x7e01;  // a float16 NaN with payload bits
  }
  return t;
}

class ElementwiseSpecialTypes : public ::testing::TestWithParam<DataType> {};

TEST_P(ElementwiseSpecialTypes, IsNaNFlagsExactlyTheNaNs) {
  DataType type = GetParam();
  Tensor x = specials_tensor(type, {2, 3, 1, 5, 7}, 3);
  Tensor y = run_unary(&GraphBuilder::is_nan, x);
  EXPECT_EQ(y.data_type(), DataType::uint8);
  EXPECT_EQ(y.shape(), x.shape());
  std::vector<double> want;
  size_t nans = 0;
  for (double v : x.to_doubles()) {
    want.push_back(std::isnan(v) ? 1 : 0);
    nans += std::isnan(v);
  }
  EXPECT_EQ(nans, 4u);  // the test's own inputs hold the NaNs it means to find
  expect_close(y, want, {0, 0}, "isNaN");
}

TEST_P(ElementwiseSpecialTypes, IsInfiniteFlagsBothInfinitiesOnly) {
  DataType type = GetParam();
  Tensor x = specials_tensor(type, {3, 67}, 4);
  Tensor y = run_unary(&GraphBuilder::is_infinite, x);
  EXPECT_EQ(y.data_type(), DataType::uint8);
  std::vector<double> want;
  size_t infs = 0;
  for (double v : x.to_doubles()) {
    want.push_back(std::isinf(v) ? 1 : 0);
    infs += std::isinf(v);
  }
  EXPECT_EQ(infs, 3u);
  expect_close(y, want, {0, 0}, "isInfinite");
}

// Round half to even in float64, by hand: the nearest integer, and of two equally near the
// even one; the sign of a zero result is the input's.
double round_half_even(double x) {
  if (std::isnan(x) || std::isinf(x)) return x;
  double f = std::floor(x), diff = x - f, r;
  if (diff < 0.5)
    r = f;
  else if (diff > 0.5)
    r = f + 1;
  else
    r = std::fmod(f, 2.0) == 0 ? f : f + 1;
  return r == 0 ? std::copysign(0.0, x) : r;
}

void expect_round_even(const Tensor& x, const std::string& what) {
  Tensor y = run_unary(&GraphBuilder::round_even, x);
  EXPECT_EQ(y.data_type(), x.data_type());
  std::vector<double> xs = x.to_doubles(), want, got = y.to_doubles();
  for (double v : xs) want.push_back(round_half_even(v));
  expect_close(y, want, {0, 0}, what);
  for (size_t i = 0; i < xs.size(); ++i) {
    if (want[i] == 0) {
      EXPECT_EQ(std::signbit(got[i]), std::signbit(want[i])) << what << " element " << i;
    }
  }
}

TEST_P(ElementwiseSpecialTypes, RoundEvenSendsHalvesToTheEvenNeighbour) {
  DataType type = GetParam();
  // The spec's example, more halves of both signs, zeros, specials, and in float32 halves
  // just below 2^22, where adding 0.5 and truncating would go wrong.
  std::vector<double> v = {0.1, 0.9,  1.1,  1.9,   -3.5,       -2.5,   -1.5,    1.5,
                           2.5, 3.5,  0.5,  -0.5,  -0.4,       -0.0,   0.0,     4.5,
                           5.5, kNaN, kInf, -kInf, 0.49999997, 1000.5, -1001.5, 2047.5};
  if (type == DataType::float32) {
    v.push_back(4194303.5);
    v.push_back(-4194302.5);
    v.push_back(16777215.0);
  }
  Tensor x = tensor_from_doubles(type, {int64_t(v.size())}, v);
  Tensor y = run_unary(&GraphBuilder::round_even, x);
  std::vector<double> got = y.to_doubles();
  // The spec's own example, spelled out so that the reference cannot hide a mistake.
  const std::vector<double> spec = {0, 1, 1, 2, -4, -2, -2, 2, 2, 4};
  for (size_t i = 0; i < spec.size(); ++i) EXPECT_EQ(got[i], spec[i]) << "element " << i;
  EXPECT_EQ(got[10], 0.0);
  EXPECT_TRUE(std::signbit(got[11])) << "-0.5 rounds to -0";
  expect_round_even(x, "roundEven specials " + std::string(to_string(type)));
}

TEST_P(ElementwiseSpecialTypes, RoundEvenMatchesTheReferenceOnRandomHalvesAndFractions) {
  DataType type = GetParam();
  // Quarters: a third of the values are exact halves.
  Tensor q = random_tensor(DataType::int32, {4, 9, 33}, -400, 400, 7);
  std::vector<double> v = q.to_doubles();
  for (double& e : v) e *= 0.25;
  expect_round_even(tensor_from_doubles(type, q.shape(), v), "roundEven quarters");
  expect_round_even(random_tensor(type, {5, 1031}, -50, 50, 8), "roundEven random");
}

INSTANTIATE_TEST_SUITE_P(Floats, ElementwiseSpecialTypes,
                         ::testing::Values(DataType::float32, DataType::float16),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(ElementwiseSpecial, ScalarsKeepTheirShape) {
  Tensor s = tensor_from_doubles(DataType::float32, {}, {kNaN});
  EXPECT_EQ(run_unary(&GraphBuilder::is_nan, s).to_doubles(), std::vector<double>{1});
  EXPECT_EQ(run_unary(&GraphBuilder::is_infinite, s).to_doubles(), std::vector<double>{0});
  Tensor h = tensor_from_doubles(DataType::float16, {}, {-2.5});
  EXPECT_EQ(run_unary(&GraphBuilder::round_even, h).to_doubles(), std::vector<double>{-2});
}

TEST(ElementwiseSpecialErrors, IntegerInputsAreRejected) {
  GraphBuilder b;
  Operand i32 = b.input("i32", DataType::int32, {2, 3});
  Operand u8 = b.input("u8", DataType::uint8, {2, 3});
  Operand i64 = b.input("i64", DataType::int64, {4});
  expect_error([&] { b.is_nan(i32, {"nan_check"}); }, ErrorKind::TypeError,
               "isNaN 'nan_check': operand 'a' has data type int32; allowed: float32, float16");
  expect_error([&] { b.is_infinite(u8); }, ErrorKind::TypeError,
               "isInfinite: operand 'a' has data type uint8; allowed: float32, float16");
  expect_error([&] { b.round_even(i64); }, ErrorKind::TypeError,
               "roundEven: operand 'input' has data type int64; allowed: float32, float16");
  expect_error([&] { b.round_even(u8); }, ErrorKind::TypeError, "data type uint8");
  // The builder still works after the errors.
  Operand x = b.input("x", DataType::float16, {3});
  Operand any = b.logical_or(b.is_nan(x), b.is_infinite(x));
  Graph g = b.build({{"any", any}, {"r", b.round_even(x)}});
  NamedTensors out =
      testing::run_cpu(g, {{"x", tensor_from_doubles(DataType::float16, {3}, {kNaN, 0.5, -kInf})}});
  EXPECT_EQ(out.at("any").to_doubles(), (std::vector<double>{1, 0, 1}));
  EXPECT_EQ(out.at("r").to_doubles()[1], 0.0);
}

}  // namespace
}  // namespace cppnn
