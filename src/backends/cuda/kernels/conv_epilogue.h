#pragma once
// The hand-written kernels around cuDNN's convolutions (conv_epilogue.cu). Plain C++17 and
// POD only: nvcc compiles the .cu, the host code (C++20) calls the launchers. Every
// launcher enqueues on `stream` and returns cudaGetLastError().
#include <cuda_runtime.h>

#include <cstdint>

namespace cppnn::detail::cuda {

// The fused activations of the fusion contract (src/compiler/fusion.cpp).
enum ConvActivation : int {
  kConvActNone = 0,
  kConvActRelu,
  kConvActClamp,      // lo, hi
  kConvActSigmoid,
  kConvActTanh,
  kConvActLeakyRelu,  // alpha
  kConvActElu,        // alpha
  kConvActHardSwish,
  kConvActGelu,       // erf form
};

// y = act(y + bias[c]) in place over a 4-D tensor of `total` elements with `channels`
// channels: c = i % channels (nhwc) or (i / spatial) % channels (nchw, spatial = H * W).
// bias may be null. half: 0 float32, 1 float16, 2 bfloat16; the 16-bit types are computed
// in float and rounded once at the store.
struct ConvEpilogueParams {
  void* y;
  const void* bias;
  int64_t total;
  int64_t channels;
  int64_t spatial;
  int nhwc;
  int half;
  int activation;  // ConvActivation
  float lo, hi, alpha;
};
cudaError_t launch_conv_epilogue(const ConvEpilogueParams& p, unsigned grid, cudaStream_t stream);

// dst (n, c, hp, wp) = x (n, c, h, w) shifted by (top, left), zeros around it: an input padded
// explicitly for padding that cuDNN's symmetric padding cannot express, or (top, left <= 0,
// hp <= h) a transposed output cropped out of cuDNN's whole one. Same layout
// (nhwc or nchw) on both sides; elem_size 4 or 2 (zero bits are 0.0 in both).
struct ConvPadParams {
  const void* x;
  void* dst;
  int64_t n, c, h, w;
  int64_t hp, wp;
  int64_t top, left;
  int nhwc;
  int elem_size;
};
cudaError_t launch_conv_pad_input(const ConvPadParams& p, unsigned grid, cudaStream_t stream);

// One thread that spins for about `microseconds` on the GPU. Timing a candidate after it
// measures the GPU's time alone: the host enqueues the timed runs while the GPU is busy, so
// host-side launch overhead (which CUDA graphs remove at run time) does not count.
cudaError_t launch_gpu_spin(unsigned microseconds, cudaStream_t stream);

// A filter reordered into cuDNN's layout: dst[a][b][kh][kw] (KCRS, dst_nhwc == 0) or
// dst[a][kh][kw][b] (KRSC) = src[a * sa + b * sb + y * sh + x * sw] (strides in elements).
struct ConvFilterParams {
  const void* src;
  void* dst;
  int64_t a, b, kh, kw;
  int64_t sa, sb, sh, sw;
  int dst_nhwc;
  int elem_size;
};
cudaError_t launch_conv_filter_reorder(const ConvFilterParams& p, unsigned grid,
                                       cudaStream_t stream);

}  // namespace cppnn::detail::cuda
