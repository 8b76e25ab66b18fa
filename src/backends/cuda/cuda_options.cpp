#include "backends/cuda/cuda_options.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "backends/cpu/threads.h"
#include "cppnn/context.h"

namespace cppnn::detail::cuda {

namespace {

// The variable's value, nullptr when unset.
const char* env(const char* name) { return std::getenv(name); }

bool flag_value(const char* v) { return v && *v && std::string(v) != "0"; }

double margin_value(const char* v) {
  if (!v || !*v) return 0.0;
  char* end = nullptr;
  double m = std::strtod(v, &end);
  return end != v && m > 0 && m < 100 ? m : 0.0;  // anything else: no margin
}

OwnKernels own_kernels_value(const char* v, GpuKernels option) {
  if (!v || !*v) return option == GpuKernels::fastest_start ? OwnKernels::only : OwnKernels::timed;
  if (std::string(v) == "only") return OwnKernels::only;
  return std::string(v) == "0" ? OwnKernels::off : OwnKernels::timed;
}

LayoutChoice layout_value(const char* v) {
  if (v && std::string(v) == "nhwc") return LayoutChoice::nhwc;
  if (v && std::string(v) == "nchw") return LayoutChoice::nchw;
  return LayoutChoice::automatic;
}

std::set<OpId> op_list_value(const char* v) {
  std::set<OpId> ops;
  if (!v || !*v) return ops;
  std::string_view list = v;
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (std::optional<OpId> op = find_op(list.substr(0, comma))) ops.insert(*op);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return ops;
}

}  // namespace

CudaOptions CudaOptions::read(const ContextOptions& context) {
  CudaOptions o;
  if (const char* v = env("CPPNN_CUDA_DEVICE"); v && *v) o.device = v;
  const char* preload = env("CPPNN_CUDA_PRELOAD");
  o.preload = !(preload && std::string(preload) == "0");
  o.own_kernels = own_kernels_value(env("CPPNN_CUDA_OWN_KERNELS"), context.gpu_kernels);
  o.own_margin = margin_value(env("CPPNN_CUDA_OWN_MARGIN"));
  o.tf32 = flag_value(env("CPPNN_CUDA_TF32"));
  o.gelu_epilogue = flag_value(env("CPPNN_CUDA_GELU_EPILOGUE"));
  o.layout = layout_value(env("CPPNN_CUDA_LAYOUT"));
  const char* attention = env("CPPNN_CUDA_FUSED_ATTENTION");
  o.fused_attention = !(attention && std::string(attention) == "0");
  const char* graphs = env("CPPNN_CUDA_GRAPHS");
  o.cuda_graphs = !(graphs && std::string(graphs) == "0");
  o.profile = flag_value(env("CPPNN_CUDA_PROFILE"));
  o.build_log = flag_value(env("CPPNN_CUDA_BUILD_LOG"));
  o.cpu_ops = op_list_value(env("CPPNN_CUDA_CPU_OPS"));
  // Set at all (even empty, which atoi reads as 0): at least one.
  if (const char* v = env("CPPNN_CUDA_BUILD_THREADS")) o.build_threads = std::max(1, std::atoi(v));
  o.cudnn_no_timing = flag_value(env("CPPNN_CUDNN_NO_TIMING"));
  // The CPU fallback's threads follow the CPU backend's rule (OMP_NUM_THREADS, cgroup quota).
  o.cpu_threads = cpu_thread_count(context.num_threads).count;
  o.low_priority = context.gpu_low_priority;
  o.sm_share = context.gpu_sm_share;
  return o;
}

int CudaOptions::device_ordinal(int count) const {
  if (device.empty()) return 0;
  char* end = nullptr;
  long v = std::strtol(device.c_str(), &end, 10);
  if (*end != '\0' || v < 0 || v >= count)
    throw std::runtime_error("CPPNN_CUDA_DEVICE=" + device + " is not one of the " +
                             std::to_string(count) + " NVIDIA GPUs found");
  return int(v);
}

}  // namespace cppnn::detail::cuda
