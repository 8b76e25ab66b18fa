#pragma once
// The float16 implicit-GEMM convolution on tensor cores, and the test of what it takes.
// Included by tensor_conv.cu (nvcc) and by tests/cuda_host, which runs it on the CPU with
// each block's threads as fibers (host_grid.h) and mma emulated over the warp: so it uses
// only __syncthreads, shared memory and mma.sync, whose fragment layouts the PTX ISA fixes.
//
// A block computes a 64 x 64 tile of the output (rows: output pixels, columns: output
// channels) with 4 warps of 32 x 32, in steps of 32 along the reduction (ky, kx, ci). Each
// step's input and filter tiles go from global memory through registers into one of two
// shared-memory buffers while the other is multiplied, 16-byte loads (8 channels of one tap:
// why c must be a multiple of 8). Accumulation is float; the epilogue adds bias and residual,
// applies the activation and rounds once.
#include <climits>
#include <cstdint>

#include "conv_math.cuh"
#include "tensor_conv.h"

namespace cppnn::detail::cuda {

#if !defined(__CUDACC__)
// The host emulation's warp-wide mma (tests/cuda_host): D = A * B + C over the warp's
// fragments, each thread passing its own.
void host_mma_m16n8k16(float c[4], const uint32_t a[4], const uint32_t b[2]);
#endif

namespace tensor_conv {

constexpr int kBM = 64, kBN = 64, kBK = 32;
constexpr int kThreads = 128;
constexpr int kRow = kBK + 8;  // shared row stride in halves: conflict-free fragment loads

// c[4] += A (16x16, row) * B (16x8, col): the fragments of mma.m16n8k16 in the PTX ISA's
// layouts (g = lane / 4, t = lane % 4): a = {A[g][2t..], A[g+8][2t..], A[g][2t+8..],
// A[g+8][2t+8..]}, b = {B[2t..][g], B[2t+8..][g]}, c = {C[g][2t], C[g][2t+1], C[g+8][2t],
// C[g+8][2t+1]}. sm_75 has only the k8 shape: two of them.
__device__ __forceinline__ void mma(float c[4], const uint32_t a[4], const uint32_t b[2]) {
#if defined(__CUDACC__)
#if __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(b[0]));
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[2]), "r"(a[3]), "r"(b[1]));
#endif
#else
  host_mma_m16n8k16(c, a, b);
#endif
}

struct alignas(16) Chunk {
  uint32_t v[4];  // 8 halves
};

// One thread's part of loading a tile: 2 rows of the input (output pixels) and 2 of the
// filter (output channels), one 8-half chunk each, at chunk column `col` of the 32-wide step.
struct Loader {
  int col;                  // 0..3
  int a_row[2], b_row[2];   // rows within the tile
  bool a_valid[2], b_valid[2];
  int a_image[2], a_iy0[2], a_ix0[2];
};

__device__ __forceinline__ Chunk load_chunk(const TensorConvParams& p, const Loader& l, int i,
                                            bool filter, int kidx, int K, int b_global_row) {
  Chunk z{{0u, 0u, 0u, 0u}};
  if (kidx >= K) return z;
  if (filter) {
    if (!l.b_valid[i]) return z;
    const __half* w = static_cast<const __half*>(p.w);
    return *reinterpret_cast<const Chunk*>(w + size_t(b_global_row) * unsigned(K) + unsigned(kidx));
  }
  if (!l.a_valid[i]) return z;
  const int tap = kidx / p.c, ci = kidx - tap * p.c;
  const int ky = tap / p.kw, kx = tap - ky * p.kw;
  const int iy = l.a_iy0[i] + ky * p.dil_h, ix = l.a_ix0[i] + kx * p.dil_w;
  if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) return z;
  const __half* x = static_cast<const __half*>(p.x);
  return *reinterpret_cast<const Chunk*>(
      x + ((size_t(l.a_image[i]) * unsigned(p.in_h) + unsigned(iy)) * unsigned(p.in_w) + unsigned(ix)) *
              unsigned(p.c) + unsigned(ci));
}

__device__ __forceinline__ uint32_t pair(const __half* p) { return *reinterpret_cast<const uint32_t*>(p); }

__global__ void __launch_bounds__(kThreads) kernel(TensorConvParams p) {
  alignas(16) __shared__ __half as[2][kBM][kRow];
  alignas(16) __shared__ __half bs[2][kBN][kRow];
  const int M = p.n * p.oh * p.ow, N = p.k, K = p.kh * p.kw * p.c;
  const int tiles_m = (M + kBM - 1) / kBM;
  const int tile_m = int(blockIdx.x) % tiles_m, tile_n = int(blockIdx.x) / tiles_m;
  const int tid = int(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int warp_m = (warp & 1) * 32, warp_n = (warp >> 1) * 32;
  const int g = lane >> 2, t = lane & 3;

  Loader l;
  l.col = tid & 3;
  for (int i = 0; i < 2; ++i) {
    int r = (tid >> 2) + i * 32;
    l.a_row[i] = r;
    l.b_row[i] = r;
    int row = tile_m * kBM + r;
    l.a_valid[i] = row < M;
    int ox = row % p.ow, rest = row / p.ow;
    int oy = rest % p.oh;
    l.a_image[i] = rest / p.oh;
    l.a_iy0[i] = oy * p.stride_h - p.pad_top;
    l.a_ix0[i] = ox * p.stride_w - p.pad_left;
    l.b_valid[i] = tile_n * kBN + r < N;
  }

  float acc[2][4][4];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.0f;

  Chunk a_next[2], b_next[2];
  auto fetch = [&](int k0) {
    int kidx = k0 + l.col * 8;
    for (int i = 0; i < 2; ++i) {
      a_next[i] = load_chunk(p, l, i, false, kidx, K, 0);
      b_next[i] = load_chunk(p, l, i, true, kidx, K, tile_n * kBN + l.b_row[i]);
    }
  };
  auto stash = [&](int buf) {
    for (int i = 0; i < 2; ++i) {
      *reinterpret_cast<Chunk*>(&as[buf][l.a_row[i]][l.col * 8]) = a_next[i];
      *reinterpret_cast<Chunk*>(&bs[buf][l.b_row[i]][l.col * 8]) = b_next[i];
    }
  };

  const int steps = (K + kBK - 1) / kBK;
  fetch(0);
  stash(0);
  __syncthreads();
  for (int s = 0; s < steps; ++s) {
    const int buf = s & 1;
    if (s + 1 < steps) fetch((s + 1) * kBK);  // in flight while this step multiplies
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 16) {
      uint32_t a[2][4], b[4][2];
#pragma unroll
      for (int i = 0; i < 2; ++i) {
        const int r = warp_m + i * 16 + g;
        a[i][0] = pair(&as[buf][r][kk + 2 * t]);
        a[i][1] = pair(&as[buf][r + 8][kk + 2 * t]);
        a[i][2] = pair(&as[buf][r][kk + 2 * t + 8]);
        a[i][3] = pair(&as[buf][r + 8][kk + 2 * t + 8]);
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int r = warp_n + j * 8 + g;
        b[j][0] = pair(&bs[buf][r][kk + 2 * t]);
        b[j][1] = pair(&bs[buf][r][kk + 2 * t + 8]);
      }
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) mma(acc[i][j], a[i], b[j]);
    }
    if (s + 1 < steps) stash(buf ^ 1);  // the other buffer: last read before the barrier below
    __syncthreads();
  }

  const __half* bias = static_cast<const __half*>(p.bias);
  const __half* residual = static_cast<const __half*>(p.residual);
  __half* y = static_cast<__half*>(p.y);
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int col = tile_n * kBN + warp_n + j * 8 + 2 * t;  // N is even: col + 1 < N too
      if (col >= N) continue;
      const float b0 = bias ? __half2float(bias[col]) : 0.0f;
      const float b1 = bias ? __half2float(bias[col + 1]) : 0.0f;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = tile_m * kBM + warp_m + i * 16 + g + h * 8;
        if (row >= M) continue;
        const size_t at = size_t(row) * unsigned(N) + unsigned(col);
        float v0 = acc[i][j][2 * h] + b0, v1 = acc[i][j][2 * h + 1] + b1;
        if (residual) {
          v0 += __half2float(residual[at]);
          v1 += __half2float(residual[at + 1]);
        }
        __half2 out = __halves2half2(__float2half_rn(activate(v0, p.activation, p.lo, p.hi, p.alpha)),
                                     __float2half_rn(activate(v1, p.activation, p.lo, p.hi, p.alpha)));
        *reinterpret_cast<__half2*>(y + at) = out;
      }
    }
}

inline bool aligned(const void* q, unsigned bytes) {
  return q == nullptr || reinterpret_cast<uintptr_t>(q) % bytes == 0;
}

inline bool supported(const TensorConvParams& p) {
  if (p.n <= 0 || p.c <= 0 || p.k <= 0 || p.oh <= 0 || p.ow <= 0 || p.kh <= 0 || p.kw <= 0 ||
      p.in_h <= 0 || p.in_w <= 0)
    return false;
  if (p.c % 8 != 0 || p.k % 2 != 0) return false;
  if (!aligned(p.x, 16) || !aligned(p.w, 16) || !aligned(p.y, 4) || !aligned(p.residual, 4) ||
      !aligned(p.bias, 2))
    return false;
  int64_t M = int64_t(p.n) * p.oh * p.ow, K = int64_t(p.kh) * p.kw * p.c;
  int64_t limit = int64_t(INT32_MAX) - 2 * kBK;
  return M * p.k < limit && M < limit && int64_t(p.k) * K < limit &&
         int64_t(p.n) * p.in_h * p.in_w * p.c < limit;
}

inline unsigned blocks(const TensorConvParams& p) {
  int64_t M = int64_t(p.n) * p.oh * p.ow;
  return unsigned(((M + kBM - 1) / kBM) * ((p.k + kBN - 1) / kBN));
}

}  // namespace tensor_conv
}  // namespace cppnn::detail::cuda
