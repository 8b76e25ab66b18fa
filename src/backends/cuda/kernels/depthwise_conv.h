#pragma once
// Our own depthwise convolution (depthwise_conv.cu): conv2d with one input channel per group,
// bias, residual and the fused activation in the same pass. cuDNN's grouped convolutions are
// slow at this shape in float16, and each of its kernels costs the warm start a first-use
// load; this kernel is one more candidate that the conv step times beside cuDNN's.
// Plain C++17 and POD only: nvcc compiles the .cu, the host code (C++20) calls the launcher.
#include <cuda_runtime.h>

#include <cstdint>

namespace cppnn::detail::cuda {

// y = act(conv(x, w) + bias + residual). Output channel o reads input channel o / (k / c).
// Sizes fit in int: the step only offers this kernel when every tensor has < 2^31 elements.
struct DepthwiseConvParams {
  const void* x;         // [n, c, in_h, in_w] (nchw) or [n, in_h, in_w, c] (nhwc)
  const void* w;         // w[o * w_k + (ky * kw + kx) * w_tap]
  const void* bias;      // [k] or null
  const void* residual;  // the output's shape and layout, or null (may be y itself)
  void* y;               // [n, k, oh, ow] or [n, oh, ow, k]
  int n, c, in_h, in_w;
  int k, oh, ow;
  int kh, kw;
  int stride_h, stride_w, dil_h, dil_w;
  int pad_top, pad_left;  // the bottom and right padding only show in oh, ow
  int w_k, w_tap;
  int nhwc, half;
  int activation;  // ConvActivation (conv_epilogue.h)
  float lo, hi, alpha;
};

// Threads per block of every depthwise kernel.
constexpr unsigned kDepthwiseBlock = 256;

// The work items the kernel chosen for `p` runs (one thread each, grid-stride): the caller
// sizes the grid from it. 0 when no kernel takes `p`.
int64_t depthwise_conv_work_items(const DepthwiseConvParams& p);

// Enqueues the kernel; cudaErrorInvalidValue when no kernel takes `p` (for example a grid
// whose last grid-stride step would pass 2^32).
cudaError_t launch_depthwise_conv(const DepthwiseConvParams& p, unsigned grid, cudaStream_t stream);

}  // namespace cppnn::detail::cuda
