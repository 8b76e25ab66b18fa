// Normalization ops: batchNormalization, instanceNormalization, layerNormalization.
// Attributes use the spec's option names; infer fills every default ("axis", "epsilon",
// "layout", "axes") and stores epsilon already cast to the input's data type, as the spec
// says, so kernels use it as is.
#include "core/dispatch.h"
#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

// The spec casts epsilon to the input's data type before using it.
double epsilon_in(DataType type, double epsilon) {
  if (type == DataType::float16) return double(float(half(float(epsilon))));
  if (type == DataType::bfloat16)
    return double(bfloat16_to_float(float_to_bfloat16(float(epsilon))));
  return double(float(epsilon));
}

// mean, variance, scale and bias of batch/instance normalization: same type as the input,
// shape « size » of the feature dimension.
void check_feature_operand(const OperandDescriptor* desc, const std::string& name,
                           const OperandDescriptor& input, int64_t size, const std::string& why) {
  if (!desc) return;
  check_same_type(input, "input", *desc, name);
  if (desc->shape != Dims{size})
    type_error(operand_name(name) + " must have shape [" + std::to_string(size) + "] (" + why +
               "), got " + to_string(desc->shape));
}

std::vector<OperandDescriptor> infer_batch_normalization(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& input = *in[0];
  check_data_type(input, "input", kFloatTypes);
  int64_t rank = int64_t(input.shape.size());
  if (rank < 1) type_error(operand_name("input") + " must have rank >= 1, got a scalar");
  int64_t axis = attrs.i_or("axis", 1);
  if (axis < 0 || axis >= rank)
    type_error("axis " + std::to_string(axis) + " is out of range for " + operand_name("input") +
               " of rank " + std::to_string(rank));
  int64_t size = input.shape[size_t(axis)];
  std::string why = "the size of input dimension " + std::to_string(axis);
  check_feature_operand(in[1], "mean", input, size, why);
  check_feature_operand(in[2], "variance", input, size, why);
  check_feature_operand(in.size() > 3 ? in[3] : nullptr, "scale", input, size, why);
  check_feature_operand(in.size() > 4 ? in[4] : nullptr, "bias", input, size, why);
  attrs.set("axis", axis);
  attrs.set("epsilon", epsilon_in(input.data_type, attrs.f_or("epsilon", 1e-5)));
  return {input};
}

std::vector<OperandDescriptor> infer_instance_normalization(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& input = *in[0];
  check_data_type(input, "input", kFloatTypes);
  check_rank(input, "input", 4);
  std::string layout = attrs.s_or("layout", "nchw");
  if (layout != "nchw" && layout != "nhwc")
    type_error("layout must be \"nchw\" or \"nhwc\", got \"" + layout + "\"");
  size_t axis = layout == "nchw" ? 1 : 3;
  int64_t channels = input.shape[axis];
  std::string why = "the channels of the " + layout + " input";
  check_feature_operand(in.size() > 1 ? in[1] : nullptr, "scale", input, channels, why);
  check_feature_operand(in.size() > 2 ? in[2] : nullptr, "bias", input, channels, why);
  attrs.set("layout", layout);
  attrs.set("epsilon", epsilon_in(input.data_type, attrs.f_or("epsilon", 1e-5)));
  return {input};
}

std::vector<OperandDescriptor> infer_layer_normalization(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& input = *in[0];
  check_data_type(input, "input", kFloatTypes);
  size_t rank = input.shape.size();
  std::vector<int64_t> axes;
  if (attrs.has("axes")) {
    axes = attrs.ints("axes");
    check_axes(axes, rank, "axes");
  } else {
    for (size_t a = 1; a < rank; ++a) axes.push_back(int64_t(a));
  }
  // scale and bias have the input's sizes at `axes`, in the order of `axes`.
  Dims expected;
  for (int64_t a : axes) expected.push_back(input.shape[size_t(a)]);
  const char* names[] = {"scale", "bias"};
  for (size_t i = 0; i < 2; ++i) {
    const OperandDescriptor* d = in.size() > i + 1 ? in[i + 1] : nullptr;
    if (!d) continue;
    check_same_type(input, "input", *d, names[i]);
    if (d->shape.size() != axes.size())
      type_error(operand_name(names[i]) + " must have rank " + std::to_string(axes.size()) +
                 " (the number of axes), got shape " + to_string(d->shape));
    if (d->shape != expected)
      type_error(operand_name(names[i]) + " must have shape " + to_string(expected) +
                 " (the input's sizes at axes " + to_string(axes) + "), got " +
                 to_string(d->shape));
  }
  attrs.set("axes", axes);
  attrs.set("epsilon", epsilon_in(input.data_type, attrs.f_or("epsilon", 1e-5)));
  return {input};
}

}  // namespace

void register_normalization_ops(OpTable& table) {
  table.add(OpSchema{OpId::batchNormalization,
                     {"input", "mean", "variance", "scale", "bias"},
                     3,
                     false,
                     infer_batch_normalization});
  table.add(OpSchema{
      OpId::instanceNormalization, {"input", "scale", "bias"}, 1, false, infer_instance_normalization});
  table.add(OpSchema{
      OpId::layerNormalization, {"input", "scale", "bias"}, 1, false, infer_layer_normalization});
}

}  // namespace detail

using namespace detail;

Operand GraphBuilder::batch_normalization(const Operand& x, const Operand& mean,
                                          const Operand& variance,
                                          const BatchNormalizationOptions& o) {
  Attrs attrs;
  attrs.set("axis", int64_t(o.axis));
  attrs.set("epsilon", o.epsilon);
  return add_op(*this, OpId::batchNormalization, {x, mean, variance, o.scale, o.bias}, std::move(attrs),
                o.label)[0];
}

Operand GraphBuilder::instance_normalization(const Operand& x,
                                             const InstanceNormalizationOptions& o) {
  Attrs attrs;
  attrs.set("epsilon", o.epsilon);
  attrs.set("layout", std::string(o.layout == InputLayout::nchw ? "nchw" : "nhwc"));
  return add_op(*this, OpId::instanceNormalization, {x, o.scale, o.bias}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::layer_normalization(const Operand& x, const LayerNormalizationOptions& o) {
  Attrs attrs;
  if (o.axes) attrs.set_ints("axes", *o.axes);
  attrs.set("epsilon", o.epsilon);
  return add_op(*this, OpId::layerNormalization, {x, o.scale, o.bias}, std::move(attrs), o.label)[0];
}

}  // namespace cppnn
