// Exporters of the pooling ops: averagePool2d, l2Pool2d (LpPool, p = 2) and maxPool2d, in
// NCHW (in_nchw), their output rounding as ONNX's ceil_mode or extra end padding.
#include <algorithm>

#include "core/checked.h"
#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

using Ints = std::vector<int64_t>;

using detail::checked_add;
using detail::checked_mul;
using detail::checked_sub;
// Arithmetic on a node's sizes and attributes. Validation bounds them (graphs come from the
// builder or an engine file); checked all the same, so that a bound loosened there cannot
// become a wrapped size here. An overflow is a graph no builder made.
constexpr ErrorKind kMalformed = ErrorKind::DataError;
constexpr const char* kOutputSize = "export: the output size";

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

}  // namespace

void register_pooling_exporters(ConverterTable& t) {
  using detail::OpId;
  t[OpId::averagePool2d] = average_pool2d;
  t[OpId::l2Pool2d] = l2_pool2d;
  t[OpId::maxPool2d] = max_pool2d;
}

}  // namespace cppnn::onnx_export
