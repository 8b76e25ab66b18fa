#pragma once
// The CUDA C++ text of each element-wise op, of literals and of the device helpers the ops
// call: the per-op half of the code generator (cuda_codegen.cpp assembles kernels).
#include <string>
#include <vector>

#include "graph/ir.h"

namespace cppnn::detail {

// Device helper functions a kernel may need ahead of its body; a bit each.
enum CudaHelper : unsigned {
  kCudaHelperHalf = 1u << 0,        // cg_h2f, cg_f2h, cg_rh: float16 <-> float
  kCudaHelperMinMax = 1u << 1,      // cg_min, cg_max: std::min / std::max semantics
  kCudaHelperNanMinMax = 1u << 2,   // cg_fmin, cg_fmax: NaN-propagating float min / max
  kCudaHelperDiv = 1u << 3,         // cg_sdiv, cg_udiv: integer division, 0 for a zero divisor
  kCudaHelperPow = 1u << 4,         // cg_ipow, cg_upow: integer power by squaring
  kCudaHelperFloatToInt = 1u << 5,  // cg_f2i: saturating float -> integer conversion
  kCudaHelperVec4 = 1u << 6,        // cg_vec4: 4 elements loaded or stored at once
  kCudaHelperBfloat16 = 1u << 7,    // cg_b2f, cg_f2b, cg_rb: bfloat16 <-> float
};

// The source of the helpers in `mask`, always in the same order.
std::string cuda_helper_source(unsigned mask);

// Storage type of an element in device memory (float16 and bfloat16 are their bit
// patterns, unsigned short) and the type values are computed in (float for both).
const char* cuda_storage_type(DataType type);
const char* cuda_compute_type(DataType type);

// A value as a literal of `type`'s compute type. `value` must be exactly representable
// (the op table has already cast attributes to the type); integers are printed exactly.
std::string cuda_literal(double value, DataType type);
// Element `index` of a constant tensor as a literal of its compute type.
std::string cuda_tensor_literal(const Tensor& tensor, size_t index);
// Element `index` of a constant tensor as an initializer of its storage type (float bits
// as hex, so NaN and infinity need no function call in a __constant__ initializer).
std::string cuda_storage_literal(const Tensor& tensor, size_t index);
// Converts a loaded storage value `expr` of `type` to its compute type, and back.
std::string cuda_load(DataType type, const std::string& expr, unsigned& helpers);
std::string cuda_store(DataType type, const std::string& expr, unsigned& helpers);

// The expression computing `node` from the expressions `args` of its inputs (variable
// names or literals, of the inputs' compute types). Records the helpers it calls. A float16
// result is rounded to float16 unless `round_half` is false, for a value about to be
// stored as float16, which rounds it the same way.
std::string cuda_op_expression(const Node& node, const std::vector<DataType>& input_types,
                               DataType output_type, const std::vector<std::string>& args,
                               unsigned& helpers, bool round_half = true);

}  // namespace cppnn::detail
