#pragma once
// conv2d and convTranspose2d on cuDNN 9's legacy API, with our own kernels (own_conv.h)
// timed beside cuDNN's candidates (cudnn_conv.cpp says how). conv_ops.cpp enters the ops in
// the device-op table (device_ops.h).
#include <memory>
#include <vector>

#include "backends/cuda/device_ops.h"

namespace cppnn::detail::cuda {

// The step of a conv2d or convTranspose2d node the decision put on the GPU.
std::unique_ptr<Step> make_cudnn_conv_step(std::shared_ptr<Device> device, const GraphIR& g,
                                           const Node& node, const std::vector<Placement>& places);

}  // namespace cppnn::detail::cuda
