#include "runtime/memory_plan.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace cppnn::detail {

MemoryPlan plan_memory(const GraphIR& g, const std::vector<bool>& views) {
  constexpr size_t kNone = SIZE_MAX;
  size_t n_ops = g.operands.size();
  std::vector<int32_t> first(n_ops, -1), last(n_ops, -1);
  for (size_t s = 0; s < g.nodes.size(); ++s) {
    for (OperandId id : g.nodes[s].outputs) first[size_t(id)] = last[size_t(id)] = int32_t(s);
    for (OperandId id : g.nodes[s].inputs)
      if (id != kNoOperand) last[size_t(id)] = int32_t(s);
  }
  std::vector<bool> is_output(n_ops, false);
  for (const auto& [_, id] : g.outputs) is_output[size_t(id)] = true;

  // A conv2d with a fused residual writes its result over the residual when that is the
  // residual's last use: the sum post-op then needs no copy of the residual.
  std::vector<OperandId> alias(n_ops, kNoOperand);  // output -> the residual it overwrites
  std::vector<bool> residual(n_ops, false);
  for (const Node& n : g.nodes)
    if (n.op == OpId::conv2d && n.inputs.size() > 3 && n.inputs[3] != kNoOperand)
      residual[size_t(n.inputs[3])] = true;
  // A reshape's output is its input's bytes: nothing writes either after it is made.
  auto intermediate = [&](OperandId id) {
    return g.operands[size_t(id)].role == OperandRole::intermediate && !is_output[size_t(id)];
  };
  for (size_t s = 0; s < g.nodes.size() && s < views.size(); ++s) {
    const Node& n = g.nodes[s];
    if (!views[s] || n.op != OpId::reshape || n.inputs.empty() || n.outputs.size() != 1) continue;
    OperandId x = n.inputs[0], y = n.outputs[0];
    if (!intermediate(x) || !intermediate(y) || residual[size_t(x)] || residual[size_t(y)] ||
        byte_size(g.desc(x).data_type, element_count(g.desc(x).shape)) !=
            byte_size(g.desc(y).data_type, element_count(g.desc(y).shape)))
      continue;
    alias[size_t(y)] = x;
  }
  for (size_t s = 0; s < g.nodes.size(); ++s) {
    const Node& n = g.nodes[s];
    if (n.op != OpId::conv2d || n.inputs.size() < 4 || n.inputs[3] == kNoOperand) continue;
    OperandId r = n.inputs[3], y = n.outputs[0];
    if (g.operands[size_t(r)].role != OperandRole::intermediate || is_output[size_t(r)] ||
        is_output[size_t(y)] || last[size_t(r)] != int32_t(s) || n.inputs[0] == r ||
        alias[size_t(r)] != kNoOperand || !(g.desc(r) == g.desc(y)))
      continue;
    alias[size_t(y)] = r;
    last[size_t(r)] = std::max(last[size_t(r)], last[size_t(y)]);
  }
  // Chains of aliases (y2 over y1 over r) extend the root's lifetime to the end.
  for (size_t i = n_ops; i-- > 0;) {
    if (alias[i] == kNoOperand) continue;
    OperandId root = alias[i];
    while (alias[size_t(root)] != kNoOperand) root = alias[size_t(root)];
    last[size_t(root)] = std::max(last[size_t(root)], last[i]);
  }

  struct Block {
    size_t offset, bytes;
    int32_t first, last;
  };
  std::vector<OperandId> order;
  for (size_t i = 0; i < n_ops; ++i)
    if (g.operands[i].role == OperandRole::intermediate && !is_output[i] && first[i] >= 0 &&
        alias[i] == kNoOperand)
      order.push_back(OperandId(i));
  auto bytes_of = [&](OperandId id) {
    return (byte_size(g.desc(id).data_type, element_count(g.desc(id).shape)) + 63) / 64 * 64;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](OperandId a, OperandId b) { return bytes_of(a) > bytes_of(b); });
  MemoryPlan plan;
  plan.offset.assign(n_ops, kNone);
  std::vector<Block> placed;
  for (OperandId id : order) {
    size_t bytes = bytes_of(id);
    std::vector<std::pair<size_t, size_t>> busy;
    for (const Block& b : placed)
      if (!(b.last < first[size_t(id)] || last[size_t(id)] < b.first))
        busy.emplace_back(b.offset, b.offset + b.bytes);
    std::sort(busy.begin(), busy.end());
    // Lowest gap that fits: best enough, and stable across runs.
    size_t at = 0;
    for (const auto& [lo, hi] : busy) {
      if (at + bytes <= lo) break;
      at = std::max(at, hi);
    }
    placed.push_back({at, bytes, first[size_t(id)], last[size_t(id)]});
    plan.offset[size_t(id)] = at;
    plan.arena_bytes = std::max(plan.arena_bytes, at + bytes);
  }
  for (size_t i = 0; i < n_ops; ++i) {
    OperandId root = OperandId(i);
    while (alias[size_t(root)] != kNoOperand) root = alias[size_t(root)];
    if (root != OperandId(i)) plan.offset[i] = plan.offset[size_t(root)];
  }
  return plan;
}

void check_plan_memory(const GraphIR& g, const MemoryPlan& plan, size_t limit) {
  if (limit == 0) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    limit = pages > 0 && page > 0 ? size_t(pages) * size_t(page) : SIZE_MAX;
  }
  // Every operand is at most 2^33 elements of 8 bytes (the builder's and the engine
  // reader's limits), so these sums of a graph's operands cannot overflow.
  size_t total = plan.arena_bytes, largest = 0;
  const Node* largest_node = nullptr;
  for (const auto& [_, id] : g.outputs)
    if (g.operands[size_t(id)].role != OperandRole::constant)
      total += byte_size(g.desc(id).data_type, element_count(g.desc(id).shape));
  for (const Node& node : g.nodes)
    for (OperandId id : node.outputs) {
      size_t bytes = byte_size(g.desc(id).data_type, element_count(g.desc(id).shape));
      if (bytes > largest) largest = bytes, largest_node = &node;
    }
  if (total <= limit) return;
  std::string where;
  if (largest_node)
    where = "; the largest tensor is " + std::to_string(largest) + " bytes, made by " +
            op_name(largest_node->op) +
            (largest_node->label.empty() ? "" : " '" + largest_node->label + "'");
  fail(ErrorKind::OperationError,
       "the graph needs " + std::to_string(total) + " bytes for its intermediates and outputs, " +
           "more than the " + std::to_string(limit) + " allowed (max_graph_bytes: " +
           "create_context(max_graph_bytes=...), ContextOptions in C++; by default the machine's " +
           "memory)" + where);
}

}  // namespace cppnn::detail
