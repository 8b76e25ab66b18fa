#pragma once
// The element-wise groups of a CUDA plan's graph as generated kernels: written by the code
// generator, compiled with NVRTC into one cubin for the device (or found in the runtime
// cache), loaded with the driver API, and run as one launch step per group.
#include <memory>
#include <string>
#include <vector>

#include <cuda.h>

#include "backends/cuda/step.h"
#include "backends/cuda/codegen/cuda_codegen.h"

namespace cppnn::detail::cuda {

// A loaded cubin; unloaded when the last plan step using it is gone.
class LoadedModule {
 public:
  explicit LoadedModule(const std::string& cubin);  // throws OperationError if the driver refuses
  ~LoadedModule();
  LoadedModule(const LoadedModule&) = delete;
  LoadedModule& operator=(const LoadedModule&) = delete;
  CUfunction function(const std::string& name) const;

 private:
  CUmodule module_ = nullptr;
};

struct JitKernels {
  std::vector<GeneratedKernel> kernels;
  std::vector<CUfunction> functions;  // per kernel
  std::shared_ptr<LoadedModule> module;
  size_t distinct = 0;        // kernels compiled: groups differing only in name share one
  double ms = 0;              // generation + compilation (or cache load) + module load
  bool cache_hit = false;
  std::string cache_note;     // why the cache was not used or not written, when it was not
};

// Generates, compiles (or loads from the runtime cache) and loads the kernels of every
// element-wise group of `graph` for `device`. Empty `kernels` when the graph has no group.
// Throws when NVRTC or the driver fails; the cache never makes it throw.
JitKernels jit_elementwise_kernels(const GraphIR& graph, const Device& device);

// The launch of one generated kernel, its parameters bound to `places` (device pointers).
std::unique_ptr<Step> make_kernel_step(const Node& node, const GeneratedKernel& kernel,
                                       CUfunction function, std::shared_ptr<LoadedModule> module,
                                       const std::vector<Placement>& places, unsigned grid,
                                       std::string ops);

}  // namespace cppnn::detail::cuda
