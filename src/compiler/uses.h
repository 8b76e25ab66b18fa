#pragma once
// Who reads and writes each operand of a graph: what the fusion passes check before they
// take a node's output over (fusion.cpp, fuse_attention.cpp).
#include <vector>

#include "graph/ir.h"

namespace cppnn::detail {

struct Uses {
  std::vector<int32_t> count;     // node inputs reading each operand, +1 if a graph output
  std::vector<int32_t> consumer;  // the last node reading it
  std::vector<int32_t> producer;  // the node writing it, -1 for inputs and constants

  explicit Uses(const GraphIR& g)
      : count(g.operands.size(), 0), consumer(g.operands.size(), -1),
        producer(g.operands.size(), -1) {
    for (size_t n = 0; n < g.nodes.size(); ++n) {
      if (g.nodes[n].op == OpId::none) continue;
      for (OperandId in : g.nodes[n].inputs)
        if (in != kNoOperand) ++count[size_t(in)], consumer[size_t(in)] = int32_t(n);
      for (OperandId out : g.nodes[n].outputs) producer[size_t(out)] = int32_t(n);
    }
    for (const auto& [_, id] : g.outputs) ++count[size_t(id)];
  }
};

}  // namespace cppnn::detail
