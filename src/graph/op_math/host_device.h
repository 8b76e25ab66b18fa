#pragma once
// What the shared op math (src/graph/op_math/) needs to compile three ways: as host C++20
// (the CPU backend, the graph layer, tests), as nvcc's host pass and as nvcc's device pass
// (C++17, the CUDA kernels). Everything in op_math that a kernel may call is marked
// CPPNN_HOST_DEVICE and includes nothing of cppnn beyond this folder.
//
// The scalar functions below call, on each side, what the backends called before these
// headers existed (std:: on the host, CUDA's float functions on the device), so that moving
// a formula here changes no result.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#if defined(__CUDACC__)
#define CPPNN_HOST_DEVICE __host__ __device__
#define CPPNN_FORCE_INLINE __forceinline__
#else
#define CPPNN_HOST_DEVICE
#define CPPNN_FORCE_INLINE inline
#endif

namespace cppnn::detail::op_math {

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float fabs_f(float x) {
#if defined(__CUDA_ARCH__)
  return fabsf(x);
#else
  return std::fabs(x);
#endif
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float sqrt_f(float x) {
#if defined(__CUDA_ARCH__)
  return sqrtf(x);
#else
  return std::sqrt(x);
#endif
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float log_f(float x) {
#if defined(__CUDA_ARCH__)
  return logf(x);
#else
  return std::log(x);
#endif
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE bool isinf_f(float x) {
#if defined(__CUDA_ARCH__)
  return isinf(x);
#else
  return std::isinf(x);
#endif
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float exp_f(float x) {
#if defined(__CUDA_ARCH__)
  return expf(x);
#else
  return std::exp(x);
#endif
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float expm1_f(float x) {
#if defined(__CUDA_ARCH__)
  return expm1f(x);
#else
  return std::expm1(x);
#endif
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float tanh_f(float x) {
#if defined(__CUDA_ARCH__)
  return tanhf(x);
#else
  return std::tanh(x);
#endif
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float erf_f(float x) {
#if defined(__CUDA_ARCH__)
  return erff(x);
#else
  return std::erf(x);
#endif
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE double floor_d(double x) {
#if defined(__CUDA_ARCH__)
  return floor(x);
#else
  return std::floor(x);
#endif
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE double ceil_d(double x) {
#if defined(__CUDA_ARCH__)
  return ceil(x);
#else
  return std::ceil(x);
#endif
}

// Rounds half to even (the default rounding mode, which cppnn never changes).
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE double round_even_d(double x) {
#if defined(__CUDA_ARCH__)
  return rint(x);
#else
  return std::nearbyint(x);
#endif
}

// The identity of max (of min): -infinity (+infinity) for floating point, the type's
// lowest (highest) value for integers.
template <typename E>
CPPNN_HOST_DEVICE constexpr E lowest_of() {
  if constexpr (std::is_floating_point_v<E>)
    return -std::numeric_limits<E>::infinity();
  else
    return std::numeric_limits<E>::lowest();
}

template <typename E>
CPPNN_HOST_DEVICE constexpr E highest_of() {
  if constexpr (std::is_floating_point_v<E>)
    return std::numeric_limits<E>::infinity();
  else
    return std::numeric_limits<E>::max();
}

}  // namespace cppnn::detail::op_math
