#pragma once
// The spec's "cast" of an MLNumber (a double) to a tensor element type, shared by every
// backend that turns a number attribute into an element (pad's value, ...): saturating,
// round half to even, NaN to 0 for integers.
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/dispatch.h"

namespace cppnn::detail {

template <typename T>
T cast_number(double x) {
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, half>) {
    if (std::isnan(x)) return T(std::numeric_limits<float>::quiet_NaN());
    // Past FLT_MAX by half an ulp rounds to infinity; converting such a double is undefined.
    constexpr double kFloatOverflow = double(std::numeric_limits<float>::max()) + 0x1p103;
    if (std::abs(x) >= kFloatOverflow) return T(std::copysign(INFINITY, x));
    if (std::abs(x) > double(std::numeric_limits<float>::max()))
      return T(std::copysign(std::numeric_limits<float>::max(), x));
    return T(float(x));
  } else {
    if (std::isnan(x)) return T(0);
    constexpr double lo = double(std::numeric_limits<T>::lowest());
    // 2^bits (or 2^(bits-1)), exactly representable, unlike the type's max for 64 bits.
    constexpr double hi_excl = double(std::numeric_limits<T>::max() / 2 + 1) * 2;
    if (x <= lo) return std::numeric_limits<T>::lowest();
    if (x >= hi_excl) return std::numeric_limits<T>::max();
    double r = std::nearbyint(x);
    if (r >= hi_excl) return std::numeric_limits<T>::max();
    return T(r);
  }
}

}  // namespace cppnn::detail
