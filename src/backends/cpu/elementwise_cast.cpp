// CPU kernel of cast between every pair of the eight data types, and bfloat16 (the internal
// storage type of bfloat16 precision) to and from each of them. The spec fixes in-range
// values (nearest representable for float targets, truncation for float -> integer, the same
// value between integers) and integer -> integer overflow (the lowest bits, two's
// complement). Where it leaves the result to the implementation (float -> integer out of
// range), values saturate to the target's range and NaN becomes 0.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "backends/cpu/elementwise_loops.h"
#include "backends/cpu/isa_target.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

template <typename To>
To float_to_int(float f) {
  using L = std::numeric_limits<To>;
  // min and max + 1 are powers of two (or 0), so both are exact in float.
  constexpr float lo = float(L::min());
  constexpr float hi = 2.0f * float(To(1) << (L::digits - 1));
  if (f != f) return To(0);
  if (f <= lo) return L::min();
  if (f >= hi) return L::max();
  return To(f);  // in range: truncates toward zero
}

// One value of a non-half type From to a non-half type To, or to float on the way to half.
template <typename To, typename From>
To convert(From v) {
  if constexpr (std::is_floating_point_v<To>)
    return To(v);  // int -> float rounds to nearest; float -> float is exact or rounds
  else if constexpr (std::is_floating_point_v<From>)
    return float_to_int<To>(v);
  else
    return To(v);  // int -> int keeps the lowest bits (C++20 defines it as modular)
}

template <typename From, typename To>
void cast_range(const From* in, To* out, size_t begin, size_t end) {
  if constexpr (std::is_same_v<From, half>) {
    float buf[kHalfBlock];
    for (size_t i = begin; i < end; i += kHalfBlock) {
      size_t m = std::min(kHalfBlock, end - i);
      halves_to_floats(in + i, buf, m);
      for (size_t j = 0; j < m; ++j) out[i + j] = convert<To>(buf[j]);
    }
  } else if constexpr (std::is_same_v<To, half>) {
    // Every integer a float rounds inexactly is beyond float16's range, so rounding through
    // float gives the nearest float16 (or infinity) without a double-rounding error.
    float buf[kHalfBlock];
    for (size_t i = begin; i < end; i += kHalfBlock) {
      size_t m = std::min(kHalfBlock, end - i);
      for (size_t j = 0; j < m; ++j) buf[j] = float(in[i + j]);
      floats_to_halves(buf, out + i, m);
    }
  } else {
    for (size_t i = begin; i < end; ++i) out[i] = convert<To>(in[i]);
  }
}

// An integer's magnitude to bfloat16, rounded once to nearest even (through float it would
// round twice: an integer float rounds onto a bfloat16 tie would then tie-break wrongly).
uint16_t magnitude_to_bfloat16(uint64_t m) {
  if (m < 256) return float_to_bfloat16(float(m));  // exact
  int shift = 63 - std::countl_zero(m) - 7;         // keep the top 8 significant bits
  uint64_t kept = m >> shift, rest = m & ((uint64_t(1) << shift) - 1);
  uint64_t half_way = uint64_t(1) << (shift - 1);
  if (rest > half_way || (rest == half_way && (kept & 1))) ++kept;  // 256 carries: still exact
  return float_to_bfloat16(std::ldexp(float(kept), shift));         // exact: <= 2^64
}

template <typename From>
uint16_t to_bfloat16(From v) {
  if constexpr (std::is_same_v<From, float>) {
    return float_to_bfloat16(v);
  } else if constexpr (std::is_same_v<From, half>) {
    return float_to_bfloat16(float(v));  // half -> float is exact: one rounding
  } else if constexpr (std::is_signed_v<From>) {
    uint64_t m = v < 0 ? uint64_t(0) - uint64_t(int64_t(v)) : uint64_t(v);
    uint16_t b = magnitude_to_bfloat16(m);
    return v < 0 ? uint16_t(b | 0x8000u) : b;
  } else {
    return magnitude_to_bfloat16(uint64_t(v));
  }
}

// bfloat16 -> every type through float, which holds each bfloat16 exactly, so the one
// rounding (to float16) or truncation (to integers) is the target's own; every type ->
// bfloat16 rounds once (to_bfloat16).
void cast_bfloat16(const Tensor& in, Tensor& out) {
  size_t n = in.element_count();
  if (in.data_type() == DataType::bfloat16) {
    const uint16_t* src = in.data_as<uint16_t>();
    visit_type(out.data_type(), [&]<typename To>() {
      To* dst = out.data_as<To>();
      parallel_for(n, kElementwiseGrain, [=](size_t begin, size_t end) {
        float buf[kHalfBlock];
        for (size_t i = begin; i < end; i += kHalfBlock) {
          size_t m = std::min(kHalfBlock, end - i);
          for (size_t j = 0; j < m; ++j) buf[j] = bfloat16_to_float(src[i + j]);
          if constexpr (std::is_same_v<To, half>)
            floats_to_halves(buf, dst + i, m);
          else
            for (size_t j = 0; j < m; ++j) dst[i + j] = convert<To>(buf[j]);
        }
      });
    });
    return;
  }
  uint16_t* dst = out.data_as<uint16_t>();
  visit_type(in.data_type(), [&]<typename From>() {
    const From* src = in.data_as<From>();
    parallel_for(n, kElementwiseGrain, [=](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) dst[i] = to_bfloat16(src[i]);
    });
  });
}

}  // namespace

void register_elementwise_cast_kernels(CpuKernelRegistry& r) {
  r.add(OpId::cast, [](const KernelContext&) {
    return make_kernel([](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
      DataType from = in[0]->data_type(), to = out[0]->data_type();
      if (from == to) {
        std::memcpy(out[0]->data(), in[0]->data(), in[0]->byte_size());
        return;
      }
      if (from == DataType::bfloat16 || to == DataType::bfloat16) {
        cast_bfloat16(*in[0], *out[0]);
        return;
      }
      visit_type(from, [&]<typename From>() {
        visit_type(to, [&]<typename To>() {
          if constexpr (!std::is_same_v<From, To>) {
            const From* src = in[0]->data_as<From>();
            To* dst = out[0]->data_as<To>();
            parallel_for(in[0]->element_count(), kElementwiseGrain,
                         [=](size_t begin, size_t end) { cast_range(src, dst, begin, end); });
          }
        });
      });
    });
  });
}

CPPNN_ISA_END
}  // namespace cppnn::detail
