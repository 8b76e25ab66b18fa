#pragma once
// Compiles generated CUDA kernels to cubins with NVRTC: the JIT step that needs the CUDA
// toolkit's compiler library but no GPU. Only the cppnn_cuda_jit library links NVRTC; this
// header does not include it, so its users need no CUDA headers.
#include <string>
#include <vector>

#include "backends/cuda/codegen/cuda_codegen.h"

namespace cppnn::detail {

struct CompiledKernel {
  std::string name;       // the kernel's function name, to look up in the loaded module
  std::string arch;       // "sm_90"
  std::string cubin;      // an ELF image for cuModuleLoadData
  std::string log;        // NVRTC's warnings, usually empty
  double compile_ms = 0;  // wall time of the NVRTC compilation
};

// "13.0"
std::string nvrtc_version();
// The real architectures this NVRTC compiles for, ascending: "sm_75", "sm_80", ...
std::vector<std::string> nvrtc_supported_architectures();

// The NVRTC options generated kernels are compiled with (besides the architecture): no
// FMA contraction, so every op rounds on its own as on the CPU, and IEEE division and
// square root.
const std::vector<std::string>& nvrtc_kernel_options();

// Compiles CUDA C++ `source` (no includes) whose kernel is `name` for `arch` ("sm_86").
// An architecture this NVRTC does not know is a NotSupportedError; a compilation failure
// is an OperationError naming the kernel and carrying NVRTC's log.
CompiledKernel compile_cuda_source(const std::string& name, const std::string& source,
                                   const std::string& arch);
CompiledKernel compile_cuda_kernel(const GeneratedKernel& kernel, const std::string& arch);

// Compiles every kernel, on up to `threads` threads at once (0: one per hardware thread).
// Results are in the kernels' order. If any fails, the first failure in that order is
// thrown after every thread has finished. NVRTC 13.0 runs one compilation at a time per
// process (16 threads on 16 cores took as long as one), so prefer compile_cuda_module.
std::vector<CompiledKernel> compile_cuda_kernels(const std::vector<GeneratedKernel>& kernels,
                                                 const std::string& arch, unsigned threads = 0);

// All kernels of one graph in one NVRTC program (cuda_module_source) and one cubin: the
// fast path, as NVRTC's cost is mostly per program. `name` is the module's name in
// messages, e.g. the engine's.
struct CompiledModule {
  std::string arch;
  std::vector<std::string> kernel_names;  // functions to look up in the loaded cubin
  std::string cubin;
  std::string log;
  double compile_ms = 0;
};
CompiledModule compile_cuda_module(const std::string& name,
                                   const std::vector<GeneratedKernel>& kernels,
                                   const std::string& arch);

}  // namespace cppnn::detail
