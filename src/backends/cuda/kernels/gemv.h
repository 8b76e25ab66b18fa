#pragma once
// Our own float16 matrix-vector products (gemv.cu): D[m, n] = act(sum_k A[m, k] B[k, n] +
// bias[n]) for a few rows m (a decoder's one token per step), where a tiled GEMM leaves
// most of its tile empty and the time is reading B once. Two forms, by how B is stored:
// - [k, n] (b as it is): each thread owns 8 adjacent columns and a slice of k, 16-byte
//   loads along n; the slices' partial sums meet in shared memory;
// - [n, k] (b given transposed): one warp per column, 16-byte loads along k, a warp sum.
// float32 accumulation. Plain C++17 and POD only: nvcc compiles the .cu, the host code
// (C++20) calls the launcher.
#include <cuda_runtime.h>

#include <cstdint>

namespace cppnn::detail::cuda {

inline constexpr int kGemvMaxRows = 8;

struct GemvParams {
  const void* a;     // [m, k] float16, row-major
  const void* b;     // [k, n] (b_nk 0) or [n, k] (b_nk 1) float16
  const void* bias;  // [n] float16 or null
  void* d;           // [m, n] float16
  int m, n, k;
  int b_nk;
  int activation;  // ConvActivation (conv_epilogue.h): none, relu or gelu here
  // b [k, n]: columns per block, 32 (4 groups of 8 columns, 64 slices of k) or 8 (256
  // slices): more blocks for a narrow output with a long k (an FFN's 3072 -> 768).
  int cols_per_block;
};

// Whether the kernel takes `p`: 1 <= m <= kGemvMaxRows, n and k multiples of 8, every
// pointer 16-byte aligned, sizes within 32-bit indices, cols_per_block 8 or 32 for b [k, n].
bool gemv_supported(const GemvParams& p);

// Enqueues it; cudaErrorInvalidValue when it does not take `p`.
cudaError_t launch_gemv(const GemvParams& p, cudaStream_t stream);

}  // namespace cppnn::detail::cuda
