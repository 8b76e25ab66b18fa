#pragma once
// The memory plan every backend uses: intermediates live in one arena (host memory for the
// CPU, device memory for the GPU), and buffers whose lifetimes do not overlap share bytes.
#include <cstddef>
#include <vector>

#include "graph/ir.h"

namespace cppnn::detail {

struct MemoryPlan {
  std::vector<size_t> offset;  // per operand; SIZE_MAX if not in the arena
  size_t arena_bytes = 0;
};

// Graph outputs, inputs and constants are not in the arena (the caller owns outputs).
// A conv2d's fused residual that dies at the conv shares the conv output's bytes.
// `views` (per node, may be empty): reshape nodes whose output is a view of their input,
// sharing its bytes, so that the backend's step copies nothing. Only intermediates are
// views (inputs, outputs and constants have bytes of their own), never a conv2d's fused
// residual, which the conv writes over.
MemoryPlan plan_memory(const GraphIR& g, const std::vector<bool>& views = {});

// The plan's total (arena and outputs) checked against `limit` bytes (0: the machine's
// physical memory) before anything is allocated: an OperationError naming the total and
// the largest tensor's node when it does not fit.
void check_plan_memory(const GraphIR& g, const MemoryPlan& plan, size_t limit);

}  // namespace cppnn::detail
