// Converters of ONNX's reductions: Softmax and LogSoftmax, the Reduce* ops, ArgMax, ArgMin
// and CumSum.
#include "core/checked.h"
#include "onnx/host_ops.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

// Sizes come from the file: arithmetic past int64 on them is a malformed model.
constexpr ErrorKind kMalformed = ErrorKind::DataError;

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

void register_reduction_converters(ConverterTable& t) {
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
