#pragma once
// The CUDA backend's one table of device implementations: for each op it can run on the
// GPU, a decision (does this node, with its shapes, types and attributes, run on the
// device? if not, why not) and a step factory. An op with no entry, or whose decision says
// no, runs on the per-op CPU fallback and the plan's report says why.
//
// Each op family's file, <family>_ops.cpp, adds its ops through one add_* function below:
//   reduction_ops.cpp      reduce*, softmax (kernels/math.cu); cumulativeSum, argMin,
//                          argMax (kernels/movement.cu)
//   movement_ops.cpp       transpose, reshape, concat, slice, split, expand, pad, tile,
//                          reverse, triangular, resample2d (kernels/movement.cu)
//   gather_ops.cpp         gather, gatherElements, gatherND (kernels/movement.cu);
//                          scatterElements, scatterND (kernels/scatter.cu)
//   conv_ops.cpp           conv2d, convTranspose2d (cuDNN and our own kernels: cudnn_conv.h)
//   matmul_ops.cpp         matmul, gemm (cuBLASLt and our own kernels: lt_matmul.h)
//   pooling_ops.cpp        averagePool2d, l2Pool2d, maxPool2d (kernels/math.cu)
//   normalization_ops.cpp  batch, instance and layer normalization (kernels/math.cu)
//   recurrent_ops.cpp      lstm, lstmCell, gru, gruCell: lowered by the plan into the ops
//                          above before planning (compiler: lower_recurrent)
//   quantization_ops.cpp   quantizeLinear, dequantizeLinear (kernels/quantization.cu)
//   attention_steps.cpp    attention, the internal op of the fusion pass fuse_attention
//                          (kernels/attention.cu)
// The files on our own kernels share kernel_steps.h. Element-wise groups are not in the
// table: the plan turns them into generated kernels (jit_kernels.h; each op's CUDA
// expression is in codegen/cuda_codegen_ops.cpp).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/step.h"
#include "compiler/passes.h"
#include "runtime/partition.h"

namespace cppnn::detail::cuda {

struct DeviceDecision {
  bool on_gpu = false;
  std::string why_not;  // when !on_gpu: shown in the report
  // For a node with a fused activation (attrs "activation"...): false when the device
  // implementation cannot apply it, so the plan splits it off into an element-wise node
  // of its own before planning (it then runs in a generated kernel).
  bool activation_in_epilogue = true;
};

using DecideFn = DeviceDecision (*)(const GraphIR& g, const Node& node, const Device& device);
// May throw NotSupportedError when the library turns the node down at creation (no
// algorithm): the plan then re-plans that node on the CPU fallback.
using MakeStepFn = std::unique_ptr<Step> (*)(std::shared_ptr<Device> device, const GraphIR& g,
                                             const Node& node,
                                             const std::vector<Placement>& places);

struct DeviceOp {
  DecideFn decide = nullptr;
  MakeStepFn make = nullptr;
  // The factory may run on several threads at once (each a build worker, see Device): the
  // plan then creates these steps in parallel. The libraries' set-up (cuDNN loading its
  // engines, cuBLASLt's heuristic) is host work of milliseconds per distinct problem.
  bool parallel_build = false;
};

using DeviceOpTable = std::map<OpId, DeviceOp>;

// The table, filled once.
const DeviceOpTable& device_ops();

// The decision for any node: no entry means the CPU fallback.
DeviceDecision decide_on_device(const GraphIR& g, const Node& node, const Device& device);

// Where a node runs (runtime/partition.h's question): generated kernels run on the device,
// other nodes as decide_on_device says. `elementwise_in_kernels`: the node is asked about
// before the plan turns the element-wise ops into generated kernels (Backend::supports_op,
// on the graph as built): those ops run on the device whatever CPPNN_CUDA_CPU_OPS says,
// since the plan puts every one into a kernel (unless NVRTC fails, which its report says).
NodeSupport supports_node(const GraphIR& g, size_t node, const Device& device,
                          bool elementwise_in_kernels);

// Whether the layer norm kernel can add a residual first (fusion.cpp, fuse_norm_residual):
// float32 or float16 rows over trailing axes, short enough for the warp-per-row kernel.
bool layer_norm_takes_residual(const GraphIR& g, const Node& layer_norm);
// Whether the fused attention kernel takes a candidate of fuse_attention (attention_steps.cpp).
bool attention_takes(const AttentionCandidate& candidate);
// Whether the kernel would read q, k and v of this type and head dimension in place from a
// merged projection (merge_projections.cpp), so that merging leaves no split to copy.
bool attention_reads_merged_projections(DataType type, int64_t head_dim);

// Moves the fused activations that a device implementation cannot apply off its nodes into
// nodes of their own, right after them.
void split_epilogue_activations(GraphIR& g, const Device& device);

void add_reduction_ops(DeviceOpTable& table);
void add_movement_ops(DeviceOpTable& table);
void add_gather_ops(DeviceOpTable& table);
void add_conv_ops(DeviceOpTable& table);
void add_matmul_ops(DeviceOpTable& table);
void add_pooling_ops(DeviceOpTable& table);
void add_normalization_ops(DeviceOpTable& table);
void add_recurrent_ops(DeviceOpTable& table);
void add_quantization_ops(DeviceOpTable& table);
void add_attention_ops(DeviceOpTable& table);

// The device address of an operand bound to a GPU step; an OperationError naming the
// operand when the plan gave it none (a planning bug, never a user error).
void* device_address(const std::vector<Placement>& places, OperandId id, const Node& node,
                     const char* what);

}  // namespace cppnn::detail::cuda
