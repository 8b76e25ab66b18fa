#pragma once
// Calls a templated lambda with the C++ type of a DataType. float16 is carried as `half`,
// a 16-bit storage type converted to float for arithmetic.
#include <cstdint>

#include "cppnn/error.h"
#include "cppnn/types.h"

namespace cppnn {

struct half {
  uint16_t bits;
  half() = default;
  explicit half(float f) : bits(float_to_half(f)) {}
  operator float() const { return half_to_float(bits); }
};
static_assert(sizeof(half) == 2);

template <typename T>
inline double to_double(T v) {
  return double(v);
}
template <>
inline double to_double<half>(half v) {
  return double(float(v));
}

template <typename T>
inline T from_double(double v) {
  return T(v);
}
template <>
inline half from_double<half>(double v) {
  return half(float(v));
}

template <typename T>
struct type_of;
template <> struct type_of<float> { static constexpr DataType value = DataType::float32; };
template <> struct type_of<half> { static constexpr DataType value = DataType::float16; };
template <> struct type_of<int32_t> { static constexpr DataType value = DataType::int32; };
template <> struct type_of<uint32_t> { static constexpr DataType value = DataType::uint32; };
template <> struct type_of<int64_t> { static constexpr DataType value = DataType::int64; };
template <> struct type_of<uint64_t> { static constexpr DataType value = DataType::uint64; };
template <> struct type_of<int8_t> { static constexpr DataType value = DataType::int8; };
template <> struct type_of<uint8_t> { static constexpr DataType value = DataType::uint8; };

template <typename F>
decltype(auto) visit_type(DataType type, F&& f) {
  switch (type) {
    case DataType::float32: return f.template operator()<float>();
    case DataType::float16: return f.template operator()<half>();
    case DataType::int32: return f.template operator()<int32_t>();
    case DataType::uint32: return f.template operator()<uint32_t>();
    case DataType::int64: return f.template operator()<int64_t>();
    case DataType::uint64: return f.template operator()<uint64_t>();
    case DataType::int8: return f.template operator()<int8_t>();
    case DataType::uint8: return f.template operator()<uint8_t>();
    case DataType::bfloat16:
      // A storage type only: the CPU backend runs an op on bfloat16 operands in float32
      // (backends/cpu/bfloat16.h) and only the cast kernel converts it, so no templated
      // kernel is instantiated for it.
      fail(ErrorKind::NotSupportedError, "internal: no kernel is templated on bfloat16");
  }
  fail(ErrorKind::TypeError, "unknown data type");
}

}  // namespace cppnn
