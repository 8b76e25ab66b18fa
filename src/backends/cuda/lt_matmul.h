#pragma once
// matmul and gemm on cuBLASLt, in fp32 (TF32 only when CPPNN_CUDA_TF32=1) or fp16 with fp32
// accumulation. Bias and ReLU ride on the epilogue; other fused activations are split off
// into their own node before planning, so the product still runs on the GPU.
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/step.h"

namespace cppnn::detail::cuda {

struct LtDecision {
  bool on_gpu = false;
  std::string why_not;                  // when !on_gpu: shown in the report
  bool activation_in_epilogue = false;  // else a fused activation must become its own node
};

// Whether cuBLASLt runs `node` (any op: false for those that are not matmul or gemm).
LtDecision decide_lt_matmul(const GraphIR& g, const Node& node, const Device& device);

// Moves the fused activations that the epilogue cannot apply off the GPU matmul / gemm
// nodes into nodes of their own, right after them.
void split_epilogue_activations(GraphIR& g, const Device& device);

// Throws NotSupportedError when cuBLASLt finds no algorithm (the plan then falls back).
std::unique_ptr<Step> make_lt_matmul_step(std::shared_ptr<Device> device, const GraphIR& g,
                                          const Node& node, const std::vector<Placement>& places);

}  // namespace cppnn::detail::cuda
