// cast between every pair of the eight data types, against an exact reference in long
// double (which holds every int64 and uint64) written from the spec's cast table.
#include <cmath>
#include <limits>

#include "test_support.h"

namespace cppnn {
namespace {

using testing::expect_close;
using testing::random_tensor;

std::string type_name(DataType t) { return std::string(to_string(t)); }

Tensor run_cast(const Tensor& x, DataType to) {
  GraphBuilder b;
  Operand in = b.input("x", x.data_type(), x.shape());
  Graph g = b.build({{"y", b.cast(in, to)}});
  return testing::run_cpu(g, {{"x", x}}).at("y");
}

// Values of every kind: fractions, type limits and beyond, specials; as long double, which
// holds every int64 and uint64 exactly.
std::vector<long double> cast_sources(DataType from) {
  using L = long double;
  if (is_float(from))
    return {0.0L,  -0.0L, 0.4L,   -0.4L,    0.99L,     -0.99L,   1.5L,      -1.5L,
            2.7L,  -2.7L, 127.9L, 128.5L,   -128.5L,   -129.2L,  255.9L,    256.3L,
            65504, 65519, 65520,  70000.5L, -70000.5L, 1e-6L,    3e9L,      -3e9L,
            5e18L, 1e19L, 2e19L,  -1e19L,   1e30L,     INFINITY, -INFINITY, NAN};
  std::vector<L> all = {0,
                        1,
                        -1,
                        7,
                        -7,
                        100,
                        127,
                        128,
                        -128,
                        -129,
                        200,
                        255,
                        256,
                        -300,
                        1000,
                        32767,
                        65504,
                        65519,
                        65520,
                        70000,
                        -70000,
                        16777217,
                        2147483647,
                        2147483648.0L,
                        -2147483648.0L,
                        -2147483649.0L,
                        4294967295.0L,
                        4294967301.0L,
                        9007199254740993.0L,
                        9223372036854775807.0L,
                        -9223372036854775808.0L,
                        18446744073709551615.0L};
  std::vector<L> in_range;
  visit_type(from, [&]<typename T>() {
    for (L v : all)
      if (v >= L(std::numeric_limits<T>::lowest()) && v <= L(std::numeric_limits<T>::max()))
        in_range.push_back(v);
  });
  return in_range;
}

// The nearest float16 (ties to even), with the spec's overflow to infinity at 65520.
long double nearest_half(long double v) {
  if (std::isnan(v)) return v;
  long double a = std::fabs(v);
  if (a >= 65520) return std::copysign((long double)INFINITY, v);
  if (a == 0) return v;
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  long double spacing = std::ldexp(1.0L, std::max(e - 1, -14) - 10);
  return std::copysign(std::nearbyint(a / spacing) * spacing, v);
}

// The cast the spec defines, with saturation for float -> integer out of range.
long double cast_ref(long double v, DataType from, DataType to) {
  if (to == DataType::float32) return std::isnan(v) ? v : (long double)(float)v;
  if (to == DataType::float16) return nearest_half(v);
  long double result = 0;
  visit_type(to, [&]<typename T>() {
    using L = std::numeric_limits<T>;
    if (is_float(from)) {
      if (std::isnan(v))
        result = 0;
      else
        result = std::min(std::max(std::trunc(v), (long double)L::lowest()), (long double)L::max());
    } else {
      // The lowest bits of the two's complement representation, reinterpreted.
      uint64_t bits = v < 0 ? uint64_t(int64_t(v)) : uint64_t(v);
      int n = L::digits + (L::is_signed ? 1 : 0);
      if (n < 64) bits &= (uint64_t(1) << n) - 1;
      if (L::is_signed && n < 64 && (bits >> (n - 1)))
        result = (long double)bits - std::ldexp(1.0L, n);
      else if (L::is_signed && n == 64)
        result = (long double)int64_t(bits);
      else
        result = (long double)bits;
    }
  });
  return result;
}

TEST(ElementwiseCast, EveryPairOfTypes) {
  for (DataType from : kAllDataTypes) {
    std::vector<long double> src = cast_sources(from);
    Tensor x(from, {int64_t(src.size())});
    visit_type(from, [&]<typename T>() {
      for (size_t i = 0; i < src.size(); ++i) {
        if constexpr (std::is_same_v<T, half>)
          x.data_as<T>()[i] = half(float(src[i]));
        else
          x.data_as<T>()[i] = T(src[i]);
      }
    });
    std::vector<long double> stored(src.size());  // what the source type actually holds
    visit_type(from, [&]<typename T>() {
      for (size_t i = 0; i < src.size(); ++i) {
        if constexpr (std::is_same_v<T, half>)
          stored[i] = float(x.data_as<T>()[i]);
        else
          stored[i] = (long double)x.data_as<T>()[i];
      }
    });
    for (DataType to : kAllDataTypes) {
      Tensor y = run_cast(x, to);
      ASSERT_EQ(y.data_type(), to);
      ASSERT_EQ(y.shape(), x.shape());
      size_t bad = 0;
      visit_type(to, [&]<typename T>() {
        for (size_t i = 0; i < src.size(); ++i) {
          long double got;
          if constexpr (std::is_same_v<T, half>)
            got = float(y.data_as<T>()[i]);
          else
            got = (long double)y.data_as<T>()[i];
          long double want = cast_ref(stored[i], from, to);
          bool same = got == want || (std::isnan(got) && std::isnan(want));
          if (!same && bad++ < 5)
            ADD_FAILURE() << "cast " << type_name(from) << " -> " << type_name(to) << " of "
                          << double(stored[i]) << ": got " << double(got) << ", want "
                          << double(want);
        }
      });
      EXPECT_EQ(bad, 0u) << type_name(from) << " -> " << type_name(to);
    }
  }
}

TEST(ElementwiseCast, LargeTensorIsParallelAndExact) {
  Tensor x = random_tensor(DataType::float32, {3, 33333}, -300, 300, 5);
  for (DataType to : {DataType::int8, DataType::float16, DataType::uint32}) {
    Tensor y = run_cast(x, to);
    std::vector<double> want;
    for (double v : x.to_doubles()) want.push_back(double(cast_ref(v, DataType::float32, to)));
    expect_close(y, want, {0, 0}, "cast float32 -> " + type_name(to));
  }
}

}  // namespace
}  // namespace cppnn
