#pragma once
// The fused attention kernel (attention.h), flash-attention style: a block takes 64 query
// rows of one (batch, head), 4 warps of 16 rows each, and walks the keys 64 at a time. Each
// key tile and its value tile are copied into shared memory (cp.async on sm_80 and later);
// a warp multiplies its Q fragments (held in registers for the whole walk) by the keys on
// tensor cores (mma.m16n8k16, float accumulation), scales and masks the scores, keeps the
// running row maximum and sum (the online softmax, in base 2), and multiplies the
// probabilities, rounded to float16 straight from the accumulators' registers, by the
// values. The scores never leave registers; the output is divided by the row sum once.
// For head dims up to 80 the next tile's keys and values are copied while this one is
// multiplied (two shared buffers each). With splits, a block takes one range of the keys
// and writes its partial result; combine_kernel merges the ranges (flash-decoding).
// Causal (p.causal): a block walks only the key tiles its last row sees and masks the keys
// past each row's diagonal from their indices; a split whose keys no row of its block sees
// walks none and writes an empty partial row (maximum -inf, sum 0), which the merge weighs 0.
//
// Included by attention.cu (nvcc) and by tests/cuda_host, which runs it on the CPU with
// each block's threads as fibers and the warp operations emulated (mma.cuh): so it uses only
// __syncthreads, shared memory and mma.cuh.
#include <climits>
#include <cmath>
#include <cstdint>

#include "attention.h"
#include "mma.cuh"

namespace cppnn::detail::cuda {

namespace attention {

using mma_ops::copy_chunk;
using mma_ops::cp_async_commit;
using mma_ops::cp_async_wait;
using mma_ops::ldmatrix_x4;
using mma_ops::ldmatrix_x4_trans;
using mma_ops::mma;
using mma_ops::shfl_xor;

constexpr int kThreads = 128;  // 4 warps of 16 query rows
constexpr int kBQ = 64;        // query rows per block
constexpr int kBK = 64;        // keys per tile
constexpr float kLog2e = 1.4426950408889634f;

__device__ __forceinline__ uint32_t pack_halves(float lo, float hi) {
  const __half_raw a = __half_raw(__float2half_rn(lo)), b = __half_raw(__float2half_rn(hi));
  return uint32_t(a.x) | uint32_t(b.x) << 16;
}

__device__ __forceinline__ float mask_at(const AttentionParams& p, int b, int h, int q, int k) {
  const int64_t at = b * p.mask_b + h * p.mask_h + q * p.mask_q + k * p.mask_k;
  if (p.mask_type == AttentionMask::f16) return __half2float(static_cast<const __half*>(p.mask)[at]);
  return static_cast<const float*>(p.mask)[at];
}

// Rows [row0, row0 + 64) of one head of an operand into a shared tile of 64 rows of D + 8
// halves (the padding keeps ldmatrix free of bank conflicts); rows past `rows`: zeros.
template <int D>
__device__ __forceinline__ void load_tile(__half* tile, const __half* base, int64_t stride_s, int row0,
                                          int rows) {
  constexpr int kChunks = D / 8;  // 16 bytes each
  for (int c = int(threadIdx.x); c < kBK * kChunks; c += kThreads) {
    const int r = c / kChunks, col = (c % kChunks) * 8;
    const int s = row0 + r;
    copy_chunk(&tile[r * (D + 8) + col], s < rows ? base + int64_t(s) * stride_s + col : nullptr, base);
  }
}

template <int D>
__global__ void __launch_bounds__(kThreads) kernel(AttentionParams p) {
  constexpr int kRow = D + 8;
  constexpr int kDK = D / 16;  // k-steps over the head dimension
  constexpr int kDN = D / 8;   // 8-wide output column fragments
  constexpr int kKN = kBK / 8; // 8-wide score column fragments
  // Two shared buffers for the keys and two for the values up to head dim 80 (37 KB at 64);
  // one each above it, within the 48 KB of static shared memory.
  constexpr int kStages = D <= 80 ? 2 : 1;
  alignas(16) __shared__ __half ktile[kStages][kBK * kRow];
  alignas(16) __shared__ __half vtile[kStages][kBK * kRow];

  const int warp = int(threadIdx.x) / 32, lane = int(threadIdx.x) % 32;
  const int g = lane / 4, t = lane % 4;
  const int split = int(blockIdx.x) % p.splits;
  // Causal: the last query blocks see the most keys; they go first (lower block indices
  // are scheduled first), so that the short ones fill the tail.
  const int qblock = p.causal ? (p.sq + kBQ - 1) / kBQ - 1 - int(blockIdx.x) / p.splits : int(blockIdx.x) / p.splits;
  const int b = int(blockIdx.z), h = int(blockIdx.y), q0 = qblock * kBQ;
  const int kbegin = p.splits > 1 ? split * p.split_keys : 0;
  int kend = p.splits > 1 ? (p.sk - kbegin < p.split_keys ? p.sk : kbegin + p.split_keys) : p.sk;
  if (p.causal) {
    // The block's last row sees keys up to row + offset: no tile after that one is read.
    const int last_row = (q0 + kBQ < p.sq ? q0 + kBQ : p.sq) - 1;
    const int64_t seen = int64_t(last_row) + p.causal_offset + 1;
    if (seen < kend) kend = int(seen < kbegin ? kbegin : seen);
  }
  const __half* qg = static_cast<const __half*>(p.q) + b * p.qs.b + h * p.qs.h;
  const __half* kg = static_cast<const __half*>(p.k) + b * p.ks.b + h * p.ks.h;
  const __half* vg = static_cast<const __half*>(p.v) + b * p.vs.b + h * p.vs.h;

  // The block's queries pass through the first key buffer into registers, once.
  load_tile<D>(ktile[0], qg, p.qs.s, q0, p.sq);
  cp_async_commit();
  cp_async_wait<0>();
  __syncthreads();
  uint32_t qa[kDK][4];
#pragma unroll
  for (int kk = 0; kk < kDK; ++kk)
    ldmatrix_x4(qa[kk], &ktile[0][(warp * 16 + (lane & 15)) * kRow + kk * 16 + (lane >> 4) * 8]);
  __syncthreads();

  // This thread's two rows: g and g + 8 of the warp's 16.
  const int row0 = q0 + warp * 16 + g, row1 = row0 + 8;
  const int mrow0 = row0 < p.sq ? row0 : p.sq - 1, mrow1 = row1 < p.sq ? row1 : p.sq - 1;
  // Each row's keys end at kend, or causally at row + offset + 1 (the diagonal tiles).
  auto key_end = [&](int row) {
    const int64_t e = int64_t(row) + p.causal_offset + 1;
    return p.causal && e < kend ? int(e) : kend;
  };
  const int kend0 = key_end(row0), kend1 = key_end(row1);
  const float scale = p.scale * kLog2e;
  float o[kDN][4];
#pragma unroll
  for (int j = 0; j < kDN; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
  float m0 = -INFINITY, m1 = -INFINITY;  // running row maxima (base 2)
  float l0 = 0.0f, l1 = 0.0f;            // this thread's part of the running row sums

  if (kStages == 2 && kbegin < kend) {  // the first tile, before the walk
    load_tile<D>(ktile[0], kg, p.ks.s, kbegin, kend);
    load_tile<D>(vtile[0], vg, p.vs.s, kbegin, kend);
    cp_async_commit();
  }
  for (int k0 = kbegin, tile = 0; k0 < kend; k0 += kBK, ++tile) {
    const int stage = kStages == 2 ? tile & 1 : 0;
    if (kStages == 2) {
      // The next tile into the other buffers (free since the barrier that ended the last
      // tile), while this one is multiplied.
      if (k0 + kBK < kend) {
        load_tile<D>(ktile[stage ^ 1], kg, p.ks.s, k0 + kBK, kend);
        load_tile<D>(vtile[stage ^ 1], vg, p.vs.s, k0 + kBK, kend);
        cp_async_commit();
        cp_async_wait<1>();
      } else {
        cp_async_wait<0>();
      }
    } else {
      load_tile<D>(ktile[0], kg, p.ks.s, k0, kend);
      load_tile<D>(vtile[0], vg, p.vs.s, k0, kend);
      cp_async_commit();
      cp_async_wait<0>();
    }
    __syncthreads();
    const __half* kt = ktile[stage];
    const __half* vt = vtile[stage];

    // S = Q K^T for the warp's 16 rows and the tile's 64 keys: B[k][n] = K[n][k], so the
    // key rows as stored are B's columns (ldmatrix without .trans).
    float s[kKN][4];
#pragma unroll
    for (int j = 0; j < kKN; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < kDK; ++kk) {
#pragma unroll
      for (int j = 0; j < kKN / 2; ++j) {
        uint32_t r[4];
        ldmatrix_x4(r, &kt[(j * 16 + (lane & 7) + ((lane >> 4) & 1) * 8) * kRow + kk * 16 + ((lane >> 3) & 1) * 8]);
        const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
        mma(s[2 * j], qa[kk], b0);
        mma(s[2 * j + 1], qa[kk], b1);
      }
    }

    // Scale, mask, and the keys past the range out; the tile's row maxima.
    float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
    for (int j = 0; j < kKN; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = k0 + j * 8 + 2 * t + (e & 1);
        float x = s[j][e] * scale;
        if (key >= (e < 2 ? kend0 : kend1)) {
          x = -INFINITY;
        } else {
          const int row = e < 2 ? mrow0 : mrow1;
          if (p.cond) {
            const bool c = p.cond[b * p.cond_b + h * p.cond_h + row * p.cond_q + key * p.cond_k] != 0;
            if (c == p.fill_where_true) x = p.fill * kLog2e;
          }
          if (p.mask_type != AttentionMask::none) x += mask_at(p, b, h, row, key) * kLog2e;
        }
        s[j][e] = x;
        if (e < 2) mx0 = x > mx0 ? x : mx0;  // NaN never taken, as the unfused softmax
        else mx1 = x > mx1 ? x : mx1;
      }
    }
    // The four lanes of a row (t = 0..3) hold its columns.
    for (int d = 1; d < 4; d <<= 1) {
      const float a0 = shfl_xor(mx0, d), a1 = shfl_xor(mx1, d);
      mx0 = a0 > mx0 ? a0 : mx0;
      mx1 = a1 > mx1 ? a1 : mx1;
    }
    const float n0 = m0 > mx0 ? m0 : mx0, n1 = m1 > mx1 ? m1 : mx1;
    // A row with every key so far at -inf keeps base 0: exp2(-inf - 0) = 0, no NaN.
    const float base0 = n0 == -INFINITY ? 0.0f : n0, base1 = n1 == -INFINITY ? 0.0f : n1;
    const float c0 = exp2f(m0 - base0), c1 = exp2f(m1 - base1);
    m0 = n0, m1 = n1;
    l0 *= c0, l1 *= c1;
#pragma unroll
    for (int j = 0; j < kDN; ++j) o[j][0] *= c0, o[j][1] *= c0, o[j][2] *= c1, o[j][3] *= c1;
#pragma unroll
    for (int j = 0; j < kKN; ++j) {
      s[j][0] = exp2f(s[j][0] - base0), s[j][1] = exp2f(s[j][1] - base0);
      s[j][2] = exp2f(s[j][2] - base1), s[j][3] = exp2f(s[j][3] - base1);
      l0 += s[j][0] + s[j][1], l1 += s[j][2] + s[j][3];
    }

    // O += P V: P's accumulators are the A fragments of 16-key steps as they are; B[k][n] =
    // V[k][n], key-major as stored: ldmatrix.trans.
#pragma unroll
    for (int ks = 0; ks < kBK / 16; ++ks) {
      const uint32_t a[4] = {pack_halves(s[2 * ks][0], s[2 * ks][1]), pack_halves(s[2 * ks][2], s[2 * ks][3]),
                             pack_halves(s[2 * ks + 1][0], s[2 * ks + 1][1]),
                             pack_halves(s[2 * ks + 1][2], s[2 * ks + 1][3])};
#pragma unroll
      for (int dn = 0; dn < kDN / 2; ++dn) {
        uint32_t r[4];
        ldmatrix_x4_trans(r, &vt[(ks * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * kRow + dn * 16 + ((lane >> 4) & 1) * 8]);
        const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
        mma(o[2 * dn], a, b0);
        mma(o[2 * dn + 1], a, b1);
      }
    }
    __syncthreads();  // this tile's buffers are free for the one after next
  }

  for (int d = 1; d < 4; d <<= 1) {
    l0 += shfl_xor(l0, d);
    l1 += shfl_xor(l1, d);
  }
  if (p.splits > 1) {
    // This range's unnormalized rows, their maxima and sums: [split][b][h][row][D + 2].
    const int64_t rows_per_split = int64_t(p.batch) * p.heads * p.sq;
    float* part = p.partial + (int64_t(split) * rows_per_split + (int64_t(b) * p.heads + h) * p.sq) * (D + 2);
#pragma unroll
    for (int j = 0; j < kDN; ++j) {
      const int col = j * 8 + 2 * t;
      if (row0 < p.sq) part[int64_t(row0) * (D + 2) + col] = o[j][0], part[int64_t(row0) * (D + 2) + col + 1] = o[j][1];
      if (row1 < p.sq) part[int64_t(row1) * (D + 2) + col] = o[j][2], part[int64_t(row1) * (D + 2) + col + 1] = o[j][3];
    }
    if (t == 0) {
      if (row0 < p.sq) part[int64_t(row0) * (D + 2) + D] = m0, part[int64_t(row0) * (D + 2) + D + 1] = l0;
      if (row1 < p.sq) part[int64_t(row1) * (D + 2) + D] = m1, part[int64_t(row1) * (D + 2) + D + 1] = l1;
    }
    return;
  }
  // l is 0 when every key was at -inf and NaN after a NaN score: the unfused softmax's NaN
  // row, or zeros where the graph replaced NaN probabilities by 0.
  const bool nan0 = !(l0 > 0.0f), nan1 = !(l1 > 0.0f);
  const float inv0 = nan0 ? (p.zero_nan_rows ? 0.0f : NAN) : 1.0f / l0;
  const float inv1 = nan1 ? (p.zero_nan_rows ? 0.0f : NAN) : 1.0f / l1;
  __half* og = static_cast<__half*>(p.out) + b * p.os.b + h * p.os.h;
#pragma unroll
  for (int j = 0; j < kDN; ++j) {
    const int col = j * 8 + 2 * t;
    if (row0 < p.sq) {
      const uint32_t v = nan0 && p.zero_nan_rows ? 0u : pack_halves(o[j][0] * inv0, o[j][1] * inv0);
      *reinterpret_cast<uint32_t*>(og + int64_t(row0) * p.os.s + col) = v;
    }
    if (row1 < p.sq) {
      const uint32_t v = nan1 && p.zero_nan_rows ? 0u : pack_halves(o[j][2] * inv1, o[j][3] * inv1);
      *reinterpret_cast<uint32_t*>(og + int64_t(row1) * p.os.s + col) = v;
    }
  }
}

// The second pass of a split run: one thread per output element (row, d) merges the
// splits' rows, scaled to the largest maximum, and divides by the merged sum.
constexpr int kCombineThreads = 256;

__global__ void __launch_bounds__(kCombineThreads) combine_kernel(AttentionParams p) {
  const int D = p.head_dim;
  const int64_t rows = int64_t(p.batch) * p.heads * p.sq;
  const int64_t n = rows * D;
  for (int64_t i = int64_t(blockIdx.x) * kCombineThreads + threadIdx.x; i < n; i += int64_t(gridDim.x) * kCombineThreads) {
    const int64_t row = i / D;
    const int d = int(i - row * D);
    float m = -INFINITY;
    for (int s = 0; s < p.splits; ++s) {
      const float ms = p.partial[(s * rows + row) * (D + 2) + D];
      m = ms > m ? ms : m;
    }
    const float base = m == -INFINITY ? 0.0f : m;
    float l = 0.0f, acc = 0.0f;
    for (int s = 0; s < p.splits; ++s) {
      const float* part = p.partial + (s * rows + row) * (D + 2);
      const float w = exp2f(part[D] - base);
      l += part[D + 1] * w;
      acc += part[d] * w;
    }
    const bool nan_row = !(l > 0.0f);
    const float v = nan_row ? (p.zero_nan_rows ? 0.0f : NAN) : acc / l;
    const int64_t q = row % p.sq, bh = row / p.sq;
    const int64_t hh = bh % p.heads, bb = bh / p.heads;
    static_cast<__half*>(p.out)[bb * p.os.b + hh * p.os.h + q * p.os.s + d] = __float2half_rn(v);
  }
}

// Calls run(kernel) with the kernel for p.head_dim; false when there is none.
template <typename Run>
bool with_kernel(const AttentionParams& p, Run&& run) {
  switch (p.head_dim) {
    case 32: run(&kernel<32>); return true;
    case 64: run(&kernel<64>); return true;
    case 80: run(&kernel<80>); return true;
    case 96: run(&kernel<96>); return true;
    case 128: run(&kernel<128>); return true;
    default: return false;
  }
}

inline bool aligned16(const void* q) { return reinterpret_cast<uintptr_t>(q) % 16 == 0; }

inline bool supported(const AttentionParams& p) {
  bool dim = false;
  for (int d : kAttentionHeadDims) dim = dim || d == p.head_dim;
  if (!dim || p.batch <= 0 || p.heads <= 0 || p.sq <= 0 || p.sk <= 0) return false;
  if (p.batch > 65535 || p.heads > 65535 || p.sq > INT32_MAX - kBQ || p.sk > INT32_MAX - kBK)
    return false;
  if (!p.q || !p.k || !p.v || !p.out || (p.mask_type != AttentionMask::none && !p.mask)) return false;
  if (!aligned16(p.q) || !aligned16(p.k) || !aligned16(p.v) || !aligned16(p.out)) return false;
  for (const AttentionStrides* s : {&p.qs, &p.ks, &p.vs, &p.os})
    if (s->b % 8 != 0 || s->h % 8 != 0 || s->s % 8 != 0 || s->b < 0 || s->h < 0 || s->s < 0)
      return false;
  if (p.causal && p.causal_offset < 0) return false;  // every row sees key 0 (fuse_attention.cpp)
  if (p.splits < 1 || p.splits > 64) return false;
  if (p.splits > 1) {
    if (!p.partial || p.split_keys <= 0 || p.split_keys % kBK != 0) return false;
    // Every split non-empty, together covering the keys.
    if (int64_t(p.split_keys) * (p.splits - 1) >= p.sk || int64_t(p.split_keys) * p.splits < p.sk) return false;
    if (int64_t((p.sq + kBQ - 1) / kBQ) * p.splits > INT32_MAX) return false;
  }
  return true;
}

inline dim3 blocks(const AttentionParams& p) {
  return dim3(unsigned((p.sq + kBQ - 1) / kBQ * p.splits), unsigned(p.heads), unsigned(p.batch));
}

inline unsigned combine_blocks(const AttentionParams& p) {
  const int64_t n = int64_t(p.batch) * p.heads * p.sq * p.head_dim;
  const int64_t b = (n + kCombineThreads - 1) / kCombineThreads;
  return unsigned(b < 1 ? 1 : b > 65535 ? 65535 : b);
}

inline size_t partial_bytes(const AttentionParams& p) {
  return size_t(p.splits) * size_t(p.batch) * size_t(p.heads) * size_t(p.sq) * size_t(p.head_dim + 2) * sizeof(float);
}

// Sets p.splits and p.split_keys (whole tiles, no split empty, the partial results within
// `max_partial_bytes`): splits for a grid of fewer blocks than the GPU has
// multiprocessors, two blocks a multiprocessor, at least two key tiles a split; else 1.
inline void choose_splits(AttentionParams& p, int multiprocessors, size_t max_partial_bytes) {
  p.splits = 1, p.split_keys = 0;
  const int64_t blocks = int64_t((p.sq + kBQ - 1) / kBQ) * p.heads * p.batch;
  const int64_t tiles = (int64_t(p.sk) + kBK - 1) / kBK;
  if (blocks >= multiprocessors) return;
  int64_t splits = (2 * int64_t(multiprocessors) + blocks - 1) / blocks;
  if (splits > tiles / 2) splits = tiles / 2;
  if (splits > 64) splits = 64;
  for (; splits >= 2; --splits) {
    const int64_t per = (tiles + splits - 1) / splits;  // tiles a split
    AttentionParams q = p;
    q.splits = int((tiles + per - 1) / per);            // no split left empty
    q.split_keys = int(per * kBK);
    if (q.splits >= 2 && partial_bytes(q) <= max_partial_bytes) {
      p.splits = q.splits, p.split_keys = q.split_keys;
      return;
    }
  }
}

}  // namespace attention

}  // namespace cppnn::detail::cuda
