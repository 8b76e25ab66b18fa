// Float16 matrix-vector products for a few rows (gemv.h).
#include <cuda_fp16.h>

#include <climits>
#include <cstdint>

#include "conv_math.cuh"
#include "gemv.h"

namespace cppnn::detail::cuda {

namespace {

constexpr int kThreads = 256;

// Eight float16 values from one 16-byte load, as floats.
__device__ __forceinline__ void load8(const __half* p, float (&v)[8]) {
  uint4 raw = *reinterpret_cast<const uint4*>(p);
  const __half2* h = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    float2 f = __half22float2(h[i]);
    v[2 * i] = f.x;
    v[2 * i + 1] = f.y;
  }
}

__device__ __forceinline__ float finish(float acc, const __half* bias, int col, int act) {
  if (bias) acc += __half2float(bias[col]);
  return activate(acc, act, 0.f, 0.f, 0.f);
}

// B [k, n]: a block covers kCols8 * 8 columns; its threads are kCols8 column groups times
// kThreads / kCols8 slices of k. Each thread sums its slice for its 8 columns and every
// row of A; the slices of a warp add up through shuffles, the warps' through shared memory.
template <int M, int kCols8>
__global__ void __launch_bounds__(kThreads) gemv_kn(GemvParams p) {
  static_assert(32 % kCols8 == 0, "a warp holds whole column groups");
  constexpr int kSlices = kThreads / kCols8, kWarps = kThreads / 32;
  __shared__ float partial[kWarps][M][kCols8 * 8];
  const __half* a = static_cast<const __half*>(p.a);
  const __half* b = static_cast<const __half*>(p.b);
  const int group = threadIdx.x % kCols8, slice = threadIdx.x / kCols8;
  const int col0 = (blockIdx.x * kCols8 + group) * 8;
  float acc[M][8];
#pragma unroll
  for (int r = 0; r < M; ++r)
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[r][j] = 0.f;
  if (col0 < p.n) {
    const int per = (p.k + kSlices - 1) / kSlices;
    const int k0 = slice * per, k1 = min(p.k, k0 + per);
    for (int kk = k0; kk < k1; ++kk) {
      float w[8];
      load8(b + int64_t(kk) * p.n + col0, w);
#pragma unroll
      for (int r = 0; r < M; ++r) {
        float x = r < p.m ? __half2float(a[int64_t(r) * p.k + kk]) : 0.f;
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[r][j] = fmaf(x, w[j], acc[r][j]);
      }
    }
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int r = 0; r < M; ++r)
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      float v = acc[r][j];
#pragma unroll
      for (int off = kCols8; off < 32; off *= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
      if (lane < kCols8) partial[warp][r][group * 8 + j] = v;
    }
  __syncthreads();
  const __half* bias = static_cast<const __half*>(p.bias);
  __half* d = static_cast<__half*>(p.d);
  for (int i = threadIdx.x; i < M * kCols8 * 8; i += kThreads) {
    const int r = i / (kCols8 * 8), c = i % (kCols8 * 8);
    const int col = blockIdx.x * kCols8 * 8 + c;
    if (r >= p.m || col >= p.n) continue;
    float sum = 0.f;
    for (int w = 0; w < kWarps; ++w) sum += partial[w][r][c];
    d[int64_t(r) * p.n + col] = __float2half_rn(finish(sum, bias, col, p.activation));
  }
}

// B [n, k]: one warp per column, lanes striding k by 8 elements (16 bytes).
template <int M>
__global__ void __launch_bounds__(kThreads) gemv_nk(GemvParams p) {
  const int lane = threadIdx.x % 32;
  const int col = blockIdx.x * (kThreads / 32) + threadIdx.x / 32;
  if (col >= p.n) return;
  const __half* a = static_cast<const __half*>(p.a);
  const __half* b = static_cast<const __half*>(p.b) + int64_t(col) * p.k;
  float acc[M];
#pragma unroll
  for (int r = 0; r < M; ++r) acc[r] = 0.f;
  for (int kk = lane * 8; kk < p.k; kk += 32 * 8) {
    float w[8];
    load8(b + kk, w);
#pragma unroll
    for (int r = 0; r < M; ++r) {
      if (r >= p.m) break;
      float x[8];
      load8(a + int64_t(r) * p.k + kk, x);
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[r] = fmaf(x[j], w[j], acc[r]);
    }
  }
#pragma unroll
  for (int r = 0; r < M; ++r)
#pragma unroll
    for (int off = 16; off > 0; off /= 2) acc[r] += __shfl_xor_sync(0xffffffffu, acc[r], off);
  if (lane != 0) return;
  const __half* bias = static_cast<const __half*>(p.bias);
  __half* d = static_cast<__half*>(p.d);
#pragma unroll
  for (int r = 0; r < M; ++r)
    if (r < p.m) d[int64_t(r) * p.n + col] = __float2half_rn(finish(acc[r], bias, col, p.activation));
}

bool aligned16(const void* ptr) { return (reinterpret_cast<uintptr_t>(ptr) & 15u) == 0; }

template <int M>
void launch_rows(const GemvParams& p, cudaStream_t stream) {
  if (p.b_nk) {
    unsigned blocks = unsigned((p.n + kThreads / 32 - 1) / (kThreads / 32));
    gemv_nk<M><<<blocks, kThreads, 0, stream>>>(p);
  } else {
    if (p.cols_per_block == 32) {
      unsigned blocks = unsigned((p.n + 31) / 32);
      gemv_kn<M, 4><<<blocks, kThreads, 0, stream>>>(p);
    } else {
      unsigned blocks = unsigned((p.n + 7) / 8);
      gemv_kn<M, 1><<<blocks, kThreads, 0, stream>>>(p);
    }
  }
}

}  // namespace

bool gemv_supported(const GemvParams& p) {
  if (p.m < 1 || p.m > kGemvMaxRows || p.n < 8 || p.k < 8 || p.n % 8 || p.k % 8) return false;
  if (int64_t(p.m) * p.k > INT_MAX || int64_t(p.k) * p.n > INT_MAX || int64_t(p.m) * p.n > INT_MAX)
    return false;
  if (!p.a || !p.b || !p.d || !aligned16(p.a) || !aligned16(p.b)) return false;
  if (p.activation != kConvActNone && p.activation != kConvActRelu && p.activation != kConvActGelu)
    return false;
  if (!p.b_nk && p.cols_per_block != 8 && p.cols_per_block != 32) return false;
  return true;
}

cudaError_t launch_gemv(const GemvParams& p, cudaStream_t stream) {
  if (!gemv_supported(p)) return cudaErrorInvalidValue;
  // The row count rounded up to the kernel's: rows of A past p.m are never read, nor rows
  // of D past it written.
  if (p.m == 1) {
    launch_rows<1>(p, stream);
  } else if (p.m == 2) {
    launch_rows<2>(p, stream);
  } else if (p.m <= 4) {
    launch_rows<4>(p, stream);
  } else {
    launch_rows<8>(p, stream);
  }
  return cudaGetLastError();
}

}  // namespace cppnn::detail::cuda
