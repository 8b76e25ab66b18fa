#pragma once
// Device arithmetic shared by the convolution kernels (conv_epilogue.cu, depthwise_conv.cu):
// float16 read and written through float (half_float.cuh), and the fused activations of the
// fusion contract (graph/op_math/activation.h, the CPU backend's formulas). Plain enough to
// compile as host C++ too, which is how tests/cuda_host checks these kernels on machines
// without a GPU.
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>

#include "conv_epilogue.h"
#include "graph/op_math/activation.h"
#include "half_float.cuh"

namespace cppnn::detail::cuda {

__device__ __forceinline__ float activate(float x, int act, float lo, float hi, float alpha) {
  switch (act) {
    case kConvActRelu:
      return op_math::relu_f(x);
    case kConvActClamp:
      return op_math::clamp_to(x, lo, hi);
    case kConvActSigmoid:
      return op_math::sigmoid_f(x);
    case kConvActTanh:
      return op_math::tanh_f(x);
    case kConvActLeakyRelu:
      return op_math::leaky_relu_f(x, alpha);
    case kConvActElu:
      return op_math::elu_f(x, alpha);
    case kConvActHardSwish:
      return op_math::hard_swish_f(x);
    case kConvActGelu:
      return op_math::gelu_f(x);
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

template <typename T, typename I>
__device__ __forceinline__ float load(const T* p, I i) { return to_float(p[i]); }
template <typename T, typename I>
__device__ __forceinline__ void store(T* p, I i, float v) { p[i] = from_float<T>(v); }

}  // namespace cppnn::detail::cuda
