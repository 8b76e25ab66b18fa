// Converters of ONNX's network layers: convolutions, pooling, resizing, normalizations,
// softmax and reductions. ONNX's spatial attributes (pads as [begins..., ends...], auto_pad,
// ceil_mode) are resolved here into WebNN's explicit options.
#include <cmath>
#include <numeric>

#include "core/checked.h"
#include "graph/validation.h"
#include "onnx/host_ops.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

using detail::checked_add;
using detail::checked_mul;
using detail::checked_sub;
// Kernel sizes, strides, dilations, pads and scales come from the file, unchecked until the
// builder sees them: arithmetic past int64 on them is a malformed model.
constexpr ErrorKind kMalformed = ErrorKind::DataError;

int64_t dilated_span(int64_t kernel, int64_t dilation) {
  return detail::checked_dilated_size(kernel, dilation, "the dilated kernel size", kMalformed);
}

// Strides, dilations and begin/end pads of the spatial dimensions, auto_pad resolved.
struct Window {
  std::vector<int64_t> kernel, strides, dilations, begins, ends;
};

std::vector<int64_t> ints_of_length(const NodeContext& ctx, const std::string& name, size_t n,
                                    int64_t fallback) {
  auto v = ctx.attr_ints(name);
  if (!v) return std::vector<int64_t>(n, fallback);
  if (v->size() != n)
    ctx.bad_model("attribute '" + name + "' has " + std::to_string(v->size()) +
                  " values, the op has " + std::to_string(n) + " spatial dimensions");
  return *v;
}

Window window_of(const NodeContext& ctx, const Dims& spatial_in, std::vector<int64_t> kernel) {
  size_t n = spatial_in.size();
  Window w;
  w.kernel = std::move(kernel);
  w.strides = ints_of_length(ctx, "strides", n, 1);
  w.dilations = ints_of_length(ctx, "dilations", n, 1);
  std::vector<int64_t> pads = ints_of_length(ctx, "pads", 2 * n, 0);
  for (size_t d = 0; d < n; ++d) {
    if (w.strides[d] < 1 || w.dilations[d] < 1) ctx.bad_model("strides and dilations must be >= 1");
    w.begins.push_back(pads[d]);
    w.ends.push_back(pads[n + d]);
  }
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") return w;
  if (auto_pad == "VALID") {
    std::fill(w.begins.begin(), w.begins.end(), 0);
    std::fill(w.ends.begin(), w.ends.end(), 0);
    return w;
  }
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    ctx.not_supported("attribute 'auto_pad' value '" + auto_pad + "' is not supported");
  // SAME_*: the output is ceil(input / stride); the odd padding goes at the end (UPPER) or
  // at the beginning (LOWER).
  for (size_t d = 0; d < n; ++d) {
    const char* what = "the SAME padding";
    int64_t out = detail::ceil_div(spatial_in[d], w.strides[d]);
    int64_t last = checked_add(checked_mul(out - 1, w.strides[d], what, kMalformed),
                               dilated_span(w.kernel[d], w.dilations[d]), what, kMalformed);
    int64_t total = std::max<int64_t>(0, checked_sub(last, spatial_in[d], what, kMalformed));
    int64_t small = total / 2;
    w.begins[d] = auto_pad == "SAME_UPPER" ? small : total - small;
    w.ends[d] = total - w.begins[d];
  }
  return w;
}

// WebNN's [beginH, endH, beginW, endW].
std::vector<uint32_t> webnn_padding(const NodeContext& ctx, const Window& w) {
  return to_u32(ctx, {w.begins[0], w.ends[0], w.begins[1], w.ends[1]}, "pads");
}

Dims spatial_of(const Dims& shape) { return Dims(shape.begin() + 2, shape.end()); }

void conv(NodeContext& ctx) {
  GraphBuilder& b = ctx.builder();
  size_t rank = ctx.rank(0);
  if (rank != 3 && rank != 4)
    ctx.not_supported("only 1-D and 2-D convolutions are supported, the input has rank " +
                      std::to_string(rank));
  if (ctx.rank(1) != rank)
    ctx.bad_model("the weight has rank " + std::to_string(ctx.rank(1)) + ", the input " +
                  std::to_string(rank));
  Dims wshape = ctx.shape(1);
  Window w = window_of(ctx, spatial_of(ctx.shape(0)), spatial_of(wshape));
  if (auto k = ctx.attr_ints("kernel_shape"); k && *k != w.kernel)
    ctx.bad_model("attribute 'kernel_shape' does not match the weight's shape " +
                  to_string(wshape));
  Operand x = ctx.operand(0);
  Operand filter = ctx.operand(1);
  if (rank == 3) {
    // A 1-D convolution is a 2-D one over a height of 1.
    auto lift = [](std::vector<int64_t>& v, int64_t value) { v.insert(v.begin(), value); };
    lift(w.kernel, 1), lift(w.strides, 1), lift(w.dilations, 1), lift(w.begins, 0), lift(w.ends, 0);
    Dims xs = ctx.shape(0);
    x = reshape_value(ctx, ctx.input(0), {xs[0], xs[1], 1, xs[2]});
    filter = reshape_value(ctx, ctx.input(1), {wshape[0], wshape[1], 1, wshape[2]});
  }
  Conv2dOptions o;
  o.label = ctx.label();
  o.padding = webnn_padding(ctx, w);
  o.strides = to_u32(ctx, w.strides, "strides");
  o.dilations = to_u32(ctx, w.dilations, "dilations");
  o.groups = to_u32(ctx, {ctx.attr_int("group", 1)}, "group")[0];
  if (ctx.has_input(2)) o.bias = ctx.operand(2);
  Operand y = b.conv2d(x, filter, o);
  if (rank == 3) {
    Dims ys = y.shape();
    y = b.reshape(y, to_u32(ctx, {ys[0], ys[1], ys[3]}, "shape"), ctx.options());
  }
  ctx.set_output(0, y);
}

void conv_transpose(NodeContext& ctx) {
  if (ctx.rank(0) != 4)
    ctx.not_supported("only 2-D transposed convolutions are supported, the input has rank " +
                      std::to_string(ctx.rank(0)));
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID")
    ctx.not_supported("attribute 'auto_pad' value '" + auto_pad + "' is not supported");
  // The kernel sizes below are the weight's spatial dimensions.
  if (ctx.rank(1) != 4)
    ctx.bad_model("the weight has rank " + std::to_string(ctx.rank(1)) + ", the input 4");
  Dims in = spatial_of(ctx.shape(0));
  Window w = window_of(ctx, in, spatial_of(ctx.shape(1)));
  std::vector<int64_t> out_pad = ints_of_length(ctx, "output_padding", 2, 0);
  ConvTranspose2dOptions o;
  o.label = ctx.label();
  if (auto out = ctx.attr_ints("output_shape")) {
    // ONNX then derives the pads from the requested size, the larger half at the beginning
    // (at the end for SAME_UPPER, which is rejected above).
    if (out->size() == 4) out->erase(out->begin(), out->begin() + 2);
    if (out->size() != 2) ctx.bad_model("attribute 'output_shape' must have 2 values");
    for (size_t d = 0; d < 2; ++d) {
      const char* what = "the padding for 'output_shape'";
      int64_t natural = checked_add(checked_mul(w.strides[d], in[d] - 1, what, kMalformed),
                                    dilated_span(w.kernel[d], w.dilations[d]), what, kMalformed);
      int64_t total = checked_sub(checked_add(natural, out_pad[d], what, kMalformed), (*out)[d],
                                  what, kMalformed);
      if (total < 0) ctx.not_supported("attribute 'output_shape' needs negative padding");
      w.ends[d] = total / 2;
      w.begins[d] = total - total / 2;
    }
    o.output_sizes = to_u32(ctx, *out, "output_shape");
  }
  o.padding = webnn_padding(ctx, w);
  o.strides = to_u32(ctx, w.strides, "strides");
  o.dilations = to_u32(ctx, w.dilations, "dilations");
  o.output_padding = to_u32(ctx, out_pad, "output_padding");
  o.groups = to_u32(ctx, {ctx.attr_int("group", 1)}, "group")[0];
  if (ctx.has_input(2)) o.bias = ctx.operand(2);
  ctx.set_output(0, ctx.builder().conv_transpose2d(ctx.operand(0), ctx.operand(1), o));
}

enum class PoolKind { average, l2, max };

// WebNN's resample2d maps output coordinates with half_pixel and scale = output / input
// size, rounding nearest-neighbor halves down. Resize converts when ONNX's mapping is that
// one: half_pixel (pytorch_half_pixel when no resized size is 1), round_prefer_floor, a
// scales input giving whole sizes, at most two resized axes of a 4-D input. asymmetric with
// floor is accepted for whole upsampling factors, where it picks the same elements.
void resize(NodeContext& ctx) {
  size_t rank = ctx.rank(0);
  if (rank != 4)
    ctx.not_supported("only 4-D Resize is supported, the input has rank " + std::to_string(rank));
  std::string mode = ctx.attr_string("mode", "nearest");
  if (mode != "nearest" && mode != "linear")
    ctx.not_supported("attribute 'mode' value '" + mode + "' is not supported");
  if (ctx.attr_int("antialias", 0) != 0)
    ctx.not_supported("attribute 'antialias' is not supported");
  if (ctx.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch")
    ctx.not_supported("attribute 'keep_aspect_ratio_policy' is not supported");
  const Dims& in = ctx.shape(0);
  // Output sizes are compared with (and divided by) the input's below.
  if (element_count(in) == 0)
    ctx.not_supported("the input " + to_string(in) + " is empty; WebNN has no empty tensors");
  std::vector<int64_t> axes(rank);
  std::iota(axes.begin(), axes.end(), 0);
  if (auto a = ctx.attr_ints("axes")) {
    axes = *a;
    for (int64_t& x : axes) x = normalize_axis(ctx, x, rank, "axis");
  }
  size_t scales_input = ctx.opset() < 11 ? 1 : 2;
  Dims out = in;
  if (ctx.opset() >= 11 && ctx.has_input(3) && element_count(ctx.shape(3)) > 0) {
    std::vector<int64_t> sizes = int64_values(ctx.require_constant(3, "Resize's sizes"));
    if (sizes.size() != axes.size())
      ctx.bad_model("sizes has " + std::to_string(sizes.size()) + " values for " +
                    std::to_string(axes.size()) + " axes");
    for (size_t i = 0; i < axes.size(); ++i) out[size_t(axes[i])] = sizes[i];
  } else if (ctx.has_input(scales_input)) {
    std::vector<double> scales = ctx.require_constant(scales_input, "Resize's scales").to_doubles();
    if (scales.size() != axes.size())
      ctx.bad_model("scales has " + std::to_string(scales.size()) + " values for " +
                    std::to_string(axes.size()) + " axes");
    for (size_t i = 0; i < axes.size(); ++i) {
      size_t d = size_t(axes[i]);
      // A scale from the file may be NaN, infinite or huge: no int64 output size.
      out[d] = detail::checked_to_int64(
          std::floor(double(in[d]) * scales[i]),
          "the output size of scale " + std::to_string(scales[i]) + " on axis " + std::to_string(d),
          kMalformed);
      // ONNX maps coordinates with the given scale, WebNN with output / input.
      if (float(double(out[d]) / double(in[d])) != float(scales[i]))
        ctx.not_supported("scale " + std::to_string(scales[i]) + " of axis " + std::to_string(d) +
                          " does not give a whole size");
    }
  } else {
    ctx.bad_model("Resize needs scales or sizes");
  }
  std::vector<uint32_t> resized;
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] < 1)
      ctx.bad_model("output size " + std::to_string(out[d]) + " of axis " + std::to_string(d) +
                    " is empty");
    if (out[d] != in[d]) resized.push_back(uint32_t(d));
  }
  if (resized.empty()) {
    ctx.alias_output(0, ctx.input(0));
    return;
  }
  if (resized.size() > 2)
    ctx.not_supported("Resize changes " + std::to_string(resized.size()) +
                      " axes; WebNN's resample2d changes at most 2");
  // Resize-10 had Upsample's mapping: asymmetric, rounding down.
  bool v10 = ctx.opset() < 11;
  std::string ctm =
      ctx.attr_string("coordinate_transformation_mode", v10 ? "asymmetric" : "half_pixel");
  std::string nearest_mode = ctx.attr_string("nearest_mode", v10 ? "floor" : "round_prefer_floor");
  bool whole_upsampling = true, no_size_one = true;
  for (uint32_t d : resized) {
    whole_upsampling = whole_upsampling && out[d] > in[d] && out[d] % in[d] == 0;
    no_size_one = no_size_one && out[d] > 1;
  }
  bool half_pixel = ctm == "half_pixel" || (ctm == "pytorch_half_pixel" && no_size_one);
  bool matches = mode == "linear"
                     ? half_pixel
                     : (half_pixel && nearest_mode == "round_prefer_floor") ||
                           (ctm == "asymmetric" && nearest_mode == "floor" && whole_upsampling);
  if (!matches)
    ctx.not_supported(
        "coordinate_transformation_mode '" + ctm + "'" +
        (mode == "nearest" ? " with nearest_mode '" + nearest_mode + "'" : std::string()) +
        " does not match WebNN's half-pixel mapping");
  // A second axis that keeps its size samples each element at itself.
  if (resized.size() == 1)
    resized.insert(resized[0] == 3 ? resized.begin() : resized.end(),
                   resized[0] == 3 ? 2 : resized[0] + 1);
  Resample2dOptions o;
  o.label = ctx.label();
  o.mode = mode == "linear" ? InterpolationMode::linear : InterpolationMode::nearest_neighbor;
  o.axes = resized;
  o.sizes = to_u32(ctx, {out[resized[0]], out[resized[1]]}, "sizes");
  ctx.set_output(0, ctx.builder().resample2d(ctx.operand(0), o));
}

template <PoolKind Kind>
void pool(NodeContext& ctx) {
  if (ctx.rank(0) != 4)
    ctx.not_supported("only 2-D pooling is supported, the input has rank " +
                      std::to_string(ctx.rank(0)));
  ctx.reject_outputs_from(1, "MaxPool's indices output is not supported");
  // LpPool of p = 2 is l2Pool2d; WebNN has no other norm.
  if (Kind == PoolKind::l2 && ctx.attr_int("p", 2) != 2)
    ctx.not_supported("attribute 'p' value " + std::to_string(ctx.attr_int("p", 2)) +
                      " is not supported (only 2)");
  auto kernel = ctx.attr_ints("kernel_shape");
  if (!kernel) ctx.bad_model("attribute 'kernel_shape' is required");
  if (kernel->size() != 2) ctx.bad_model("attribute 'kernel_shape' must have 2 values");
  Dims in = spatial_of(ctx.shape(0));
  Window w = window_of(ctx, in, *kernel);
  bool ceil_mode = ctx.attr_int("ceil_mode", 0) != 0;

  // ONNX's ceil mode drops a last window that would start inside the end padding; WebNN's
  // rounding does not, so pick the WebNN rounding that gives ONNX's sizes.
  RoundingType rounding = RoundingType::floor;
  if (ceil_mode) {
    bool as_floor = true, as_ceil = true;
    for (size_t d = 0; d < 2; ++d) {
      const char* what = "the output size";
      int64_t begin_end = checked_add(in[d], w.begins[d], what, kMalformed);
      int64_t room = checked_sub(checked_add(begin_end, w.ends[d], what, kMalformed),
                                 dilated_span(w.kernel[d], w.dilations[d]), what, kMalformed);
      if (room < 0) ctx.bad_model("the pooling window is larger than the padded input");
      int64_t floor_out = checked_add(room / w.strides[d], 1, what, kMalformed);
      int64_t ceil_out = checked_add(detail::ceil_div(room, w.strides[d]), 1, what, kMalformed);
      int64_t onnx_out = ceil_out;
      if (checked_mul(onnx_out - 1, w.strides[d], what, kMalformed) >= begin_end) --onnx_out;
      as_floor = as_floor && onnx_out == floor_out;
      as_ceil = as_ceil && onnx_out == ceil_out;
    }
    if (as_ceil)
      rounding = RoundingType::ceil;
    else if (!as_floor)
      ctx.not_supported("ceil_mode gives output sizes that WebNN's rounding cannot express");
  }

  GraphBuilder& b = ctx.builder();
  Operand x = ctx.operand(0);
  bool padded = std::any_of(w.begins.begin(), w.begins.end(), [](int64_t p) { return p; }) ||
                std::any_of(w.ends.begin(), w.ends.end(), [](int64_t p) { return p; });
  if (Kind == PoolKind::average && padded && ctx.attr_int("count_include_pad", 0) != 0) {
    // Counting the padding means averaging over explicit zeros.
    PadOptions zeros;
    zeros.label = ctx.label();
    x = b.pad(x, to_u32(ctx, {0, 0, w.begins[0], w.begins[1]}, "pads"),
              to_u32(ctx, {0, 0, w.ends[0], w.ends[1]}, "pads"), zeros);
    std::fill(w.begins.begin(), w.begins.end(), 0);
    std::fill(w.ends.begin(), w.ends.end(), 0);
  }
  Pool2dOptions o;
  o.label = ctx.label();
  o.window_dimensions = to_u32(ctx, w.kernel, "kernel_shape");
  o.padding = webnn_padding(ctx, w);
  o.strides = to_u32(ctx, w.strides, "strides");
  o.dilations = to_u32(ctx, w.dilations, "dilations");
  o.output_shape_rounding = rounding;
  ctx.set_output(0, Kind == PoolKind::max       ? b.max_pool2d(x, o)
                    : Kind == PoolKind::average ? b.average_pool2d(x, o)
                                                : b.l2_pool2d(x, o));
}

template <bool Max>
void global_pool(NodeContext& ctx) {
  if (ctx.rank(0) != 4)
    ctx.not_supported("only 2-D global pooling is supported, the input has rank " +
                      std::to_string(ctx.rank(0)));
  Pool2dOptions o;
  o.label = ctx.label();
  GraphBuilder& b = ctx.builder();
  ctx.set_output(0, Max ? b.max_pool2d(ctx.operand(0), o) : b.average_pool2d(ctx.operand(0), o));
}

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

void layer_normalization(NodeContext& ctx) {
  ctx.reject_outputs_from(1, "the mean and inverse standard deviation outputs are not supported");
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
}

template <bool Log>
void softmax(NodeContext& ctx) {
  GraphBuilder& b = ctx.builder();
  size_t rank = ctx.rank(0);
  int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", ctx.opset() >= 13 ? -1 : 1), rank,
                                "attribute 'axis'");
  Operand y;
  if (ctx.opset() >= 13 || size_t(axis) == rank - 1) {
    y = b.softmax(ctx.operand(0), uint32_t(axis), ctx.options());
  } else {
    // Before opset 13 the input is coerced to 2-D [outer, inner] around the axis.
    const Dims& s = ctx.shape(0);
    int64_t outer = detail::checked_product(s, "the flattened size", kMalformed, 0, size_t(axis));
    int64_t inner = detail::checked_product(s, "the flattened size", kMalformed, size_t(axis));
    Operand flat = reshape_value(ctx, ctx.input(0), {outer, inner});
    y = b.reshape(b.softmax(flat, 1, ctx.options()), to_u32(ctx, s, "shape"), ctx.options());
  }
  if (Log) y = b.log(y, ctx.options());
  ctx.set_output(0, y);
}

using ReduceMethod = Operand (GraphBuilder::*)(const Operand&, const ReduceOptions&);

// Opset 18 moved `axes` from an attribute to an input (ReduceSum already in opset 13).
template <ReduceMethod Method>
void reduce(NodeContext& ctx) {
  std::optional<std::vector<int64_t>> axes = ctx.attr_ints("axes");
  if (!axes && ctx.has_input(1)) axes = int64_values(ctx.require_constant(1, "axes"));
  ReduceOptions o;
  o.label = ctx.label();
  o.keep_dimensions = ctx.attr_int("keepdims", 1) != 0;
  if (axes && !axes->empty()) {
    for (int64_t& a : *axes) a = normalize_axis(ctx, a, ctx.rank(0), "axis");
    o.axes = to_u32(ctx, *axes, "axes");
  } else if (ctx.attr_int("noop_with_empty_axes", 0) != 0) {
    ctx.alias_output(0, ctx.input(0));
    return;
  }
  ctx.set_output(0, (ctx.builder().*Method)(ctx.operand(0), o));
}

template <bool Max>
void arg_reduce(NodeContext& ctx) {
  if (ctx.attr_int("select_last_index", 0) != 0)
    ctx.not_supported("attribute 'select_last_index' value 1 is not supported");
  int64_t axis = normalize_axis(ctx, ctx.attr_int("axis", 0), ctx.rank(0), "attribute 'axis'");
  ArgMinMaxOptions o;
  o.label = ctx.label();
  o.keep_dimensions = ctx.attr_int("keepdims", 1) != 0;
  o.output_data_type = DataType::int64;
  GraphBuilder& b = ctx.builder();
  ctx.set_output(0, Max ? b.arg_max(ctx.operand(0), uint32_t(axis), o)
                        : b.arg_min(ctx.operand(0), uint32_t(axis), o));
}

void cumulative_sum(NodeContext& ctx) {
  std::vector<int64_t> axis = int64_values(ctx.require_constant(1, "CumSum's axis"));
  if (axis.size() != 1) ctx.bad_model("CumSum's axis must hold one value");
  CumulativeSumOptions o;
  o.label = ctx.label();
  o.exclusive = ctx.attr_int("exclusive", 0) != 0;
  o.reversed = ctx.attr_int("reverse", 0) != 0;
  uint32_t a = uint32_t(normalize_axis(ctx, axis[0], ctx.rank(0), "axis"));
  ctx.set_output(0, ctx.builder().cumulative_sum(ctx.operand(0), a, o));
}

}  // namespace

void register_nn_converters(ConverterTable& t) {
  t["Conv"] = conv;
  t["ConvTranspose"] = conv_transpose;
  t["MaxPool"] = pool<PoolKind::max>;
  t["AveragePool"] = pool<PoolKind::average>;
  t["LpPool"] = pool<PoolKind::l2>;
  t["Resize"] = resize;
  t["GlobalMaxPool"] = global_pool<true>;
  t["GlobalAveragePool"] = global_pool<false>;
  t["BatchNormalization"] = batch_normalization;
  t["InstanceNormalization"] = instance_normalization;
  t["LayerNormalization"] = layer_normalization;
  t["Softmax"] = softmax<false>;
  t["LogSoftmax"] = softmax<true>;
  t["ReduceMean"] = reduce<&GraphBuilder::reduce_mean>;
  t["ReduceSum"] = reduce<&GraphBuilder::reduce_sum>;
  t["ReduceMax"] = reduce<&GraphBuilder::reduce_max>;
  t["ReduceMin"] = reduce<&GraphBuilder::reduce_min>;
  t["ReduceProd"] = reduce<&GraphBuilder::reduce_product>;
  t["ReduceL1"] = reduce<&GraphBuilder::reduce_l1>;
  t["ReduceL2"] = reduce<&GraphBuilder::reduce_l2>;
  t["ReduceLogSum"] = reduce<&GraphBuilder::reduce_log_sum>;
  t["ReduceLogSumExp"] = reduce<&GraphBuilder::reduce_log_sum_exp>;
  t["ReduceSumSquare"] = reduce<&GraphBuilder::reduce_sum_square>;
  t["ArgMax"] = arg_reduce<true>;
  t["ArgMin"] = arg_reduce<false>;
  t["CumSum"] = cumulative_sum;
}

}  // namespace cppnn::onnx_import
