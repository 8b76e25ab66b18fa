#include "graph/op_table.h"

#include <algorithm>

namespace cppnn::detail {

const OpTable& OpTable::instance() {
  static const OpTable table = [] {
    OpTable t;
    register_elementwise_ops(t);
    register_reduction_ops(t);
    register_movement_ops(t);
    register_gather_ops(t);
    register_conv_ops(t);
    register_matmul_ops(t);
    register_pooling_ops(t);
    register_normalization_ops(t);
    register_recurrent_ops(t);
    register_quantization_ops(t);
    return t;
  }();
  return table;
}

const OpSchema* OpTable::find(OpId id) const {
  auto it = ops_.find(id);
  return it == ops_.end() ? nullptr : &it->second;
}

const OpSchema* OpTable::find(const std::string& name) const {
  std::optional<OpId> id = find_op(name);
  return id ? find(*id) : nullptr;
}

void OpTable::add(OpSchema schema) {
  OpId id = schema.id;
  ops_.emplace(id, std::move(schema));
}

std::vector<std::string> OpTable::names() const {
  std::vector<std::string> out;
  for (const auto& [id, _] : ops_) out.push_back(op_name(id));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cppnn::detail
