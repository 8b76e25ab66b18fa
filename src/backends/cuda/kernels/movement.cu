// The data-movement kernels of the CUDA backend (launchers in movement_kernels.h). Every
// kernel is a grid-stride loop over its output (or, for the scans along an axis, over its
// columns); index math is in int64 except where the whole index space fits in 2^31.
// Copies move elements by size, whatever their data type.
#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "graph/op_math/reduce.h"
#include "movement_kernels.h"
#include "grid_loop.cuh"

namespace cppnn::detail::cuda::movement {

namespace {

using grid_loop::clamp_index;
using grid_loop::grid_for;
using grid_loop::kBlock;
using grid_loop::Tag;
using grid_loop::visit_size;


template <typename I>
__device__ __forceinline__ I first_index() {
  return I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x);
}
template <typename I>
__device__ __forceinline__ I grid_step() {
  return I(gridDim.x) * I(blockDim.x);
}


// ---- strided copy --------------------------------------------------------------------

// R: the rank (dims[0..R)); I: the type of the flat index (uint32_t when total < 2^31).
template <typename E, int R, typename I>
__global__ void __launch_bounds__(kBlock)
    strided_copy_kernel(const E* __restrict__ in, E* __restrict__ out, const StridedCopy c,
                        I total) {
  for (I i = first_index<I>(); i < total; i += grid_step<I>()) {
    I rest = i;
    int64_t src = c.in_offset, dst = c.out_offset;
#pragma unroll
    for (int d = R - 1; d > 0; --d) {
      I n = I(c.dims[d]);
      I idx = rest % n;
      rest /= n;
      src += int64_t(idx) * c.in_strides[d];
      dst += int64_t(idx) * c.out_strides[d];
    }
    if (R > 0) {  // what is left of the index is dimension 0's
      src += int64_t(rest) * c.in_strides[0];
      dst += int64_t(rest) * c.out_strides[0];
    }
    out[dst] = in[src];
  }
}

template <typename E, typename I>
cudaError_t strided_copy_rank(const E* in, E* out, const StridedCopy& c, I total, int grid,
                              cudaStream_t s) {
  switch (c.rank) {
#define CPPNN_STRIDED_CASE(r) \
  case r: strided_copy_kernel<E, r, I><<<grid, kBlock, 0, s>>>(in, out, c, total); break;
    CPPNN_STRIDED_CASE(0)
    CPPNN_STRIDED_CASE(1)
    CPPNN_STRIDED_CASE(2)
    CPPNN_STRIDED_CASE(3)
    CPPNN_STRIDED_CASE(4)
    CPPNN_STRIDED_CASE(5)
    CPPNN_STRIDED_CASE(6)
    CPPNN_STRIDED_CASE(7)
    CPPNN_STRIDED_CASE(8)
#undef CPPNN_STRIDED_CASE
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

// ---- gather --------------------------------------------------------------------------


template <typename E, typename Idx>
__global__ void __launch_bounds__(kBlock)
    gather_kernel(const E* __restrict__ in, const Idx* __restrict__ indices, E* __restrict__ out,
                  int64_t dim, int64_t n, int64_t inner, int64_t total) {
  for (int64_t i = first_index<int64_t>(); i < total; i += grid_step<int64_t>()) {
    int64_t k = i % inner, t = i / inner;
    int64_t j = t % n, o = t / n;
    int64_t v = clamp_index(int64_t(indices[j]), dim);  // uint32 widens without sign
    out[i] = in[(o * dim + v) * inner + k];
  }
}

// ---- gatherElements, gatherND --------------------------------------------------------

// Each output element reads its own index: no rows to move whole.
template <typename E, typename Idx>
__global__ void __launch_bounds__(kBlock)
    gather_elements_kernel(const E* __restrict__ in, const Idx* __restrict__ indices,
                           E* __restrict__ out, int64_t dim, int64_t n, int64_t inner,
                           int64_t total) {
  for (int64_t i = first_index<int64_t>(); i < total; i += grid_step<int64_t>()) {
    int64_t k = i % inner, o = i / inner / n;
    int64_t v = clamp_index(int64_t(indices[i]), dim);
    out[i] = in[(o * dim + v) * inner + k];
  }
}

template <typename E, typename Idx>
__global__ void __launch_bounds__(kBlock)
    gather_nd_kernel(const E* __restrict__ in, const Idx* __restrict__ indices,
                     E* __restrict__ out, const GatherNDParams p, int64_t total) {
  for (int64_t i = first_index<int64_t>(); i < total; i += grid_step<int64_t>()) {
    int64_t r = i / p.slice, k = i % p.slice;
    const Idx* tuple = indices + r * p.coords;
    int64_t offset = 0;
    for (int d = 0; d < p.coords; ++d)
      offset += clamp_index(int64_t(tuple[d]), p.dims[d]) * p.strides[d];
    out[i] = in[offset + k];
  }
}

// Calls f(index pointer) with the indices cast to their C++ type; false for another type.
template <typename F>
bool visit_index(ElemType index_type, const void* indices, F&& f) {
  switch (index_type) {
    case ElemType::i32: f(static_cast<const int32_t*>(indices)); return true;
    case ElemType::u32: f(static_cast<const uint32_t*>(indices)); return true;
    case ElemType::i64: f(static_cast<const long long*>(indices)); return true;
    default: return false;
  }
}

// ---- pad -----------------------------------------------------------------------------

template <typename E>
__global__ void __launch_bounds__(kBlock)
    pad_kernel(const E* __restrict__ in, E* __restrict__ out, const PadParams p, int64_t total) {
  E value;
  memcpy(&value, &p.value_bits, sizeof(E));  // the low bytes (little-endian)
  for (int64_t i = first_index<int64_t>(); i < total; i += grid_step<int64_t>()) {
    int64_t rest = i, src = 0;
    bool padded = false;
    for (int d = p.rank - 1; d >= 0; --d) {
      int64_t o = rest % p.out_dims[d];
      rest /= p.out_dims[d];
      int64_t x = o - p.begin[d], n = p.in_dims[d];
      if (x < 0 || x >= n) {
        if (p.mode == 0) {
          padded = true;
          break;
        }
        if (p.mode == 1)
          x = x < 0 ? 0 : n - 1;
        else
          x = x < 0 ? -x : 2 * (n - 1) - x;
      }
      src += x * p.in_strides[d];
    }
    out[i] = padded ? value : in[src];
  }
}

// ---- triangular ----------------------------------------------------------------------

template <typename E>
__global__ void __launch_bounds__(kBlock)
    triangular_kernel(const E* __restrict__ in, E* __restrict__ out, int64_t total, int64_t h,
                      int64_t w, bool upper, int64_t diagonal) {
  for (int64_t i = first_index<int64_t>(); i < total; i += grid_step<int64_t>()) {
    int64_t j = i % w, r = (i / w) % h;
    int64_t diff = j - r;
    bool keep = upper ? diff >= diagonal : diff <= diagonal;
    out[i] = keep ? in[i] : E(0);
  }
}

// ---- scans along an axis -------------------------------------------------------------

// Loads widen float16 to float; everything else is itself.
template <typename T>
struct Widen {
  using type = T;
  __device__ static T load(T x) { return x; }
};
template <>
struct Widen<__half> {
  using type = float;
  __device__ static float load(__half x) { return __half2float(x); }
};

// Accumulators: float for float types, the unsigned type of the width for integers (wraps).
template <typename T>
struct ScanAcc;
template <> struct ScanAcc<float> { using type = float; };
template <> struct ScanAcc<__half> { using type = float; };
template <> struct ScanAcc<int32_t> { using type = uint32_t; };
template <> struct ScanAcc<uint32_t> { using type = uint32_t; };
template <> struct ScanAcc<long long> { using type = unsigned long long; };
template <> struct ScanAcc<unsigned long long> { using type = unsigned long long; };

template <typename T, typename Acc>
__device__ __forceinline__ T store_acc(Acc v) {
  if constexpr (std::is_same<T, __half>::value)
    return __float2half_rn(v);
  else
    return T(v);
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    cumulative_sum_kernel(const T* __restrict__ in, T* __restrict__ out, int64_t outer,
                          int64_t length, int64_t inner, bool exclusive, bool reversed) {
  using Acc = typename ScanAcc<T>::type;
  int64_t columns = outer * inner;
  for (int64_t c = first_index<int64_t>(); c < columns; c += grid_step<int64_t>()) {
    int64_t o = c / inner, k = c % inner;
    int64_t base = o * length * inner + k;
    Acc acc = Acc(0);
    for (int64_t step = 0; step < length; ++step) {
      int64_t pos = reversed ? length - 1 - step : step;
      int64_t off = base + pos * inner;
      Acc next = acc + Acc(Widen<T>::load(in[off]));
      out[off] = store_acc<T>(exclusive ? acc : next);
      acc = next;
    }
  }
}

template <typename T, typename I, bool kMax>
__global__ void __launch_bounds__(kBlock)
    arg_min_max_kernel(const T* __restrict__ in, I* __restrict__ out, int64_t outer,
                       int64_t length, int64_t inner) {
  int64_t columns = outer * inner;
  for (int64_t c = first_index<int64_t>(); c < columns; c += grid_step<int64_t>()) {
    int64_t o = c / inner, k = c % inner;
    const T* base = in + o * length * inner + k;
    auto best = Widen<T>::load(base[0]);
    I index = 0;
    for (int64_t l = 1; l < length; ++l) {
      auto v = Widen<T>::load(base[l * inner]);
      // Strict: the first of ties stays; NaN never wins (the CPU's rule, op_math::arg_better).
      if (op_math::arg_better<kMax>(v, best)) {
        best = v;
        index = I(l);
      }
    }
    out[c] = index;  // column c = o * inner + k
  }
}

// Calls f(Tag<T>) with the element type T of `type`.
template <typename F>
bool visit_type(ElemType type, F&& f) {
  switch (type) {
    case ElemType::f32: f(Tag<float>{}); return true;
    case ElemType::f16: f(Tag<__half>{}); return true;
    case ElemType::i32: f(Tag<int32_t>{}); return true;
    case ElemType::u32: f(Tag<uint32_t>{}); return true;
    case ElemType::i64: f(Tag<long long>{}); return true;
    case ElemType::u64: f(Tag<unsigned long long>{}); return true;
    case ElemType::i8: f(Tag<int8_t>{}); return true;
    case ElemType::u8: f(Tag<uint8_t>{}); return true;
  }
  return false;
}

// ---- resample2d ----------------------------------------------------------------------

template <typename E>
__global__ void __launch_bounds__(kBlock)
    resample_nearest_kernel(const E* __restrict__ in, E* __restrict__ out,
                            const ResampleGeometry g, const int64_t* __restrict__ ys,
                            const int64_t* __restrict__ xs, int64_t total) {
  for (int64_t i = first_index<int64_t>(); i < total; i += grid_step<int64_t>()) {
    int64_t k = i % g.inner, t = i / g.inner;
    int64_t x = t % g.out_w;
    t /= g.out_w;
    int64_t m = t % g.mid;
    t /= g.mid;
    int64_t y = t % g.out_h, o = t / g.out_h;
    out[i] = in[(((o * g.in_h + ys[y]) * g.mid + m) * g.in_w + xs[x]) * g.inner + k];
  }
}

template <typename T>
__device__ __forceinline__ T store_float(float v) {
  if constexpr (std::is_same<T, float>::value)
    return v;
  else if constexpr (std::is_same<T, __half>::value)
    return __float2half_rn(v);
  else
    return T(__float2int_rn(v));  // round half to even, as nearbyint; a blend stays in range
}

template <typename T>
__global__ void __launch_bounds__(kBlock)
    resample_linear_kernel(const T* __restrict__ in, T* __restrict__ out, const ResampleGeometry g,
                           const LinearTap* __restrict__ ys, const LinearTap* __restrict__ xs,
                           int64_t total) {
  for (int64_t i = first_index<int64_t>(); i < total; i += grid_step<int64_t>()) {
    int64_t k = i % g.inner, t = i / g.inner;
    int64_t x = t % g.out_w;
    t /= g.out_w;
    int64_t m = t % g.mid;
    t /= g.mid;
    int64_t y = t % g.out_h, o = t / g.out_h;
    LinearTap ty = ys[y], tx = xs[x];
    int64_t line = g.in_w * g.inner;
    const T* l0 = in + ((o * g.in_h + ty.i0) * g.mid + m) * line;
    const T* l1 = in + ((o * g.in_h + ty.i1) * g.mid + m) * line;
    float a0 = float(Widen<T>::load(l0[tx.i0 * g.inner + k]));
    float a1 = float(Widen<T>::load(l0[tx.i1 * g.inner + k]));
    float b0 = float(Widen<T>::load(l1[tx.i0 * g.inner + k]));
    float b1 = float(Widen<T>::load(l1[tx.i1 * g.inner + k]));
    // The CPU kernel's two forms (the same blend, rounded differently).
    float v = g.inner == 1 ? op_math::resample_blend_lerp(a0, a1, b0, b1, tx.t, ty.t)
                           : op_math::resample_blend_weighted(a0, a1, b0, b1, tx.t, ty.t);
    out[i] = store_float<T>(v);
  }
}

}  // namespace

cudaError_t launch_strided_copy(const void* in, void* out, const StridedCopy& c, int elem_size,
                                int max_blocks, cudaStream_t stream) {
  if (c.rank < 0 || c.rank > kMaxRank) return cudaErrorInvalidValue;
  int64_t total = 1;
  for (int d = 0; d < c.rank; ++d) total *= c.dims[d];
  if (total <= 0) return cudaSuccess;
  int grid = grid_for(total, max_blocks);
  cudaError_t status = cudaErrorInvalidValue;
  visit_size(elem_size, [&](auto tag) {
    using E = typename decltype(tag)::type;
    const E* i = static_cast<const E*>(in);
    E* o = static_cast<E*>(out);
    status = total < (int64_t(1) << 31) ? strided_copy_rank<E>(i, o, c, uint32_t(total), grid, stream)
                                         : strided_copy_rank<E>(i, o, c, total, grid, stream);
  });
  return status;
}

namespace {

// gather and gatherElements share their geometry ([outer, n, inner] read from
// [outer, dim, inner]) and their parameters; only the kernel's index walk differs.
cudaError_t launch_indexed(bool elements, const void* in, const void* indices,
                           ElemType index_type, void* out, int64_t outer, int64_t dim, int64_t n,
                           int64_t inner, int elem_size, int max_blocks, cudaStream_t stream) {
  int64_t total = outer * n * inner;
  if (total <= 0) return cudaSuccess;
  int grid = grid_for(total, max_blocks);
  bool launched = false;
  visit_size(elem_size, [&](auto tag) {
    using E = typename decltype(tag)::type;
    const E* i = static_cast<const E*>(in);
    E* o = static_cast<E*>(out);
    launched = visit_index(index_type, indices, [&](auto idx) {
      if (elements)
        gather_elements_kernel<<<grid, kBlock, 0, stream>>>(i, idx, o, dim, n, inner, total);
      else
        gather_kernel<<<grid, kBlock, 0, stream>>>(i, idx, o, dim, n, inner, total);
    });
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace

cudaError_t launch_gather(const void* in, const void* indices, ElemType index_type, void* out,
                          int64_t outer, int64_t dim, int64_t n, int64_t inner, int elem_size,
                          int max_blocks, cudaStream_t stream) {
  return launch_indexed(false, in, indices, index_type, out, outer, dim, n, inner, elem_size,
                        max_blocks, stream);
}

cudaError_t launch_gather_elements(const void* in, const void* indices, ElemType index_type,
                                   void* out, int64_t outer, int64_t dim, int64_t n,
                                   int64_t inner, int elem_size, int max_blocks,
                                   cudaStream_t stream) {
  return launch_indexed(true, in, indices, index_type, out, outer, dim, n, inner, elem_size,
                        max_blocks, stream);
}

cudaError_t launch_gather_nd(const void* in, const void* indices, ElemType index_type, void* out,
                             const GatherNDParams& p, int elem_size, int max_blocks,
                             cudaStream_t stream) {
  if (p.coords < 0 || p.coords > kMaxRank || p.slice <= 0) return cudaErrorInvalidValue;
  int64_t total = p.m * p.slice;
  if (total <= 0) return cudaSuccess;
  int grid = grid_for(total, max_blocks);
  bool launched = false;
  visit_size(elem_size, [&](auto tag) {
    using E = typename decltype(tag)::type;
    const E* i = static_cast<const E*>(in);
    E* o = static_cast<E*>(out);
    launched = visit_index(index_type, indices, [&](auto idx) {
      gather_nd_kernel<<<grid, kBlock, 0, stream>>>(i, idx, o, p, total);
    });
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_pad(const void* in, void* out, const PadParams& p, int64_t total, int elem_size,
                       int max_blocks, cudaStream_t stream) {
  if (p.rank < 0 || p.rank > kMaxRank || elem_size > 8) return cudaErrorInvalidValue;
  if (total <= 0) return cudaSuccess;
  int grid = grid_for(total, max_blocks);
  bool launched = visit_size(elem_size, [&](auto tag) {
    using E = typename decltype(tag)::type;
    if constexpr (sizeof(E) <= 8)
      pad_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const E*>(in), static_cast<E*>(out), p,
                                              total);
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_triangular(const void* in, void* out, int64_t total, int64_t h, int64_t w,
                              bool upper, int64_t diagonal, int elem_size, int max_blocks,
                              cudaStream_t stream) {
  if (elem_size > 8) return cudaErrorInvalidValue;
  if (total <= 0) return cudaSuccess;
  int grid = grid_for(total, max_blocks);
  bool launched = visit_size(elem_size, [&](auto tag) {
    using E = typename decltype(tag)::type;
    if constexpr (sizeof(E) <= 8)
      triangular_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const E*>(in),
                                                     static_cast<E*>(out), total, h, w, upper,
                                                     diagonal);
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_cumulative_sum(const void* in, void* out, ElemType type, int64_t outer,
                                  int64_t length, int64_t inner, bool exclusive, bool reversed,
                                  int max_blocks, cudaStream_t stream) {
  if (type == ElemType::i8 || type == ElemType::u8) return cudaErrorInvalidValue;
  int64_t columns = outer * inner;
  if (columns <= 0 || length <= 0) return cudaSuccess;
  int grid = grid_for(columns, max_blocks);
  bool launched = visit_type(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (sizeof(T) > 1)
      cumulative_sum_kernel<<<grid, kBlock, 0, stream>>>(
          static_cast<const T*>(in), static_cast<T*>(out), outer, length, inner, exclusive,
          reversed);
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_arg_min_max(const void* in, void* out, ElemType type, bool out_int64,
                               bool is_max, int64_t outer, int64_t length, int64_t inner,
                               int max_blocks, cudaStream_t stream) {
  int64_t columns = outer * inner;
  if (columns <= 0 || length <= 0) return cudaSuccess;
  int grid = grid_for(columns, max_blocks);
  bool launched = visit_type(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = static_cast<const T*>(in);
    if (out_int64) {
      long long* y = static_cast<long long*>(out);
      if (is_max)
        arg_min_max_kernel<T, long long, true><<<grid, kBlock, 0, stream>>>(x, y, outer, length, inner);
      else
        arg_min_max_kernel<T, long long, false><<<grid, kBlock, 0, stream>>>(x, y, outer, length, inner);
    } else {
      int32_t* y = static_cast<int32_t*>(out);
      if (is_max)
        arg_min_max_kernel<T, int32_t, true><<<grid, kBlock, 0, stream>>>(x, y, outer, length, inner);
      else
        arg_min_max_kernel<T, int32_t, false><<<grid, kBlock, 0, stream>>>(x, y, outer, length, inner);
    }
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_resample_nearest(const void* in, void* out, const ResampleGeometry& g,
                                    const int64_t* ys, const int64_t* xs, int elem_size,
                                    int max_blocks, cudaStream_t stream) {
  if (elem_size > 8) return cudaErrorInvalidValue;
  int64_t total = g.outer * g.out_h * g.mid * g.out_w * g.inner;
  if (total <= 0) return cudaSuccess;
  int grid = grid_for(total, max_blocks);
  bool launched = visit_size(elem_size, [&](auto tag) {
    using E = typename decltype(tag)::type;
    if constexpr (sizeof(E) <= 8)
      resample_nearest_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const E*>(in),
                                                           static_cast<E*>(out), g, ys, xs, total);
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_resample_linear(const void* in, void* out, ElemType type,
                                   const ResampleGeometry& g, const LinearTap* ys,
                                   const LinearTap* xs, int max_blocks, cudaStream_t stream) {
  int64_t total = g.outer * g.out_h * g.mid * g.out_w * g.inner;
  if (total <= 0) return cudaSuccess;
  int grid = grid_for(total, max_blocks);
  bool launched = false;
  visit_type(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same<T, float>::value || std::is_same<T, __half>::value ||
                  std::is_same<T, int8_t>::value || std::is_same<T, uint8_t>::value) {
      resample_linear_kernel<<<grid, kBlock, 0, stream>>>(static_cast<const T*>(in),
                                                          static_cast<T*>(out), g, ys, xs, total);
      launched = true;
    }
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace cppnn::detail::cuda::movement
