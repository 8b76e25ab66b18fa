#include "backends/cpu/kernel.h"

namespace cppnn::detail {
void register_conv_kernels(CpuKernelRegistry&) {}
}  // namespace cppnn::detail
