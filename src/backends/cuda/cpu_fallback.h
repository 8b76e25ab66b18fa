#pragma once
// The per-op CPU fallback: a node the GPU cannot run yet runs its CPU kernel (the CPU
// backend's registry) on host copies of its inputs; the plan moves the bytes around it.
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/step.h"

namespace cppnn::detail::cuda {

// `places` is indexed by operand id; inputs and outputs of `node` must have host copies.
// `why` says why the node is not on the GPU (shown in the report).
std::unique_ptr<Step> make_cpu_fallback_step(const GraphIR& g, const Node& node,
                                             const std::vector<Placement>& places, int threads,
                                             std::string why);

}  // namespace cppnn::detail::cuda
