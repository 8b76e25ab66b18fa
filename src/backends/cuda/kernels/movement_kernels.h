#pragma once
// Launchers of the data-movement kernels (kernels/movement.cu), shared by the .cu and the
// host code (movement_ops.cpp, gather_ops.cpp, reduction_ops.cpp): plain functions over raw
// device pointers and small POD structs. Each enqueues on `stream` and returns
// cudaGetLastError(). Sizes and offsets are in elements; `max_blocks` caps the grid (the
// kernels are grid-stride loops).
#include <cstdint>

#include <cuda_runtime.h>

#include "graph/op_math/resample.h"

namespace cppnn::detail::cuda::movement {

constexpr int kMaxRank = 8;

// The element types of the kernels that compute (same order as cppnn::DataType).
enum class ElemType : int { f32 = 0, f16, i32, u32, i64, u64, i8, u8 };

// out[out_offset + sum_d idx[d] * out_strides[d]] = in[in_offset + sum_d idx[d] * in_strides[d]]
// for every multi-index idx over dims[0..rank). Strides may be 0 or negative. rank 0 copies
// one element.
struct StridedCopy {
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t in_strides[kMaxRank] = {};
  int64_t out_strides[kMaxRank] = {};
  int64_t in_offset = 0;
  int64_t out_offset = 0;
};
// elem_size: 1, 2, 4, 8 or 16 bytes (the data type does not matter).
cudaError_t launch_strided_copy(const void* in, void* out, const StridedCopy& copy, int elem_size,
                                int max_blocks, cudaStream_t stream);

// The input seen as [outer, dim, inner], indices as n values:
// out[o, j, k] = in[o, clamp(idx[j] < 0 ? idx[j] + dim : idx[j], 0, dim - 1), k].
// index_type: ElemType::i32, u32 or i64.
cudaError_t launch_gather(const void* in, const void* indices, ElemType index_type, void* out,
                          int64_t outer, int64_t dim, int64_t n, int64_t inner, int elem_size,
                          int max_blocks, cudaStream_t stream);

// gatherElements: input seen as [outer, dim, inner], indices and output as [outer, n, inner]:
// out[o, j, k] = in[o, clamp(idx[o, j, k] < 0 ? idx + dim : idx, 0, dim - 1), k].
// index_type: ElemType::i32, u32 or i64.
cudaError_t launch_gather_elements(const void* in, const void* indices, ElemType index_type,
                                   void* out, int64_t outer, int64_t dim, int64_t n,
                                   int64_t inner, int elem_size, int max_blocks,
                                   cudaStream_t stream);

// gatherND: indices seen as [m, coords]; tuple r picks the contiguous slice of `slice`
// elements at sum_d clamp(idx[r, d], dims[d]) * strides[d] (each index clamped as gather's):
// out[r, k] = in[offset(r) + k]. coords in [0, kMaxRank].
struct GatherNDParams {
  int coords = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[kMaxRank] = {};  // in elements of elem_size
  int64_t m = 0;
  int64_t slice = 1;
};
cudaError_t launch_gather_nd(const void* in, const void* indices, ElemType index_type, void* out,
                             const GatherNDParams& p, int elem_size, int max_blocks,
                             cudaStream_t stream);

// Pad: per output element, each dim's index o maps to i = o - begin; outside [0, in_dims):
// mode 0 gives the value (its bits, the element's size), mode 1 clamps (edge), mode 2 reflects
// (-i, or 2 (n - 1) - i).
struct PadParams {
  int rank = 0;
  int mode = 0;
  int64_t out_dims[kMaxRank] = {};
  int64_t in_dims[kMaxRank] = {};
  int64_t in_strides[kMaxRank] = {};
  int64_t begin[kMaxRank] = {};
  uint64_t value_bits = 0;
};
cudaError_t launch_pad(const void* in, void* out, const PadParams& p, int64_t total, int elem_size,
                       int max_blocks, cudaStream_t stream);

// Triangular over [batch, h, w]: keeps element (i, j) when j - i >= diagonal (upper) or
// j - i <= diagonal (lower), else writes zero bits.
cudaError_t launch_triangular(const void* in, void* out, int64_t total, int64_t h, int64_t w,
                              bool upper, int64_t diagonal, int elem_size, int max_blocks,
                              cudaStream_t stream);

// cumulativeSum along the middle axis of [outer, length, inner], one thread per column,
// in order (floats in float, float16 widened to float and rounded once per output, integers
// in the unsigned type of their width). type: f32, f16, i32, u32, i64, u64.
cudaError_t launch_cumulative_sum(const void* in, void* out, ElemType type, int64_t outer,
                                  int64_t length, int64_t inner, bool exclusive, bool reversed,
                                  int max_blocks, cudaStream_t stream);

// argMin / argMax along the middle axis of [outer, length, inner]: a strict comparison in
// order from position 0 (first of ties; NaN never wins, a NaN at position 0 stays).
// Output int64 when out_int64, else int32.
cudaError_t launch_arg_min_max(const void* in, void* out, ElemType type, bool out_int64,
                               bool is_max, int64_t outer, int64_t length, int64_t inner,
                               int max_blocks, cudaStream_t stream);

// resample2d over the input seen as [outer, H, mid, W, inner] (H, W the resampled axes),
// sampled as the CPU does (graph/op_math/resample.h).
using ResampleGeometry = op_math::ResampleSplit;
// Nearest neighbour: ys[out_h], xs[out_w] are device tables of input indices.
cudaError_t launch_resample_nearest(const void* in, void* out, const ResampleGeometry& g,
                                    const int64_t* ys, const int64_t* xs, int elem_size,
                                    int max_blocks, cudaStream_t stream);
using LinearTap = op_math::ResampleTap;
// Linear: ys[out_h], xs[out_w] device tables of taps; type f32, f16, i8 or u8.
cudaError_t launch_resample_linear(const void* in, void* out, ElemType type,
                                   const ResampleGeometry& g, const LinearTap* ys,
                                   const LinearTap* xs, int max_blocks, cudaStream_t stream);

}  // namespace cppnn::detail::cuda::movement
