// Exporters of WebNN's network layers: convolutions, pooling, normalizations, reductions,
// argMin/argMax, cumulativeSum and softmax. ONNX's spatial ops are NCHW with OIHW / IOHW
// weights: other layouts get Transpose nodes, or a transposed initializer for a constant
// filter. WebNN's padding [beginH, endH, beginW, endW] is ONNX's [beginH, beginW, endH, endW].
#include <algorithm>
#include <numeric>

#include "core/checked.h"
#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

using Ints = std::vector<int64_t>;

const Ints kToNchw = {0, 3, 1, 2};
const Ints kToNhwc = {0, 2, 3, 1};

Ints onnx_pads(const Ints& webnn) { return {webnn[0], webnn[2], webnn[1], webnn[3]}; }

using detail::checked_add;
using detail::checked_mul;
using detail::checked_sub;
// Arithmetic on a node's sizes and attributes. Validation bounds them (graphs come from the
// builder or an engine file); checked all the same, so that a bound loosened there cannot
// become a wrapped size here. An overflow is a graph no builder made.
constexpr ErrorKind kMalformed = ErrorKind::DataError;
constexpr const char* kOutputSize = "export: the output size";

int64_t window_span(int64_t window, int64_t dilation) {
  return detail::checked_dilated_size(window, dilation, kOutputSize, kMalformed);
}

Ints permuted(const Dims& shape, const Ints& perm) {
  Ints out;
  for (int64_t p : perm) out.push_back(shape[size_t(p)]);
  return out;
}

// Runs `body` on the NCHW view of input 0 and writes its NCHW result to `target` (NHWC when
// the op's layout is nhwc): body(x_nchw, out_nchw).
template <typename Body>
void in_nchw(NodeContext& ctx, bool nhwc, const std::string& target, Body body) {
  ElemType type = elem_type(ctx.input_desc(0).data_type);
  if (!nhwc) {
    body(ctx.input(0), target);
    return;
  }
  std::string x = transpose(ctx, ctx.input(0), kToNchw);
  std::string y = ctx.temp(type);
  body(x, y);
  set_attr(ctx.emit("Transpose", {y}, {target}), "perm", kToNhwc);
}

void conv2d(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  ElemType type = elem_type(ctx.input_desc(0).data_type);
  static const std::map<std::string, Ints> kToOihw = {{"oihw", {0, 1, 2, 3}},
                                                      {"hwio", {3, 2, 0, 1}},
                                                      {"ohwi", {0, 3, 1, 2}},
                                                      {"ihwo", {3, 0, 1, 2}}};
  const Ints& perm = kToOihw.at(a.s("filterLayout"));
  std::string filter =
      a.s("filterLayout") == "oihw" ? ctx.input(1) : transposed_input(ctx, 1, perm);
  Ints oihw = permuted(ctx.input_desc(1).shape, perm);
  bool epilogue = !a.s_or("activation", "").empty() || ctx.has_input(3);
  std::string target = epilogue ? ctx.temp(type) : ctx.output(0);
  in_nchw(ctx, a.s("inputLayout") == "nhwc", target,
          [&](const std::string& x, const std::string& y) {
            std::vector<std::string> inputs{x, filter};
            if (ctx.has_input(2)) inputs.push_back(ctx.input(2));
            auto& n = ctx.emit("Conv", inputs, {y});
            set_attr(n, "kernel_shape", Ints{oihw[2], oihw[3]});
            set_attr(n, "pads", onnx_pads(a.ints("padding")));
            set_attr(n, "strides", a.ints("strides"));
            set_attr(n, "dilations", a.ints("dilations"));
            set_attr(n, "group", a.i("groups"));
          });
  finish_fused(ctx, target, ctx.has_input(3) ? ctx.input(3) : "");
}

void conv_transpose2d(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  ElemType type = elem_type(ctx.input_desc(0).data_type);
  static const std::map<std::string, Ints> kToIohw = {
      {"iohw", {0, 1, 2, 3}}, {"hwoi", {3, 2, 0, 1}}, {"ohwi", {3, 0, 1, 2}}};
  const Ints& perm = kToIohw.at(a.s("filterLayout"));
  std::string filter =
      a.s("filterLayout") == "iohw" ? ctx.input(1) : transposed_input(ctx, 1, perm);
  Ints iohw = permuted(ctx.input_desc(1).shape, perm);
  bool nhwc = a.s("inputLayout") == "nhwc";
  const Dims& in = ctx.input_desc(0).shape;
  const Dims& out = ctx.output_desc(0).shape;
  // outputSizes and outputPadding both say how far the output runs past the last window.
  const Ints& pad = a.ints("padding");
  const Ints& s = a.ints("strides");
  const Ints& d = a.ints("dilations");
  Ints output_padding;
  for (size_t i = 0; i < 2; ++i) {
    int64_t in_size = in[nhwc ? 1 + i : 2 + i], out_size = out[nhwc ? 1 + i : 2 + i];
    int64_t natural = checked_add(checked_mul(in_size - 1, s[i], kOutputSize, kMalformed),
                                  window_span(iohw[2 + i], d[i]), kOutputSize, kMalformed);
    natural = checked_sub(checked_sub(natural, pad[2 * i], kOutputSize, kMalformed), pad[2 * i + 1],
                          kOutputSize, kMalformed);
    output_padding.push_back(checked_sub(out_size, natural, kOutputSize, kMalformed));
  }
  bool epilogue = !a.s_or("activation", "").empty();
  std::string target = epilogue ? ctx.temp(type) : ctx.output(0);
  in_nchw(ctx, nhwc, target, [&](const std::string& x, const std::string& y) {
    std::vector<std::string> inputs{x, filter};
    if (ctx.has_input(2)) inputs.push_back(ctx.input(2));
    auto& n = ctx.emit("ConvTranspose", inputs, {y});
    set_attr(n, "kernel_shape", Ints{iohw[2], iohw[3]});
    set_attr(n, "pads", onnx_pads(pad));
    set_attr(n, "strides", s);
    set_attr(n, "dilations", d);
    set_attr(n, "group", a.i("groups"));
    set_attr(n, "output_padding", output_padding);
  });
  finish_fused(ctx, target, "");
}

enum class Pool { average, l2, max };

void pool(NodeContext& ctx, Pool kind) {
  const detail::Attrs& a = ctx.attrs();
  bool nhwc = a.s("layout") == "nhwc";
  const Dims& in = ctx.input_desc(0).shape;
  const Dims& out = ctx.output_desc(0).shape;
  Ints window = a.ints("windowDimensions"), pad = a.ints("padding"), s = a.ints("strides"),
       d = a.ints("dilations");
  bool dilated = d[0] != 1 || d[1] != 1;
  if (dilated && kind != Pool::max)
    ctx.not_supported("dilations " + to_string(Dims(d)) +
                      ": ONNX's AveragePool and LpPool have no dilations before opset 18/19");
  // The output size: floor rounding, ONNX's ceil_mode (which drops a last window starting
  // past the input and its begin padding), or, for l2Pool2d, extra end padding: its padding
  // contributes zeros to the sum of squares, so a wider pad only adds windows.
  bool as_floor = true, as_ceil = true;
  Ints extra_pad = pad;
  for (size_t i = 0; i < 2; ++i) {
    int64_t in_size = in[nhwc ? 1 + i : 2 + i], want = out[nhwc ? 1 + i : 2 + i];
    int64_t span = window_span(window[i], d[i]);
    int64_t begin_end = checked_add(in_size, pad[2 * i], kOutputSize, kMalformed);
    int64_t room = checked_sub(checked_add(begin_end, pad[2 * i + 1], kOutputSize, kMalformed),
                               span, kOutputSize, kMalformed);
    int64_t floor_out = checked_add(detail::floor_div(room, s[i]), 1, kOutputSize, kMalformed);
    int64_t ceil_out = checked_add(detail::ceil_div(room, s[i]), 1, kOutputSize, kMalformed);
    if (checked_mul(ceil_out - 1, s[i], kOutputSize, kMalformed) >= begin_end) --ceil_out;
    as_floor = as_floor && want == floor_out;
    as_ceil = as_ceil && want == ceil_out;
    int64_t last_end = checked_add(checked_mul(want - 1, s[i], kOutputSize, kMalformed), span,
                                   kOutputSize, kMalformed);
    extra_pad[2 * i + 1] =
        std::max(pad[2 * i + 1], checked_sub(last_end, begin_end, kOutputSize, kMalformed));
  }
  bool ceil_mode = false;
  if (!as_floor) {
    if (kind == Pool::l2)
      pad = extra_pad;
    else if (as_ceil)
      ceil_mode = true;
    else
      ctx.not_supported("output size " + to_string(out) +
                        ": its last window starts in the end padding, which ONNX's ceil_mode "
                        "drops");
  }
  in_nchw(ctx, nhwc, ctx.output(0), [&](const std::string& x, const std::string& y) {
    const char* op = kind == Pool::average ? "AveragePool"
                     : kind == Pool::l2    ? "LpPool"
                                           : "MaxPool";
    auto& n = ctx.emit(op, {x}, {y});
    set_attr(n, "kernel_shape", window);
    set_attr(n, "pads", onnx_pads(pad));
    set_attr(n, "strides", s);
    if (kind == Pool::max) set_attr(n, "dilations", d);
    if (kind != Pool::l2) set_attr(n, "ceil_mode", int64_t(ceil_mode));
    if (kind == Pool::average) set_attr(n, "count_include_pad", int64_t(0));
    if (kind == Pool::l2) set_attr(n, "p", int64_t(2));
  });
}

void average_pool2d(NodeContext& ctx) { pool(ctx, Pool::average); }
void l2_pool2d(NodeContext& ctx) { pool(ctx, Pool::l2); }
void max_pool2d(NodeContext& ctx) { pool(ctx, Pool::max); }

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

// The reductions are the ONNX ops ops.def names (reduceProduct: ReduceProd), with their axes
// and keepdims.
void reduce(NodeContext& ctx) {
  using detail::OpId;
  OpId op = ctx.node().op;
  const Ints& axes = ctx.attrs().ints("axes");
  int64_t keep = ctx.attrs().i("keepDimensions");
  std::string x = ctx.input(0), out = ctx.output(0);
  ElemType t = elem_type(ctx.input_desc(0).data_type);
  if (axes.empty()) {
    // No axes reduces nothing: each element alone. ONNX before opset 18 reads empty axes as
    // all axes, so this is the reduction of one value written out.
    if (op == OpId::reduceL1) {
      ctx.emit("Abs", {x}, {out});
    } else if (op == OpId::reduceL2) {
      ctx.emit("Sqrt", {ctx.emit_value("Mul", {x, x}, t)}, {out});
    } else if (op == OpId::reduceSumSquare) {
      ctx.emit("Mul", {x, x}, {out});
    } else if (op == OpId::reduceLogSum) {
      ctx.emit("Log", {x}, {out});
    } else {
      ctx.emit("Identity", {x}, {out});
    }
    return;
  }
  if (op == OpId::reduceSum) {
    set_attr(ctx.emit("ReduceSum", {x, ctx.writer().int64s(axes, "axes")}, {out}), "keepdims",
             keep);
    return;
  }
  auto& n = ctx.emit(detail::op_info(op).onnx, {x}, {out});
  set_attr(n, "axes", axes);
  set_attr(n, "keepdims", keep);
}

void arg_min_max(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  bool int64 = a.s("outputDataType") == "int64";
  std::string out = int64 ? ctx.output(0) : ctx.temp(kInt64);
  auto& n =
      ctx.emit(ctx.node().op == detail::OpId::argMax ? "ArgMax" : "ArgMin", {ctx.input(0)}, {out});
  set_attr(n, "axis", a.i("axis"));
  set_attr(n, "keepdims", a.i("keepDimensions"));
  set_attr(n, "select_last_index", int64_t(0));
  if (!int64)
    set_attr(ctx.emit("Cast", {out}, {ctx.output(0)}), "to", int64_t(onnx::TensorProto::INT32));
}

void cumulative_sum(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  auto& n = ctx.emit("CumSum", {ctx.input(0), ctx.writer().int64_scalar(a.i("axis"), "axis")},
                     {ctx.output(0)});
  set_attr(n, "exclusive", a.i("exclusive"));
  set_attr(n, "reverse", a.i("reversed"));
}

void softmax(NodeContext& ctx) {
  set_attr(ctx.emit("Softmax", {ctx.input(0)}, {ctx.output(0)}), "axis", ctx.attrs().i("axis"));
}

}  // namespace

void register_nn_exporters(ConverterTable& t) {
  using detail::OpId;
  t[OpId::conv2d] = conv2d;
  t[OpId::convTranspose2d] = conv_transpose2d;
  t[OpId::averagePool2d] = average_pool2d;
  t[OpId::l2Pool2d] = l2_pool2d;
  t[OpId::maxPool2d] = max_pool2d;
  t[OpId::batchNormalization] = batch_normalization;
  t[OpId::instanceNormalization] = instance_normalization;
  t[OpId::layerNormalization] = layer_normalization;
  for (OpId op : {OpId::reduceL1, OpId::reduceL2, OpId::reduceLogSum, OpId::reduceLogSumExp,
                  OpId::reduceMax, OpId::reduceMean, OpId::reduceMin, OpId::reduceProduct,
                  OpId::reduceSum, OpId::reduceSumSquare})
    t[op] = reduce;
  t[OpId::argMax] = arg_min_max;
  t[OpId::argMin] = arg_min_max;
  t[OpId::cumulativeSum] = cumulative_sum;
  t[OpId::softmax] = softmax;
}

}  // namespace cppnn::onnx_export
