// conv2d and convTranspose2d on cuDNN 9 (not written yet: they run on the CPU fallback).
#include "backends/cuda/device_ops.h"

namespace cppnn::detail::cuda {

void add_cudnn_ops(DeviceOpTable&) {}

}  // namespace cppnn::detail::cuda
