// Device steps on the hand-written kernels of kernels/movement.cu (none yet).
#include "backends/cuda/device_ops.h"

namespace cppnn::detail::cuda {

void add_movement_ops(DeviceOpTable&) {}

}  // namespace cppnn::detail::cuda
