// Exporters of the normalizations: batchNormalization (ONNX's op where the channels are at
// axis 1, else its formula), instanceNormalization (in NCHW) and layerNormalization (ONNX's
// op over trailing axes, else the spec's decomposition).
#include <algorithm>
#include <numeric>

#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

using Ints = std::vector<int64_t>;

// Input i, or a constant of `shape` filled with `fill` when the optional operand is absent.
std::string or_filled(NodeContext& ctx, size_t i, const Dims& shape, double fill) {
  if (ctx.has_input(i)) return ctx.input(i);
  DataType type = ctx.input_desc(0).data_type;
  Tensor t(type, shape);
  for (size_t k = 0; k < t.element_count(); ++k) {
    if (type == DataType::float16)
      t.data_as<uint16_t>()[k] = float_to_half(float(fill));
    else
      t.data_as<float>()[k] = float(fill);
  }
  return ctx.writer().initializer(t, fill == 0 ? "zeros" : "ones");
}

// `value` (input i) reshaped to `shape`: a reshaped initializer for a constant.
std::string reshaped_input(NodeContext& ctx, size_t i, const Dims& shape) {
  if (const Tensor* c = ctx.constant(i)) return ctx.writer().initializer(c->reshaped(shape), "c");
  return ctx.emit_value("Reshape", {ctx.input(i), ctx.writer().int64s(shape, "shape")},
                        elem_type(ctx.input_desc(i).data_type));
}

void batch_normalization(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  const Dims& shape = ctx.input_desc(0).shape;
  int64_t axis = a.i("axis");
  double epsilon = a.f("epsilon");
  DataType type = ctx.input_desc(0).data_type;
  Dims channels{shape[size_t(axis)]};
  if (shape.size() >= 2 && axis == 1) {
    auto& n = ctx.emit("BatchNormalization",
                       {ctx.input(0), or_filled(ctx, 3, channels, 1),
                        or_filled(ctx, 4, channels, 0), ctx.input(1), ctx.input(2)},
                       {ctx.output(0)});
    set_attr(n, "epsilon", epsilon);
    return;
  }
  // ONNX's op has its channels at axis 1: elsewhere, its formula with broadcast parameters.
  Dims per_channel = channels;
  per_channel.resize(shape.size() - size_t(axis), 1);
  ElemType t = elem_type(type);
  std::string x = ctx.emit_value("Sub", {ctx.input(0), reshaped_input(ctx, 1, per_channel)}, t);
  std::string var = ctx.emit_value(
      "Add", {reshaped_input(ctx, 2, per_channel), ctx.writer().scalar(type, epsilon)}, t);
  std::string y = ctx.emit_value("Div", {x, ctx.emit_value("Sqrt", {var}, t)}, t);
  bool bias = ctx.has_input(4);
  if (ctx.has_input(3)) {
    std::string scaled = bias ? ctx.temp(t) : ctx.output(0);
    ctx.emit("Mul", {y, reshaped_input(ctx, 3, per_channel)}, {scaled});
    y = scaled;
  }
  if (bias)
    ctx.emit("Add", {y, reshaped_input(ctx, 4, per_channel)}, {ctx.output(0)});
  else if (!ctx.has_input(3))
    ctx.emit("Identity", {y}, {ctx.output(0)});
}

void instance_normalization(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  bool nhwc = a.s("layout") == "nhwc";
  Dims channels{ctx.input_desc(0).shape[nhwc ? 3 : 1]};
  std::string scale = or_filled(ctx, 1, channels, 1), bias = or_filled(ctx, 2, channels, 0);
  in_nchw(ctx, nhwc, ctx.output(0), [&](const std::string& x, const std::string& y) {
    set_attr(ctx.emit("InstanceNormalization", {x, scale, bias}, {y}), "epsilon", a.f("epsilon"));
  });
}

std::string reduce_mean(NodeContext& ctx, const std::string& x, const Ints& axes, ElemType t) {
  if (axes.empty()) return x;
  std::string out = ctx.temp(t);
  auto& n = ctx.emit("ReduceMean", {x}, {out});
  set_attr(n, "axes", axes);
  set_attr(n, "keepdims", int64_t(1));
  return out;
}

// scale or bias (input i, of the sizes at `axes` in the order of `axes`) as a tensor of the
// input's rank that broadcasts against it.
std::string broadcast_param(NodeContext& ctx, size_t i, const Ints& axes) {
  const Dims& shape = ctx.input_desc(0).shape;
  Ints order(axes.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int64_t p, int64_t q) { return axes[size_t(p)] < axes[size_t(q)]; });
  Dims full(shape.size(), 1);
  for (int64_t axis : axes) full[size_t(axis)] = shape[size_t(axis)];
  ElemType t = elem_type(ctx.input_desc(i).data_type);
  bool sorted = std::is_sorted(axes.begin(), axes.end());
  if (sorted) return reshaped_input(ctx, i, full);
  std::string p = transposed_input(ctx, i, order);
  return ctx.emit_value("Reshape", {p, ctx.writer().int64s(full, "shape")}, t);
}

void layer_normalization(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  const Dims& shape = ctx.input_desc(0).shape;
  DataType type = ctx.input_desc(0).data_type;
  ElemType t = elem_type(type);
  Ints axes = a.ints("axes");
  double epsilon = a.f("epsilon");
  size_t rank = shape.size();
  bool trailing = !axes.empty();
  for (size_t k = 0; k < axes.size(); ++k)
    trailing = trailing && axes[k] == int64_t(rank - axes.size() + k);
  if (trailing) {
    Dims normalized(shape.end() - int64_t(axes.size()), shape.end());
    std::vector<std::string> inputs{ctx.input(0), or_filled(ctx, 1, normalized, 1)};
    if (ctx.has_input(2)) inputs.push_back(ctx.input(2));
    auto& n = ctx.emit("LayerNormalization", inputs, {ctx.output(0)});
    set_attr(n, "axis", axes[0]);
    set_attr(n, "epsilon", epsilon);
    return;
  }
  // Other axes: the spec's decomposition, mean and variance over the axes in any order.
  Ints sorted = axes;
  std::sort(sorted.begin(), sorted.end());
  std::string x = ctx.input(0);
  std::string centered = ctx.emit_value("Sub", {x, reduce_mean(ctx, x, sorted, t)}, t);
  std::string square = ctx.emit_value("Mul", {centered, centered}, t);
  std::string var = ctx.emit_value(
      "Add", {reduce_mean(ctx, square, sorted, t), ctx.writer().scalar(type, epsilon)}, t);
  std::string y = ctx.emit_value("Div", {centered, ctx.emit_value("Sqrt", {var}, t)}, t);
  bool scale = ctx.has_input(1), bias = ctx.has_input(2);
  if (scale) {
    std::string out = bias ? ctx.temp(t) : ctx.output(0);
    ctx.emit("Mul", {y, broadcast_param(ctx, 1, axes)}, {out});
    y = out;
  }
  if (bias)
    ctx.emit("Add", {y, broadcast_param(ctx, 2, axes)}, {ctx.output(0)});
  else if (!scale)
    ctx.emit("Identity", {y}, {ctx.output(0)});
}

}  // namespace

void register_normalization_exporters(ConverterTable& t) {
  using detail::OpId;
  t[OpId::batchNormalization] = batch_normalization;
  t[OpId::instanceNormalization] = instance_normalization;
  t[OpId::layerNormalization] = layer_normalization;
}

}  // namespace cppnn::onnx_export
