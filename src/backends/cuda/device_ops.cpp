#include "backends/cuda/device_ops.h"

#include <optional>
#include <set>
#include <string>

#include "backends/cuda/codegen/cuda_codegen.h"
#include "graph/op_table.h"

namespace cppnn::detail::cuda {

const DeviceOpTable& device_ops() {
  static const DeviceOpTable table = [] {
    DeviceOpTable t;
    add_reduction_ops(t);
    add_movement_ops(t);
    add_gather_ops(t);
    add_conv_ops(t);
    add_matmul_ops(t);
    add_pooling_ops(t);
    add_normalization_ops(t);
    add_recurrent_ops(t);
    add_quantization_ops(t);
    add_attention_ops(t);
    return t;
  }();
  return table;
}

DeviceDecision decide_on_device(const GraphIR& g, const Node& node, const Device& device) {
  // CPPNN_CUDA_CPU_OPS (CudaOptions::cpu_ops): sent to the CPU fallback on purpose.
  if (device.options.cpu_ops.count(node.op)) {
    DeviceDecision d;
    d.why_not = "listed in CPPNN_CUDA_CPU_OPS";
    return d;
  }
  const DeviceOpTable& table = device_ops();
  auto it = table.find(node.op);
  if (it == table.end()) {
    DeviceDecision d;
    d.why_not = "no CUDA kernel for this op yet";
    return d;
  }
  // bfloat16 (bfloat16 precision's storage type) runs on the device in the generated
  // element-wise kernels and in the ops below, whose steps handle it: cuBLASLt, cuDNN and
  // the row kernels, and the movement and gather steps that move elements by their size
  // alone (make_view_step, make_parts_step, the gathers; pad, resample2d and the scatters
  // look at the type and are left out). No other step is written for it, and several would
  // read its bits as float16. The CPU fallback computes such a node in float32
  // (make_node_kernel): slow but exact.
  static const std::set<OpId> takes_bfloat16 = {
      OpId::matmul,  OpId::gemm,      OpId::conv2d,  OpId::convTranspose2d, OpId::softmax,
      OpId::layerNormalization,       OpId::reshape, OpId::transpose,       OpId::slice,
      OpId::expand,  OpId::tile,      OpId::reverse, OpId::concat,          OpId::split,
      OpId::gather,  OpId::gatherElements,           OpId::gatherND};
  for (const auto* ids : {&node.inputs, &node.outputs})
    for (OperandId id : *ids)
      if (id != kNoOperand && g.desc(id).data_type == DataType::bfloat16 &&
          !takes_bfloat16.count(node.op)) {
        DeviceDecision d;
        d.why_not = "no CUDA kernel for bfloat16 yet";
        return d;
      }
  return it->second.decide(g, node, device);
}

NodeSupport supports_node(const GraphIR& g, size_t node, const Device& device,
                          bool elementwise_in_kernels) {
  const Node& n = g.nodes.at(node);
  if (n.op == OpId::generatedKernel) return {};
  if (elementwise_in_kernels && is_cuda_elementwise_op(n.op)) return {};
  DeviceDecision d = decide_on_device(g, n, device);
  if (d.on_gpu) return {};
  return NodeSupport{false, d.why_not.empty() ? "no CUDA kernel for this op yet" : d.why_not};
}

namespace {

// Fused-activation attributes back to the op's own attributes (fusion.cpp's contract).
Attrs activation_attrs(const Attrs& fused) {
  Attrs a;
  switch (find_op(fused.s("activation")).value_or(OpId::none)) {
    case OpId::clamp:
      a.set("minValue", fused.f("activationMin"));
      a.set("maxValue", fused.f("activationMax"));
      break;
    case OpId::leakyRelu:
    case OpId::elu:
      a.set("alpha", fused.f("activationAlpha"));
      break;
    default:
      break;
  }
  return a;
}

}  // namespace

void split_epilogue_activations(GraphIR& g, const Device& device) {
  std::vector<Node> nodes;
  nodes.reserve(g.nodes.size());
  for (Node& node : g.nodes) {
    if (node.attrs.s_or("activation", "").empty()) {
      nodes.push_back(std::move(node));
      continue;
    }
    DeviceDecision d = decide_on_device(g, node, device);
    if (!d.on_gpu || d.activation_in_epilogue) {
      nodes.push_back(std::move(node));
      continue;
    }
    const std::string& activation = node.attrs.s("activation");
    std::optional<OpId> act_op = find_op(activation);
    const OpSchema* schema = act_op ? OpTable::instance().find(*act_op) : nullptr;
    if (!schema)
      fail(ErrorKind::OperationError, "cuda plan: unknown activation '" + activation + "'");
    Node act;
    act.op = *act_op;
    act.attrs = activation_attrs(node.attrs);
    act.label = node.label.empty() ? "" : node.label + " activation";
    OperandDescriptor desc = g.desc(node.outputs[0]);
    schema->infer({&desc}, act.attrs);  // fills the op's defaults, as the builder would

    OperandId product = OperandId(g.operands.size());
    g.operands.push_back(OperandInfo{desc, OperandRole::intermediate, {}, nullptr});
    act.inputs = {product};
    act.outputs = {node.outputs[0]};
    node.outputs[0] = product;
    for (const char* attr : {"activation", "activationMin", "activationMax", "activationAlpha"})
      node.attrs.erase(attr);
    nodes.push_back(std::move(node));
    nodes.push_back(std::move(act));
  }
  g.nodes = std::move(nodes);
}

void* device_address(const std::vector<Placement>& places, OperandId id, const Node& node,
                     const char* what) {
  void* p = places[size_t(id)].device;
  if (!p && places[size_t(id)].bytes)
    fail(ErrorKind::OperationError, "cuda plan: operand '" + std::string(what) + "' of GPU " +
                                        node_name(node) + " has no device copy");
  return p;
}

}  // namespace cppnn::detail::cuda
