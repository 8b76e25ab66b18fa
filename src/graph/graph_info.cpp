#include "cppnn/graph_info.h"

#include "graph/ir.h"

namespace cppnn {

size_t operand_count(const Graph& graph) { return graph.ir().operands.size(); }

}  // namespace cppnn
