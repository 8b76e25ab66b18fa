#pragma once
// The activations that fusion may put into a conv / matmul epilogue (OpTrait::
// EpilogueActivation), as float functions for host and device (see host_device.h): the CPU
// backend's element-wise kernels and the CUDA convolution epilogues compute with these, so
// the fused and the unfused forms agree bit for bit on one machine. NaN behaviour is the
// spec's as the CPU backend implements it: relu, leakyRelu, clamp and hardSwish keep a NaN.
// (The generated CUDA kernels spell the same formulas in their source text,
// backends/cuda/codegen/cuda_codegen_ops.cpp; tests/cuda_jit compares them with the CPU.)
#include "graph/op_math/host_device.h"

namespace cppnn::detail::op_math {

// x < 0 rather than max(x, 0), so that a NaN stays NaN.
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float relu_f(float x) { return x < 0.0f ? 0.0f : x; }

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float sigmoid_f(float x) {
  return 1.0f / (1.0f + exp_f(-x));
}

// The spec's erf form, not the tanh approximation.
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float gelu_f(float x) {
  return 0.5f * x * (1.0f + erf_f(x * 0.70710678118654752f));
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float elu_f(float x, float alpha) {
  return x > 0.0f ? x : alpha * expm1_f(x);
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float leaky_relu_f(float x, float alpha) {
  return x < 0.0f ? alpha * x : x;
}

// x * max(0, min(6, x + 3)) / 6, the min and max written as std::min / std::max evaluate
// them (a NaN x stays NaN through the product).
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float hard_swish_f(float x) {
  float t = x + 3.0f;
  t = t < 6.0f ? t : 6.0f;
  t = 0.0f < t ? t : 0.0f;
  return x * t * (1.0f / 6.0f);
}

// min(max(x, lo), hi) as std::max then std::min evaluate them: a NaN x stays NaN.
template <typename C>
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE C clamp_to(C x, C lo, C hi) {
  C v = x < lo ? lo : x;
  return hi < v ? hi : v;
}

}  // namespace cppnn::detail::op_math
