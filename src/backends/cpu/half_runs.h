#pragma once
// Runs of float16 widened to float32 and narrowed back (nearest even, as float_to_half),
// for the kernels that compute float16 in float32. F16C converts 8 lanes at a time at the
// AVX2 level and 16 at AVX-512, where the loops that read the floats back are 16 wide too: a
// 512-bit load of what two 256-bit stores just wrote cannot be forwarded from the store
// buffer and waits for them (a float16 reduceSum ran 35% slower so). The baseline converts
// one element at a time.
#include <cstddef>
#include <cstdint>

#include "backends/cpu/isa_target.h"
#include "core/dispatch.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

#if CPPNN_ISA_AVX512
// The zero-masked forms with every lane selected: GCC 12's unmasked _mm512_cvtph_ps and
// _mm512_cvtps_ph pass an undefined vector that -Wmaybe-uninitialized reports (GCC PR 105593).
inline constexpr __mmask16 kAll16 = 0xffff;
#endif

inline void widen_half_run(const half* src, float* dst, size_t n) {
  size_t i = 0;
#if CPPNN_ISA_AVX512
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i, _mm512_maskz_cvtph_ps(kAll16, _mm256_loadu_si256(
                                  reinterpret_cast<const __m256i*>(src + i))));
#endif
#if CPPNN_ISA_AVX2
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i].bits);
#else
  for (; i < n; ++i) dst[i] = float(src[i]);
#endif
}

inline void narrow_float_run(const float* src, half* dst, size_t n) {
  size_t i = 0;
#if CPPNN_ISA_AVX512
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                        _mm512_maskz_cvtps_ph(kAll16, _mm512_loadu_ps(src + i),
                                              _MM_FROUND_TO_NEAREST_INT));
#endif
#if CPPNN_ISA_AVX2
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) dst[i].bits = uint16_t(_cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT));
#else
  for (; i < n; ++i) dst[i] = half(src[i]);
#endif
}

CPPNN_ISA_END
}  // namespace cppnn::detail
