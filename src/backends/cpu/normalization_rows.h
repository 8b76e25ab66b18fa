#pragma once
// Contiguous runs of float32 or float16 elements moved to and from float buffers, for the
// normalization and pooling kernels. float16 runs go through F16C at the AVX2 and AVX-512
// levels (half_runs.h): the out-of-line scalar half conversion would dominate these kernels.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "backends/cpu/half_runs.h"
#include "backends/cpu/isa_target.h"
#include "core/dispatch.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

inline float to_float(float v) { return v; }
#if CPPNN_ISA_AVX2
inline float to_float(half v) { return _cvtsh_ss(v.bits); }
inline uint16_t half_bits(float v) { return uint16_t(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT)); }
#else
inline float to_float(half v) { return float(v); }
inline uint16_t half_bits(float v) { return float_to_half(v); }
#endif
template <typename T>
inline T from_float(float v) {
  if constexpr (std::is_same_v<T, half>) {
    half h;
    h.bits = half_bits(v);
    return h;
  } else {
    return v;
  }
}

inline void load_floats(const float* src, float* dst, size_t n) {
  std::memcpy(dst, src, n * sizeof(float));
}

inline void load_floats(const half* src, float* dst, size_t n) { widen_half_run(src, dst, n); }

inline void store_floats(const float* src, float* dst, size_t n) {
  std::memcpy(dst, src, n * sizeof(float));
}

// Rounds to nearest even, as float_to_half does.
inline void store_floats(const float* src, half* dst, size_t n) { narrow_float_run(src, dst, n); }

// Calls f(in, out, offset, count) on float blocks of the n elements of x and y; for float
// these are the tensors themselves, for half converted copies of at most 256 elements.
template <typename T, typename F>
void map_floats(const T* x, T* y, size_t n, F&& f) {
  if constexpr (std::is_same_v<T, float>) {
    f(x, y, size_t(0), n);
  } else {
    float in[256], out[256];
    for (size_t base = 0; base < n; base += 256) {
      size_t count = std::min<size_t>(256, n - base);
      load_floats(x + base, in, count);
      f(static_cast<const float*>(in), static_cast<float*>(out), base, count);
      store_floats(out, y + base, count);
    }
  }
}

// A float view of a run of T: the data itself for float, a converted copy for half.
template <typename T>
const float* floats_of(const T* src, float* scratch, size_t n) {
  if constexpr (std::is_same_v<T, float>) {
    return src;
  } else {
    load_floats(src, scratch, n);
    return scratch;
  }
}

CPPNN_ISA_END
}  // namespace cppnn::detail
