// Hand-written CUDA kernels of the math ops (see math_kernels.h): pooling, softmax,
// layer / batch / instance normalization (the row-wise ones in normalize.cuh, element access
// and the block reduction in math_common.cuh, both tested on the host) and the ten
// reductions. Their values follow the CPU kernels (src/backends/cpu/pooling.cpp,
// normalization.cpp, reduction.cpp, reduction_axis.cpp), whose pooling windows and
// reduction ops they share (src/graph/op_math/): float16 is computed in float32 and rounded
// once at the store, floating-point sums accumulate in float, integer sums, products and
// norms in 64-bit unsigned arithmetic (which wraps like the type and is truncated to it at
// the store), max / min in the element type with NaNs never taken, averages exclude padding.
//
// Shapes: per-row ops (softmax along the last axis, layerNormalization, reductions with
// enough elements per output) run one 256-thread block per row with a shared-memory tree
// reduction; everything else one thread per output element, with grid-stride loops.
#include <cuda_fp16.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "backends/cuda/kernels/math_kernels.h"
#include "backends/cuda/kernels/normalize.cuh"
#include "backends/cuda/kernels/row_warp.cuh"

namespace cppnn::detail::cuda::kernels {

namespace {

constexpr int64_t kMaxBlocks = 8192;  // grid cap: grid-stride loops cover the rest

int grid_for_threads(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return int(b < 1 ? 1 : b > kMaxBlocks ? kMaxBlocks : b);
}

int grid_for_rows(int64_t rows) { return int(rows < 1 ? 1 : rows > kMaxBlocks ? kMaxBlocks : rows); }

// ---- Pooling -------------------------------------------------------------------------

using op_math::inverse_count;
using op_math::pool_combine;
using op_math::pool_identity;
using op_math::window_taps;
using op_math::WindowTaps;

// I: the index type, int32_t whenever the input and output fit (64-bit division and
// multiplication are many instructions each on the GPU: the int64 form of ResNet-50's max
// pool took 52 us at batch 8 on the H100).
template <typename T, PoolKind K, typename I>
__global__ void pool_kernel(const T* __restrict__ x, T* __restrict__ y, PoolGeometry g,
                            int64_t total) {
  using E = typename Num<T>::E;
  // max keeps the element type (integers compare exactly); sums accumulate in float.
  using A = std::conditional_t<K == kPoolMax, E, float>;
  const I channels = I(g.channels), out_w = I(g.out_w), out_h = I(g.out_h);
  const I height = I(g.height), width = I(g.width);
  for (I idx = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); idx < I(total);
       idx += I(gridDim.x) * I(blockDim.x)) {
    I n, c, oh, ow, t = idx;
    if (g.nhwc) {
      c = t % channels, t /= channels;
      ow = t % out_w, t /= out_w;
      oh = t % out_h, n = t / out_h;
    } else {
      ow = t % out_w, t /= out_w;
      oh = t % out_h, t /= out_h;
      c = t % channels, n = t / channels;
    }
    WindowTaps<I> th =
        window_taps<I>(oh, I(g.stride_h), I(g.pad_top), I(g.dilation_h), I(g.window_h), height);
    WindowTaps<I> tw =
        window_taps<I>(ow, I(g.stride_w), I(g.pad_left), I(g.dilation_w), I(g.window_w), width);
    I h0 = oh * I(g.stride_h) - I(g.pad_top), w0 = ow * I(g.stride_w) - I(g.pad_left);
    A acc = pool_identity<K, A>();
    for (I kh = th.first; kh < th.end; ++kh) {
      I ih = h0 + kh * I(g.dilation_h);
      for (I kw = tw.first; kw < tw.end; ++kw) {
        I iw = w0 + kw * I(g.dilation_w);
        I off = g.nhwc ? ((n * height + ih) * width + iw) * channels + c
                       : ((n * channels + c) * height + ih) * width + iw;
        acc = pool_combine<K>(acc, A(load(x, off)));
      }
    }
    if constexpr (K == kPoolAverage) {
      // Global: a whole (non-empty) plane, 1 / (height * width) rounded once.
      acc *= g.global ? 1.0f / float(g.height * g.width)
                      : inverse_count(th.count()) * inverse_count(tw.count());
    } else if constexpr (K == kPoolL2) {
      acc = sqrtf(acc);
    }
    store(y, idx, acc);
  }
}

template <typename T, typename I>
cudaError_t pool_indexed(PoolKind kind, const T* x, T* y, const PoolGeometry& g, int64_t total,
                         cudaStream_t stream) {
  int grid = grid_for_threads(total);
  if (kind == kPoolMax) {
    pool_kernel<T, kPoolMax, I><<<grid, kThreads, 0, stream>>>(x, y, g, total);
  } else if constexpr (std::is_same_v<T, float> || std::is_same_v<T, __half>) {
    if (kind == kPoolAverage)
      pool_kernel<T, kPoolAverage, I><<<grid, kThreads, 0, stream>>>(x, y, g, total);
    else
      pool_kernel<T, kPoolL2, I><<<grid, kThreads, 0, stream>>>(x, y, g, total);
  } else {
    return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t pool_typed(PoolKind kind, const T* x, T* y, const PoolGeometry& g,
                       cudaStream_t stream) {
  int64_t total = g.batches * g.channels * g.out_h * g.out_w;
  int64_t in = g.batches * g.channels * g.height * g.width;
  // 32-bit indices when every index (a grid-stride step past the end included) fits, and
  // every size, stride, padding and dilation is below 2^28 (the shapes being consistent,
  // out * stride then stays below in + padding + 2 * stride).
  int64_t limit = int64_t(INT32_MAX) - int64_t(kMaxBlocks) * kThreads;
  bool small = total < limit && in < limit;
  for (int64_t v : {g.height, g.width, g.out_h, g.out_w, g.window_h, g.window_w, g.stride_h,
                    g.stride_w, g.dilation_h, g.dilation_w, g.pad_top, g.pad_left})
    small = small && v >= 0 && v < (int64_t(1) << 28);
  if (small) return pool_indexed<T, int32_t>(kind, x, y, g, total, stream);
  return pool_indexed<T, int64_t>(kind, x, y, g, total, stream);
}

// ---- Reductions ----------------------------------------------------------------------

// The ops are the CPU's (graph/op_math/reduce.h); only logSumExp's exp is the GPU's own:
// expf per element, after a first pass has found each output's maximum (the shift).
struct LogSumExpOp : op_math::ReduceLogSumExp {
  __device__ float map(float x, float shift) const { return expf(x - shift); }
};
template <typename Op>
constexpr bool kTwoPass = std::is_same_v<Op, LogSumExpOp>;

using op_math::ReduceMax;

// Offset of flat index `index` over groups of the given sizes and strides.
__device__ __forceinline__ int64_t group_offset(int rank, const int64_t* sizes,
                                                const int64_t* strides, int64_t index) {
  int64_t off = 0;
  for (int d = rank - 1; d >= 0; --d) {
    off += (index % sizes[d]) * strides[d];
    index /= sizes[d];
  }
  return off;
}

// Input offset of output o's element 0, and of its e-th reduced element relative to it.
__device__ __forceinline__ int64_t output_base(const ReduceGeometry& g, int64_t o) {
  if (g.inner_reduced) return group_offset(g.kept_rank, g.kept_sizes, g.kept_strides, o);
  int64_t outer = o / g.inner;
  return group_offset(g.kept_rank, g.kept_sizes, g.kept_strides, outer) + (o - outer * g.inner);
}

__device__ __forceinline__ int64_t element_offset(const ReduceGeometry& g, int64_t e) {
  if (!g.inner_reduced) return group_offset(g.row_rank, g.row_sizes, g.row_strides, e);
  if (g.row_rank == 0) return e;
  int64_t r = e / g.inner;
  return group_offset(g.row_rank, g.row_sizes, g.row_strides, r) + (e - r * g.inner);
}

// One block per output: its threads stride over the reduced elements.
template <typename T, typename Op>
__global__ void reduce_block_kernel(const T* __restrict__ x, T* __restrict__ y, ReduceGeometry g,
                                    Op op) {
  using E = typename Num<T>::E;
  using Acc = typename Op::Acc;
  for (int64_t o = blockIdx.x; o < g.out_count; o += gridDim.x) {
    const T* base = x + output_base(g, o);
    Acc shift = Acc(0);
    if constexpr (kTwoPass<Op>) {
      ReduceMax<E> max;
      E m = max.identity();
      for (int64_t e = threadIdx.x; e < g.reduce_count; e += blockDim.x)
        m = max.combine(m, load(base, element_offset(g, e)));
      shift = Acc(block_reduce(m, max));
    }
    Acc acc = op.identity();
    for (int64_t e = threadIdx.x; e < g.reduce_count; e += blockDim.x)
      acc = op.combine(acc, op.map(load(base, element_offset(g, e)), shift));
    acc = block_reduce(acc, op);
    if (threadIdx.x == 0) store(y, o, op.finish(acc, shift));
  }
}

// One thread per output, walking its reduced elements alone (few per output, or the
// innermost dims kept: neighbouring threads then read neighbouring elements).
template <typename T, typename Op>
__global__ void reduce_thread_kernel(const T* __restrict__ x, T* __restrict__ y,
                                     ReduceGeometry g, Op op) {
  using E = typename Num<T>::E;
  using Acc = typename Op::Acc;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < g.out_count;
       o += int64_t(gridDim.x) * blockDim.x) {
    const T* base = x + output_base(g, o);
    Acc shift = Acc(0);
    if constexpr (kTwoPass<Op>) {
      ReduceMax<E> max;
      E m = max.identity();
      for (int64_t e = 0; e < g.reduce_count; ++e)
        m = max.combine(m, load(base, element_offset(g, e)));
      shift = Acc(m);
    }
    Acc acc = op.identity();
    for (int64_t e = 0; e < g.reduce_count; ++e)
      acc = op.combine(acc, op.map(load(base, element_offset(g, e)), shift));
    store(y, o, op.finish(acc, shift));
  }
}

template <typename T, typename Op>
cudaError_t run_reduce(const T* x, T* y, const ReduceGeometry& g, const Op& op,
                       cudaStream_t stream) {
  if (g.inner_reduced && g.reduce_count >= 64)
    reduce_block_kernel<T, Op><<<grid_for_rows(g.out_count), kThreads, 0, stream>>>(x, y, g, op);
  else
    reduce_thread_kernel<T, Op><<<grid_for_threads(g.out_count), kThreads, 0, stream>>>(x, y, g,
                                                                                      op);
  return cudaGetLastError();
}

template <typename T>
cudaError_t reduce_typed(ReduceKind kind, const T* x, T* y, const ReduceGeometry& g,
                         cudaStream_t stream) {
  cudaError_t result = cudaErrorInvalidValue;
  op_math::with_reduce_op<typename Num<T>::E>(kind, g.reduce_count, [&](auto op) {
    if constexpr (std::is_same_v<decltype(op), op_math::ReduceLogSumExp>)
      result = run_reduce(x, y, g, LogSumExpOp{}, stream);
    else
      result = run_reduce(x, y, g, op, stream);
  });
  return result;
}

// ---- softmax -------------------------------------------------------------------------
// y = e^(x - max) * (1 / sum of e^(x - max)), as the CPU computes it.

// inner == 1: one block per contiguous row.
template <typename T>
__global__ void softmax_row_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows,
                                   int64_t length) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * length;
    T* yr = y + r * length;
    float m = lowest_of<float>();
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x) {
      float v = load(xr, i);
      m = v > m ? v : m;
    }
    m = block_reduce(m, FloatMax{});
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x) s += expf(load(xr, i) - m);
    s = block_reduce(s, FloatSum{});
    float scale = 1.0f / s;
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x)
      store(yr, i, expf(load(xr, i) - m) * scale);
  }
}

// One thread per (outer, inner) column, walking the axis alone; neighbouring threads read
// neighbouring elements.
template <typename T>
__global__ void softmax_column_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t outer,
                                      int64_t length, int64_t inner) {
  int64_t columns = outer * inner;
  for (int64_t p = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; p < columns;
       p += int64_t(gridDim.x) * blockDim.x) {
    int64_t o = p / inner, i = p - o * inner;
    int64_t base = o * length * inner + i;
    float m = lowest_of<float>();
    for (int64_t l = 0; l < length; ++l) {
      float v = load(x, base + l * inner);
      m = v > m ? v : m;
    }
    float s = 0.0f;
    for (int64_t l = 0; l < length; ++l) s += expf(load(x, base + l * inner) - m);
    float scale = 1.0f / s;
    for (int64_t l = 0; l < length; ++l)
      store(y, base + l * inner, expf(load(x, base + l * inner) - m) * scale);
  }
}

template <typename T>
cudaError_t softmax_typed(const T* x, T* y, int64_t outer, int64_t length, int64_t inner,
                          cudaStream_t stream) {
  if (inner == 1 && length >= 16 && length <= row_warp::kMaxLength)
    row_warp::with_length<row_warp::Softmax, T>(int(length), [&](auto kernel) {
      kernel<<<row_warp::grid_for(outer, kMaxBlocks), row_warp::kThreads, 0, stream>>>(x, y, outer, int(length));
    });
  else if (inner == 1 && length >= 64)
    softmax_row_kernel<T><<<grid_for_rows(outer), kThreads, 0, stream>>>(x, y, outer, length);
  else
    softmax_column_kernel<T><<<grid_for_threads(outer * inner), kThreads, 0, stream>>>(
        x, y, outer, length, inner);
  return cudaGetLastError();
}

// instanceNormalization, NHWC: one thread per (batch, channel), walking the positions;
// neighbouring threads read neighbouring channels. The CPU's NHWC form:
// (x - mean) * (scale / sqrt(variance + epsilon)) + bias.
template <typename T>
__global__ void instance_norm_nhwc_kernel(const T* __restrict__ x, const T* __restrict__ scale,
                                          const T* __restrict__ bias, T* __restrict__ y,
                                          int64_t batches, int64_t channels, int64_t spatial,
                                          float epsilon) {
  int64_t total = batches * channels;
  for (int64_t p = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; p < total;
       p += int64_t(gridDim.x) * blockDim.x) {
    int64_t n = p / channels, c = p - n * channels;
    int64_t base = n * spatial * channels + c;
    float s = 0.0f;
    for (int64_t j = 0; j < spatial; ++j) s += load(x, base + j * channels);
    float mean = s / float(spatial);
    float q = 0.0f;
    for (int64_t j = 0; j < spatial; ++j) {
      float d = load(x, base + j * channels) - mean;
      q += d * d;
    }
    float variance = q / float(spatial);
    float mul = param(scale, c, 1.0f) / sqrtf(fmaxf(variance, 0.0f) + epsilon);
    float add = param(bias, c, 0.0f);
    for (int64_t j = 0; j < spatial; ++j)
      store(y, base + j * channels, (load(x, base + j * channels) - mean) * mul + add);
  }
}

// ---- batchNormalization ---------------------------------------------------------------

// params = [mean | multiplier | bias], multiplier = scale / sqrt(variance + epsilon) in
// double, rounded to float (as the CPU's batch_norm_params).
template <typename T>
__global__ void batch_norm_params_kernel(const T* __restrict__ mean,
                                         const T* __restrict__ variance,
                                         const T* __restrict__ scale, const T* __restrict__ bias,
                                         float* __restrict__ params, int64_t channels,
                                         double epsilon) {
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < channels;
       c += int64_t(gridDim.x) * blockDim.x) {
    params[c] = float(load(mean, c));
    double sc = double(param(scale, c, 1.0f));
    params[channels + c] = float(sc / sqrt(double(float(load(variance, c))) + epsilon));
    params[2 * channels + c] = param(bias, c, 0.0f);
  }
}

template <typename T>
__global__ void batch_norm_kernel(const T* __restrict__ x, const float* __restrict__ params,
                                  T* __restrict__ y, int64_t total, int64_t channels,
                                  int64_t inner) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t c = (i / inner) % channels;
    store(y, i, (float(load(x, i)) - params[c]) * params[channels + c] + params[2 * channels + c]);
  }
}

}  // namespace

cudaError_t launch_pool(PoolKind kind, MathType type, const void* x, void* y,
                        const PoolGeometry& g, cudaStream_t stream) {
  switch (type) {
    case kF32:
      return pool_typed(kind, static_cast<const float*>(x), static_cast<float*>(y), g, stream);
    case kF16:
      return pool_typed(kind, static_cast<const __half*>(x), static_cast<__half*>(y), g, stream);
    case kI32:
      return pool_typed(kind, static_cast<const int32_t*>(x), static_cast<int32_t*>(y), g, stream);
    case kU32:
      return pool_typed(kind, static_cast<const uint32_t*>(x), static_cast<uint32_t*>(y), g,
                        stream);
    case kI64:
      return pool_typed(kind, static_cast<const int64_t*>(x), static_cast<int64_t*>(y), g, stream);
    case kU64:
      return pool_typed(kind, static_cast<const uint64_t*>(x), static_cast<uint64_t*>(y), g,
                        stream);
    case kI8:
      return pool_typed(kind, static_cast<const int8_t*>(x), static_cast<int8_t*>(y), g, stream);
    case kU8:
      return pool_typed(kind, static_cast<const uint8_t*>(x), static_cast<uint8_t*>(y), g, stream);
    case kBF16:
      break;  // no pooling kernel in bfloat16 (device_ops.cpp keeps it off the device)
  }
  return cudaErrorInvalidValue;
}

cudaError_t launch_reduce(ReduceKind kind, MathType type, const void* x, void* y,
                          const ReduceGeometry& g, cudaStream_t stream) {
  switch (type) {
    case kF32:
      return reduce_typed(kind, static_cast<const float*>(x), static_cast<float*>(y), g, stream);
    case kF16:
      return reduce_typed(kind, static_cast<const __half*>(x), static_cast<__half*>(y), g, stream);
    case kI32:
      return reduce_typed(kind, static_cast<const int32_t*>(x), static_cast<int32_t*>(y), g,
                          stream);
    case kU32:
      return reduce_typed(kind, static_cast<const uint32_t*>(x), static_cast<uint32_t*>(y), g,
                          stream);
    case kI64:
      return reduce_typed(kind, static_cast<const int64_t*>(x), static_cast<int64_t*>(y), g,
                          stream);
    case kU64:
      return reduce_typed(kind, static_cast<const uint64_t*>(x), static_cast<uint64_t*>(y), g,
                          stream);
    case kI8:
      return reduce_typed(kind, static_cast<const int8_t*>(x), static_cast<int8_t*>(y), g, stream);
    case kU8:
      return reduce_typed(kind, static_cast<const uint8_t*>(x), static_cast<uint8_t*>(y), g,
                          stream);
    case kBF16:
      break;  // reductions stay float32 in a bfloat16 graph (KeepFloat32)
  }
  return cudaErrorInvalidValue;
}

cudaError_t launch_softmax(MathType type, const void* x, void* y, int64_t outer, int64_t length,
                           int64_t inner, cudaStream_t stream) {
  if (type == kF32)
    return softmax_typed(static_cast<const float*>(x), static_cast<float*>(y), outer, length,
                         inner, stream);
  if (type == kF16)
    return softmax_typed(static_cast<const __half*>(x), static_cast<__half*>(y), outer, length,
                         inner, stream);
  if (type == kBF16)
    return softmax_typed(static_cast<const __nv_bfloat16*>(x), static_cast<__nv_bfloat16*>(y),
                         outer, length, inner, stream);
  return cudaErrorInvalidValue;
}

template <typename T>
void layer_norm_rows(const void* x, const void* residual, const void* scale, const void* bias, void* y,
                     int64_t rows, int64_t len, float epsilon, cudaStream_t stream) {
  const void* pointers[] = {x, residual, scale, bias, y};
  const int grid = row_warp::grid_for(rows, kMaxBlocks);
  if (row_warp::with_vector_length<T>(int(len), pointers, 5, [&](auto kernel) {
        kernel<<<grid, row_warp::kThreads, 0, stream>>>(
            static_cast<const T*>(x), static_cast<const T*>(residual), static_cast<const T*>(scale),
            static_cast<const T*>(bias), static_cast<T*>(y), rows, epsilon);
      }))
    return;
  row_warp::with_length<row_warp::LayerNorm, T>(int(len), [&](auto kernel) {
    kernel<<<row_warp::grid_for(rows, kMaxBlocks), row_warp::kThreads, 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(residual), static_cast<const T*>(scale),
        static_cast<const T*>(bias), static_cast<T*>(y), rows, int(len), epsilon);
  });
}

cudaError_t launch_layer_norm(MathType type, const void* x, const void* residual, const void* scale,
                              const void* bias, void* y, int64_t rows, int64_t len, float epsilon,
                              cudaStream_t stream) {
  if (len <= row_warp::kMaxLength && (type == kF32 || type == kF16 || type == kBF16)) {
    if (type == kF32) layer_norm_rows<float>(x, residual, scale, bias, y, rows, len, epsilon, stream);
    else if (type == kF16) layer_norm_rows<__half>(x, residual, scale, bias, y, rows, len, epsilon, stream);
    else layer_norm_rows<__nv_bfloat16>(x, residual, scale, bias, y, rows, len, epsilon, stream);
    return cudaGetLastError();
  }
  if (residual) return cudaErrorInvalidValue;  // rows that long take no residual
  int grid = grid_for_rows(rows);
  if (type == kF32)
    normalize_kernel<float><<<grid, kThreads, 0, stream>>>(
        static_cast<const float*>(x), static_cast<const float*>(scale),
        static_cast<const float*>(bias), static_cast<float*>(y), ContiguousRows{rows, len, 0}, epsilon);
  else if (type == kF16)
    normalize_kernel<__half><<<grid, kThreads, 0, stream>>>(
        static_cast<const __half*>(x), static_cast<const __half*>(scale),
        static_cast<const __half*>(bias), static_cast<__half*>(y), ContiguousRows{rows, len, 0}, epsilon);
  else if (type == kBF16)
    normalize_kernel<__nv_bfloat16><<<grid, kThreads, 0, stream>>>(
        static_cast<const __nv_bfloat16*>(x), static_cast<const __nv_bfloat16*>(scale),
        static_cast<const __nv_bfloat16*>(bias), static_cast<__nv_bfloat16*>(y), ContiguousRows{rows, len, 0},
        epsilon);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

cudaError_t launch_layer_norm_axes(MathType type, const void* x, const void* scale,
                                   const void* bias, void* y, const LayerNormAxes& g,
                                   float epsilon, cudaStream_t stream) {
  int grid = grid_for_rows(g.rows);
  if (type == kF32)
    normalize_kernel<float><<<grid, kThreads, 0, stream>>>(
        static_cast<const float*>(x), static_cast<const float*>(scale),
        static_cast<const float*>(bias), static_cast<float*>(y), strided_rows(g), epsilon);
  else if (type == kF16)
    normalize_kernel<__half><<<grid, kThreads, 0, stream>>>(
        static_cast<const __half*>(x), static_cast<const __half*>(scale),
        static_cast<const __half*>(bias), static_cast<__half*>(y), strided_rows(g), epsilon);
  else if (type == kBF16)
    normalize_kernel<__nv_bfloat16><<<grid, kThreads, 0, stream>>>(
        static_cast<const __nv_bfloat16*>(x), static_cast<const __nv_bfloat16*>(scale),
        static_cast<const __nv_bfloat16*>(bias), static_cast<__nv_bfloat16*>(y), strided_rows(g), epsilon);
  else
    return cudaErrorInvalidValue;
  return cudaGetLastError();
}

cudaError_t launch_batch_norm(MathType type, const void* x, const void* mean,
                              const void* variance, const void* scale, const void* bias,
                              void* y, float* params, int64_t outer, int64_t channels,
                              int64_t inner, double epsilon, cudaStream_t stream) {
  int64_t total = outer * channels * inner;
  if (type == kF32) {
    batch_norm_params_kernel<float><<<grid_for_threads(channels), kThreads, 0, stream>>>(
        static_cast<const float*>(mean), static_cast<const float*>(variance),
        static_cast<const float*>(scale), static_cast<const float*>(bias), params, channels,
        epsilon);
    if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return e;
    batch_norm_kernel<float><<<grid_for_threads(total), kThreads, 0, stream>>>(
        static_cast<const float*>(x), params, static_cast<float*>(y), total, channels, inner);
  } else if (type == kF16) {
    batch_norm_params_kernel<__half><<<grid_for_threads(channels), kThreads, 0, stream>>>(
        static_cast<const __half*>(mean), static_cast<const __half*>(variance),
        static_cast<const __half*>(scale), static_cast<const __half*>(bias), params, channels,
        epsilon);
    if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return e;
    batch_norm_kernel<__half><<<grid_for_threads(total), kThreads, 0, stream>>>(
        static_cast<const __half*>(x), params, static_cast<__half*>(y), total, channels, inner);
  } else {
    return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

cudaError_t launch_instance_norm(MathType type, bool nhwc, const void* x, const void* scale,
                                 const void* bias, void* y, int64_t batches, int64_t channels,
                                 int64_t spatial, float epsilon, cudaStream_t stream) {
  if (type != kF32 && type != kF16) return cudaErrorInvalidValue;
  if (nhwc) {
    int grid = grid_for_threads(batches * channels);
    if (type == kF32)
      instance_norm_nhwc_kernel<float><<<grid, kThreads, 0, stream>>>(
          static_cast<const float*>(x), static_cast<const float*>(scale),
          static_cast<const float*>(bias), static_cast<float*>(y), batches, channels, spatial,
          epsilon);
    else
      instance_norm_nhwc_kernel<__half><<<grid, kThreads, 0, stream>>>(
          static_cast<const __half*>(x), static_cast<const __half*>(scale),
          static_cast<const __half*>(bias), static_cast<__half*>(y), batches, channels, spatial,
          epsilon);
  } else {
    int64_t rows = batches * channels;
    int grid = grid_for_rows(rows);
    if (type == kF32)
      normalize_kernel<float><<<grid, kThreads, 0, stream>>>(
          static_cast<const float*>(x), static_cast<const float*>(scale),
          static_cast<const float*>(bias), static_cast<float*>(y),
          ContiguousRows{rows, spatial, channels}, epsilon);
    else
      normalize_kernel<__half><<<grid, kThreads, 0, stream>>>(
          static_cast<const __half*>(x), static_cast<const __half*>(scale),
          static_cast<const __half*>(bias), static_cast<__half*>(y),
          ContiguousRows{rows, spatial, channels}, epsilon);
  }
  return cudaGetLastError();
}

}  // namespace cppnn::detail::cuda::kernels
