#pragma once
// Every switch of the CUDA backend, in one place: the environment's CPPNN_CUDA_* variables
// and the public ContextOptions, read once when a context's backend is created
// (CudaOptions::read) and kept, unchanged, in its Device (Device::options) for everything
// the context does. A variable changed later takes effect in the next context made.
//
// Nothing outside cuda_options.cpp reads the environment.
#include <optional>
#include <set>
#include <string>

#include "graph/op_id.h"

namespace cppnn {
struct ContextOptions;
}

namespace cppnn::detail::cuda {

// Our own convolution and GEMM kernels (own_conv.h, own_gemm.h) beside the libraries':
// timed: each timed beside the library's candidates, the fastest kept; off: the libraries
// only; only: ours wherever one takes the op, untimed (the fastest warm start: no library
// is loaded).
enum class OwnKernels { off, timed, only };

// How a plan lays out convolutions: automatic (NHWC when a convolution computes in float16
// or TF32 is allowed, else NCHW), or forced.
enum class LayoutChoice { automatic, nhwc, nchw };

struct CudaOptions {
  // CPPNN_CUDA_DEVICE: the GPU's ordinal, as given ("": unset, GPU 0). Checked against the
  // GPUs found by device_ordinal(), when the device is chosen.
  std::string device;

  // CPPNN_CUDA_PRELOAD: "0" turns off opening cuDNN's libraries on a thread beside the CUDA
  // context's creation (library_preload.h); anything else, or unset: on.
  bool preload = true;

  // CPPNN_CUDA_OWN_KERNELS: "only" -> only, "0" -> off, anything else set -> timed; unset
  // or empty: ContextOptions::gpu_kernels (fastest_start -> only, fastest_run -> timed).
  OwnKernels own_kernels = OwnKernels::timed;

  // CPPNN_CUDA_OWN_MARGIN (default 0): timed, our kernel is kept unless the library's is
  // faster by more than this fraction (0.2: 20%); a library no step chooses is never loaded.
  // A number in (0, 100), else 0.
  double own_margin = 0.0;

  // CPPNN_CUDA_TF32=1: cuBLASLt and cuDNN may round fp32 operands to TF32 (faster, ~1e-3
  // relative). Also makes float32 graphs channels-last (see `layout`).
  bool tf32 = false;

  // CPPNN_CUDA_GELU_EPILOGUE=1: let cuBLASLt's GELU epilogue replace WebNN's erf GELU.
  bool gelu_epilogue = false;

  // CPPNN_CUDA_LAYOUT=nhwc|nchw: the convolutions' layout, forced; anything else or unset:
  // automatic. (An engine's graph was laid out when it was built and is left as it is.)
  LayoutChoice layout = LayoutChoice::automatic;

  // CPPNN_CUDA_FUSED_ATTENTION: "0" leaves attention as the graph spells it (matmuls,
  // softmax, transposes) instead of the fused kernel (compiler/fuse_attention.cpp); anything
  // else, or unset: fused where the kernel takes it.
  bool fused_attention = true;

  // CPPNN_CUDA_GRAPHS: "0" runs the device segments step by step instead of replaying them
  // as captured CUDA graphs; anything else, or unset: graphs.
  bool cuda_graphs = true;

  // CPPNN_CUDA_PROFILE=1: the plans time each step and report it (step_profile.h).
  bool profile = false;

  // CPPNN_CUDA_BUILD_LOG=1: every plan writes its build line and build phases (the first
  // lines of its report: where a compile's time went) to stderr when it is built, as
  // TensorRT's verbose log does; for start-up and new-shape costs that no report reaches.
  bool build_log = false;

  // CPPNN_CUDA_CPU_OPS=op1,op2: ops (WebNN names) sent to the CPU fallback, to bisect a
  // suspected GPU error (and for the tests of the fallback itself). A name that is no op
  // matches nothing.
  std::set<OpId> cpu_ops;

  // CPPNN_CUDA_BUILD_THREADS: the plans' build workers for library steps (plan_build.h),
  // at least 1 (1: none, built in order); unset: from `cpu_threads`, up to 4.
  std::optional<int> build_threads;

  // CPPNN_CUDNN_NO_TIMING=1: cuDNN's convolutions take the heuristic's first algorithm,
  // untimed.
  bool cudnn_no_timing = false;

  // From ContextOptions: the CPU fallback's threads (num_threads, else every core), the
  // lowest-priority stream, and the share of the GPU's multiprocessors.
  int cpu_threads = 1;
  bool low_priority = false;
  double sm_share = 1.0;

  // The environment's switches and the context's options, read now.
  static CudaOptions read(const ContextOptions& context);

  // The ordinal of `device` among `count` GPUs: 0 when unset. Throws std::runtime_error
  // naming the variable when it is not one of them (the loader reports the reason).
  int device_ordinal(int count) const;
};

}  // namespace cppnn::detail::cuda
