// Exporters of the reductions: the reduce* ops, argMin/argMax, cumulativeSum and softmax.
#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

using Ints = std::vector<int64_t>;

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

void register_reduction_exporters(ConverterTable& t) {
  using detail::OpId;
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
