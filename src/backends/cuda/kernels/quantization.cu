// The quantization kernels of the CUDA backend (launchers in quantization_kernels.h): one
// grid-stride loop over the input, each element finding its scale and zero point through the
// blockwise geometry and computing with graph/op_math/quantize.h, as the CPU does.
#include <cuda_fp16.h>

#include <cstdint>

#include "graph/op_math/quantize.h"
#include "quantization_kernels.h"
#include "grid_loop.cuh"
#include "half_float.cuh"

namespace cppnn::detail::cuda::quantization {

namespace {

using grid_loop::grid_for;
using grid_loop::kBlock;
using grid_loop::Tag;

__device__ __forceinline__ int64_t scale_index(const Geometry& g, int64_t i) {
  int64_t s = 0;
  for (int d = g.rank - 1; d >= 0; --d) {
    int64_t n = g.dims[d];
    s += (i % n) / g.blocks[d] * g.scale_strides[d];
    i /= n;
  }
  return s;
}

template <typename F, typename Q>
__global__ void __launch_bounds__(kBlock)
    quantize_kernel(const F* __restrict__ x, const F* __restrict__ scale,
                    const Q* __restrict__ zero_point, Q* __restrict__ out, const Geometry g) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < g.total;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t s = scale_index(g, i);
    // The quotient in the input's type: float16's is the float32 one rounded to float16.
    float q = to_float(from_float<F>(to_float(x[i]) / to_float(scale[s])));
    out[i] = op_math::quantize_value<Q>(q, double(zero_point[s]));
  }
}

template <typename Q, typename F>
__global__ void __launch_bounds__(kBlock)
    dequantize_kernel(const Q* __restrict__ x, const F* __restrict__ scale,
                      const Q* __restrict__ zero_point, F* __restrict__ out, const Geometry g) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < g.total;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t s = scale_index(g, i);
    double v = op_math::dequantize_value(x[i], zero_point[s], to_float(scale[s]));
    out[i] = from_float<F>(float(v));  // as the CPU: rounded to float, then to float16
  }
}

template <typename Fn>
bool visit_float(ElemType t, Fn&& f) {
  switch (t) {
    case ElemType::f32: f(Tag<float>{}); return true;
    case ElemType::f16: f(Tag<__half>{}); return true;
    default: return false;
  }
}

template <typename Fn>
bool visit_quantized(ElemType t, Fn&& f) {
  switch (t) {
    case ElemType::i8: f(Tag<int8_t>{}); return true;
    case ElemType::u8: f(Tag<uint8_t>{}); return true;
    case ElemType::i32: f(Tag<int32_t>{}); return true;
    case ElemType::u32: f(Tag<uint32_t>{}); return true;
    default: return false;
  }
}

bool valid(const Geometry& g) {
  if (g.rank < 1 || g.rank > kMaxRank) return false;
  for (int d = 0; d < g.rank; ++d)
    if (g.dims[d] < 1 || g.blocks[d] < 1) return false;
  return true;
}

}  // namespace

cudaError_t launch_quantize(const void* x, const void* scale, const void* zero_point, void* out,
                            ElemType float_type, ElemType quant_type, const Geometry& g,
                            int max_blocks, cudaStream_t stream) {
  if (g.total <= 0) return cudaSuccess;
  if (!valid(g)) return cudaErrorInvalidValue;
  int grid = grid_for(g.total, max_blocks);
  bool launched = false;
  visit_float(float_type, [&](auto ft) {
    using F = typename decltype(ft)::type;
    launched = visit_quantized(quant_type, [&](auto qt) {
      using Q = typename decltype(qt)::type;
      quantize_kernel<F, Q><<<grid, kBlock, 0, stream>>>(
          static_cast<const F*>(x), static_cast<const F*>(scale),
          static_cast<const Q*>(zero_point), static_cast<Q*>(out), g);
    });
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_dequantize(const void* x, const void* scale, const void* zero_point, void* out,
                              ElemType quant_type, ElemType float_type, const Geometry& g,
                              int max_blocks, cudaStream_t stream) {
  if (g.total <= 0) return cudaSuccess;
  if (!valid(g)) return cudaErrorInvalidValue;
  int grid = grid_for(g.total, max_blocks);
  bool launched = false;
  visit_float(float_type, [&](auto ft) {
    using F = typename decltype(ft)::type;
    launched = visit_quantized(quant_type, [&](auto qt) {
      using Q = typename decltype(qt)::type;
      dequantize_kernel<Q, F><<<grid, kBlock, 0, stream>>>(
          static_cast<const Q*>(x), static_cast<const F*>(scale),
          static_cast<const Q*>(zero_point), static_cast<F*>(out), g);
    });
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace cppnn::detail::cuda::quantization
