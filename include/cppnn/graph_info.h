#pragma once
// Counts of a built graph beyond Graph's own accessors (graph.h), for the bindings that
// report them (rustnn's MLGraph.operand_count).
#include <cstddef>

#include "cppnn/graph.h"

namespace cppnn {

// Every operand of the graph: inputs, constants and the outputs of every node.
size_t operand_count(const Graph& graph);

}  // namespace cppnn
