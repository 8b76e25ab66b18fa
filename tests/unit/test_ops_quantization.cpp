// quantizeLinear and dequantizeLinear: values against float64 references written here (every
// float type against every quantized type; per-tensor, per-axis and block-wise scales; ranks
// 0 to 5), rounding of ties to even, saturation to the output type (infinities, NaN), and
// each validation rule of the spec.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "index_test_support.h"

namespace cppnn {
namespace {

using testing::count;
using testing::expect_error;
using testing::Index;
using testing::ravel;
using testing::unravel;
constexpr ErrorKind kType = ErrorKind::TypeError;
constexpr DataType kFloats[] = {DataType::float32, DataType::float16};
constexpr DataType kQuantized[] = {DataType::int8, DataType::uint8, DataType::int32,
                                   DataType::uint32};

// Round half to even, written out: the nearest integer, and of two equally near the even one.
double round_half_even(double v) {
  double lo = std::floor(v), frac = v - lo;
  if (frac > 0.5) return lo + 1;
  if (frac < 0.5) return lo;
  return std::fmod(lo, 2.0) == 0 ? lo : lo + 1;
}

double lowest(DataType t) {
  switch (t) {
    case DataType::int8: return -128;
    case DataType::int32: return -2147483648.0;
    default: return 0;
  }
}
double highest(DataType t) {
  switch (t) {
    case DataType::int8: return 127;
    case DataType::uint8: return 255;
    case DataType::int32: return 2147483647.0;
    default: return 4294967295.0;
  }
}

// The scale element of input element `at`: the spec's blockwise broadcast (each block of
// input / scale elements along every dimension shares one value).
size_t scale_index(const Index& at, const Dims& input, const Dims& scale) {
  Index s(at.size());
  for (size_t d = 0; d < at.size(); ++d) s[d] = at[d] / (input[d] / scale[d]);
  return ravel(s, scale);
}

// A value of the output type as the kernel must give it: rounded to float16 where that is
// the type (float32 values here are exact).
std::vector<double> as_type(DataType t, const Dims& shape, const std::vector<double>& v) {
  return testing::tensor_from_doubles(t, shape, v).to_doubles();
}

// Zero points in a range every quantized type holds, and inputs around them.
std::vector<double> random_values(size_t n, double lo, double hi, double step, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int64_t> dist(int64_t(lo / step), int64_t(hi / step));
  std::vector<double> v(n);
  for (double& x : v) x = double(dist(gen)) * step;
  return v;
}

std::string what(const char* op, DataType a, DataType b, const Dims& in, const Dims& sc) {
  return std::string(op) + " " + std::string(to_string(a)) + " -> " + std::string(to_string(b)) +
         " input " + to_string(in) + " scale " + to_string(sc);
}

// quantizeLinear of random inputs whose quotients land on many exact ties: inputs are
// multiples of 1/8 and scales powers of two, so the quotient is exact in every type and the
// float64 reference rounds exactly what the kernel rounds. Inputs reach past the output
// type's range, so saturation is exercised too.
void check_quantize(DataType ft, DataType qt, const Dims& in, const Dims& sc, uint32_t seed) {
  bool narrow = qt == DataType::int8 || qt == DataType::uint8;
  double zlo = narrow ? (qt == DataType::int8 ? -20 : 0) : -1000, zhi = narrow ? 20 : 1000;
  if (qt == DataType::uint32) zlo = 0;
  std::vector<double> xv = as_type(ft, in, random_values(count(in), -300, 300, 0.125, seed));
  std::vector<double> zv = random_values(count(sc), zlo, zhi, 1, seed + 1);
  std::vector<double> sv(count(sc));
  std::mt19937 gen(seed + 2);
  for (double& s : sv) s = std::ldexp(1.0, int(gen() % 6) - 2);  // 0.25 ... 8
  GraphBuilder b;
  Operand y = b.quantize_linear(b.input("x", ft, in), b.input("s", ft, sc), b.input("z", qt, sc));
  NamedTensors out = testing::run_cpu(b.build({{"y", y}}),
                                      {{"x", testing::tensor_from_doubles(ft, in, xv)},
                                       {"s", testing::tensor_from_doubles(ft, sc, sv)},
                                       {"z", testing::tensor_from_doubles(qt, sc, zv)}});
  std::vector<double> want(count(in));
  for (size_t f = 0; f < want.size(); ++f) {
    size_t s = scale_index(unravel(f, in), in, sc);
    double q = round_half_even(xv[f] / sv[s]) + zv[s];
    want[f] = std::clamp(q, lowest(qt), highest(qt));
  }
  const Tensor& got = out.at("y");
  std::string w = what("quantizeLinear", ft, qt, in, sc);
  EXPECT_EQ(got.data_type(), qt) << w;
  EXPECT_EQ(got.shape(), in) << w;
  testing::expect_close(got, want, {0, 0}, w);
}

// dequantizeLinear of random quantized values (32-bit ones up to 2^20, so that the float64
// product is exact and the kernel's one rounding is the reference's).
void check_dequantize(DataType qt, DataType ft, const Dims& in, const Dims& sc, uint32_t seed) {
  double lo = lowest(qt), hi = std::min(highest(qt), 1048576.0);
  if (qt == DataType::int32) lo = -1048576.0;
  std::vector<double> xv = random_values(count(in), lo, hi, 1, seed);
  std::vector<double> zv = random_values(count(sc), lo, hi, 1, seed + 1);
  std::vector<double> sv = as_type(ft, sc, random_values(count(sc), 0.001, 2, 0.0009765625, seed + 2));
  for (double& s : sv)
    if (s == 0) s = 0.5;
  GraphBuilder b;
  Operand y =
      b.dequantize_linear(b.input("x", qt, in), b.input("s", ft, sc), b.input("z", qt, sc));
  NamedTensors out = testing::run_cpu(b.build({{"y", y}}),
                                      {{"x", testing::tensor_from_doubles(qt, in, xv)},
                                       {"s", testing::tensor_from_doubles(ft, sc, sv)},
                                       {"z", testing::tensor_from_doubles(qt, sc, zv)}});
  std::vector<double> want(count(in));
  for (size_t f = 0; f < want.size(); ++f) {
    size_t s = scale_index(unravel(f, in), in, sc);
    want[f] = (xv[f] - zv[s]) * sv[s];
  }
  want = as_type(ft, in, want);
  const Tensor& got = out.at("y");
  std::string w = what("dequantizeLinear", qt, ft, in, sc);
  EXPECT_EQ(got.data_type(), ft) << w;
  EXPECT_EQ(got.shape(), in) << w;
  // float32: the one rounding of an exact product; float16: the same, of a product that
  // float32 holds exactly, except for 32-bit inputs whose product float16 rounds from float.
  testing::expect_close(got, want, {0, 0}, w);
}

// Scale shapes against input shapes: per-tensor, per-axis (each axis), block-wise, mixed.
struct Geometry {
  Dims input, scale;
};
const Geometry kGeometries[] = {
    {{}, {}},                                    // rank 0
    {{7}, {1}},                                  // per-tensor
    {{7}, {7}},                                  // per-element
    {{12}, {3}},                                 // blocks of 4
    {{4, 6}, {1, 1}},                            // per-tensor, 2-D
    {{4, 6}, {4, 1}},                            // per-axis 0
    {{4, 6}, {1, 6}},                            // per-axis 1
    {{4, 6}, {2, 3}},                            // 2x2 blocks
    {{4, 6}, {4, 2}},                            // per-row, blocks of 3 along the row
    {{2, 3, 8}, {1, 3, 4}},                      // per-axis and blocks
    {{2, 3, 8}, {2, 1, 1}},                      // per-axis 0 of three
    {{3, 4, 5, 6}, {3, 1, 5, 2}},                // alternating
    {{2, 2, 3, 4, 6}, {1, 2, 1, 4, 3}},          // rank 5
    {{1, 5, 1, 8}, {1, 5, 1, 2}},                // dimensions of 1
    {{64, 300}, {64, 1}},                        // large: every thread, per row
    {{40, 1000}, {1, 1}},                        // large, per-tensor
    {{16, 4096}, {16, 128}},                     // large, blocks of 32 (weight-only style)
};

TEST(QuantizeLinear, EveryTypePerTensorPerAxisAndBlockwise) {
  uint32_t seed = 1;
  for (DataType ft : kFloats)
    for (DataType qt : kQuantized)
      for (const Geometry& g : kGeometries) check_quantize(ft, qt, g.input, g.scale, seed++);
}

TEST(DequantizeLinear, EveryTypePerTensorPerAxisAndBlockwise) {
  uint32_t seed = 500;
  for (DataType qt : kQuantized)
    for (DataType ft : kFloats)
      for (const Geometry& g : kGeometries) check_dequantize(qt, ft, g.input, g.scale, seed++);
}

// Ties go to the even integer, then the zero point is added: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2,
// -0.5 -> 0, -1.5 -> -2, -2.5 -> -2; quotients that are no tie round to nearest.
TEST(QuantizeLinear, TiesRoundToEven) {
  const std::vector<double> x = {0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5, 0.49, 0.51, -0.51, 0};
  const std::vector<double> want = {0, 2, 2, 4, 0, -2, -2, -4, 0, 1, -1, 0};
  for (DataType ft : kFloats)
    for (DataType qt : {DataType::int8, DataType::int32}) {
      for (double zp : {0.0, 10.0}) {
        GraphBuilder b;
        Dims shape{int64_t(x.size())};
        Operand y = b.quantize_linear(
            b.constant(testing::tensor_from_doubles(ft, shape, x)),
            b.constant(testing::tensor_from_doubles(ft, {1}, {1.0})),
            b.constant(testing::tensor_from_doubles(qt, {1}, {zp})));
        NamedTensors out = testing::run_cpu(b.build({{"y", y}}), {});
        std::vector<double> w = want;
        std::vector<double> xs = out.at("y").to_doubles();
        for (size_t i = 0; i < w.size(); ++i) {
          // float16 holds 0.49 and 0.51 inexactly, but on the same side of the tie.
          EXPECT_EQ(xs[i], w[i] + zp) << to_string(ft) << " -> " << to_string(qt) << " x "
                                      << x[i] << " zero point " << zp;
        }
      }
    }
  // Through a scale: 5 / 2 = 2.5 -> 2, 7 / 2 = 3.5 -> 4; uint8 with zero point 128.
  GraphBuilder b;
  Operand y = b.quantize_linear(
      b.constant(Tensor::from(DataType::float32, {4}, std::vector<float>{5, 7, -5, -7})),
      b.constant(Tensor::from(DataType::float32, {1}, std::vector<float>{2})),
      b.constant(Tensor::from(DataType::uint8, {1}, std::vector<uint8_t>{128})));
  testing::expect_close(testing::run_cpu(b.build({{"y", y}}), {}).at("y"), {130, 132, 126, 124},
                        {0, 0}, "x / 2 + 128");
}

// Results beyond the output type saturate to its ends; infinities too (a zero scale gives
// +-inf), NaN becomes 0 (as cast's float -> integer), and the zero point is added before.
TEST(QuantizeLinear, SaturatesToTheOutputType) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {1000, -1000, 127.5, -128.5, 3e9f, -3e9f, inf, -inf, nan, 5e9f};
  struct Want {
    DataType type;
    double zp;
    std::vector<double> v;
  };
  const Want wants[] = {
      {DataType::int8, 0, {127, -128, 127, -128, 127, -128, 127, -128, 0, 127}},
      {DataType::int8, -100, {127, -128, 28, -128, 127, -128, 127, -128, 0, 127}},
      {DataType::uint8, 0, {255, 0, 128, 0, 255, 0, 255, 0, 0, 255}},
      {DataType::uint8, 200, {255, 0, 255, 72, 255, 0, 255, 0, 0, 255}},
      {DataType::int32, 0,
       {1000, -1000, 128, -128, 2147483647, -2147483648.0, 2147483647, -2147483648.0, 0,
        2147483647}},
      {DataType::int32, 2147483000, {2147483647, 2147482000, 2147483128, 2147482872, 2147483647,
                                     -852517000, 2147483647, -2147483648.0, 0, 2147483647}},
      {DataType::uint32, 0, {1000, 0, 128, 0, 3e9, 0, 4294967295.0, 0, 0, 4294967295.0}},
      {DataType::uint32, 4294967000.0, {4294967295.0, 4294966000.0, 4294967128.0, 4294966872.0,
                                        4294967295.0, 1294967000.0, 4294967295.0, 0, 0,
                                        4294967295.0}},
  };
  for (const Want& w : wants) {
    GraphBuilder b;
    Dims shape{int64_t(x.size())};
    Operand y = b.quantize_linear(
        b.input("x", DataType::float32, shape),
        b.constant(Tensor::from(DataType::float32, {1}, std::vector<float>{1})),
        b.constant(testing::tensor_from_doubles(w.type, {1}, {w.zp})));
    NamedTensors out = testing::run_cpu(b.build({{"y", y}}),
                                        {{"x", Tensor::from(DataType::float32, shape, x)}});
    testing::expect_close(out.at("y"), w.v, {0, 0},
                          std::string(to_string(w.type)) + " zero point " + std::to_string(w.zp));
  }
  // float16: 65504 / 0.25 overflows float16 to +inf, which saturates.
  GraphBuilder b;
  Operand y = b.quantize_linear(
      b.constant(testing::tensor_from_doubles(DataType::float16, {3}, {65504, -65504, 1})),
      b.constant(testing::tensor_from_doubles(DataType::float16, {1}, {0.25})),
      b.constant(Tensor::from(DataType::int32, {1}, std::vector<int32_t>{0})));
  testing::expect_close(testing::run_cpu(b.build({{"y", y}}), {}).at("y"),
                        {2147483647, -2147483648.0, 4}, {0, 0}, "float16 overflow");
  // A zero scale: x / 0 is +-inf (saturates) and 0 / 0 NaN (0).
  GraphBuilder z;
  Operand yz = z.quantize_linear(
      z.constant(Tensor::from(DataType::float32, {3}, std::vector<float>{2, -2, 0})),
      z.constant(Tensor::from(DataType::float32, {1}, std::vector<float>{0})),
      z.constant(Tensor::from(DataType::int8, {1}, std::vector<int8_t>{3})));
  testing::expect_close(testing::run_cpu(z.build({{"y", yz}}), {}).at("y"), {127, -128, 0},
                        {0, 0}, "zero scale");
}

// The extremes of each input type, and a zero point at the other end: no overflow of the
// difference (it is computed wider than the type).
TEST(DequantizeLinear, ExtremesOfEachType) {
  struct Case {
    DataType type;
    std::vector<double> x;
    double zp;
  };
  const Case cases[] = {
      {DataType::int8, {-128, 127, 0}, 127},
      {DataType::uint8, {0, 255, 128}, 255},
      {DataType::int32, {-2147483648.0, 2147483647, 0}, 2147483647},
      {DataType::uint32, {0, 4294967295.0, 1}, 4294967295.0},
  };
  for (const Case& c : cases)
    for (DataType ft : kFloats) {
      GraphBuilder b;
      Operand y = b.dequantize_linear(
          b.constant(testing::tensor_from_doubles(c.type, {3}, c.x)),
          b.constant(testing::tensor_from_doubles(ft, {1}, {0.5})),
          b.constant(testing::tensor_from_doubles(c.type, {1}, {c.zp})));
      std::vector<double> want;
      for (double v : c.x) want.push_back((v - c.zp) * 0.5);
      want = as_type(ft, {3}, want);
      testing::expect_close(testing::run_cpu(b.build({{"y", y}}), {}).at("y"), want, {0, 0},
                            std::string(to_string(c.type)) + " -> " + std::string(to_string(ft)));
    }
}

// quantize then dequantize returns the input where it is on the grid and in range.
TEST(QuantizeLinear, RoundTripsThroughDequantize) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 4});
  Operand s = b.constant(Tensor::from(DataType::float32, {2, 1}, std::vector<float>{0.5f, 0.25f}));
  Operand z = b.constant(Tensor::from(DataType::int8, {2, 1}, std::vector<int8_t>{-3, 7}));
  Operand y = b.dequantize_linear(b.quantize_linear(x, s, z), s, z);
  std::vector<float> v = {1.5f, -2, 0, 10, 0.25f, -1.75f, 3, -4};
  NamedTensors out = testing::run_cpu(b.build({{"y", y}}),
                                      {{"x", Tensor::from(DataType::float32, {2, 4}, v)}});
  testing::expect_close(out.at("y"), std::vector<double>(v.begin(), v.end()), {0, 0}, "round trip");
}

TEST(QuantizationErrors, Quantize) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4, 6});
  Operand s = b.input("s", DataType::float32, {2, 3});
  Operand z = b.input("z", DataType::uint8, {2, 3});
  EXPECT_EQ(b.quantize_linear(x, s, z).shape(), (Dims{4, 6}));
  EXPECT_EQ(b.quantize_linear(x, s, z).data_type(), DataType::uint8);
  EXPECT_EQ(b.quantize_linear(x, s, b.input("z32", DataType::int32, {2, 3})).data_type(),
            DataType::int32);
  expect_error([&] { b.quantize_linear(b.input("xi", DataType::int32, {4, 6}), s, z); }, kType,
               "operand 'input' has data type int32; allowed: float32, float16");
  expect_error([&] { b.quantize_linear(x, b.input("si", DataType::int8, {2, 3}), z); }, kType,
               "operand 'scale' has data type int8; allowed: float32, float16");
  expect_error([&] { b.quantize_linear(x, b.input("sh", DataType::float16, {2, 3}), z); }, kType,
               "operand 'scale' has data type float16 but operand 'input' has float32");
  expect_error([&] { b.quantize_linear(x, s, b.input("zf", DataType::float32, {2, 3})); }, kType,
               "operand 'zeroPoint' has data type float32; allowed: uint8, int8, uint32, int32");
  expect_error([&] { b.quantize_linear(x, s, b.input("z64", DataType::int64, {2, 3})); }, kType,
               "operand 'zeroPoint' has data type int64");
  expect_error([&] { b.quantize_linear(x, b.input("s1", DataType::float32, {6}), z); }, kType,
               "operand 'scale' of shape [6] must have the rank of operand 'input'");
  expect_error([&] { b.quantize_linear(x, s, b.input("z1", DataType::uint8, {3})); }, kType,
               "operand 'zeroPoint' of shape [3] must have the rank");
  expect_error([&] { b.quantize_linear(x, s, b.input("zs", DataType::uint8, {2, 1})); }, kType,
               "operand 'zeroPoint' of shape [2, 1] must have the shape of operand 'scale'");
  expect_error(
      [&] {
        b.quantize_linear(x, b.input("s45", DataType::float32, {4, 5}),
                          b.input("z45", DataType::uint8, {4, 5}));
      },
      kType, "is not blockwise broadcastable to operand 'input' of shape [4, 6]: dimension 1");
  // A scale larger than the input divides nothing.
  expect_error(
      [&] {
        b.quantize_linear(x, b.input("s8", DataType::float32, {8, 6}),
                          b.input("z8", DataType::uint8, {8, 6}));
      },
      kType, "dimension 0 (8) does not divide 4");
  expect_error([&] { b.quantize_linear(x, s, b.input("zbad", DataType::uint8, {2, 2}), {"q1"}); },
               kType, "quantizeLinear 'q1'");
}

TEST(QuantizationErrors, Dequantize) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::int8, {4, 6});
  Operand s = b.input("s", DataType::float16, {4, 1});
  Operand z = b.input("z", DataType::int8, {4, 1});
  EXPECT_EQ(b.dequantize_linear(x, s, z).data_type(), DataType::float16);
  EXPECT_EQ(b.dequantize_linear(x, s, z).shape(), (Dims{4, 6}));
  expect_error([&] { b.dequantize_linear(b.input("xf", DataType::float32, {4, 6}), s, z); }, kType,
               "operand 'input' has data type float32; allowed: uint8, int8, uint32, int32");
  expect_error([&] { b.dequantize_linear(b.input("x64", DataType::int64, {4, 6}), s, z); }, kType,
               "operand 'input' has data type int64");
  expect_error([&] { b.dequantize_linear(x, b.input("si", DataType::int32, {4, 1}), z); }, kType,
               "operand 'scale' has data type int32; allowed: float32, float16");
  expect_error([&] { b.dequantize_linear(x, s, b.input("zu", DataType::uint8, {4, 1})); }, kType,
               "operand 'zeroPoint' has data type uint8 but operand 'input' has int8");
  expect_error([&] { b.dequantize_linear(x, b.input("s0", DataType::float16, {}), z); }, kType,
               "operand 'scale' of shape [] must have the rank");
  expect_error(
      [&] {
        b.dequantize_linear(x, b.input("s5", DataType::float16, {4, 5}),
                            b.input("z5", DataType::int8, {4, 5}));
      },
      kType, "not blockwise broadcastable");
  expect_error([&] { b.dequantize_linear(x, s, b.input("zl", DataType::int8, {4}), {"dq"}); },
               kType, "dequantizeLinear 'dq'");
}

}  // namespace
}  // namespace cppnn
