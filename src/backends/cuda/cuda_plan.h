#pragma once
// The CUDA plan of one graph: the optimized graph with every node bound to a device step
// (cuBLASLt, or a generated kernel for each group of element-wise nodes) or a host step
// (the per-op CPU fallback), its memory fixed at compile time.
#include <memory>

#include "backends/cuda/device.h"
#include "runtime/backend.h"

namespace cppnn::detail::cuda {

// The CPU fallback's steps use the context's CPU threads (Device::options.cpu_threads).
std::unique_ptr<Plan> make_cuda_plan(std::shared_ptr<Device> device,
                                     std::shared_ptr<const GraphIR> graph);

}  // namespace cppnn::detail::cuda
