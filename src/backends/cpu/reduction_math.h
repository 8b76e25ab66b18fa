#pragma once
// Pieces shared by the reduction kernels (reduction.cpp, reduction_axis.cpp): float16 rows
// widened to float in blocks, an exp that vectorizes, and index walks over strided dims.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "backends/cpu/half_runs.h"
#include "backends/cpu/isa_target.h"
#include "backends/cpu/kernel.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

// The type a kernel computes in: float16 is widened to float, everything else is itself.
template <typename T>
using elem_t = std::conditional_t<std::is_same_v<T, half>, float, T>;

// Rows are widened in blocks of this many elements so the scratch fits on the stack.
inline constexpr size_t kRowBlock = 1024;

// The out-of-line half_to_float would be a call per element; F16C converts 8 or 16 at a time.
inline void widen(const half* src, float* dst, size_t n) { widen_half_run(src, dst, n); }

inline void narrow(const float* src, half* dst, size_t n) { narrow_float_run(src, dst, n); }

// `n` (at most kRowBlock for half) elements at p as elem_t<T>: p itself, or widened into scratch.
template <typename T>
inline const elem_t<T>* load_block(const T* p, size_t n, elem_t<T>* scratch) {
  if constexpr (std::is_same_v<T, half>) {
    widen(p, scratch, n);
    return scratch;
  } else {
    return p;
  }
}

// Stores n computed values; only float16 needs converting.
template <typename T>
inline void store_block(const elem_t<T>* src, T* dst, size_t n) {
  if constexpr (std::is_same_v<T, half>)
    narrow(src, dst, n);
  else
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
}

// e^(x - shift) on 8 floats (4 at the baseline level), with a few ulp of error. std::exp is a libm call per element
// and GCC's vectorizer gives up on the clamps of a scalar version (they become branches),
// so this is written with vector types. Cephes' expf: x = n ln2 + r, e^r by a degree-6
// polynomial, 2^n put into the exponent bits. Callers subtract a maximum, so x <= 0 and the
// upper clamp only keeps 2^n finite.
// The baseline level has 128-bit vectors (SSE2 on x86-64), so there the same code runs on 4
// floats at a time.
inline constexpr size_t kExpLanes = CPPNN_ISA_AVX2 ? 8 : 4;
using f32x8 = float __attribute__((vector_size(kExpLanes * 4)));
using i32x8 = int32_t __attribute__((vector_size(kExpLanes * 4)));

// In place: a vector passed or returned by value would draw GCC's warning that AVX changes
// the calling convention (psabi), which the level's target pragma does not quiet. F is a
// float vector type of any width and I the int32 vector of as many lanes (the fused
// attention runs it on 16 lanes at the AVX-512 level: matmul_attention.cpp).
template <typename F, typename I>
inline void exp_lanes(F& v) {
  const F x = v;
  const F lo = F{} - 87.33654f, hi = F{} + 88.0f, zero = F{};
  F c = x > lo ? x : lo;  // NaN goes to lo here and is passed through at the end
  c = c < hi ? c : hi;
  // Adding 1.5 * 2^23 rounds to the nearest integer without a libm call.
  const float round_magic = 12582912.0f;
  F n = (c * 1.44269504088896341f + round_magic) - round_magic;
  F r = c - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  F p = zero + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  I bits = (__builtin_convertvector(n, I) + 127) << 23;
  F y = p * (F)bits;  // the bits as floats (std::bit_cast would return a vector)
  // Below the clamp e^x is under float's normal range: 0 keeps masked (-inf) logits exact.
  y = x < lo ? zero : y;
  v = x == x ? y : x;
}

inline void exp8(f32x8& v) { exp_lanes<f32x8, i32x8>(v); }

// y[i] = e^(x[i] - shift[i * shift_step]) for i < n: shift_step 0 shares one shift, 1 gives
// each element its own. y may be x.
inline void exp_shifted(const float* x, const float* shift, size_t shift_step, float* y, size_t n) {
  size_t i = 0;
  f32x8 v, s = f32x8{} + shift[0];
  for (; i + kExpLanes <= n; i += kExpLanes) {
    std::memcpy(&v, x + i, sizeof v);
    if (shift_step) std::memcpy(&s, shift + i, sizeof s);
    v -= s;
    exp8(v);
    std::memcpy(y + i, &v, sizeof v);
  }
  if (i == n) return;
  size_t bytes = (n - i) * sizeof(float);
  v = f32x8{};
  std::memcpy(&v, x + i, bytes);
  if (shift_step) std::memcpy(&s, shift + i, bytes);
  v -= s;
  exp8(v);
  std::memcpy(y + i, &v, bytes);
}

// The input seen as [outer, length, inner] around one axis.
struct AxisSplit {
  size_t outer = 1, length = 1, inner = 1;
};

inline AxisSplit split_at_axis(const Dims& shape, size_t axis) {
  AxisSplit s;
  for (size_t i = 0; i < shape.size(); ++i) {
    size_t d = size_t(shape[i]);
    if (i < axis)
      s.outer *= d;
    else if (i == axis)
      s.length = d;
    else
      s.inner *= d;
  }
  return s;
}

// Walks a row-major multi-index over `sizes`, keeping the matching offset with `strides`.
class Odometer {
 public:
  Odometer(const std::vector<size_t>& sizes, const std::vector<size_t>& strides, size_t start)
      : sizes_(sizes), strides_(strides), index_(sizes.size(), 0) {
    for (size_t d = sizes.size(); d-- > 0;) {
      index_[d] = start % sizes[d];
      start /= sizes[d];
      offset_ += index_[d] * strides[d];
    }
  }
  size_t offset() const { return offset_; }
  void next() {
    for (size_t d = sizes_.size(); d-- > 0;) {
      offset_ += strides_[d];
      if (++index_[d] < sizes_[d]) return;
      offset_ -= index_[d] * strides_[d];
      index_[d] = 0;
    }
  }

 private:
  const std::vector<size_t>& sizes_;
  const std::vector<size_t>& strides_;
  std::vector<size_t> index_;
  size_t offset_ = 0;
};

// Inner tiles are this wide at most, so per-tile accumulators live on the stack.
inline constexpr size_t kMaxTile = 512;

// Splits `inner` into tiles so that outer * tiles gives every thread work when outer is small.
inline size_t tile_width(size_t outer, size_t inner, int threads) {
  size_t want_tiles = (size_t(std::max(threads, 1)) + outer - 1) / outer;
  size_t width = (inner + want_tiles - 1) / want_tiles;
  width = (width + 15) / 16 * 16;  // whole vectors
  return std::clamp<size_t>(width, 16, kMaxTile);
}

// The axis-wise kernels (argMin/argMax, cumulativeSum, softmax), in reduction_axis.cpp.
void register_axis_reduction_kernels(CpuKernelRegistry& registry);

CPPNN_ISA_END
}  // namespace cppnn::detail
