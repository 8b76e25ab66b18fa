#pragma once
// WebNN's MLContext.opSupportLimits(): which data types (and ranks) each op's operands may
// have, read from the op table (include/cppnn/ops.def and the ops' schemas), so that it
// lists exactly the ops and types the builder accepts. Every backend runs every op the
// builder accepts (the CUDA backend falls back to the CPU for what it has no kernel of), so
// the answer is the same for every context.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cppnn/graph.h"
#include "cppnn/types.h"

namespace cppnn {

struct TensorLimits {  // the spec's MLTensorLimits
  std::vector<DataType> data_types;
  uint32_t min_rank = 0;
  uint32_t max_rank = 0;
};

struct OpSupportLimits {  // the spec's MLOpSupportLimits
  InputLayout preferred_input_layout = InputLayout::nchw;
  uint64_t max_tensor_byte_length = 0;
  TensorLimits input, constant, output;
  // WebNN op name ("conv2d", "reduceSum") -> the spec's operand name ("input", "filter",
  // "indices", ..., "output"; "outputs" for split) -> its limits.
  std::map<std::string, std::map<std::string, TensorLimits>> ops;
};

OpSupportLimits op_support_limits();

}  // namespace cppnn
