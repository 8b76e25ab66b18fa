// Exporters of the element-wise ops: arithmetic, comparisons, logic, activations, cast,
// where, and the generated exporters of ops.def's U ops. The activations are also written
// for the fused epilogues the compiler adds to conv and matmul nodes (emit_activation,
// finish_fused: the ONNX nodes they stand for).
// WebNN's logical ops work on uint8 and ONNX's on bool: inputs are Cast to bool and results
// Cast back to uint8, and a result read by another logical op reuses its bool twin.
#include <cmath>
#include <optional>

#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

// The ONNX op ops.def maps the node's op to one to one.
const std::string& onnx_op(NodeContext& ctx) { return detail::op_info(ctx.node().op).onnx; }

// Add, Sub, Mul, Div, Max, Min, Pow.
void direct(NodeContext& ctx) {
  std::vector<std::string> inputs;
  for (size_t i = 0; i < ctx.node().inputs.size(); ++i) inputs.push_back(ctx.input(i));
  ctx.emit(onnx_op(ctx), inputs, {ctx.output(0)});
}

// Equal, Greater, ...: a bool result, uint8 in WebNN.
void comparison(NodeContext& ctx) {
  ctx.set_bool_output(0, ctx.emit_value(onnx_op(ctx), {ctx.input(0), ctx.input(1)}, kBool));
}

void not_equal(NodeContext& ctx) {
  std::string eq = ctx.emit_value("Equal", {ctx.input(0), ctx.input(1)}, kBool);
  ctx.set_bool_output(0, ctx.emit_value("Not", {eq}, kBool));
}

// And, Or, Xor: bool operands and result.
void logical(NodeContext& ctx) {
  std::string a = ctx.bool_input(0);
  std::string b = ctx.bool_input(1);
  ctx.set_bool_output(0, ctx.emit_value(onnx_op(ctx), {a, b}, kBool));
}

void logical_not(NodeContext& ctx) {
  ctx.set_bool_output(0, ctx.emit_value("Not", {ctx.bool_input(0)}, kBool));
}

// IsInf takes float16 only from opset 20; widening to float32 first is exact.
void is_infinite(NodeContext& ctx) {
  std::string x = ctx.input(0);
  if (ctx.input_desc(0).data_type == DataType::float16 && ctx.writer().opset() < 20)
    x = ctx.cast(x, elem_type(DataType::float32));
  ctx.set_bool_output(0, ctx.emit_value("IsInf", {x}, kBool));
}

void activation(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  emit_activation(ctx, ctx.node().op, ctx.input(0), ctx.output(0), ctx.input_desc(0).data_type,
                  a.f_or("alpha", 0), a.f_or("beta", 0), a.f_or("minValue", 0),
                  a.f_or("maxValue", 0));
}

void linear(NodeContext& ctx) {
  DataType type = ctx.input_desc(0).data_type;
  GraphWriter& w = ctx.writer();
  std::string scaled = ctx.emit_value("Mul", {ctx.input(0), w.scalar(type, ctx.attrs().f("alpha"))},
                                      elem_type(type));
  ctx.emit("Add", {scaled, w.scalar(type, ctx.attrs().f("beta"))}, {ctx.output(0)});
}

// PRelu's slope must broadcast to the input; WebNN's output may be larger than the input.
// Integer types use the definition itself, as ONNX's PRelu lacks int8.
void prelu(NodeContext& ctx) {
  DataType type = ctx.input_desc(0).data_type;
  std::string x = ctx.input(0);
  const Dims& out_shape = ctx.output_desc(0).shape;
  if (ctx.input_desc(0).shape != out_shape)
    x = ctx.emit_value("Expand", {x, ctx.writer().int64s(out_shape, "shape")}, elem_type(type));
  if (is_float(type)) {
    ctx.emit("PRelu", {x, ctx.input(1)}, {ctx.output(0)});
    return;
  }
  std::string zero = ctx.writer().scalar(type, 0);
  std::string negative = ctx.emit_value("Less", {x, zero}, kBool);
  std::string scaled = ctx.emit_value("Mul", {x, ctx.input(1)}, elem_type(type));
  ctx.emit("Where", {negative, scaled, x}, {ctx.output(0)});
}

void cast(NodeContext& ctx) {
  auto& n = ctx.emit("Cast", {ctx.input(0)}, {ctx.output(0)});
  set_attr(n, "to", int64_t(elem_type(ctx.output_desc(0).data_type)));
}

void where(NodeContext& ctx) {
  std::string condition = ctx.bool_input(0);
  ctx.emit("Where", {condition, ctx.input(1), ctx.input(2)}, {ctx.output(0)});
}

// The generated exporter of a U op of ops.def with an ONNX name: that ONNX op on the one
// input. A logical op's ONNX result is bool (IsNaN), written back as uint8.
void one_to_one(NodeContext& ctx) {
  const detail::OpInfo& op = detail::op_info(ctx.node().op);
  if (op.kind == detail::OpKind::logical)
    ctx.set_bool_output(0, ctx.emit_value(op.onnx, {ctx.input(0)}, kBool));
  else
    ctx.emit(op.onnx, {ctx.input(0)}, {ctx.output(0)});
}

[[noreturn]] void unknown_activation(const std::string& name) {
  fail(ErrorKind::OperationError, "export: unknown activation '" + name + "'");
}

}  // namespace

void emit_activation(NodeContext& ctx, detail::OpId op, const std::string& x,
                     const std::string& out, DataType type, double alpha, double beta, double lo,
                     double hi) {
  GraphWriter& w = ctx.writer();
  const detail::OpInfo& info = detail::op_info(op);
  // A U op with an ONNX name (Relu, Sigmoid, Tanh, HardSwish) is that ONNX op, as its
  // generated exporter writes it; logical ops are left out, their ONNX result being bool.
  // ONNX's HardSwish, x * max(0, min(1, x / 6 + 1 / 2)), is WebNN's x * max(0, min(6, x + 3)) / 6.
  if (info.sig == detail::OpSig::U && !info.onnx.empty() && info.kind != detail::OpKind::logical) {
    ctx.emit(info.onnx, {x}, {out});
    return;
  }
  if (op == detail::OpId::gelu) {
    // ONNX's Gelu is opset 20: the spec's 0.5 * x * (1 + erf(x / sqrt(2))).
    ElemType t = elem_type(type);
    std::string scaled = ctx.emit_value("Div", {x, w.scalar(type, std::sqrt(2.0))}, t);
    std::string erf = ctx.emit_value("Erf", {scaled}, t);
    std::string one_plus = ctx.emit_value("Add", {erf, w.scalar(type, 1.0)}, t);
    std::string half_x = ctx.emit_value("Mul", {x, w.scalar(type, 0.5)}, t);
    ctx.emit("Mul", {half_x, one_plus}, {out});
  } else if (op == detail::OpId::clamp) {
    // An absent bound is an infinity in the attributes and an absent input in ONNX.
    std::string min = std::isinf(lo) ? "" : w.scalar(type, lo);
    std::string max = std::isinf(hi) ? "" : w.scalar(type, hi);
    std::vector<std::string> inputs{x, min, max};
    while (inputs.back().empty()) inputs.pop_back();
    ctx.emit("Clip", inputs, {out});
  } else if (op == detail::OpId::leakyRelu) {
    set_attr(ctx.emit("LeakyRelu", {x}, {out}), "alpha", alpha);
  } else if (op == detail::OpId::elu) {
    set_attr(ctx.emit("Elu", {x}, {out}), "alpha", alpha);
  } else if (op == detail::OpId::hardSigmoid) {
    auto& n = ctx.emit("HardSigmoid", {x}, {out});
    set_attr(n, "alpha", alpha);
    set_attr(n, "beta", beta);
  } else {
    unknown_activation(info.name);
  }
}

void finish_fused(NodeContext& ctx, const std::string& result, const std::string& residual) {
  std::string out = ctx.output(0);
  if (result == out) return;
  const detail::Attrs& a = ctx.attrs();
  std::string act = a.s_or("activation", "");
  DataType type = ctx.output_desc(0).data_type;
  std::string x = result;
  if (!residual.empty()) {
    std::string sum = act.empty() ? out : ctx.temp(elem_type(type));
    ctx.emit("Add", {x, residual}, {sum});
    x = sum;
  }
  if (act.empty()) return;
  // The attribute holds the fused op's WebNN name (engine files store it as such).
  std::optional<detail::OpId> op = detail::find_op(act);
  if (!op) unknown_activation(act);
  emit_activation(ctx, *op, x, out, type, a.f_or("activationAlpha", 0), 0,
                  a.f_or("activationMin", 0), a.f_or("activationMax", 0));
}

void register_elementwise_exporters(ConverterTable& t) {
  using detail::OpId;
  // add ... pow, equal ... lesserOrEqual, logicalAnd/Or/Xor: generated from ops.def's
  // ONNX names (register_generated_exporters); notEqual has none.
  t[OpId::notEqual] = not_equal;
  t[OpId::logicalNot] = logical_not;
  t[OpId::isInfinite] = is_infinite;
  // abs, ceil ... identity, relu, sigmoid, tanh, hardSwish and isNaN: generated
  // (register_generated_exporters). The activations emit_activation writes by hand:
  for (OpId op : {OpId::gelu, OpId::clamp, OpId::leakyRelu, OpId::elu, OpId::hardSigmoid})
    t[op] = activation;
  t[OpId::linear] = linear;
  t[OpId::prelu] = prelu;
  t[OpId::cast] = cast;
  t[OpId::where] = where;
}

void register_generated_exporters(ConverterTable& t) {
  using detail::OpKind;
  for (const detail::OpInfo& op : detail::all_ops()) {
    if (op.onnx.empty()) continue;
    if (op.sig == detail::OpSig::U) t.emplace(op.id, one_to_one);
    if (op.sig == detail::OpSig::B)
      t.emplace(op.id, op.kind == OpKind::binary       ? direct
                       : op.kind == OpKind::comparison ? comparison
                                                       : logical);
  }
}

}  // namespace cppnn::onnx_export
