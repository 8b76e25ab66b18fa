// Converters of ONNX's convolutions: Conv (1-D as 2-D over a height of 1) and ConvTranspose.
// ONNX's spatial attributes (pads as [begins..., ends...], auto_pad) are resolved into
// WebNN's explicit options by convert_window.h.
#include "core/checked.h"
#include "onnx/convert_window.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

using detail::checked_add;
using detail::checked_mul;
using detail::checked_sub;
// Kernel sizes, strides, dilations and pads come from the file, unchecked until the builder
// sees them: arithmetic past int64 on them is a malformed model.
constexpr ErrorKind kMalformed = ErrorKind::DataError;

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

}  // namespace

void register_conv_converters(ConverterTable& t) {
  t["Conv"] = conv;
  t["ConvTranspose"] = conv_transpose;
}

}  // namespace cppnn::onnx_import
