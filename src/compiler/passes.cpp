#include "compiler/passes.h"

#include <algorithm>

namespace cppnn::detail {

void fold_constants(GraphIR& g, const PassOptions& options) {
  const ConstantEvaluator& evaluator = options.evaluator;
  if (!evaluator) return;
  size_t folded = 0;
  for (Node& node : g.nodes) {
    if (node.op == OpId::none) continue;
    bool all_constant = true;
    for (OperandId id : node.inputs)
      if (id != kNoOperand && (g.operands[size_t(id)].role != OperandRole::constant ||
                               std::find(options.runtime_constants.begin(),
                                         options.runtime_constants.end(), id) !=
                                   options.runtime_constants.end()))
        all_constant = false;
    if (!all_constant) continue;
    size_t out_bytes = 0;
    for (OperandId id : node.outputs)
      out_bytes += byte_size(g.desc(id).data_type, element_count(g.desc(id).shape));
    if (!evaluator.can_evaluate(node.op) || out_bytes > options.max_folded_node_bytes ||
        out_bytes > options.max_folded_bytes - folded)
      continue;
    folded += out_bytes;

    std::vector<const Tensor*> ins;
    for (OperandId id : node.inputs)
      ins.push_back(id == kNoOperand ? nullptr : g.operands[size_t(id)].data.get());
    std::vector<Tensor> results;
    for (OperandId id : node.outputs) results.emplace_back(g.desc(id).data_type, g.desc(id).shape);
    std::vector<Tensor*> outs;
    for (Tensor& t : results) outs.push_back(&t);
    evaluator.evaluate(g, node, ins, outs);
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      OperandInfo& info = g.operands[size_t(node.outputs[i])];
      info.role = OperandRole::constant;
      info.data = std::make_shared<const Tensor>(std::move(results[i]));
    }
    node.op = OpId::none;  // dead; remove_dead_code drops it
  }
}

void remove_dead_code(GraphIR& g) {
  std::vector<bool> live(g.operands.size(), false);
  for (const auto& [_, id] : g.outputs) live[size_t(id)] = true;
  std::vector<bool> node_live(g.nodes.size(), false);
  for (size_t n = g.nodes.size(); n-- > 0;) {
    const Node& node = g.nodes[n];
    if (node.op == OpId::none) continue;
    bool needed = false;
    for (OperandId o : node.outputs) needed = needed || live[size_t(o)];
    if (!needed) continue;
    node_live[n] = true;
    for (OperandId o : node.outputs) live[size_t(o)] = true;
    for (OperandId in : node.inputs)
      if (in != kNoOperand) live[size_t(in)] = true;
  }
  // Graph inputs stay even if unused: compute() still accepts and checks them.
  for (const auto& [_, id] : g.inputs) live[size_t(id)] = true;

  std::vector<OperandId> remap(g.operands.size(), kNoOperand);
  std::vector<OperandInfo> operands;
  for (size_t i = 0; i < g.operands.size(); ++i) {
    if (!live[i]) continue;
    remap[i] = OperandId(operands.size());
    operands.push_back(std::move(g.operands[i]));
  }
  std::vector<Node> nodes;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (!node_live[n]) continue;
    Node node = std::move(g.nodes[n]);
    for (OperandId& id : node.inputs)
      if (id != kNoOperand) id = remap[size_t(id)];
    for (OperandId& id : node.outputs) id = remap[size_t(id)];
    nodes.push_back(std::move(node));
  }
  for (auto& [_, id] : g.inputs) id = remap[size_t(id)];
  for (auto& [_, id] : g.outputs) id = remap[size_t(id)];
  g.operands = std::move(operands);
  g.nodes = std::move(nodes);
}

bool moves_only_unit_axes(const Dims& shape, const std::vector<int64_t>& perm) {
  int64_t last = -1;
  for (int64_t axis : perm) {
    if (axis < 0 || size_t(axis) >= shape.size()) return false;
    if (shape[size_t(axis)] == 1) continue;
    if (axis < last) return false;
    last = axis;
  }
  return true;
}

bool transpose_to_reshape(GraphIR& g, Node& t) {
  if (t.op != OpId::transpose || t.inputs.size() != 1 || t.outputs.size() != 1) return false;
  const Dims& in = g.desc(t.inputs[0]).shape;
  const std::vector<int64_t>& perm = t.attrs.ints("permutation");
  if (perm.size() != in.size() || !moves_only_unit_axes(in, perm)) return false;
  const Dims& out = g.desc(t.outputs[0]).shape;
  t.op = OpId::reshape;
  t.attrs = Attrs();
  t.attrs.set("newShape", std::vector<int64_t>(out.begin(), out.end()));
  return true;
}

void unit_transposes_to_reshapes(GraphIR& g) {
  for (Node& n : g.nodes) transpose_to_reshape(g, n);
}

std::shared_ptr<const GraphIR> optimize(const std::shared_ptr<const GraphIR>& graph,
                                        const PassOptions& options) {
  auto g = std::make_shared<GraphIR>(*graph);
  if (options.lower_recurrent) lower_recurrent(*g);
  if (options.fold_constants) fold_constants(*g, options);
  if (options.channels_last) {
    choose_channels_last(*g);
    remove_dead_code(*g);
  }
  if (options.fuse && options.attention) {
    merge_projections(*g, options);
    fuse_attention(*g, options);
    remove_dead_code(*g);
  }
  if (options.fuse) {
    fuse_gelu(*g);
    fuse_hard_swish(*g);
    fuse_producers(*g);
    fuse_linear(*g);
  }
  if (options.fuse && options.norm_residual) fuse_norm_residual(*g, options);
  if (options.fuse && options.cpu_plan_fusions) {
    fuse_swish(*g);
    fuse_batch_norm_relu(*g);
    fold_transposes_into_matmul(*g);
  }
  if (options.concrete_shapes) unit_transposes_to_reshapes(*g);
  remove_dead_code(*g);
  return g;
}

}  // namespace cppnn::detail
