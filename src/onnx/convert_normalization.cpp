// Converters of ONNX's normalizations: BatchNormalization (inference only),
// InstanceNormalization and LayerNormalization (its scale and bias broadcast to the
// normalized shape).
#include <numeric>

#include "graph/validation.h"
#include "onnx/host_ops.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

void batch_normalization(NodeContext& ctx) {
  if (ctx.attr_int("training_mode", 0) != 0)
    ctx.not_supported("attribute 'training_mode' value 1 is not supported (inference only)");
  if (ctx.opset() < 9 && ctx.attr_int("spatial", 1) == 0)
    ctx.not_supported("attribute 'spatial' value 0 is not supported");
  ctx.reject_outputs_from(1, "running statistics exist only in training mode");
  BatchNormalizationOptions o;
  o.label = ctx.label();
  o.scale = ctx.operand(1);
  o.bias = ctx.operand(2);
  o.axis = 1;
  o.epsilon = ctx.attr_float("epsilon", 1e-5f);
  ctx.set_output(
      0, ctx.builder().batch_normalization(ctx.operand(0), ctx.operand(3), ctx.operand(4), o));
}

void instance_normalization(NodeContext& ctx) {
  InstanceNormalizationOptions o;
  o.label = ctx.label();
  o.scale = ctx.operand(1);
  o.bias = ctx.operand(2);
  o.epsilon = ctx.attr_float("epsilon", 1e-5f);
  ctx.set_output(0, ctx.builder().instance_normalization(ctx.operand(0), o));
}

// ONNX broadcasts LayerNormalization's scale and bias to the normalized shape; WebNN wants
// that shape exactly.
Operand to_normalized_shape(NodeContext& ctx, size_t i, const Dims& shape) {
  const ValuePtr& v = ctx.input(i);
  if (v->shape == shape) return ctx.operand(i);
  if (!detail::unidirectionally_broadcastable(v->shape, shape))
    ctx.bad_model("input " + std::to_string(i) + " has shape " + to_string(v->shape) +
                  ", which does not broadcast to the normalized shape " + to_string(shape));
  if (element_count(v->shape) == element_count(shape)) return reshape_value(ctx, v, shape);
  if (v->data) {
    ctx.check_host_bytes(byte_size(v->type, element_count(shape)),
                         "input " + std::to_string(i) + " expanded to " + to_string(shape));
    return ctx.host_constant(host_expand(*v->data, shape));
  }
  return ctx.builder().expand(ctx.operand(i), to_u32(ctx, shape, "shape"), ctx.options());
}

// LayerNormalization's optional outputs 1 and 2, Mean and InvStdDev over `axes` (kept as
// dimensions of 1), computed in stash_type (float32 unless it says float16's 10) from x,
// as ONNX's reference does: InvStdDev = 1 / sqrt(Var + epsilon).
void layer_norm_statistics(NodeContext& ctx, const std::vector<uint32_t>& axes, float epsilon) {
  int64_t stash = ctx.attr_int("stash_type", 1);
  bool stash_bool = false;
  DataType type = ctx.onnx_type(int32_t(stash), "attribute 'stash_type'", &stash_bool);
  if (type != DataType::float32 && type != DataType::float16)
    ctx.not_supported("attribute 'stash_type' = " + std::to_string(stash) +
                      ": only float32 (1) and float16 (10)");
  GraphBuilder& b = ctx.builder();
  OperatorOptions o = ctx.options();
  Operand x = ctx.operand(0);
  if (ctx.type(0) != type) x = b.cast(x, type, o);
  ReduceOptions r;
  r.label = o.label;
  r.axes = axes;
  r.keep_dimensions = true;
  Operand mean = b.reduce_mean(x, r);
  Operand d = b.sub(x, mean, o);
  Operand variance = b.reduce_mean(b.mul(d, d, o), r);
  Operand inv_std = b.reciprocal(b.sqrt(b.add(variance, b.constant(type, epsilon), o), o), o);
  if (ctx.output_used(1)) ctx.set_output(1, mean);
  if (ctx.output_used(2)) ctx.set_output(2, inv_std);
}

void layer_normalization(NodeContext& ctx) {
  size_t rank = ctx.rank(0);
  int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", -1), rank, "attribute 'axis'");
  std::vector<int64_t> axes(rank - size_t(axis));
  std::iota(axes.begin(), axes.end(), axis);
  Dims normalized(ctx.shape(0).begin() + axis, ctx.shape(0).end());
  LayerNormalizationOptions o;
  o.label = ctx.label();
  o.axes = to_u32(ctx, axes, "axis");
  o.epsilon = ctx.attr_float("epsilon", 1e-5f);
  o.scale = to_normalized_shape(ctx, 1, normalized);
  if (ctx.has_input(2)) o.bias = to_normalized_shape(ctx, 2, normalized);
  ctx.set_output(0, ctx.builder().layer_normalization(ctx.operand(0), o));
  if (ctx.output_used(1) || ctx.output_used(2)) layer_norm_statistics(ctx, *o.axes, float(o.epsilon));
}

}  // namespace

void register_normalization_converters(ConverterTable& t) {
  t["BatchNormalization"] = batch_normalization;
  t["InstanceNormalization"] = instance_normalization;
  t["LayerNormalization"] = layer_normalization;
}

}  // namespace cppnn::onnx_import
