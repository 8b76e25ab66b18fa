#include "backends/cpu/kernel.h"

namespace cppnn::detail {
void register_pooling_kernels(CpuKernelRegistry&) {}
}  // namespace cppnn::detail
