#pragma once
// Our own float16 convolution on tensor cores (tensor_conv.cu): an implicit GEMM over an
// nhwc input, for conv2d with one group and channels a multiple of 8 (every convolution of
// ResNet-50 but the first, every 1x1 of MobileNetV2), with bias, residual and the fused
// activation in its epilogue. Like the depthwise kernel, it is one more candidate that the
// conv step times beside cuDNN's, and where it wins the warm start loads no cuDNN kernel.
// Plain C++17 and POD only: nvcc compiles the .cu, the host code (C++20) calls the launcher.
#include <cuda_runtime.h>

#include <cstdint>

namespace cppnn::detail::cuda {

// y[row, o] = act(sum over (ky, kx, ci) x[pixel(row) + tap] * w[o, ky, kx, ci] + bias[o] +
// residual[row, o]), row = (b, oy, ox): the GEMM [n*oh*ow, kh*kw*c] x [k, kh*kw*c]^T.
struct TensorConvParams {
  const void* x;         // [n, in_h, in_w, c] float16
  const void* w;         // [k, kh, kw, c] float16
  const void* bias;      // [k] or null
  const void* residual;  // [n, oh, ow, k] or null (may be y itself)
  void* y;               // [n, oh, ow, k]
  int n, c, in_h, in_w;
  int k, oh, ow, kh, kw;
  int stride_h, stride_w, dil_h, dil_w;
  int pad_top, pad_left;
  int activation;  // ConvActivation (conv_epilogue.h)
  float lo, hi, alpha;
  // Split-K (splits > 1): each tile's reduction in `splits` parts on the grid's z, summed
  // into `partial` ([splits, n*oh*ow, k] float32), then added up by a second kernel that
  // applies the epilogue.
  int splits;
  float* partial;
  // Products (own_gemm.h): the filter stored [kh*kw*c, k] (B as it is, not B^T: read with
  // ldmatrix.trans, or by the gathering form when k is not a multiple of 8), and `batches`
  // problems on the grid's y at the given strides (elements; 0 for an operand all share; the
  // residual's is y's). Batches are not split (split-K).
  int filter_kn;
  int batches;
  int64_t x_batch, w_batch, y_batch;
};

// Whether the kernel takes `p` (shapes, alignment, sizes within 32-bit indices).
bool tensor_conv_supported(const TensorConvParams& p);

// The tile shapes (output pixels x output channels per block of 128 threads) it comes in,
// each a candidate of its own: tiles 0 .. tensor_conv_tiles() - 1, named like "64x64".
int tensor_conv_tiles();
const char* tensor_conv_tile_name(int tile);

// Enqueues the kernel with tile shape `tile`; cudaErrorInvalidValue when it does not take `p`.
cudaError_t launch_tensor_conv(const TensorConvParams& p, int tile, cudaStream_t stream);

}  // namespace cppnn::detail::cuda
