#pragma once
// Split-K's second pass for our implicit-GEMM kernels (tensor_conv.cuh, simt_conv.cuh): when
// a problem has too few output tiles to fill the GPU, each of `splits` blocks per tile sums
// its own share of the reduction into float32 partials [splits, rows, cols], and this kernel
// adds them up, adds bias and residual, applies the activation and rounds once.
#include <cstdint>

#include "conv_math.cuh"

namespace cppnn::detail::cuda {

struct SplitReduceParams {
  const float* partial;  // [splits, rows, cols]
  int splits, rows, cols;
  // Output element (row, col) lives at ((col / pixels) * rows + row) * pixels + col % pixels:
  // pixels = cols for a row-major [rows, cols] output, oh * ow for an nchw one whose columns
  // run over the pixels of every image.
  int pixels;
  const void* bias;  // bias[row] (bias_per_row) or bias[col % pixels], or null
  int bias_per_row;
  const void* residual;  // laid out as the output, or null (may be y itself)
  void* y;
  int half;
  int activation;
  float lo, hi, alpha;
};

namespace split_reduce {

constexpr unsigned kBlock = 256;

template <typename T>
__global__ void __launch_bounds__(kBlock) kernel(SplitReduceParams p) {
  const T* bias = static_cast<const T*>(p.bias);
  const T* residual = static_cast<const T*>(p.residual);
  T* y = static_cast<T*>(p.y);
  const unsigned cols = unsigned(p.cols), pixels = unsigned(p.pixels), rows = unsigned(p.rows);
  const unsigned total = rows * cols, plane = total;
  for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total; e += gridDim.x * blockDim.x) {
    const unsigned row = e / cols, col = e % cols;
    float sum = 0.0f;
    for (int s = 0; s < p.splits; ++s) sum += p.partial[size_t(s) * plane + e];
    const unsigned pix = col % pixels;
    const size_t at = (size_t(col / pixels) * rows + row) * pixels + pix;
    if (bias) sum += to_float(bias[p.bias_per_row ? row : pix]);
    if (residual) sum += to_float(residual[at]);
    y[at] = from_float<T>(activate(sum, p.activation, p.lo, p.hi, p.alpha));
  }
}

// Calls run(kernel) with the kernel for p's output type.
template <typename Run>
void with_kernel(const SplitReduceParams& p, Run&& run) {
  if (p.half) run(&kernel<__half>);
  else run(&kernel<float>);
}

}  // namespace split_reduce
}  // namespace cppnn::detail::cuda
