#pragma once
// matmul and gemm on cuBLASLt, in fp32 (TF32 only when CPPNN_CUDA_TF32=1) or fp16 with fp32
// accumulation. Bias and ReLU ride on the epilogue; other fused activations are split off
// into their own node before planning (split_epilogue_activations), so the product still
// runs on the GPU. matmul_ops.cpp enters the ops in the device-op table (device_ops.h).
#include <memory>
#include <vector>

#include "backends/cuda/device_ops.h"

namespace cppnn::detail::cuda {

// Whether cuBLASLt's epilogue applies a fused activation (of a node's "activation").
bool lt_epilogue_has(OpId activation, const Device& device);

// The step of a matmul or gemm node the decision put on the GPU.
std::unique_ptr<Step> make_lt_matmul_step(std::shared_ptr<Device> device, const GraphIR& g,
                                          const Node& node, const std::vector<Placement>& places);

}  // namespace cppnn::detail::cuda
