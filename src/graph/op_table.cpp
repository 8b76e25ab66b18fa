#include "graph/op_table.h"

namespace cppnn::detail {

const OpTable& OpTable::instance() {
  static const OpTable table = [] {
    OpTable t;
    register_elementwise_ops(t);
    register_shape_ops(t);
    register_reduction_ops(t);
    register_conv_ops(t);
    register_normalization_ops(t);
    register_pooling_ops(t);
    return t;
  }();
  return table;
}

const OpSchema* OpTable::find(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}

void OpTable::add(OpSchema schema) {
  std::string name = schema.name;
  ops_.emplace(std::move(name), std::move(schema));
}

std::vector<std::string> OpTable::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : ops_) out.push_back(name);
  return out;
}

}  // namespace cppnn::detail
