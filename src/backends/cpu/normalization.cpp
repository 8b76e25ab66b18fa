#include "backends/cpu/kernel.h"

namespace cppnn::detail {
void register_normalization_kernels(CpuKernelRegistry&) {}
}  // namespace cppnn::detail
