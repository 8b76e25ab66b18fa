// Converters of ONNX's pooling: MaxPool, AveragePool, LpPool (p = 2) and the global pools.
// ONNX's spatial attributes (pads, auto_pad) are resolved by convert_window.h; its ceil_mode
// into WebNN's output rounding here.
#include <algorithm>

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

enum class PoolKind { average, l2, max };

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

}  // namespace

void register_pooling_converters(ConverterTable& t) {
  t["MaxPool"] = pool<PoolKind::max>;
  t["AveragePool"] = pool<PoolKind::average>;
  t["LpPool"] = pool<PoolKind::l2>;
  t["GlobalMaxPool"] = global_pool<true>;
  t["GlobalAveragePool"] = global_pool<false>;
}

}  // namespace cppnn::onnx_import
