#pragma once
// Overflow-checked integer arithmetic for shapes, sizes, offsets and attribute values that
// come from outside (builder arguments, ONNX files, engine files). Every infer function and
// importer helper that combines such numbers computes through these, so that a crafted
// dimension or padding is an error naming what overflowed, never a wrapped value that a
// kernel later trusts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cppnn/error.h"
#include "cppnn/types.h"

namespace cppnn::detail {

// Throws `kind` with "<what>: <a> <op> <b> overflows 64-bit integers".
[[noreturn]] void fail_overflow(ErrorKind kind, std::string_view what, const char* op,
                                int64_t a, int64_t b);
// Throws `kind` with "<what>: <x> is not a finite integer in the 64-bit range".
[[noreturn]] void fail_not_int64(ErrorKind kind, std::string_view what, double x);

inline int64_t checked_add(int64_t a, int64_t b, std::string_view what,
                           ErrorKind kind = ErrorKind::TypeError) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail_overflow(kind, what, "+", a, b);
  return r;
}

inline int64_t checked_sub(int64_t a, int64_t b, std::string_view what,
                           ErrorKind kind = ErrorKind::TypeError) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) fail_overflow(kind, what, "-", a, b);
  return r;
}

inline int64_t checked_mul(int64_t a, int64_t b, std::string_view what,
                           ErrorKind kind = ErrorKind::TypeError) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail_overflow(kind, what, "*", a, b);
  return r;
}

// The product of dims[begin, end), each already known to be >= 0.
inline int64_t checked_product(const Dims& dims, std::string_view what,
                               ErrorKind kind = ErrorKind::TypeError, size_t begin = 0,
                               size_t end = size_t(-1)) {
  if (end > dims.size()) end = dims.size();
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p = checked_mul(p, dims[i], what, kind);
  return p;
}

// The extent of a dilated window, (window - 1) * dilation + 1: conv and pooling output
// sizes, and the ONNX importer's and exporter's padding, all start from it.
inline int64_t checked_dilated_size(int64_t window, int64_t dilation, std::string_view what,
                                    ErrorKind kind = ErrorKind::TypeError) {
  return checked_add(checked_mul(checked_sub(window, 1, what, kind), dilation, what, kind), 1, what,
                     kind);
}

// a / b rounded toward negative and positive infinity, for b > 0 (a stride): the spec's
// floor() and ceil() of a quotient, exact where a double's are not. Neither can overflow:
// |a / b| <= |a|, and the step away from zero happens only when b > 1.
inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return a % b != 0 && a < 0 ? q - 1 : q;
}

inline int64_t ceil_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return a % b != 0 && a > 0 ? q + 1 : q;
}

// A double (an attribute, a scale times a size) as int64, truncated toward zero; NaN,
// infinities and values past the int64 range are errors (converting them is undefined).
inline int64_t checked_to_int64(double x, std::string_view what,
                                ErrorKind kind = ErrorKind::TypeError) {
  // -2^63 and 2^63 are exact in double; every double in [-2^63, 2^63) converts.
  if (!(x >= -0x1p63 && x < 0x1p63)) fail_not_int64(kind, what, x);
  return int64_t(x);
}

}  // namespace cppnn::detail
