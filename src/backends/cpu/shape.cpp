#include "backends/cpu/kernel.h"

namespace cppnn::detail {
void register_shape_kernels(CpuKernelRegistry&) {}
}  // namespace cppnn::detail
