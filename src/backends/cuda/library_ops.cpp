// The hand-written CUDA kernels of kernels/*.cu as device steps (none yet).
#include "backends/cuda/device_ops.h"

namespace cppnn::detail::cuda {

void add_library_ops(DeviceOpTable&) {}

}  // namespace cppnn::detail::cuda
