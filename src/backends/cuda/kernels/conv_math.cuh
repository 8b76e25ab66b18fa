#pragma once
// Device arithmetic shared by the convolution kernels (conv_epilogue.cu, depthwise_conv.cu):
// float16 read and written through float, and the fused activations of the fusion contract
// with the CPU backend's NaN behaviour. Plain enough to compile as host C++ too, which is
// how tests/cuda_host checks these kernels on machines without a GPU.
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

#include "conv_epilogue.h"

namespace cppnn::detail::cuda {

__device__ __forceinline__ float activate(float x, int act, float lo, float hi, float alpha) {
  switch (act) {
    case kConvActRelu:
      return x < 0.0f ? 0.0f : x;  // NaN stays NaN, as the CPU's relu
    case kConvActClamp: {
      float v = x < lo ? lo : x;   // std::max(x, lo), then std::min(v, hi): NaN stays NaN
      return hi < v ? hi : v;
    }
    case kConvActSigmoid:
      return 1.0f / (1.0f + expf(-x));
    case kConvActTanh:
      return tanhf(x);
    case kConvActLeakyRelu:
      return x < 0.0f ? alpha * x : x;
    case kConvActElu:
      return x > 0.0f ? x : alpha * expm1f(x);
    case kConvActHardSwish: {
      float t = x + 3.0f;
      t = t < 6.0f ? t : 6.0f;     // std::min(6, x + 3)
      t = 0.0f < t ? t : 0.0f;     // std::max(0, ...)
      return x * t * (1.0f / 6.0f);
    }
    case kConvActGelu:
      return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    default:
      return x;
  }
}

// A 1x1 window at stride 1 without padding, so that output pixel i reads input pixel i:
// the implicit GEMMs' pointwise form (any of their parameter structs).
template <typename Params>
inline bool pointwise_window(const Params& p) {
  return p.kh == 1 && p.kw == 1 && p.stride_h == 1 && p.stride_w == 1 && p.pad_top == 0 &&
         p.pad_left == 0 && p.oh == p.in_h && p.ow == p.in_w;
}

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }

template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half from_float<__half>(float v) { return __float2half_rn(v); }

template <typename T, typename I>
__device__ __forceinline__ float load(const T* p, I i) { return to_float(p[i]); }
template <typename T, typename I>
__device__ __forceinline__ void store(T* p, I i, float v) { p[i] = from_float<T>(v); }

}  // namespace cppnn::detail::cuda
