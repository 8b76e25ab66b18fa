#pragma once
// Our own float32 convolution on CUDA cores (simt_conv.cu): an implicit GEMM over an nchw
// input for conv2d with one group, any channel count and window: exact float32 (fused
// multiply-adds, no TF32), as cuDNN's float32 choices are by default. Bias, residual and the
// fused activation in its epilogue. One more candidate the conv step times beside cuDNN's.
// Plain C++17 and POD only: nvcc compiles the .cu, the host code (C++20) calls the launcher.
#include <cuda_runtime.h>

#include <cstdint>

namespace cppnn::detail::cuda {

// y[b, o, oy, ox] = act(sum over (ci, ky, kx) w[o, ci, ky, kx] * x[b, ci, iy, ix] + bias[o] +
// residual[b, o, oy, ox]): the GEMM [k, c*kh*kw] x [c*kh*kw, n*oh*ow].
// A row-major matmul D[m, n] = A[m, k] B[k, n] + bias[n] is the case w = A, x = B as
// [1, k, 1, n], a 1x1 window and bias_per_pixel; `batches` of them at the given strides
// (elements; 0 for an operand shared by all) run on the grid's second dimension.
struct SimtConvParams {
  const float* x;         // [n, c, in_h, in_w]
  const float* w;         // [k, c, kh, kw]
  const float* bias;      // [k] or null
  const float* residual;  // [n, k, oh, ow] or null (may be y itself)
  float* y;               // [n, k, oh, ow]
  int n, c, in_h, in_w;
  int k, oh, ow, kh, kw;
  int stride_h, stride_w, dil_h, dil_w;
  int pad_top, pad_left;
  int activation;  // ConvActivation (conv_epilogue.h)
  float lo, hi, alpha;
  int bias_per_pixel;  // bias[ox + ow * oy] instead of bias[o]
  int batches;         // 0 or 1: one problem
  int64_t x_batch, w_batch, y_batch;  // strides between the problems (residual: y's)
  // Split-K (splits > 1, one problem only): each tile's reduction in `splits` parts on the
  // grid's z, summed into `partial` ([splits, k, n*oh*ow] float32), then added up by a second
  // kernel that applies the epilogue.
  int splits;
  float* partial;
};

bool simt_conv_supported(const SimtConvParams& p);

// The tile shapes (output channels x output pixels per block of 256 threads), each a
// candidate of its own: tiles 0 .. simt_conv_tiles() - 1, named like "64x64".
int simt_conv_tiles();
const char* simt_conv_tile_name(int tile);

// Enqueues the kernel with tile shape `tile`; cudaErrorInvalidValue when it does not take `p`.
cudaError_t launch_simt_conv(const SimtConvParams& p, int tile, cudaStream_t stream);

}  // namespace cppnn::detail::cuda
