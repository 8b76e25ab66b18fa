#pragma once
// The float32 implicit-GEMM convolution on CUDA cores, and the test of what it takes.
// Included by simt_conv.cu (nvcc) and by tests/cuda_host (each block's threads as fibers,
// host_grid.h): it uses only __syncthreads and shared memory.
//
// A block computes a BM x BN tile of the output seen as [output channels, pixels of all
// images], 256 threads each a TM x TN part of it, in steps of 8 along the reduction
// (ci, ky, kx), which is the filter's own order (KCRS rows). Each step's filter and input
// tiles go from global memory through registers into one of two shared-memory buffers while
// the other is multiplied; both are stored reduction-major so a thread reads its TM filter
// values and TN pixels as vectors. Consecutive threads load consecutive pixels (coalesced
// along a row of the image when the stride is 1).
#include <climits>
#include <cstdint>

#include "conv_math.cuh"
#include "simt_conv.h"
#include "split_reduce.cuh"

namespace cppnn::detail::cuda::simt_conv {

constexpr int kBK = 8;
constexpr int kThreads = 256;

struct Tile {
  int bm, bn;
};
// The fourth, 128 x 128 (8 x 8 outputs a thread: twice the multiply-adds per shared-memory
// load), is for large products only (gemm_tiling.h).
constexpr Tile kTiles[] = {{64, 64}, {32, 64}, {64, 128}, {128, 128}};
constexpr int kTileCount = int(sizeof(kTiles) / sizeof(kTiles[0]));

// POINTWISE: a 1x1 window at stride 1 without padding (MobileNetV2's expansions and
// projections, and every matmul): input element (k, pixel) is x[k * pixels + pixel], no
// window arithmetic.
template <int BM, int BN, bool POINTWISE>
__global__ void __launch_bounds__(kThreads) kernel(SimtConvParams p) {
  if (blockIdx.y > 0) {  // problem blockIdx.y of a batch
    p.x += size_t(blockIdx.y) * size_t(p.x_batch);
    p.w += size_t(blockIdx.y) * size_t(p.w_batch);
    p.y += size_t(blockIdx.y) * size_t(p.y_batch);
    if (p.residual) p.residual += size_t(blockIdx.y) * size_t(p.y_batch);
  }
  constexpr int TX = 16, TY = kThreads / TX;      // threads along pixels, along channels
  constexpr int TM = BM / TY, TN = BN / TX;       // each thread's outputs
  constexpr int AL = BM * kBK / kThreads;         // filter elements each thread loads per step
  constexpr int BL = BN * kBK / kThreads;         // input elements each thread loads per step
  static_assert(kThreads % BN == 0 || BN % kThreads == 0, "pixel column per thread");
  __shared__ float as[2][kBK][BM];
  __shared__ float bs[2][kBK][BN];
  const int taps = p.kh * p.kw, K = p.c * taps;
  const int pixels = p.oh * p.ow, N = p.n * pixels, M = p.k;
  const int tiles_n = (N + BN - 1) / BN;
  const int tile_n = int(blockIdx.x) % tiles_n, tile_m = int(blockIdx.x) / tiles_n;
  const int tid = int(threadIdx.x), tx = tid % TX, ty = tid / TX;

  // Filter loads: element tid + 256 i of the BM x 8 tile, row-major: row (tid + 256 i) / 8,
  // reduction column tid % 8 (fixed for this thread).
  const int a_col = tid % kBK;
  // Input loads: element tid + 256 i of the 8 x BN tile, reduction row (tid + 256 i) / BN,
  // pixel column tid % BN (fixed for this thread, BN dividing 256).
  const int b_col = tid % BN;
  const int pixel = tile_n * BN + b_col;
  const bool pixel_valid = pixel < N;
  const int image = pixel / pixels, in_image = pixel - image * pixels;
  const int iy0 = (in_image / p.ow) * p.stride_h - p.pad_top;
  const int ix0 = (in_image % p.ow) * p.stride_w - p.pad_left;
  const float* x_image = p.x + size_t(image) * unsigned(p.c) * unsigned(p.in_h * p.in_w);

  float a_next[AL], b_next[BL];
  auto fetch = [&](int k0) {
#pragma unroll
    for (int i = 0; i < AL; ++i) {
      const int row = tile_m * BM + (tid + i * kThreads) / kBK, k = k0 + a_col;
      a_next[i] = row < M && k < K ? p.w[size_t(row) * unsigned(K) + unsigned(k)] : 0.0f;
    }
#pragma unroll
    for (int i = 0; i < BL; ++i) {
      const int k = k0 + (tid + i * kThreads) / BN;
      float v = 0.0f;
      if (POINTWISE) {
        if (pixel_valid && k < K) v = x_image[size_t(k) * unsigned(pixels) + unsigned(in_image)];
      } else if (pixel_valid && k < K) {
        const int ci = k / taps, tap = k - ci * taps;
        const int ky = tap / p.kw, kx = tap - ky * p.kw;
        const int iy = iy0 + ky * p.dil_h, ix = ix0 + kx * p.dil_w;
        if (iy >= 0 && iy < p.in_h && ix >= 0 && ix < p.in_w)
          v = x_image[(size_t(ci) * unsigned(p.in_h) + unsigned(iy)) * unsigned(p.in_w) + unsigned(ix)];
      }
      b_next[i] = v;
    }
  };
  auto stash = [&](int buf) {
#pragma unroll
    for (int i = 0; i < AL; ++i) as[buf][a_col][(tid + i * kThreads) / kBK] = a_next[i];
#pragma unroll
    for (int i = 0; i < BL; ++i) bs[buf][(tid + i * kThreads) / BN][b_col] = b_next[i];
  };

  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;

  // This block's share of the reduction: all of it, or part blockIdx.z of p.splits.
  const int all_steps = (K + kBK - 1) / kBK;
  const int per_split = p.splits > 1 ? (all_steps + p.splits - 1) / p.splits : all_steps;
  const int first = int(blockIdx.z) * per_split;
  const int steps = all_steps - first < per_split ? (all_steps - first > 0 ? all_steps - first : 0) : per_split;
  const int k_base = first * kBK;
  fetch(k_base);
  stash(0);
  __syncthreads();
  for (int s = 0; s < steps; ++s) {
    const int buf = s & 1;
    if (s + 1 < steps) fetch(k_base + (s + 1) * kBK);  // in flight while this step multiplies
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      float a[TM], b[TN];
#pragma unroll
      for (int i = 0; i < TM; ++i) a[i] = as[buf][kk][ty * TM + i];
#pragma unroll
      for (int j = 0; j < TN; ++j) b[j] = bs[buf][kk][tx * TN + j];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    if (s + 1 < steps) stash(buf ^ 1);  // the other buffer: last read before the barrier below
    __syncthreads();
  }

  if (p.splits > 1) {  // raw partial sums [split, o, pixel]; split_reduce applies the epilogue
    float* part = p.partial + size_t(blockIdx.z) * unsigned(M) * unsigned(N);
#pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int o = tile_m * BM + ty * TM + i;
      if (o >= M) continue;
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        const int col = tile_n * BN + tx * TN + j;
        if (col < N) part[size_t(o) * unsigned(N) + unsigned(col)] = acc[i][j];
      }
    }
    return;
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int o = tile_m * BM + ty * TM + i;
    if (o >= M) continue;
    const float b = p.bias && !p.bias_per_pixel ? p.bias[o] : 0.0f;
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int col = tile_n * BN + tx * TN + j;
      if (col >= N) continue;
      const int img = col / pixels, at_pixel = col - img * pixels;
      const size_t at = (size_t(img) * unsigned(M) + unsigned(o)) * unsigned(pixels) + unsigned(at_pixel);
      float v = acc[i][j] + (p.bias_per_pixel && p.bias ? p.bias[at_pixel] : b);
      if (p.residual) v += p.residual[at];
      p.y[at] = activate(v, p.activation, p.lo, p.hi, p.alpha);
    }
  }
}

inline bool supported(const SimtConvParams& p) {
  if (p.n <= 0 || p.c <= 0 || p.k <= 0 || p.oh <= 0 || p.ow <= 0 || p.kh <= 0 || p.kw <= 0 ||
      p.in_h <= 0 || p.in_w <= 0)
    return false;
  const int64_t limit = int64_t(INT32_MAX) - 512;  // past the last tile's rows and step
  const int64_t pixels = int64_t(p.n) * p.oh * p.ow, K = int64_t(p.c) * p.kh * p.kw;
  if (p.batches > 65535 || p.x_batch < 0 || p.w_batch < 0 || p.y_batch < 0) return false;
  if (p.splits > 1 && (!p.partial || p.batches > 1 || p.splits > 64 ||
                       int64_t(p.splits) * pixels * p.k >= limit))
    return false;
  return pixels * p.k < limit && int64_t(p.k) * K < limit && int64_t(p.n) * p.c * p.in_h * p.in_w < limit;
}

// The grid: tiles of one problem along x, the problems of a batch along y.
inline dim3 blocks(const SimtConvParams& p, int tile) {
  const Tile& t = kTiles[tile];
  const int64_t pixels = int64_t(p.n) * p.oh * p.ow;
  return dim3(unsigned(((pixels + t.bn - 1) / t.bn) * ((p.k + t.bm - 1) / t.bm)),
              unsigned(p.batches > 1 ? p.batches : 1), unsigned(p.splits > 1 ? p.splits : 1));
}

// The second pass of a split-K run.
inline SplitReduceParams reduce_params(const SimtConvParams& p) {
  SplitReduceParams r{};
  r.partial = p.partial, r.splits = p.splits;
  r.rows = p.k, r.cols = p.n * p.oh * p.ow, r.pixels = p.oh * p.ow;
  r.bias = p.bias, r.bias_per_row = p.bias_per_pixel ? 0 : 1, r.residual = p.residual, r.y = p.y;
  r.half = 0, r.activation = p.activation, r.lo = p.lo, r.hi = p.hi, r.alpha = p.alpha;
  return r;
}


// Calls run(kernel) with the kernel of tile shape `tile` (an index into kTiles) for `p`.
template <typename Run>
void with_kernel(const SimtConvParams& p, int tile, Run&& run) {
  if (pointwise_window(p)) {
    if (tile == 1) run(&kernel<32, 64, true>);
    else if (tile == 2) run(&kernel<64, 128, true>);
    else if (tile == 3) run(&kernel<128, 128, true>);
    else run(&kernel<64, 64, true>);
  } else {
    if (tile == 1) run(&kernel<32, 64, false>);
    else if (tile == 2) run(&kernel<64, 128, false>);
    else if (tile == 3) run(&kernel<128, 128, false>);
    else run(&kernel<64, 64, false>);
  }
}

}  // namespace cppnn::detail::cuda::simt_conv
