#include "cppnn/graph_info.h"

#include "graph/ir.h"

namespace cppnn {

using detail::OperandRole;
using detail::OpId;

size_t operand_count(const Graph& graph) { return graph.ir().operands.size(); }

std::vector<OperandSummary> graph_operands(const Graph& graph) {
  const detail::GraphIR& ir = graph.ir();
  std::vector<OperandSummary> out(ir.operands.size());
  for (size_t i = 0; i < ir.operands.size(); ++i) {
    const detail::OperandInfo& o = ir.operands[i];
    out[i].desc = o.desc;
    out[i].kind = o.role == OperandRole::input      ? OperandKind::input
                  : o.role == OperandRole::constant ? OperandKind::constant
                                                    : OperandKind::intermediate;
    if (o.role == OperandRole::constant && o.data) {
      out[i].bytes = o.data->byte_size();
      out[i].data = o.data;
    }
  }
  for (const auto& [name, id] : ir.inputs) out[size_t(id)].name = name;
  for (const auto& [name, id] : ir.outputs) out[size_t(id)].output_name = name;
  return out;
}

std::vector<NodeSummary> graph_nodes(const Graph& graph) {
  const detail::GraphIR& ir = graph.ir();
  std::vector<NodeSummary> out;
  out.reserve(ir.nodes.size());
  for (const detail::Node& n : ir.nodes) {
    if (n.op == OpId::none) continue;
    NodeSummary s;
    s.op = detail::op_name(n.op);
    s.label = n.label;
    s.inputs.assign(n.inputs.begin(), n.inputs.end());
    s.outputs.assign(n.outputs.begin(), n.outputs.end());
    // The slots fusion.cpp's contract adds beyond the op's own operands.
    auto present = [&](size_t i) {
      return n.inputs.size() > i && n.inputs[i] != detail::kNoOperand;
    };
    if (n.op == OpId::matmul && present(2)) s.fused.push_back("bias");
    if ((n.op == OpId::conv2d || n.op == OpId::layerNormalization) && present(3))
      s.fused.push_back("residual");
    if (n.attrs.has("activation")) s.fused.push_back(n.attrs.s("activation"));
    out.push_back(std::move(s));
  }
  return out;
}

Precision graph_precision(const Graph& graph) { return graph.ir().precision; }

size_t constant_bytes(const Graph& graph) {
  size_t total = 0;
  for (const detail::OperandInfo& o : graph.ir().operands)
    if (o.role == OperandRole::constant && o.data) total += o.data->byte_size();
  return total;
}

}  // namespace cppnn
