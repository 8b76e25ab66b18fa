#pragma once
// What the math kernels (math.cu, normalize.cuh) share: element access (float16 computed in
// float, every other type in itself, rounded once at the store) and a block-wide reduction.
// Plain enough to compile as host C++ for tests/cuda_host.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "graph/op_math/host_device.h"

namespace cppnn::detail::cuda::kernels {

constexpr int kThreads = 256;  // every launch of the math kernels uses exactly this block size

// ---- Element access: float16 and bfloat16 computed in float, every other type in itself.

template <typename T>
struct Num {
  using E = T;
};
template <>
struct Num<__half> {
  using E = float;
};
template <>
struct Num<__nv_bfloat16> {
  using E = float;
};

template <typename T>
__device__ __forceinline__ typename Num<T>::E load(const T* p, int64_t i) {
  return p[i];
}
template <>
__device__ __forceinline__ float load<__half>(const __half* p, int64_t i) {
  return __half2float(p[i]);
}
template <>
__device__ __forceinline__ float load<__nv_bfloat16>(const __nv_bfloat16* p, int64_t i) {
  return __bfloat162float(p[i]);
}

template <typename T, typename A>
__device__ __forceinline__ void store(T* p, int64_t i, A v) {
  p[i] = T(v);
}
// Rounds to nearest even once, as the CPU's float_to_half does.
template <typename A>
__device__ __forceinline__ void store(__half* p, int64_t i, A v) {
  p[i] = __float2half_rn(float(v));
}
// bfloat16 likewise (float_to_bfloat16; a NaN may come out with another payload).
template <typename A>
__device__ __forceinline__ void store(__nv_bfloat16* p, int64_t i, A v) {
  p[i] = __float2bfloat16_rn(float(v));
}

// An optional per-element parameter (scale, bias) as float, `fill` when absent.
template <typename T>
__device__ __forceinline__ float param(const T* p, int64_t i, float fill) {
  return p ? float(load(p, i)) : fill;
}

// The identities of max and min (-infinity / +infinity for floats), shared with the CPU.
using op_math::highest_of;
using op_math::lowest_of;

// ---- Block-wide reduction (blockDim.x == kThreads): every thread gets the result. Shared
// memory and a tree: any accumulator type, any associative combine.
template <typename A, typename Op>
__device__ A block_reduce(A v, const Op& op) {
  __shared__ A buf[kThreads];
  int t = int(threadIdx.x);
  buf[t] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (t < s) buf[t] = op.combine(buf[t], buf[t + s]);
    __syncthreads();
  }
  A r = buf[0];
  __syncthreads();  // nobody may overwrite buf[0] before everyone has read it
  return r;
}

struct FloatSum {
  __device__ float combine(float a, float b) const { return a + b; }
};
// NaN never wins (as the CPU's `x > max ? x : max`); the identity is -infinity.
struct FloatMax {
  __device__ float combine(float a, float b) const { return b > a ? b : a; }
};

}  // namespace cppnn::detail::cuda::kernels
