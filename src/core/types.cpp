#include <bit>
#include <cstring>
#include <limits>

#include "cppnn/error.h"
#include "cppnn/types.h"

namespace cppnn {

std::string_view to_string(DataType type) {
  switch (type) {
    case DataType::float32: return "float32";
    case DataType::float16: return "float16";
    case DataType::int32: return "int32";
    case DataType::uint32: return "uint32";
    case DataType::int64: return "int64";
    case DataType::uint64: return "uint64";
    case DataType::int8: return "int8";
    case DataType::uint8: return "uint8";
    case DataType::bfloat16: return "bfloat16";
  }
  return "unknown";
}

DataType data_type_from_string(std::string_view name) {
  for (DataType t : kAllDataTypes)
    if (to_string(t) == name) return t;
  fail(ErrorKind::TypeError, "unknown data type '" + std::string(name) + "'");
}

DataType internal_data_type_from_string(std::string_view name) {
  if (name == "bfloat16") return DataType::bfloat16;
  return data_type_from_string(name);
}

std::string_view to_string(Precision precision) {
  switch (precision) {
    case Precision::float32: return "float32";
    case Precision::float16: return "float16";
    case Precision::bfloat16: return "bfloat16";
    case Precision::auto_: return "auto";
  }
  return "unknown";
}

Precision precision_from_string(std::string_view name) {
  for (Precision p : {Precision::float32, Precision::float16, Precision::bfloat16, Precision::auto_})
    if (to_string(p) == name) return p;
  fail(ErrorKind::TypeError, "unknown precision '" + std::string(name) +
                                 "' (float32, float16, bfloat16 or auto)");
}

size_t element_size(DataType type) {
  switch (type) {
    case DataType::float32:
    case DataType::int32:
    case DataType::uint32: return 4;
    case DataType::float16:
    case DataType::bfloat16: return 2;
    case DataType::int64:
    case DataType::uint64: return 8;
    case DataType::int8:
    case DataType::uint8: return 1;
  }
  return 1;
}

bool is_float(DataType type) {
  return type == DataType::float32 || type == DataType::float16 || type == DataType::bfloat16;
}

bool is_signed(DataType type) {
  return is_float(type) || type == DataType::int32 ||
         type == DataType::int64 || type == DataType::int8;
}

size_t byte_size(DataType type, size_t elements) {
  size_t size = element_size(type);
  if (elements > std::numeric_limits<size_t>::max() / size)
    fail(ErrorKind::TypeError, "tensor byte size overflows");
  return elements * size;
}

size_t element_count(const Dims& dims) {
  size_t count = 1;
  for (int64_t d : dims) {
    if (d < 0) fail(ErrorKind::TypeError, "negative dimension in shape " + to_string(dims));
    if (d != 0 && count > std::numeric_limits<size_t>::max() / size_t(d))
      fail(ErrorKind::TypeError, "element count of shape " + to_string(dims) + " overflows");
    count *= size_t(d);
  }
  return count;
}

std::string to_string(const Dims& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

uint16_t float_to_half(float value) {
  uint32_t x = std::bit_cast<uint32_t>(value);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or nan
    return uint16_t(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u | ((abs >> 13) & 0x3ffu) : 0));
  }
  if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {                                   // subnormal or zero in half
    // Adding 0.5f aligns the mantissa so the FPU rounds to nearest even for us.
    float f = std::bit_cast<float>(abs) + 0.5f;
    return uint16_t(sign | (std::bit_cast<uint32_t>(f) - 0x3f000000u));
  }
  uint32_t mant_odd = (abs >> 13) & 1u;
  abs += 0xc8000fffu + mant_odd;  // rebias exponent (-112 << 23) and round to nearest even
  return uint16_t(sign | (abs >> 13));
}

float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp == 0) {
    if (mant == 0) return std::bit_cast<float>(sign);
    float f = float(mant) * (1.0f / 16777216.0f);  // mant * 2^-24
    return sign ? -f : f;
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t float_to_bfloat16(float value) {
  uint32_t x = std::bit_cast<uint32_t>(value);
  // NaN: keep the sign and the top mantissa bits, and set the quiet bit so that truncation
  // cannot turn a NaN whose payload lies in the low bits into infinity.
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x0040u);
  // Round to nearest even: add 0x7fff plus the lowest kept bit; a carry out of the mantissa
  // moves to the exponent, which is how the largest values round to infinity.
  x += 0x7fffu + ((x >> 16) & 1u);
  return uint16_t(x >> 16);
}

float bfloat16_to_float(uint16_t bits) { return std::bit_cast<float>(uint32_t(bits) << 16); }

}  // namespace cppnn
