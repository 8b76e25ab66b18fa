#pragma once
// Row-wise kernels for rows of at most 1024 contiguous elements: one warp per row, the row
// held in registers (32 values a lane at most), so it is read from memory once and every
// reduction is a few shuffles, with no shared memory and no block barrier. The block kernels
// of math.cu (a 256-thread block per row, tree reductions through shared memory) took
// 25 us for BERT's 4096 rows of 768 and 108 us for its softmax over 49152 rows of 128 on
// the H100, for 12 MB and 25 MB of traffic.
//   layerNormalization over trailing axes, with an optional residual added first (the
//   fusion pass's layerNormalization input 3: y = LN(x + residual), the sum in float);
//   softmax over the last axis.
// The same arithmetic as the block kernels: mean, then the variance around it with the
// mean corrected (normalize.cuh); softmax's e^(x - max) * (1 / sum), NaN never the max.
// Included by math.cu and by tests/cuda_host (warps emulated: mma.cuh's shfl_xor).
#include <cmath>
#include <cstdint>
#include <cuda_runtime.h>

#include "backends/cuda/kernels/math_common.cuh"
#include "backends/cuda/kernels/mma.cuh"

namespace cppnn::detail::cuda::kernels {

namespace row_warp {

constexpr int kThreads = 256;  // 8 rows per block
constexpr int kMaxLength = 1024;

__device__ __forceinline__ float warp_sum(float v) {
  for (int d = 16; d > 0; d >>= 1) v += mma_ops::shfl_xor(v, d);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int d = 16; d > 0; d >>= 1) {
    const float o = mma_ops::shfl_xor(v, d);
    v = o > v ? o : v;
  }
  return v;
}

// A row's statistics from the kN values each lane holds (`in_row(k)`: whether value k of
// this lane is one of the row's `len`; the others are 0): the mean, then the variance around
// it with the mean corrected by the mean of the deviations (`offset`), as normalize.cuh.
struct RowStats {
  float mean, offset, rstd;
};

template <int kN, typename InRow>
__device__ __forceinline__ RowStats row_stats(const float (&v)[kN], float s, int len, float epsilon, InRow in_row) {
  RowStats r;
  r.mean = warp_sum(s) / float(len);
  float s2 = 0.0f, q = 0.0f;
#pragma unroll
  for (int k = 0; k < kN; ++k) {
    if (in_row(k)) {
      const float d = v[k] - r.mean;
      s2 += d;
      q += d * d;
    }
  }
  r.offset = warp_sum(s2) / float(len);
  const float variance = warp_sum(q) / float(len) - r.offset * r.offset;
  r.rstd = 1.0f / sqrtf(fmaxf(variance, 0.0f) + epsilon);
  return r;
}

// Every warp of the grid walks the rows in step, so that all lanes reach every shuffle
// (rows past the end are computed on zeros and not stored).
template <typename T, int kPerLane>
__global__ void __launch_bounds__(kThreads)
    layer_norm_kernel(const T* __restrict__ x, const T* __restrict__ residual, const T* __restrict__ scale,
                      const T* __restrict__ bias, T* __restrict__ y, int64_t rows, int len, float epsilon) {
  const int lane = int(threadIdx.x) % 32;
  const int64_t warps = int64_t(gridDim.x) * (kThreads / 32);
  for (int64_t first = int64_t(blockIdx.x) * (kThreads / 32); first < rows; first += warps) {
    const int64_t r = first + int64_t(threadIdx.x) / 32;
    const bool active = r < rows;
    const int64_t base = (active ? r : 0) * len;
    float v[kPerLane];
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int i = lane + 32 * k;
      v[k] = 0.0f;
      if (active && i < len) v[k] = float(load(x, base + i)) + (residual ? float(load(residual, base + i)) : 0.0f);
      s += v[k];
    }
    const RowStats st = row_stats(v, s, len, epsilon, [&](int k) { return lane + 32 * k < len; });
    if (!active) continue;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int i = lane + 32 * k;
      if (i < len)
        store(y, base + i, ((v[k] - st.mean) - st.offset) * st.rstd * param(scale, i, 1.0f) + param(bias, i, 0.0f));
    }
  }
}

// layer_norm_kernel's arithmetic with 16-byte loads and stores: rows of exactly
// kChunks * 32 * (16 / sizeof(T)) elements (BERT's 768 in float16: 3 chunks a lane), every
// pointer 16-byte aligned. A third of the scalar kernel's time on BERT's rows
// (bench/gpu/row_kernels_probe.cu): 8 loads a lane instead of 48.
template <typename T, int kChunks>
__global__ void __launch_bounds__(kThreads)
    layer_norm_vec_kernel(const T* __restrict__ x, const T* __restrict__ residual, const T* __restrict__ scale,
                          const T* __restrict__ bias, T* __restrict__ y, int64_t rows, float epsilon) {
  constexpr int kVec = 16 / int(sizeof(T));
  constexpr int kLen = kChunks * 32 * kVec;
  const int lane = int(threadIdx.x) % 32;
  const int64_t warps = int64_t(gridDim.x) * (kThreads / 32);
  for (int64_t first = int64_t(blockIdx.x) * (kThreads / 32); first < rows; first += warps) {
    const int64_t r = first + int64_t(threadIdx.x) / 32;
    const bool active = r < rows;
    const int64_t base = (active ? r : 0) * kLen;
    float v[kChunks * kVec];  // chunk c's element e at c * kVec + e
    float s = 0.0f;
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const int i = (lane + 32 * c) * kVec;
      uint4 raw = {0u, 0u, 0u, 0u}, res = {0u, 0u, 0u, 0u};
      if (active) {
        raw = *reinterpret_cast<const uint4*>(x + base + i);
        if (residual) res = *reinterpret_cast<const uint4*>(residual + base + i);
      }
      const T* xs = reinterpret_cast<const T*>(&raw);
      const T* rs = reinterpret_cast<const T*>(&res);
#pragma unroll
      for (int e = 0; e < kVec; ++e) {
        v[c * kVec + e] = float(load(xs, e)) + float(load(rs, e));
        s += v[c * kVec + e];
      }
    }
    const RowStats st = row_stats(v, s, kLen, epsilon, [](int) { return true; });
    if (!active) continue;
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const int i = (lane + 32 * c) * kVec;
      uint4 sc = {0u, 0u, 0u, 0u}, bi = {0u, 0u, 0u, 0u}, out;
      if (scale) sc = *reinterpret_cast<const uint4*>(scale + i);
      if (bias) bi = *reinterpret_cast<const uint4*>(bias + i);
      const T* ss = reinterpret_cast<const T*>(&sc);
      const T* bs = reinterpret_cast<const T*>(&bi);
      T* os = reinterpret_cast<T*>(&out);
#pragma unroll
      for (int e = 0; e < kVec; ++e) {
        const float a = scale ? float(load(ss, e)) : 1.0f, b = bias ? float(load(bs, e)) : 0.0f;
        store(os, e, ((v[c * kVec + e] - st.mean) - st.offset) * st.rstd * a + b);
      }
      *reinterpret_cast<uint4*>(y + base + i) = out;
    }
  }
}

template <typename T, int kPerLane>
__global__ void __launch_bounds__(kThreads)
    softmax_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int len) {
  const int lane = int(threadIdx.x) % 32;
  const int64_t warps = int64_t(gridDim.x) * (kThreads / 32);
  for (int64_t first = int64_t(blockIdx.x) * (kThreads / 32); first < rows; first += warps) {
    const int64_t r = first + int64_t(threadIdx.x) / 32;
    const bool active = r < rows;
    const int64_t base = (active ? r : 0) * len;
    float v[kPerLane];
    float m = lowest_of<float>();
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int i = lane + 32 * k;
      v[k] = active && i < len ? float(load(x, base + i)) : lowest_of<float>();
      m = v[k] > m ? v[k] : m;
    }
    m = warp_max(m);
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      if (lane + 32 * k < len) {
        v[k] = expf(v[k] - m);
        s += v[k];
      }
    }
    const float inv = 1.0f / warp_sum(s);
    if (!active) continue;
#pragma unroll
    for (int k = 0; k < kPerLane; ++k) {
      const int i = lane + 32 * k;
      if (i < len) store(y, base + i, v[k] * inv);
    }
  }
}

inline int grid_for(int64_t rows, int64_t max_blocks) {
  int64_t b = (rows + kThreads / 32 - 1) / (kThreads / 32);
  return int(b < 1 ? 1 : b > max_blocks ? max_blocks : b);
}

// Calls run(kernel) with the kernel holding `len` values a row (len <= kMaxLength).
template <template <typename, int> class Kernel, typename T, typename Run>
void with_length(int len, Run&& run) {
  if (len <= 128) run(Kernel<T, 4>::fn);
  else if (len <= 256) run(Kernel<T, 8>::fn);
  else if (len <= 512) run(Kernel<T, 16>::fn);
  else run(Kernel<T, 32>::fn);
}

template <typename T, int N>
struct LayerNorm {
  static constexpr auto fn = &layer_norm_kernel<T, N>;
};
// Calls run(kernel, true) with the 16-byte kernel for rows of `len` when there is one and
// every pointer is 16-byte aligned (null ones count as aligned); else returns false.
template <typename T, typename Run>
bool with_vector_length(int len, const void* const* pointers, int count, Run&& run) {
  constexpr int kRow = 32 * 16 / int(sizeof(T));  // elements a warp loads at once
  for (int i = 0; i < count; ++i)
    if (reinterpret_cast<uintptr_t>(pointers[i]) % 16 != 0) return false;
  if (len % kRow != 0) return false;
  switch (len / kRow) {
    case 1: run(&layer_norm_vec_kernel<T, 1>); return true;
    case 2: run(&layer_norm_vec_kernel<T, 2>); return true;
    case 3: run(&layer_norm_vec_kernel<T, 3>); return true;
    case 4: run(&layer_norm_vec_kernel<T, 4>); return true;
    default: return false;
  }
}

template <typename T, int N>
struct Softmax {
  static constexpr auto fn = &softmax_kernel<T, N>;
};

}  // namespace row_warp

}  // namespace cppnn::detail::cuda::kernels
