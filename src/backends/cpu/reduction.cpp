#include "backends/cpu/kernel.h"

namespace cppnn::detail {
void register_reduction_kernels(CpuKernelRegistry&) {}
}  // namespace cppnn::detail
