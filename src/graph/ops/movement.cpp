// Data-movement ops: reshape, transpose, concat, split, slice, expand, pad, tile, reverse,
// triangular, resample2d. Validation follows the WebNN spec's method steps. (The gathers
// are gather.cpp.)
#include <cmath>
#include <limits>
#include <numeric>

#include "core/checked.h"
#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

// The spec's "valid tensor count": how many operands concat takes or split makes.
constexpr int64_t kMaxTensorCount = 8192;

std::string list_string(const std::vector<int64_t>& v) { return to_string(Dims(v)); }

// An unsigned-long list attribute: rejects negative values and values past 2^32 - 1, which
// only a non-builder caller (ONNX import, an engine file) can produce.
const std::vector<int64_t>& unsigned_list(const Attrs& attrs, const std::string& name) {
  const std::vector<int64_t>& v = attrs.ints(name);
  for (int64_t x : v)
    if (x < 0) type_error(name + " must not hold negative values, got " + list_string(v));
  check_unsigned_long(v, name);
  return v;
}

void check_list_size(const std::vector<int64_t>& v, const std::string& name, size_t rank) {
  if (v.size() != rank)
    type_error(name + " has " + std::to_string(v.size()) + " values but " +
               operand_name("input") + " has rank " + std::to_string(rank));
}

// Each item must be a valid dimension (> 0 and in the range of long).
Dims valid_dims(const std::vector<int64_t>& v, const std::string& name) {
  for (int64_t x : v)
    if (x <= 0 || x > kMaxDimension)
      type_error(name + " " + list_string(v) + " has an item that is not a valid dimension");
  return Dims(v);
}

std::vector<OperandDescriptor> one(DataType type, Dims shape) {
  return {OperandDescriptor{type, std::move(shape)}};
}

std::vector<OperandDescriptor> infer_reshape(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  Dims shape = valid_dims(attrs.ints("newShape"), "newShape");
  size_t want = element_count(x.shape), got = element_count(shape);
  if (want != got)
    type_error("newShape " + to_string(shape) + " holds " + std::to_string(got) +
               " elements but " + operand_name("input") + " of shape " + to_string(x.shape) +
               " holds " + std::to_string(want));
  return one(x.data_type, shape);
}

std::vector<OperandDescriptor> infer_transpose(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  size_t rank = x.shape.size();
  if (!attrs.has("permutation")) {
    std::vector<int64_t> reversed(rank);
    for (size_t i = 0; i < rank; ++i) reversed[i] = int64_t(rank - 1 - i);
    attrs.set("permutation", reversed);
  }
  const std::vector<int64_t>& perm = attrs.ints("permutation");
  check_list_size(perm, "permutation", rank);
  check_axes(perm, rank, "permutation " + list_string(perm));
  Dims out(rank);
  for (size_t i = 0; i < rank; ++i) out[i] = x.shape[size_t(perm[i])];
  return one(x.data_type, out);
}

std::vector<OperandDescriptor> infer_concat(const InputDescs& in, Attrs& attrs) {
  if (int64_t(in.size()) > kMaxTensorCount)
    type_error("got " + std::to_string(in.size()) + " inputs; at most " +
               std::to_string(kMaxTensorCount) + " are allowed");
  const OperandDescriptor& first = *in[0];
  int64_t axis = unsigned_attr(attrs, "axis");
  if (size_t(axis) >= first.shape.size())
    type_error("axis " + std::to_string(axis) + " is out of range for " +
               operand_name("inputs[0]") + " of shape " + to_string(first.shape));
  Dims out = first.shape;
  for (size_t i = 1; i < in.size(); ++i) {
    const OperandDescriptor& x = *in[i];
    std::string name = "inputs[" + std::to_string(i) + "]";
    check_same_type(first, "inputs[0]", x, name);
    if (x.shape.size() != first.shape.size())
      type_error(operand_name(name) + " has rank " + std::to_string(x.shape.size()) + " but " +
                 operand_name("inputs[0]") + " has rank " + std::to_string(first.shape.size()));
    for (size_t d = 0; d < x.shape.size(); ++d) {
      if (d == size_t(axis)) continue;
      if (x.shape[d] != first.shape[d])
        type_error(operand_name(name) + " of shape " + to_string(x.shape) +
                   " differs from " + operand_name("inputs[0]") + " of shape " +
                   to_string(first.shape) + " in dimension " + std::to_string(d) +
                   ", which is not the concatenation axis");
    }
    out[size_t(axis)] =
        checked_add(out[size_t(axis)], x.shape[size_t(axis)], "the concatenated size");
    if (out[size_t(axis)] > kMaxDimension)
      type_error("the concatenated size along axis " + std::to_string(axis) +
                 " is not a valid dimension");
  }
  return one(first.data_type, out);
}

std::vector<OperandDescriptor> infer_split(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  int64_t axis = unsigned_attr(attrs, "axis");
  if (size_t(axis) >= x.shape.size())
    type_error("axis " + std::to_string(axis) + " is out of range for " +
               operand_name("input") + " of shape " + to_string(x.shape));
  int64_t dim = x.shape[size_t(axis)];
  // The count form is turned into explicit sizes so kernels see one form only.
  if (!attrs.has("splits")) {
    if (!attrs.has("count")) type_error("either a split count or split sizes are required");
    int64_t count = attrs.i("count");
    if (count <= 0 || count > kMaxTensorCount)
      type_error("split count " + std::to_string(count) + " is not a valid tensor count (1 to " +
                 std::to_string(kMaxTensorCount) + ")");
    if (dim % count != 0)
      type_error("split count " + std::to_string(count) + " does not evenly divide dimension " +
                 std::to_string(axis) + " (size " + std::to_string(dim) + ") of " +
                 operand_name("input"));
    attrs.set("splits", std::vector<int64_t>(size_t(count), dim / count));
    attrs.erase("count");
  }
  const std::vector<int64_t>& splits = attrs.ints("splits");
  if (splits.empty() || int64_t(splits.size()) > kMaxTensorCount)
    type_error("splits has " + std::to_string(splits.size()) +
               " sizes, which is not a valid tensor count");
  int64_t sum = 0;
  for (int64_t s : splits) {
    if (s <= 0) type_error("splits " + list_string(splits) + " has a size that is not positive");
    // Sizes from an ONNX or engine file are not bounded by the builder's uint32.
    if (s > dim)
      type_error("splits " + list_string(splits) + " has a size larger than dimension " +
                 std::to_string(axis) + " (size " + std::to_string(dim) + ")");
    sum = checked_add(sum, s, "the sum of splits");
  }
  if (sum != dim)
    type_error("splits " + list_string(splits) + " sum to " + std::to_string(sum) +
               " but dimension " + std::to_string(axis) + " of " + operand_name("input") +
               " has size " + std::to_string(dim));
  std::vector<OperandDescriptor> outs;
  for (int64_t s : splits) {
    Dims shape = x.shape;
    shape[size_t(axis)] = s;
    outs.push_back({x.data_type, shape});
  }
  return outs;
}

std::vector<OperandDescriptor> infer_slice(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  size_t rank = x.shape.size();
  const std::vector<int64_t> starts = unsigned_list(attrs, "starts");
  const std::vector<int64_t> sizes = unsigned_list(attrs, "sizes");
  for (int64_t s : sizes)
    if (s == 0) type_error("sizes " + list_string(sizes) + " must not hold 0");
  check_list_size(starts, "starts", rank);
  check_list_size(sizes, "sizes", rank);
  if (!attrs.has("strides")) attrs.set("strides", std::vector<int64_t>(rank, 1));
  const std::vector<int64_t>& strides = attrs.ints("strides");
  check_list_size(strides, "strides", rank);
  check_unsigned_long(strides, "strides");
  Dims out(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (strides[d] < 1)
      type_error("strides " + list_string(strides) + " must all be at least 1");
    int64_t end = checked_add(starts[d], sizes[d], "the slice's end");
    if (starts[d] > x.shape[d] || end > x.shape[d])
      type_error("the slice [" + std::to_string(starts[d]) + ", " + std::to_string(end) +
                 ") of dimension " + std::to_string(d) + " is out of bounds for " +
                 operand_name("input") + " of shape " + to_string(x.shape));
    // ceil(sizes / strides) for sizes >= 1, without the sum sizes + strides - 1.
    out[d] = (sizes[d] - 1) / strides[d] + 1;
  }
  return one(x.data_type, out);
}

std::vector<OperandDescriptor> infer_expand(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  Dims shape = valid_dims(attrs.ints("newShape"), "newShape");
  if (!unidirectionally_broadcastable(x.shape, shape))
    type_error(operand_name("input") + " of shape " + to_string(x.shape) +
               " is not unidirectionally broadcastable to newShape " + to_string(shape));
  return one(x.data_type, shape);
}

std::vector<OperandDescriptor> infer_pad(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  size_t rank = x.shape.size();
  const std::vector<int64_t> begin = unsigned_list(attrs, "beginningPadding");
  const std::vector<int64_t> end = unsigned_list(attrs, "endingPadding");
  check_list_size(begin, "beginningPadding", rank);
  check_list_size(end, "endingPadding", rank);
  if (!attrs.has("mode")) attrs.set("mode", std::string("constant"));
  if (!attrs.has("value")) attrs.set("value", 0.0);
  const std::string& mode = attrs.s("mode");
  if (mode != "constant" && mode != "edge" && mode != "reflection")
    type_error("mode '" + mode + "' is not one of constant, edge, reflection");
  attrs.f("value");  // must be a number
  Dims out = x.shape;
  for (size_t d = 0; d < rank; ++d) {
    if (mode == "reflection" && (begin[d] >= x.shape[d] || end[d] >= x.shape[d]))
      type_error("reflection padding must be smaller than the input size in each dimension; "
                 "dimension " + std::to_string(d) + " has size " + std::to_string(x.shape[d]) +
                 " but padding " + std::to_string(begin[d]) + ", " + std::to_string(end[d]));
    out[d] = checked_add(checked_add(out[d], begin[d], "a padded dimension"), end[d],
                         "a padded dimension");
    if (out[d] > kMaxDimension)
      type_error("padded dimension " + std::to_string(d) + " is not a valid dimension");
  }
  return one(x.data_type, out);
}

std::vector<OperandDescriptor> infer_tile(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  const std::vector<int64_t> reps = unsigned_list(attrs, "repetitions");
  check_list_size(reps, "repetitions", x.shape.size());
  Dims out = x.shape;
  for (size_t d = 0; d < reps.size(); ++d) {
    if (reps[d] == 0) type_error("repetitions " + list_string(reps) + " must not hold 0");
    out[d] = checked_mul(out[d], reps[d], "a tiled dimension");
    if (out[d] > kMaxDimension)
      type_error("tiled dimension " + std::to_string(d) + " is not a valid dimension");
  }
  return one(x.data_type, out);
}

std::vector<OperandDescriptor> infer_reverse(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  size_t rank = x.shape.size();
  if (!attrs.has("axes")) {
    std::vector<int64_t> all(rank);
    std::iota(all.begin(), all.end(), int64_t(0));
    attrs.set("axes", all);
  }
  const std::vector<int64_t>& axes = attrs.ints("axes");
  check_axes(axes, rank, "axes " + list_string(axes));
  return one(x.data_type, x.shape);
}

std::vector<OperandDescriptor> infer_triangular(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  if (x.shape.size() < 2)
    type_error(operand_name("input") + " must be at least 2-D, got shape " + to_string(x.shape));
  if (!attrs.has("upper")) attrs.set_bool("upper", true);
  if (!attrs.has("diagonal")) attrs.set("diagonal", int64_t(0));
  attrs.b("upper");
  int64_t diagonal = attrs.i("diagonal");
  if (diagonal < std::numeric_limits<int32_t>::min() ||
      diagonal > std::numeric_limits<int32_t>::max())
    type_error("diagonal " + std::to_string(diagonal) + " is out of the range of long");
  return one(x.data_type, x.shape);
}

std::vector<OperandDescriptor> infer_resample2d(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& x = *in[0];
  check_data_type(x, "input",
                  {DataType::float32, DataType::float16, DataType::uint8, DataType::int8});
  check_rank(x, "input", 4);
  if (!attrs.has("mode")) attrs.set("mode", std::string("nearest-neighbor"));
  const std::string& mode = attrs.s("mode");
  if (mode != "nearest-neighbor" && mode != "linear")
    type_error("mode '" + mode + "' is not one of nearest-neighbor, linear");
  if (!attrs.has("scales")) attrs.set("scales", std::vector<double>{1.0, 1.0});
  const std::vector<double>& scales = attrs.floats("scales");
  if (scales.size() != 2) type_error("scales must hold 2 values, got " + std::to_string(scales.size()));
  for (double s : scales)
    if (!(s > 0) || !std::isfinite(s))
      type_error("scales must be positive, got " + std::to_string(s));
  bool has_sizes = attrs.has("sizes");
  if (has_sizes) {
    const std::vector<int64_t> sizes = unsigned_list(attrs, "sizes");
    if (sizes.size() != 2) type_error("sizes must hold 2 values, got " + list_string(sizes));
    for (int64_t s : sizes)
      if (s == 0) type_error("sizes " + list_string(sizes) + " must not hold 0");
  }
  if (!attrs.has("axes")) attrs.set("axes", std::vector<int64_t>{2, 3});
  const std::vector<int64_t>& axes = attrs.ints("axes");
  if (axes.size() != 2) type_error("axes must hold 2 values, got " + list_string(axes));
  check_axes(axes, 4, "axes " + list_string(axes));
  Dims out = x.shape;
  for (size_t i = 0; i < 2; ++i) {
    size_t axis = size_t(axes[i]);
    double size = has_sizes ? double(attrs.ints("sizes")[i])
                            : std::floor(double(x.shape[axis]) * scales[i]);
    if (!(size >= 1) || size > double(kMaxDimension))
      type_error("output size " + std::to_string(size) + " of axis " + std::to_string(axis) +
                 " is not a valid dimension");
    out[axis] = int64_t(size);  // in [1, kMaxDimension]: checked above
  }
  return one(x.data_type, out);
}

OpSchema single(OpId id, InferFn infer) {
  return OpSchema{id, {"input"}, 1, false, std::move(infer)};
}

}  // namespace

void register_movement_ops(OpTable& table) {
  table.add(single(OpId::reshape, infer_reshape));
  table.add(single(OpId::transpose, infer_transpose));
  table.add(OpSchema{OpId::concat, {"inputs"}, 1, true, infer_concat});
  table.add(single(OpId::split, infer_split));
  table.add(single(OpId::slice, infer_slice));
  table.add(single(OpId::expand, infer_expand));
  table.add(single(OpId::pad, infer_pad));
  table.add(single(OpId::tile, infer_tile));
  table.add(single(OpId::reverse, infer_reverse));
  table.add(single(OpId::triangular, infer_triangular));
  table.add(single(OpId::resample2d, infer_resample2d));
}

}  // namespace detail

using namespace detail;

Operand GraphBuilder::reshape(const Operand& x, const std::vector<uint32_t>& new_shape,
                              const OperatorOptions& o) {
  Attrs attrs;
  attrs.set_ints("newShape", new_shape);
  return add_op(*this, OpId::reshape, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::transpose(const Operand& x, const TransposeOptions& o) {
  Attrs attrs;
  if (o.permutation) attrs.set_ints("permutation", *o.permutation);
  return add_op(*this, OpId::transpose, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::concat(const std::vector<Operand>& inputs, uint32_t axis,
                             const OperatorOptions& o) {
  Attrs attrs;
  attrs.set("axis", int64_t(axis));
  return add_op(*this, OpId::concat, inputs, std::move(attrs), o.label)[0];
}

std::vector<Operand> GraphBuilder::split(const Operand& x, uint32_t count, const SplitOptions& o) {
  Attrs attrs;
  attrs.set("count", int64_t(count));
  attrs.set("axis", int64_t(o.axis));
  return add_op(*this, OpId::split, {x}, std::move(attrs), o.label);
}

std::vector<Operand> GraphBuilder::split(const Operand& x, const std::vector<uint32_t>& sizes,
                                         const SplitOptions& o) {
  Attrs attrs;
  attrs.set_ints("splits", sizes);
  attrs.set("axis", int64_t(o.axis));
  return add_op(*this, OpId::split, {x}, std::move(attrs), o.label);
}

Operand GraphBuilder::slice(const Operand& x, const std::vector<uint32_t>& starts,
                            const std::vector<uint32_t>& sizes, const SliceOptions& o) {
  Attrs attrs;
  attrs.set_ints("starts", starts);
  attrs.set_ints("sizes", sizes);
  if (!o.strides.empty()) attrs.set_ints("strides", o.strides);
  return add_op(*this, OpId::slice, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::expand(const Operand& x, const std::vector<uint32_t>& new_shape,
                             const OperatorOptions& o) {
  Attrs attrs;
  attrs.set_ints("newShape", new_shape);
  return add_op(*this, OpId::expand, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::pad(const Operand& x, const std::vector<uint32_t>& beginning_padding,
                          const std::vector<uint32_t>& ending_padding, const PadOptions& o) {
  Attrs attrs;
  attrs.set_ints("beginningPadding", beginning_padding);
  attrs.set_ints("endingPadding", ending_padding);
  attrs.set("mode", std::string(o.mode == PaddingMode::constant ? "constant"
                                : o.mode == PaddingMode::edge   ? "edge"
                                                                : "reflection"));
  attrs.set("value", o.value);
  return add_op(*this, OpId::pad, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::tile(const Operand& x, const std::vector<uint32_t>& repetitions,
                           const OperatorOptions& o) {
  Attrs attrs;
  attrs.set_ints("repetitions", repetitions);
  return add_op(*this, OpId::tile, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::reverse(const Operand& x, const ReverseOptions& o) {
  Attrs attrs;
  if (o.axes) attrs.set_ints("axes", *o.axes);
  return add_op(*this, OpId::reverse, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::triangular(const Operand& x, const TriangularOptions& o) {
  Attrs attrs;
  attrs.set_bool("upper", o.upper);
  attrs.set("diagonal", int64_t(o.diagonal));
  return add_op(*this, OpId::triangular, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::resample2d(const Operand& x, const Resample2dOptions& o) {
  Attrs attrs;
  attrs.set("mode", std::string(o.mode == InterpolationMode::linear ? "linear"
                                                                    : "nearest-neighbor"));
  // Empty lists stand for absent options: the spec rejects empty ones anyway (length 2).
  if (!o.scales.empty()) attrs.set("scales", std::vector<double>(o.scales.begin(), o.scales.end()));
  if (!o.sizes.empty()) attrs.set_ints("sizes", o.sizes);
  if (!o.axes.empty()) attrs.set_ints("axes", o.axes);
  return add_op(*this, OpId::resample2d, {x}, std::move(attrs), o.label)[0];
}

}  // namespace cppnn
