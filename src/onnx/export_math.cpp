// Exporters of element-wise ops, activations, cast, where and the matrix products (whose
// fused epilogues, added by the compiler, become the ONNX nodes they stand for).
// WebNN's logical ops work on uint8 and ONNX's on bool: inputs are Cast to bool and results
// Cast back to uint8, and a result read by another logical op reuses its bool twin.
#include <cmath>

#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

template <const char* OnnxOp>
void direct(NodeContext& ctx) {
  std::vector<std::string> inputs;
  for (size_t i = 0; i < ctx.node().inputs.size(); ++i) inputs.push_back(ctx.input(i));
  ctx.emit(OnnxOp, inputs, {ctx.output(0)});
}

template <const char* OnnxOp>
void comparison(NodeContext& ctx) {
  ctx.set_bool_output(0, ctx.emit_value(OnnxOp, {ctx.input(0), ctx.input(1)}, kBool));
}

void not_equal(NodeContext& ctx) {
  std::string eq = ctx.emit_value("Equal", {ctx.input(0), ctx.input(1)}, kBool);
  ctx.set_bool_output(0, ctx.emit_value("Not", {eq}, kBool));
}

template <const char* OnnxOp>
void logical(NodeContext& ctx) {
  std::string a = ctx.bool_input(0);
  std::string b = ctx.bool_input(1);
  ctx.set_bool_output(0, ctx.emit_value(OnnxOp, {a, b}, kBool));
}

void logical_not(NodeContext& ctx) {
  ctx.set_bool_output(0, ctx.emit_value("Not", {ctx.bool_input(0)}, kBool));
}

void is_nan(NodeContext& ctx) {
  ctx.set_bool_output(0, ctx.emit_value("IsNaN", {ctx.input(0)}, kBool));
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

bool has_epilogue(const NodeContext& ctx) {
  return !ctx.attrs().s_or("activation", "").empty() ||
         (ctx.node().op == "conv2d" && ctx.has_input(3));
}

void matmul(NodeContext& ctx) {
  ElemType type = elem_type(ctx.output_desc(0).data_type);
  bool bias = ctx.has_input(2);
  std::string result = bias || has_epilogue(ctx) ? ctx.temp(type) : ctx.output(0);
  ctx.emit("MatMul", {ctx.input(0), ctx.input(1)}, {result});
  if (bias) {
    std::string biased = has_epilogue(ctx) ? ctx.temp(type) : ctx.output(0);
    ctx.emit("Add", {result, ctx.input(2)}, {biased});
    result = biased;
  }
  finish_fused(ctx, result, "");
}

void gemm(NodeContext& ctx) {
  ElemType type = elem_type(ctx.output_desc(0).data_type);
  std::string result = has_epilogue(ctx) ? ctx.temp(type) : ctx.output(0);
  std::vector<std::string> inputs{ctx.input(0), ctx.input(1)};
  if (ctx.has_input(2)) inputs.push_back(ctx.input(2));
  auto& n = ctx.emit("Gemm", inputs, {result});
  const detail::Attrs& a = ctx.attrs();
  set_attr(n, "alpha", a.f("alpha"));
  set_attr(n, "beta", a.f("beta"));
  set_attr(n, "transA", a.i("aTranspose"));
  set_attr(n, "transB", a.i("bTranspose"));
  finish_fused(ctx, result, "");
}

// Op names as template arguments need linkage.
constexpr char kAdd[] = "Add", kSub[] = "Sub", kMul[] = "Mul", kDiv[] = "Div", kMax[] = "Max",
               kMin[] = "Min", kPow[] = "Pow", kEqual[] = "Equal", kGreater[] = "Greater",
               kGreaterOrEqual[] = "GreaterOrEqual", kLess[] = "Less",
               kLessOrEqual[] = "LessOrEqual", kAnd[] = "And", kOr[] = "Or", kXor[] = "Xor",
               kAbs[] = "Abs", kCeil[] = "Ceil", kCos[] = "Cos", kErf[] = "Erf", kExp[] = "Exp",
               kFloor[] = "Floor", kLog[] = "Log", kNeg[] = "Neg", kReciprocal[] = "Reciprocal",
               kRound[] = "Round", kSin[] = "Sin", kSign[] = "Sign", kSqrt[] = "Sqrt",
               kTan[] = "Tan", kSoftplus[] = "Softplus", kSoftsign[] = "Softsign",
               kIdentity[] = "Identity";

}  // namespace

void emit_activation(NodeContext& ctx, const std::string& op, const std::string& x,
                     const std::string& out, DataType type, double alpha, double beta, double lo,
                     double hi) {
  GraphWriter& w = ctx.writer();
  if (op == "relu") {
    ctx.emit("Relu", {x}, {out});
  } else if (op == "sigmoid") {
    ctx.emit("Sigmoid", {x}, {out});
  } else if (op == "tanh") {
    ctx.emit("Tanh", {x}, {out});
  } else if (op == "hardSwish") {
    // ONNX's x * max(0, min(1, x / 6 + 1 / 2)) is WebNN's x * max(0, min(6, x + 3)) / 6.
    ctx.emit("HardSwish", {x}, {out});
  } else if (op == "gelu") {
    // ONNX's Gelu is opset 20: the spec's 0.5 * x * (1 + erf(x / sqrt(2))).
    ElemType t = elem_type(type);
    std::string scaled = ctx.emit_value("Div", {x, w.scalar(type, std::sqrt(2.0))}, t);
    std::string erf = ctx.emit_value("Erf", {scaled}, t);
    std::string one_plus = ctx.emit_value("Add", {erf, w.scalar(type, 1.0)}, t);
    std::string half_x = ctx.emit_value("Mul", {x, w.scalar(type, 0.5)}, t);
    ctx.emit("Mul", {half_x, one_plus}, {out});
  } else if (op == "clamp") {
    // An absent bound is an infinity in the attributes and an absent input in ONNX.
    std::string min = std::isinf(lo) ? "" : w.scalar(type, lo);
    std::string max = std::isinf(hi) ? "" : w.scalar(type, hi);
    std::vector<std::string> inputs{x, min, max};
    while (inputs.back().empty()) inputs.pop_back();
    ctx.emit("Clip", inputs, {out});
  } else if (op == "leakyRelu") {
    set_attr(ctx.emit("LeakyRelu", {x}, {out}), "alpha", alpha);
  } else if (op == "elu") {
    set_attr(ctx.emit("Elu", {x}, {out}), "alpha", alpha);
  } else if (op == "hardSigmoid") {
    auto& n = ctx.emit("HardSigmoid", {x}, {out});
    set_attr(n, "alpha", alpha);
    set_attr(n, "beta", beta);
  } else {
    fail(ErrorKind::OperationError, "export: unknown activation '" + op + "'");
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
  emit_activation(ctx, act, x, out, type, a.f_or("activationAlpha", 0), 0,
                  a.f_or("activationMin", 0), a.f_or("activationMax", 0));
}

void register_math_exporters(ConverterTable& t) {
  t["add"] = direct<kAdd>;
  t["sub"] = direct<kSub>;
  t["mul"] = direct<kMul>;
  t["div"] = direct<kDiv>;
  t["max"] = direct<kMax>;
  t["min"] = direct<kMin>;
  t["pow"] = direct<kPow>;
  t["equal"] = comparison<kEqual>;
  t["notEqual"] = not_equal;
  t["greater"] = comparison<kGreater>;
  t["greaterOrEqual"] = comparison<kGreaterOrEqual>;
  t["lesser"] = comparison<kLess>;
  t["lesserOrEqual"] = comparison<kLessOrEqual>;
  t["logicalAnd"] = logical<kAnd>;
  t["logicalOr"] = logical<kOr>;
  t["logicalXor"] = logical<kXor>;
  t["logicalNot"] = logical_not;
  t["isNaN"] = is_nan;
  t["isInfinite"] = is_infinite;

  t["abs"] = direct<kAbs>;
  t["ceil"] = direct<kCeil>;
  t["cos"] = direct<kCos>;
  t["erf"] = direct<kErf>;
  t["exp"] = direct<kExp>;
  t["floor"] = direct<kFloor>;
  t["log"] = direct<kLog>;
  t["neg"] = direct<kNeg>;
  t["reciprocal"] = direct<kReciprocal>;
  t["roundEven"] = direct<kRound>;  // ONNX's Round sends halves to even
  t["sin"] = direct<kSin>;
  t["sign"] = direct<kSign>;
  t["sqrt"] = direct<kSqrt>;
  t["tan"] = direct<kTan>;
  t["softplus"] = direct<kSoftplus>;
  t["softsign"] = direct<kSoftsign>;
  t["identity"] = direct<kIdentity>;
  for (const char* op :
       {"relu", "sigmoid", "tanh", "hardSwish", "gelu", "clamp", "leakyRelu", "elu", "hardSigmoid"})
    t[op] = activation;
  t["linear"] = linear;
  t["prelu"] = prelu;
  t["cast"] = cast;
  t["where"] = where;
  t["matmul"] = matmul;
  t["gemm"] = gemm;
}

}  // namespace cppnn::onnx_export
