#pragma once
// What a built graph holds beyond Graph's own accessors, for the bindings that report it
// (rustnn's MLGraph.operand_count) and the tools that describe it (cppnn inspect, the
// summary of cppnn build).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cppnn/graph.h"

namespace cppnn {

// Every operand of the graph: inputs, constants and the outputs of every node.
size_t operand_count(const Graph& graph);

enum class OperandKind { input, constant, intermediate };

// One operand, at the index its id gives (NodeSummary's inputs and outputs).
struct OperandSummary {
  OperandDescriptor desc;
  OperandKind kind = OperandKind::intermediate;
  std::string name;         // a graph input's name, else ""
  std::string output_name;  // the graph output it is, else ""
  size_t bytes = 0;         // a constant's bytes, else 0
  std::shared_ptr<const Tensor> data;  // a constant's values (shared, not copied), else null
};

// One node, in the graph's (topological) order.
struct NodeSummary {
  std::string op;  // the WebNN name (include/cppnn/ops.def), e.g. "conv2d"
  std::string label;
  std::vector<int32_t> inputs;  // operand ids; -1: an absent optional operand
  std::vector<int32_t> outputs;
  // What the compiler's fusion pass folded into it (src/compiler/fusion.cpp): the fused
  // activation's op name ("relu", "clamp", ...), "bias" for a matmul's bias, "residual"
  // for a conv2d's or layerNormalization's residual add.
  std::vector<std::string> fused;
};

std::vector<OperandSummary> graph_operands(const Graph& graph);
std::vector<NodeSummary> graph_nodes(const Graph& graph);
// What the graph's float32 operands compute in: float16 for a float16 engine's graph.
Precision graph_precision(const Graph& graph);
// The bytes of all its constants (the weights, after any folding and lowering).
size_t constant_bytes(const Graph& graph);

}  // namespace cppnn
