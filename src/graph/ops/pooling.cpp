#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn::detail {
void register_pooling_ops(OpTable&) {}
}  // namespace cppnn::detail
