#pragma once
// Launchers of the quantization kernels (kernels/quantization.cu), for quantization_ops.cpp:
// quantizeLinear and dequantizeLinear over raw device pointers, per element as the CPU
// computes them (graph/op_math/quantize.h). Each enqueues on `stream` and returns
// cudaGetLastError() (cudaErrorInvalidValue for a type pair or rank it does not take).
#include <cstdint>

#include <cuda_runtime.h>

#include "backends/cuda/kernels/movement_kernels.h"

namespace cppnn::detail::cuda::quantization {

using movement::ElemType;
constexpr int kMaxRank = 8;

// The input's dimensions after op_math::merge_blockwise, and their block sizes: the scale
// index of element i is sum_d (i_d / blocks[d]) * scale_strides[d].
struct Geometry {
  int rank = 1;
  int64_t dims[kMaxRank] = {};
  int64_t blocks[kMaxRank] = {};
  int64_t scale_strides[kMaxRank] = {};
  int64_t total = 0;
};

// float_type: f32 or f16 (the input and scale); quant_type: i8, u8, i32 or u32 (the zero
// point and output).
cudaError_t launch_quantize(const void* x, const void* scale, const void* zero_point, void* out,
                            ElemType float_type, ElemType quant_type, const Geometry& g,
                            int max_blocks, cudaStream_t stream);
// quant_type: the input and zero point; float_type: the scale and output.
cudaError_t launch_dequantize(const void* x, const void* scale, const void* zero_point, void* out,
                              ElemType quant_type, ElemType float_type, const Geometry& g,
                              int max_blocks, cudaStream_t stream);

}  // namespace cppnn::detail::cuda::quantization
