#pragma once
// Launchers of the hand-written math kernels (math.cu): pooling, normalization, softmax and
// reductions. Shared by nvcc (C++17) and the host code (pooling_ops.cpp,
// normalization_ops.cpp, reduction_ops.cpp): plain functions over raw device pointers and
// POD geometry, each enqueuing on `stream` and returning cudaGetLastError(). The host side
// decides what runs here; these trust their arguments.
#include <cuda_runtime.h>

#include <cstdint>

#include "graph/op_math/reduce.h"
#include "graph/op_math/window.h"

namespace cppnn::detail::cuda::kernels {

// Element types, in the order of cppnn::DataType.
// kBF16 (bfloat16): softmax and layerNormalization only (device_ops.cpp's takes_bfloat16).
enum MathType : int { kF32 = 0, kF16, kI32, kU32, kI64, kU64, kI8, kU8, kBF16 };

// ---- averagePool2d, l2Pool2d, maxPool2d: one thread per output element. The window and
// the arithmetic are the CPU's (graph/op_math/window.h).
using op_math::kPoolAverage;
using op_math::kPoolL2;
using op_math::kPoolMax;
using op_math::PoolKind;

struct PoolGeometry : op_math::PoolWindow {
  // One window over the whole unpadded nchw plane (op_math::pool_covers_plane): the average
  // divides by height * width at once, as the CPU's global pooling does.
  bool global = false;
};

// average and l2: kF32, kF16; max: every MathType.
cudaError_t launch_pool(PoolKind kind, MathType type, const void* x, void* y,
                        const PoolGeometry& g, cudaStream_t stream);

// ---- The ten reduce* ops. The input is seen as groups of adjacent dims that are all
// reduced or all kept (dims of size 1 dropped), as the CPU kernel does: the innermost
// group (`inner` elements, stride 1) is reduced or kept; `kept` lists the other kept
// groups, `rows` the other reduced groups (sizes and element strides, outermost first).
constexpr int kMaxGroups = 8;

struct ReduceGeometry {
  int kept_rank = 0, row_rank = 0;
  int64_t kept_sizes[kMaxGroups] = {}, kept_strides[kMaxGroups] = {};
  int64_t row_sizes[kMaxGroups] = {}, row_strides[kMaxGroups] = {};
  int64_t inner = 1;
  bool inner_reduced = true;
  int64_t outer_count = 1;   // product of kept_sizes
  int64_t row_count = 1;     // product of row_sizes
  int64_t out_count = 1;     // output elements
  int64_t reduce_count = 1;  // input elements combined into each output
};

// The ops' arithmetic is the CPU's (graph/op_math/reduce.h).
using op_math::ReduceKind;
using op_math::kReduceL1;
using op_math::kReduceL2;
using op_math::kReduceLogSum;
using op_math::kReduceLogSumExp;
using op_math::kReduceMax;
using op_math::kReduceMean;
using op_math::kReduceMin;
using op_math::kReduceProduct;
using op_math::kReduceSum;
using op_math::kReduceSumSquare;

// max, min: every MathType; sum, l1, sumSquare, product: kF32, kF16, kI32, kU32, kI64,
// kU64; the rest: kF32, kF16. Anything else returns cudaErrorInvalidValue.
cudaError_t launch_reduce(ReduceKind kind, MathType type, const void* x, void* y,
                          const ReduceGeometry& g, cudaStream_t stream);

// ---- softmax over the middle axis of [outer, length, inner]; kF32 or kF16.
cudaError_t launch_softmax(MathType type, const void* x, void* y, int64_t outer, int64_t length,
                           int64_t inner, cudaStream_t stream);

// ---- layerNormalization of `rows` contiguous rows of `len` elements; scale and bias (of
// the input's type, `len` elements in row order) may be null. kF32 or kF16. `residual`
// (may be null; only for len <= kLayerNormResidualMaxLength): normalizes x + residual.
constexpr int64_t kLayerNormResidualMaxLength = 1024;
cudaError_t launch_layer_norm(MathType type, const void* x, const void* residual, const void* scale,
                              const void* bias, void* y, int64_t rows, int64_t len, float epsilon,
                              cudaStream_t stream);

// ---- layerNormalization over any axes of a tensor of rank <= 8: the kept axes (rows, in
// row-major order) and the normalized axes (in the order of WebNN's `axes`, which is the
// order of scale and bias) with their element strides in the (contiguous) input and output.
struct LayerNormAxes {
  int outer_rank = 0, inner_rank = 0;
  int64_t outer_dims[8] = {}, outer_strides[8] = {};
  int64_t inner_dims[8] = {}, inner_strides[8] = {};
  int64_t rows = 1, len = 1;
};
cudaError_t launch_layer_norm_axes(MathType type, const void* x, const void* scale,
                                   const void* bias, void* y, const LayerNormAxes& g,
                                   float epsilon, cudaStream_t stream);

// ---- batchNormalization over [outer, channels, inner]. `params` is scratch of 3 * channels
// floats: a first kernel folds mean, variance, scale and bias (scale and bias may be null)
// into per-channel mean, multiplier, bias there, as the CPU does (in double). kF32 or kF16.
cudaError_t launch_batch_norm(MathType type, const void* x, const void* mean,
                              const void* variance, const void* scale, const void* bias,
                              void* y, float* params, int64_t outer, int64_t channels,
                              int64_t inner, double epsilon, cudaStream_t stream);

// ---- instanceNormalization: statistics per (batch, channel) over `spatial` positions.
// scale and bias (`channels` elements of the input's type) may be null. kF32 or kF16.
cudaError_t launch_instance_norm(MathType type, bool nhwc, const void* x, const void* scale,
                                 const void* bias, void* y, int64_t batches, int64_t channels,
                                 int64_t spatial, float epsilon, cudaStream_t stream);

}  // namespace cppnn::detail::cuda::kernels
