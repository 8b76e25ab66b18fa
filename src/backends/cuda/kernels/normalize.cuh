#pragma once
// layerNormalization (contiguous rows, or any axes through strides) and instanceNormalization
// in NCHW: one block per row, mean first, then the variance around it (two passes, in float,
// the second also correcting the mean), then y = (x - mean) * rstd * scale + bias. Included by math.cu and by tests/cuda_host.
#include <cmath>
#include <cstdint>

#include "backends/cuda/kernels/math_common.cuh"
#include "backends/cuda/kernels/math_kernels.h"

namespace cppnn::detail::cuda::kernels {

// Rows of `len` contiguous elements. With `channels` > 0 (instance norm), scale and bias are
// indexed by the row's channel (row % channels) and applied as the CPU's instance norm does,
// (x - mean) * (rstd * scale) + bias; otherwise by the position in the row.
struct ContiguousRows {
  int64_t count, len;
  int64_t channels;
  __device__ __forceinline__ int64_t base(int64_t r) const { return r * len; }
  __device__ __forceinline__ int64_t at(int64_t i) const { return i; }
};

// layerNormalization over any axes (LayerNormAxes): the rows and a row's elements are found
// through the strides; scale and bias by the position in the row.
__device__ __forceinline__ int64_t axes_offset(int64_t linear, int rank, const int64_t* dims,
                                               const int64_t* strides) {
  int64_t off = 0;
  for (int d = rank - 1; d >= 0; --d) {
    int64_t q = linear / dims[d];
    off += (linear - q * dims[d]) * strides[d];
    linear = q;
  }
  return off;
}

struct StridedRows {
  LayerNormAxes g;
  int64_t count, len;
  int64_t channels;  // always 0
  __device__ __forceinline__ int64_t base(int64_t r) const {
    return axes_offset(r, g.outer_rank, g.outer_dims, g.outer_strides);
  }
  __device__ __forceinline__ int64_t at(int64_t i) const {
    return axes_offset(i, g.inner_rank, g.inner_dims, g.inner_strides);
  }
};

inline StridedRows strided_rows(const LayerNormAxes& g) { return StridedRows{g, g.rows, g.len, 0}; }

template <typename T, typename Rows>
__global__ void normalize_kernel(const T* __restrict__ x, const T* __restrict__ scale,
                                 const T* __restrict__ bias, T* __restrict__ y, Rows rows,
                                 float epsilon) {
  for (int64_t r = blockIdx.x; r < rows.count; r += gridDim.x) {
    const int64_t base = rows.base(r);
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < rows.len; i += blockDim.x) s += load(x, base + rows.at(i));
    float mean = block_reduce(s, FloatSum{}) / float(rows.len);
    // The sums around the float mean take back what rounding it lost (offset: the mean of
    // the deviations, small against them), so that a mean large against the spread (0.777
    // +- 0.05) costs no digits; the variance has nothing left to cancel.
    float q = 0.0f, s2 = 0.0f;
    for (int64_t i = threadIdx.x; i < rows.len; i += blockDim.x) {
      float d = load(x, base + rows.at(i)) - mean;
      s2 += d;
      q += d * d;
    }
    float offset = block_reduce(s2, FloatSum{}) / float(rows.len);
    float variance = block_reduce(q, FloatSum{}) / float(rows.len) - offset * offset;
    float rstd = 1.0f / sqrtf(fmaxf(variance, 0.0f) + epsilon);
    if (rows.channels > 0) {
      int64_t c = r % rows.channels;
      float a = rstd * param(scale, c, 1.0f), b = param(bias, c, 0.0f);
      for (int64_t i = threadIdx.x; i < rows.len; i += blockDim.x) {
        const int64_t at = base + rows.at(i);
        store(y, at, ((load(x, at) - mean) - offset) * a + b);
      }
    } else {
      for (int64_t i = threadIdx.x; i < rows.len; i += blockDim.x) {
        const int64_t at = base + rows.at(i);
        store(y, at, ((load(x, at) - mean) - offset) * rstd * param(scale, i, 1.0f) +
                        param(bias, i, 0.0f));
      }
    }
  }
}

}  // namespace cppnn::detail::cuda::kernels
