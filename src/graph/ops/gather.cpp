// Gather ops: gather, gatherElements and gatherND, and their inverses scatterElements and
// scatterND: validation and output shapes per the WebNN spec's method steps. Index values
// are only known at run time, so the kernels count a negative index from the end and clamp
// what is still out of range; nothing here can check them.
#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

constexpr std::initializer_list<DataType> kIndexTypes = {DataType::int32, DataType::uint32,
                                                         DataType::int64};

std::vector<OperandDescriptor> infer_gather(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  const OperandDescriptor& indices = *in[1];
  check_data_type(indices, "indices", {DataType::int32, DataType::uint32, DataType::int64});
  int64_t axis = unsigned_attr(attrs, "axis");
  if (size_t(axis) >= x.shape.size())
    type_error("axis " + std::to_string(axis) + " is out of range for " +
               operand_name("input") + " of shape " + to_string(x.shape));
  Dims out(x.shape.begin(), x.shape.begin() + axis);
  out.insert(out.end(), indices.shape.begin(), indices.shape.end());
  out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
  return {OperandDescriptor{x.data_type, out}};
}

// gatherElements' and scatterElements' shared steps, once the ranks agree: the axis is one
// of the input's, and the indices match the input in every dimension but the axis.
void check_elements_axis(const OperandDescriptor& x, const OperandDescriptor& indices,
                         int64_t axis) {
  if (axis < 0 || size_t(axis) >= x.shape.size())
    type_error("axis " + std::to_string(axis) + " is out of range for " + operand_name("input") +
               " of shape " + to_string(x.shape));
  Dims expected = x.shape;
  expected[size_t(axis)] = indices.shape[size_t(axis)];
  if (indices.shape != expected)
    type_error(operand_name("indices") + " of shape " + to_string(indices.shape) + " must match " +
               operand_name("input") + " of shape " + to_string(x.shape) +
               " in every dimension but axis " + std::to_string(axis) + " (expected " +
               to_string(expected) + ")");
}

std::vector<OperandDescriptor> infer_gather_elements(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  const OperandDescriptor& indices = *in[1];
  check_data_type(indices, "indices", kIndexTypes);
  if (x.shape.empty())
    type_error(operand_name("input") + " must have rank 1 or more, got a scalar");
  if (indices.shape.size() != x.shape.size())
    type_error(operand_name("indices") + " of shape " + to_string(indices.shape) +
               " must have the rank of " + operand_name("input") + " of shape " +
               to_string(x.shape));
  check_elements_axis(x, indices, attrs.i("axis"));
  return {OperandDescriptor{x.data_type, indices.shape}};
}

// gatherND's and scatterND's shared steps: the indices' type and both ranks, the coordinate
// size against the input's rank; returns the shape of the slices the tuples name (gatherND's
// output, scatterND's updates): the indices' leading dimensions, then the input's after the
// coordinates.
Dims nd_slices_shape(const OperandDescriptor& x, const OperandDescriptor& indices) {
  check_data_type(indices, "indices", kIndexTypes);
  if (x.shape.empty())
    type_error(operand_name("input") + " must have rank 1 or more, got a scalar");
  if (indices.shape.empty())
    type_error(operand_name("indices") + " must have rank 1 or more, got a scalar");
  size_t indexable = indices.shape.size() - 1;
  int64_t coordinate = indices.shape[indexable];
  if (size_t(coordinate) > x.shape.size())
    type_error("the coordinate size " + std::to_string(coordinate) + " (last dimension of " +
               operand_name("indices") + " of shape " + to_string(indices.shape) +
               ") is greater than the rank of " + operand_name("input") + " of shape " +
               to_string(x.shape));
  Dims out(indices.shape.begin(), indices.shape.begin() + int64_t(indexable));
  out.insert(out.end(), x.shape.begin() + coordinate, x.shape.end());
  return out;
}

std::vector<OperandDescriptor> infer_gather_nd(const InputDescs& in, Attrs&) {
  return {OperandDescriptor{in[0]->data_type, nd_slices_shape(*in[0], *in[1])}};
}

// scatterElements: the spec's steps, in its order.
std::vector<OperandDescriptor> infer_scatter_elements(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  const OperandDescriptor& indices = *in[1];
  const OperandDescriptor& updates = *in[2];
  check_data_type(indices, "indices", kIndexTypes);
  check_same_type(x, "input", updates, "updates");
  if (x.shape.empty())
    type_error(operand_name("input") + " must have rank 1 or more, got a scalar");
  for (const auto& [desc, name] : {std::pair{&indices, "indices"}, std::pair{&updates, "updates"}})
    if (desc->shape.size() != x.shape.size())
      type_error(operand_name(name) + " of shape " + to_string(desc->shape) +
                 " must have the rank of " + operand_name("input") + " of shape " +
                 to_string(x.shape));
  check_elements_axis(x, indices, unsigned_attr(attrs, "axis"));
  if (updates.shape != indices.shape)
    type_error(operand_name("updates") + " of shape " + to_string(updates.shape) +
               " must have the shape of " + operand_name("indices") + " " +
               to_string(indices.shape));
  return {x};
}

// scatterND: updates hold one slice of the input's trailing axes per coordinate tuple.
std::vector<OperandDescriptor> infer_scatter_nd(const InputDescs& in, Attrs&) {
  const OperandDescriptor& x = *in[0];
  const OperandDescriptor& indices = *in[1];
  const OperandDescriptor& updates = *in[2];
  check_data_type(indices, "indices", kIndexTypes);
  check_same_type(x, "input", updates, "updates");
  Dims expected = nd_slices_shape(x, indices);
  if (updates.shape != expected)
    type_error(operand_name("updates") + " of shape " + to_string(updates.shape) +
               " must be " + to_string(expected) + " (the leading dimensions of " +
               operand_name("indices") + " " + to_string(indices.shape) +
               ", then those of " + operand_name("input") + " " + to_string(x.shape) +
               " past the coordinates)");
  return {x};
}

}  // namespace

void register_gather_ops(OpTable& table) {
  table.add(OpSchema{OpId::gather, {"input", "indices"}, 2, false, infer_gather});
  table.add(OpSchema{OpId::gatherElements, {"input", "indices"}, 2, false, infer_gather_elements});
  table.add(OpSchema{OpId::gatherND, {"input", "indices"}, 2, false, infer_gather_nd});
  table.add(OpSchema{OpId::scatterElements, {"input", "indices", "updates"}, 3, false,
                     infer_scatter_elements});
  table.add(OpSchema{OpId::scatterND, {"input", "indices", "updates"}, 3, false,
                     infer_scatter_nd});
}

}  // namespace detail

using namespace detail;

Operand GraphBuilder::gather(const Operand& x, const Operand& indices, const GatherOptions& o) {
  Attrs attrs;
  attrs.set("axis", int64_t(o.axis));
  return add_op(*this, OpId::gather, {x, indices}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::gather_elements(const Operand& x, const Operand& indices,
                                      const GatherOptions& o) {
  Attrs attrs;
  attrs.set("axis", int64_t(o.axis));
  return add_op(*this, OpId::gatherElements, {x, indices}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::gather_nd(const Operand& x, const Operand& indices,
                                const OperatorOptions& o) {
  return add_op(*this, OpId::gatherND, {x, indices}, Attrs{}, o.label)[0];
}

Operand GraphBuilder::scatter_elements(const Operand& x, const Operand& indices,
                                       const Operand& updates, const ScatterOptions& o) {
  Attrs attrs;
  attrs.set("axis", int64_t(o.axis));
  return add_op(*this, OpId::scatterElements, {x, indices, updates}, std::move(attrs),
                o.label)[0];
}

Operand GraphBuilder::scatter_nd(const Operand& x, const Operand& indices, const Operand& updates,
                                 const OperatorOptions& o) {
  return add_op(*this, OpId::scatterND, {x, indices, updates}, Attrs{}, o.label)[0];
}

}  // namespace cppnn
