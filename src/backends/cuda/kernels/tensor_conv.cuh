#pragma once
// The float16 implicit-GEMM convolution on tensor cores, and the test of what it takes.
// Included by tensor_conv.cu (nvcc) and by tests/cuda_host, which runs it on the CPU with
// each block's threads as fibers (host_grid.h) and mma emulated over the warp: so it uses
// only __syncthreads, shared memory, ldmatrix and mma.sync, whose layouts the PTX ISA fixes.
//
// A block computes a BM x 64 tile of the output (rows: output pixels, columns: output
// channels) with 4 warps of (BM / 2) x 32, in steps of 32 along the reduction (ky, kx, ci).
// Each step's input and filter tiles are copied into one of three shared-memory buffers
// (cp.async on sm_80 and later, so two steps load while one multiplies), 16 bytes at a time
// (8 channels of one tap: why c must be a multiple of 8). Accumulation is float; the epilogue adds bias and residual,
// applies the activation and rounds once.
#include <climits>
#include <cstdint>

#include "conv_math.cuh"
#include "mma.cuh"
#include "split_reduce.cuh"
#include "tensor_conv.h"

namespace cppnn::detail::cuda {

namespace tensor_conv {

using mma_ops::Chunk;
using mma_ops::copy_chunk;
using mma_ops::cp_async_commit;
using mma_ops::cp_async_wait;
using mma_ops::ldmatrix_x4;
using mma_ops::ldmatrix_x4_trans;
using mma_ops::mma;

constexpr int kBK = 32;
constexpr int kThreads = 128;  // 4 warps, 2 x 2 over the tile
constexpr int kStages = 3;     // shared-memory buffers: two steps load while one multiplies
constexpr int kRow = kBK + 8;  // shared row stride in halves: conflict-free fragment loads

// The tile shapes (output rows x output channels) the step times against each other and
// cuDNN: 64 x 64, 32 x 64 for few output pixels (more blocks), 128 x 64 for many.
struct Tile {
  int bm, bn;
};
constexpr Tile kTiles[] = {{64, 64}, {32, 64}, {128, 64}};
constexpr int kTileCount = int(sizeof(kTiles) / sizeof(kTiles[0]));

// Where one output pixel's window starts: its image and the input row and column of tap 0.
struct Pixel {
  bool valid;
  int row, image, iy0, ix0;
};

__device__ __forceinline__ Pixel pixel_of(const TensorConvParams& p, int row, int M) {
  Pixel px;
  px.valid = row < M;
  px.row = row;
  const int ox = row % p.ow, rest = row / p.ow;
  px.image = rest / p.oh;
  px.iy0 = (rest % p.oh) * p.stride_h - p.pad_top;
  px.ix0 = ox * p.stride_w - p.pad_left;
  return px;
}

// Where the 8 channels of the input at reduction index kidx = (ky * kw + kx) * c + ci of a
// pixel's window are; null in the padding and past the reduction's end (zeros). POINTWISE
// (a 1x1 window at stride 1, no padding: every matmul too): the input is the GEMM's A
// itself, [rows, c].
template <bool POINTWISE>
__device__ __forceinline__ const __half* input_source(const TensorConvParams& p, const Pixel& px, int kidx, int K) {
  if (!px.valid || kidx >= K) return nullptr;
  const __half* x = static_cast<const __half*>(p.x);
  if (POINTWISE) return x + size_t(px.row) * unsigned(p.c) + unsigned(kidx);
  const int tap = kidx / p.c, ci = kidx - tap * p.c;
  const int ky = tap / p.kw, kx = tap - ky * p.kw;
  const int iy = px.iy0 + ky * p.dil_h, ix = px.ix0 + kx * p.dil_w;
  if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) return nullptr;
  return x + ((size_t(px.image) * unsigned(p.in_h) + unsigned(iy)) * unsigned(p.in_w) + unsigned(ix)) *
                 unsigned(p.c) + unsigned(ci);
}

// Where the filter stored [K][k] (filter_kn) has output channels n .. n + 7 of reduction row
// kidx; null past either end (k is a multiple of 8 on this path).
__device__ __forceinline__ const __half* filter_kn_source(const TensorConvParams& p, int kidx, int n, int K) {
  if (kidx >= K || n >= p.k) return nullptr;
  return static_cast<const __half*>(p.w) + size_t(kidx) * unsigned(p.k) + unsigned(n);
}

// Where 8 reduction elements of output channel `o`'s filter row are; null past the end.
__device__ __forceinline__ const __half* filter_source(const TensorConvParams& p, int o, int kidx, int K) {
  if (o >= p.k || kidx >= K) return nullptr;
  return static_cast<const __half*>(p.w) + size_t(o) * unsigned(K) + unsigned(kidx);
}

// 8 consecutive reduction elements from kidx on, each found on its own (zeros past K, and in
// the input's padding): the gathering form, for channel counts that are not a multiple of 8
// (the 3-channel stems of MobileNetV2 and ResNet-50) or tensors not 16-byte aligned.
__device__ __forceinline__ Chunk gather_input(const TensorConvParams& p, const Pixel& px, int kidx, int K) {
  Chunk out{{0u, 0u, 0u, 0u}};
  __half* h = reinterpret_cast<__half*>(out.v);
  if (!px.valid) return out;
  const __half* x = static_cast<const __half*>(p.x);
#pragma unroll
  for (int e = 0; e < 8; ++e) {
    const int k = kidx + e;
    if (k >= K) break;
    const int tap = k / p.c, ci = k - tap * p.c;
    const int ky = tap / p.kw, kx = tap - ky * p.kw;
    const int iy = px.iy0 + ky * p.dil_h, ix = px.ix0 + kx * p.dil_w;
    if (iy >= 0 && iy < p.in_h && ix >= 0 && ix < p.in_w)
      h[e] = x[((size_t(px.image) * unsigned(p.in_h) + unsigned(iy)) * unsigned(p.in_w) + unsigned(ix)) *
                   unsigned(p.c) + unsigned(ci)];
  }
  return out;
}

// 8 consecutive reduction elements of output channel `o`'s filter row from kidx on: from
// [k][K] rows, or (filter_kn) down column o of a [K][k] filter.
__device__ __forceinline__ Chunk gather_filter(const TensorConvParams& p, int o, int kidx, int K) {
  Chunk out{{0u, 0u, 0u, 0u}};
  __half* h = reinterpret_cast<__half*>(out.v);
  if (o >= p.k) return out;
  const __half* w = static_cast<const __half*>(p.w);
  if (p.filter_kn) {
#pragma unroll
    for (int e = 0; e < 8; ++e)
      if (kidx + e < K) h[e] = w[size_t(kidx + e) * unsigned(p.k) + unsigned(o)];
    return out;
  }
  w += size_t(o) * unsigned(K);
#pragma unroll
  for (int e = 0; e < 8; ++e)
    if (kidx + e < K) h[e] = w[kidx + e];
  return out;
}

// One BM x BN output tile per block; each warp a (BM / 2) x (BN / 2) part of it: MT x NT
// fragments of 16 x 8.
// GATHER: every element found on its own (gather_input), stored at once; else 16-byte copies.
// BKN: the filter stored [K][k] (filter_kn), copied 8 output channels at a time into a
// reduction-major tile and read back with ldmatrix.trans: B as it is, no transposing.
template <int BM, int BN, bool POINTWISE, bool GATHER, bool BKN = false>
__global__ void __launch_bounds__(kThreads) kernel(TensorConvParams p) {
  if (blockIdx.y > 0) {  // problem blockIdx.y of a batch
    p.x = static_cast<const __half*>(p.x) + size_t(blockIdx.y) * size_t(p.x_batch);
    p.w = static_cast<const __half*>(p.w) + size_t(blockIdx.y) * size_t(p.w_batch);
    p.y = static_cast<__half*>(p.y) + size_t(blockIdx.y) * size_t(p.y_batch);
    if (p.residual) p.residual = static_cast<const __half*>(p.residual) + size_t(blockIdx.y) * size_t(p.y_batch);
  }
  constexpr int MT = BM / 32, NT = BN / 16;          // fragments per warp
  constexpr int AC = BM * 4 / kThreads, BC = BN * 4 / kThreads;  // chunks per thread per step
  // B's tile: [BN][kRow] (output channel major), or with BKN [kBK][BN + 8] (reduction major).
  constexpr int kBRow = BN + 8;  // conflict-free ldmatrix rows, as kRow
  constexpr int kBStage = BKN ? kBK * kBRow : BN * kRow;
  alignas(16) __shared__ __half as[kStages][BM][kRow];
  alignas(16) __shared__ __half bs[kStages][kBStage];
  const int M = p.n * p.oh * p.ow, N = p.k, K = p.kh * p.kw * p.c;
  const int tiles_m = (M + BM - 1) / BM;
  const int tile_m = int(blockIdx.x) % tiles_m, tile_n = int(blockIdx.x) / tiles_m;
  const int tid = int(threadIdx.x), lane = tid & 31, warp = tid >> 5;
  const int warp_m = (warp & 1) * (BM / 2), warp_n = (warp >> 1) * (BN / 2);
  const int g = lane >> 2, t = lane & 3;

  // This thread loads chunk column `col` of rows tid / 4 + 32 i of both tiles, every step.
  const int col = tid & 3;
  Pixel px[AC];
#pragma unroll
  for (int i = 0; i < AC; ++i) px[i] = pixel_of(p, tile_m * BM + (tid >> 2) + i * 32, M);

  float acc[MT][NT][4];
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < NT; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.0f;

  // Starts copying the step at reduction offset k0 into stage buffer `buf`.
  auto issue = [&](int buf, int k0) {
    const int kidx = k0 + col * 8;
    if constexpr (GATHER) {
#pragma unroll
      for (int i = 0; i < AC; ++i)
        *reinterpret_cast<Chunk*>(&as[buf][(tid >> 2) + i * 32][col * 8]) = gather_input(p, px[i], kidx, K);
#pragma unroll
      for (int i = 0; i < BC; ++i)
        *reinterpret_cast<Chunk*>(&bs[buf][((tid >> 2) + i * 32) * kRow + col * 8]) =
            gather_filter(p, tile_n * BN + (tid >> 2) + i * 32, kidx, K);
    } else {
#pragma unroll
      for (int i = 0; i < AC; ++i)
        copy_chunk(&as[buf][(tid >> 2) + i * 32][col * 8], input_source<POINTWISE>(p, px[i], kidx, K), p.w);
      if constexpr (BKN) {
        // kBK rows of BN / 8 chunks: chunk tid + 128 i is row (tid + 128 i) / (BN / 8).
#pragma unroll
        for (int i = 0; i < BC; ++i) {
          const int id = tid + i * kThreads, row = id / (BN / 8), chunk = id % (BN / 8);
          copy_chunk(&bs[buf][row * kBRow + chunk * 8], filter_kn_source(p, k0 + row, tile_n * BN + chunk * 8, K),
                     p.w);
        }
      } else {
#pragma unroll
        for (int i = 0; i < BC; ++i)
          copy_chunk(&bs[buf][((tid >> 2) + i * 32) * kRow + col * 8],
                     filter_source(p, tile_n * BN + (tid >> 2) + i * 32, kidx, K), p.w);
      }
    }
  };

  // This block's share of the reduction: all of it, or part blockIdx.z of p.splits.
  const int all_steps = (K + kBK - 1) / kBK;
  const int per_split = p.splits > 1 ? (all_steps + p.splits - 1) / p.splits : all_steps;
  const int first = int(blockIdx.z) * per_split;
  const int steps = all_steps - first < per_split ? (all_steps - first > 0 ? all_steps - first : 0) : per_split;
  const int k_base = first * kBK;
  // kStages - 1 steps in flight ahead of the one being multiplied. One copy group per step,
  // committed even when empty, so that "all but the newest kStages - 2 groups done" always
  // means "this step's copies done".
#pragma unroll
  for (int st = 0; st < kStages - 1; ++st) {
    if (st < steps) issue(st, k_base + st * kBK);
    cp_async_commit();
  }
  for (int s = 0; s < steps; ++s) {
    const int buf = s % kStages;
    cp_async_wait<kStages - 2>();
    // Every thread's copies of step s have landed, and every thread is done multiplying step
    // s - 1, whose buffer the next issue refills.
    __syncthreads();
    if (s + kStages - 1 < steps) issue((s + kStages - 1) % kStages, k_base + (s + kStages - 1) * kBK);
    cp_async_commit();
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 16) {
      uint32_t a[MT][4], b[NT][2];
      // A's 16x16 fragment i: matrices (rows 0-7 | 8-15) x (k 0-7 | 8-15), lane l supplying
      // row l % 16 at k 8 (l / 16). B's fragments j, j + 1: matrices (n 0-7, k 0-7),
      // (n 0-7, k 8-15), (n 8-15, k 0-7), (n 8-15, k 8-15).
#pragma unroll
      for (int i = 0; i < MT; ++i) ldmatrix_x4(a[i], &as[buf][warp_m + i * 16 + (lane & 15)][kk + (lane >> 4) * 8]);
#pragma unroll
      for (int j = 0; j < NT; j += 2) {
        uint32_t r[4];
        if constexpr (BKN)  // matrices (k 0-7 | 8-15) x (n 0-7 | 8-15), transposed on the way
          ldmatrix_x4_trans(r, &bs[buf][(kk + ((lane >> 3) & 1) * 8 + (lane & 7)) * kBRow + warp_n + j * 8 +
                                        (lane >> 4) * 8]);
        else
          ldmatrix_x4(r, &bs[buf][(warp_n + j * 8 + (lane & 7) + (lane >> 4) * 8) * kRow + kk + ((lane >> 3) & 1) * 8]);
        b[j][0] = r[0], b[j][1] = r[1], b[j + 1][0] = r[2], b[j + 1][1] = r[3];
      }
#pragma unroll
      for (int i = 0; i < MT; ++i)
#pragma unroll
        for (int j = 0; j < NT; ++j) mma(acc[i][j], a[i], b[j]);
    }
  }

  if (p.splits > 1) {  // raw partial sums; split_reduce applies the epilogue
    float* part = p.partial + size_t(blockIdx.z) * unsigned(M) * unsigned(N);
#pragma unroll
    for (int i = 0; i < MT; ++i)
#pragma unroll
      for (int j = 0; j < NT; ++j) {
        const int col_out = tile_n * BN + warp_n + j * 8 + 2 * t;
        if (col_out >= N) continue;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int row = tile_m * BM + warp_m + i * 16 + g + h * 8;
          if (row >= M) continue;
          part[size_t(row) * unsigned(N) + unsigned(col_out)] = acc[i][j][2 * h];
          part[size_t(row) * unsigned(N) + unsigned(col_out) + 1] = acc[i][j][2 * h + 1];
        }
      }
    return;
  }
  const __half* bias = static_cast<const __half*>(p.bias);
  const __half* residual = static_cast<const __half*>(p.residual);
  __half* y = static_cast<__half*>(p.y);
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < NT; ++j) {
      const int col_out = tile_n * BN + warp_n + j * 8 + 2 * t;  // N is even: col_out + 1 < N too
      if (col_out >= N) continue;
      const float b0 = bias ? __half2float(bias[col_out]) : 0.0f;
      const float b1 = bias ? __half2float(bias[col_out + 1]) : 0.0f;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int row = tile_m * BM + warp_m + i * 16 + g + h * 8;
        if (row >= M) continue;
        const size_t at = size_t(row) * unsigned(N) + unsigned(col_out);
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
  if (p.k % 2 != 0) return false;  // paired output stores
  if (!aligned(p.x, 2) || !aligned(p.w, 2) || !aligned(p.y, 4) || !aligned(p.residual, 4) || !aligned(p.bias, 2))
    return false;
  int64_t M = int64_t(p.n) * p.oh * p.ow, K = int64_t(p.kh) * p.kw * p.c;
  int64_t limit = int64_t(INT32_MAX) - 256;  // past the last tile's rows and reduction step
  if (p.splits > 1 && (!p.partial || p.batches > 1 || p.splits > 64 || int64_t(p.splits) * M * p.k >= limit))
    return false;
  if (p.batches > 65535 || p.x_batch < 0 || p.w_batch < 0 || p.y_batch < 0) return false;
  return M * p.k < limit && M < limit && int64_t(p.k) * K < limit &&
         int64_t(p.n) * p.in_h * p.in_w * p.c < limit;
}

inline dim3 blocks(const TensorConvParams& p, int tile) {
  const Tile& t = kTiles[tile];
  int64_t M = int64_t(p.n) * p.oh * p.ow;
  return dim3(unsigned(((M + t.bm - 1) / t.bm) * ((p.k + t.bn - 1) / t.bn)),
              unsigned(p.batches > 1 ? p.batches : 1), unsigned(p.splits > 1 ? p.splits : 1));
}

// The second pass of a split-K run.
inline SplitReduceParams reduce_params(const TensorConvParams& p) {
  SplitReduceParams r{};
  r.partial = p.partial, r.splits = p.splits;
  r.rows = p.n * p.oh * p.ow, r.cols = p.k, r.pixels = p.k;
  r.bias = p.bias, r.bias_per_row = 0, r.residual = p.residual, r.y = p.y, r.half = 1;
  r.activation = p.activation, r.lo = p.lo, r.hi = p.hi, r.alpha = p.alpha;
  return r;
}

// The gathering form: channels not a multiple of 8, or tensors not 16-byte aligned.
// (A batch's strides keep every problem as aligned as the first only when they are multiples
// of 8 halves.)
inline bool gathers(const TensorConvParams& p) {
  return p.c % 8 != 0 || !aligned(p.x, 16) || !aligned(p.w, 16) ||
         (p.filter_kn && (p.k % 8 != 0 || !pointwise_window(p))) ||
         (p.batches > 1 && (p.x_batch % 8 != 0 || p.w_batch % 8 != 0));
}

// Calls run(kernel) with the kernel of tile shape `tile` (an index into kTiles) for `p`.
template <typename Run>
void with_kernel(const TensorConvParams& p, int tile, Run&& run) {
  if (gathers(p)) {
    if (tile == 1) run(&kernel<32, 64, false, true>);
    else if (tile == 2) run(&kernel<128, 64, false, true>);
    else run(&kernel<64, 64, false, true>);
  } else if (p.filter_kn) {  // products (pointwise, or gathered above): B as it is
    if (tile == 1) run(&kernel<32, 64, true, false, true>);
    else if (tile == 2) run(&kernel<128, 64, true, false, true>);
    else run(&kernel<64, 64, true, false, true>);
  } else if (pointwise_window(p)) {
    if (tile == 1) run(&kernel<32, 64, true, false>);
    else if (tile == 2) run(&kernel<128, 64, true, false>);
    else run(&kernel<64, 64, true, false>);
  } else {
    if (tile == 1) run(&kernel<32, 64, false, false>);
    else if (tile == 2) run(&kernel<128, 64, false, false>);
    else run(&kernel<64, 64, false, false>);
  }
}

}  // namespace tensor_conv
}  // namespace cppnn::detail::cuda
