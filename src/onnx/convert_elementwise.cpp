// Converters of the element-wise ONNX ops: arithmetic, comparisons, logic, activations,
// Cast, Where, Clip, Identity, and the generated converters of ops.def's U ops. Binary and
// logical ops on values known at import time fold on the host.
#include <cmath>
#include <limits>

#include "graph/op_id.h"
#include "graph/validation.h"
#include "onnx/host_ops.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

using BinaryMethod = Operand (GraphBuilder::*)(const Operand&, const Operand&,
                                               const OperatorOptions&);
using UnaryMethod = Operand (GraphBuilder::*)(const Operand&, const OperatorOptions&);

// Whether every input is known and the result small. The broadcast shape is computed only
// then, so that a graph op's own validation reports a bad shape. The first `required`
// inputs must be present (a DataError naming the absent one otherwise): "all present inputs
// are constant" is vacuously true of a node that lacks them.
bool foldable(const NodeContext& ctx, size_t required) {
  for (size_t i = 0; i < required; ++i) ctx.input(i);
  if (!ctx.all_inputs_constant()) return false;
  Dims out;
  for (size_t i = 0; i < ctx.input_count(); ++i)
    if (ctx.has_input(i)) out = detail::broadcast_shapes(out, ctx.shape(i));
  return ctx.foldable(out);
}

template <BinaryMethod Method, HostBinary Op>
void binary(NodeContext& ctx) {
  bool logical = is_comparison(Op);
  if (foldable(ctx, 2)) {
    ctx.set_output(0, host_binary(Op, *ctx.constant(0), *ctx.constant(1)), logical);
    return;
  }
  ctx.set_output(0, (ctx.builder().*Method)(ctx.operand(0), ctx.operand(1), ctx.options()),
                 logical);
}

// Max, Min, Sum and Mean take any number of inputs: a chain of binary ops.
template <BinaryMethod Method, HostBinary Op, bool Mean>
void variadic(NodeContext& ctx) {
  size_t n = ctx.input_count();
  if (n == 0) ctx.bad_model("needs at least one input");
  if (foldable(ctx, n)) {
    Tensor acc = *ctx.constant(0);
    for (size_t i = 1; i < n; ++i) acc = host_binary(Op, acc, *ctx.constant(i));
    if (Mean) {
      Tensor count = host_cast(int64_tensor({}, {int64_t(n)}), acc.data_type(), false);
      acc = host_binary(HostBinary::div, acc, count);
    }
    ctx.set_output(0, std::move(acc));
    return;
  }
  if (n == 1) {
    ctx.alias_output(0, ctx.input(0));
    return;
  }
  GraphBuilder& b = ctx.builder();
  Operand acc = ctx.operand(0);
  for (size_t i = 1; i < n; ++i) acc = (b.*Method)(acc, ctx.operand(i), ctx.options());
  if (Mean) acc = b.div(acc, b.constant(acc.data_type(), double(n)), ctx.options());
  ctx.set_output(0, acc);
}

void pow(NodeContext& ctx) {
  GraphBuilder& b = ctx.builder();
  Operand base = ctx.operand(0);
  Operand exponent;
  // ONNX lets the exponent have its own type; WebNN's pow wants the base's.
  if (ctx.type(1) == ctx.type(0))
    exponent = ctx.operand(1);
  else if (const Tensor* e = ctx.constant(1))
    exponent = ctx.host_constant(host_cast(*e, ctx.type(0), false));
  else
    exponent = b.cast(ctx.operand(1), ctx.type(0), ctx.options());
  ctx.set_output(0, b.pow(base, exponent, ctx.options()));
}

// Mod: fmod=1 is C's fmod (the remainder has the dividend's sign), fmod=0 Python's % (the
// divisor's sign; ONNX allows it for integers only, and it is accepted for floats too). Shape
// arithmetic (the usual use: exporters emit it for dynamic sizes) folds on the host, exactly.
// A float Mod at run time is a - b * trunc(a / b) (or floor for fmod=0), as exact as the
// quotient's rounding allows; WebNN has no integer remainder, so an integer Mod at run time
// is refused.
void mod(NodeContext& ctx) {
  bool c_fmod = ctx.attr_int("fmod", 0) != 0;
  if (foldable(ctx, 2)) {
    ctx.set_output(0, host_binary(c_fmod ? HostBinary::fmod : HostBinary::mod, *ctx.constant(0),
                                  *ctx.constant(1)));
    return;
  }
  DataType type = ctx.type(0);
  if (type != DataType::float32 && type != DataType::float16)
    fail(ErrorKind::NotSupportedError,
         "Mod of " + std::string(to_string(type)) +
             " values computed at run time is not supported (WebNN has no integer remainder); "
             "Mod of constants and shapes folds at import");
  GraphBuilder& b = ctx.builder();
  Operand a = ctx.operand(0), d = ctx.operand(1);
  Operand q = b.div(a, d, ctx.options());
  Operand whole = c_fmod ? b.where(b.lesser(q, b.constant(type, 0.0), ctx.options()),
                                   b.ceil(q, ctx.options()), b.floor(q, ctx.options()),
                                   ctx.options())
                         : b.floor(q, ctx.options());
  ctx.set_output(0, b.sub(a, b.mul(d, whole, ctx.options()), ctx.options()));
}

void logical_not(NodeContext& ctx) {
  if (foldable(ctx, 1)) {
    ctx.set_output(0, host_logical_not(*ctx.constant(0)), true);
    return;
  }
  ctx.set_output(0, ctx.builder().logical_not(ctx.operand(0), ctx.options()), true);
}

// IsInf's detect_negative and detect_positive pick the infinities it flags: one sign alone
// is a comparison with that infinity, and neither flags nothing.
void is_inf(NodeContext& ctx) {
  bool negative = ctx.attr_int("detect_negative", 1) != 0;
  bool positive = ctx.attr_int("detect_positive", 1) != 0;
  GraphBuilder& b = ctx.builder();
  Operand x = ctx.operand(0);
  Operand y;
  if (negative && positive) {
    y = b.is_infinite(x, ctx.options());
  } else if (negative || positive) {
    double inf = std::numeric_limits<double>::infinity();
    y = b.equal(x, b.constant(x.data_type(), positive ? inf : -inf), ctx.options());
  } else {
    y = b.logical_and(b.is_infinite(x, ctx.options()), b.constant(DataType::uint8, 0.0),
                      ctx.options());
  }
  ctx.set_output(0, y, true);
}

// The generated converter of a U op of ops.def that names an ONNX op: the op's builder
// method on the node's one input. A logical op's uint8 result is ONNX's bool.
template <detail::OpId Id, UnaryMethod Method>
void unary(NodeContext& ctx) {
  // Neg of an integer known at import time is shape arithmetic (ONNX's expanded functions
  // negate axes and counts): folded like the binary ops, as 0 - x.
  if constexpr (Id == detail::OpId::neg) {
    const Tensor* x = ctx.constant(0);
    if (x && !is_float(x->data_type()) && ctx.foldable(x->shape())) {
      Tensor zero = host_cast(int64_tensor({}, {0}), x->data_type(), false);
      ctx.set_output(0, host_binary(HostBinary::sub, zero, *x));
      return;
    }
  }
  ctx.set_output(0, (ctx.builder().*Method)(ctx.operand(0), ctx.options()),
                 detail::op_kind(Id) == detail::OpKind::logical);
}

void leaky_relu(NodeContext& ctx) {
  LeakyReluOptions o;
  o.label = ctx.label();
  o.alpha = ctx.attr_float("alpha", 0.01f);
  ctx.set_output(0, ctx.builder().leaky_relu(ctx.operand(0), o));
}

void elu(NodeContext& ctx) {
  EluOptions o;
  o.label = ctx.label();
  o.alpha = ctx.attr_float("alpha", 1.0f);
  ctx.set_output(0, ctx.builder().elu(ctx.operand(0), o));
}

void hard_sigmoid(NodeContext& ctx) {
  HardSigmoidOptions o;
  o.label = ctx.label();
  o.alpha = ctx.attr_float("alpha", 0.2f);
  o.beta = ctx.attr_float("beta", 0.5f);
  ctx.set_output(0, ctx.builder().hard_sigmoid(ctx.operand(0), o));
}

void prelu(NodeContext& ctx) {
  ctx.set_output(0, ctx.builder().prelu(ctx.operand(0), ctx.operand(1), ctx.options()));
}

void gelu(NodeContext& ctx) {
  std::string approximate = ctx.attr_string("approximate", "none");
  GraphBuilder& b = ctx.builder();
  Operand x = ctx.operand(0);
  if (approximate == "none") {
    ctx.set_output(0, b.gelu(x, ctx.options()));
    return;
  }
  if (approximate != "tanh")
    ctx.not_supported("attribute 'approximate' value '" + approximate + "' is not supported");
  // 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))), as ONNX defines it.
  auto c = [&](double v) { return b.constant(x.data_type(), v); };
  OperatorOptions o = ctx.options();
  Operand cube = b.mul(b.mul(x, x, o), x, o);
  Operand inner = b.mul(c(std::sqrt(2.0 / M_PI)), b.add(x, b.mul(c(0.044715), cube, o), o), o);
  Operand y = b.mul(b.mul(c(0.5), x, o), b.add(c(1.0), b.tanh(inner, o), o), o);
  ctx.set_output(0, y);
}

double scalar_of(const NodeContext& ctx, const Tensor& t, const std::string& what) {
  if (t.element_count() != 1)
    ctx.bad_model(what + " must hold one value, it has shape " + to_string(t.shape()));
  return t.to_doubles()[0];
}

void clip(NodeContext& ctx) {
  ClampOptions o;
  o.label = ctx.label();
  if (ctx.opset() < 11) {
    if (ctx.has_attr("min")) o.min_value = ctx.attr_float("min", 0);
    if (ctx.has_attr("max")) o.max_value = ctx.attr_float("max", 0);
  } else {
    if (ctx.has_input(1))
      o.min_value = scalar_of(ctx, ctx.require_constant(1, "Clip's min"), "Clip's min");
    if (ctx.has_input(2))
      o.max_value = scalar_of(ctx, ctx.require_constant(2, "Clip's max"), "Clip's max");
  }
  if (!o.min_value && !o.max_value) {
    ctx.alias_output(0, ctx.input(0));
    return;
  }
  ctx.set_output(0, ctx.builder().clamp(ctx.operand(0), o));
}

// Cast's and CastLike's conversion of input 0 to `type` (ONNX bool when to_bool).
void cast_input_to(NodeContext& ctx, DataType type, bool to_bool) {
  const ValuePtr& x = ctx.input(0);
  if (x->data && ctx.foldable(x->shape)) {
    ctx.set_output(0, host_cast(*x->data, type, to_bool), to_bool);
    return;
  }
  GraphBuilder& b = ctx.builder();
  if (to_bool) {
    // WebNN's cast to uint8 would wrap 256 to 0; ONNX's bool is "nonzero".
    if (x->is_bool)
      ctx.alias_output(0, x);
    else
      ctx.set_output(0, b.not_equal(ctx.operand(0), b.constant(x->type, 0.0), ctx.options()), true);
    return;
  }
  if (type == x->type) {
    auto v = std::make_shared<Value>(*x);
    v->is_bool = false;
    ctx.alias_output(0, v);
    return;
  }
  ctx.set_output(0, b.cast(ctx.operand(0), type, ctx.options()));
}

void cast(NodeContext& ctx) {
  if (!ctx.has_attr("to")) ctx.bad_model("attribute 'to' is required");
  bool to_bool = false;
  DataType type = ctx.onnx_type(int32_t(ctx.attr_int("to", 0)), "attribute 'to'", &to_bool);
  cast_input_to(ctx, type, to_bool);
}

// CastLike: Cast to the type of input 1 (its values are not read). `saturate` only concerns
// the float8 types, which WebNN does not have.
void cast_like(NodeContext& ctx) {
  if (!ctx.has_input(1)) ctx.bad_model("input 1 (target_type) is required");
  cast_input_to(ctx, ctx.type(1), ctx.input(1)->is_bool);
}

void where(NodeContext& ctx) {
  bool is_bool = ctx.input(1)->is_bool && ctx.input(2)->is_bool;
  if (foldable(ctx, 3)) {
    ctx.set_output(0, host_where(*ctx.constant(0), *ctx.constant(1), *ctx.constant(2)), is_bool);
    return;
  }
  ctx.set_output(0,
                 ctx.builder().where(ctx.operand(0), ctx.operand(1), ctx.operand(2), ctx.options()),
                 is_bool);
}

void identity(NodeContext& ctx) { ctx.alias_output(0, ctx.input(0)); }

}  // namespace

void register_elementwise_converters(ConverterTable& t) {
  t["Add"] = binary<&GraphBuilder::add, HostBinary::add>;
  t["Sub"] = binary<&GraphBuilder::sub, HostBinary::sub>;
  t["Mul"] = binary<&GraphBuilder::mul, HostBinary::mul>;
  t["Div"] = binary<&GraphBuilder::div, HostBinary::div>;
  t["Mod"] = mod;
  t["Pow"] = pow;
  t["Max"] = variadic<&GraphBuilder::max, HostBinary::max, false>;
  t["Min"] = variadic<&GraphBuilder::min, HostBinary::min, false>;
  t["Sum"] = variadic<&GraphBuilder::add, HostBinary::add, false>;
  t["Mean"] = variadic<&GraphBuilder::add, HostBinary::add, true>;
  t["Equal"] = binary<&GraphBuilder::equal, HostBinary::equal>;
  t["Greater"] = binary<&GraphBuilder::greater, HostBinary::greater>;
  t["Less"] = binary<&GraphBuilder::lesser, HostBinary::less>;
  t["GreaterOrEqual"] = binary<&GraphBuilder::greater_or_equal, HostBinary::greater_or_equal>;
  t["LessOrEqual"] = binary<&GraphBuilder::lesser_or_equal, HostBinary::less_or_equal>;
  t["And"] = binary<&GraphBuilder::logical_and, HostBinary::logical_and>;
  t["Or"] = binary<&GraphBuilder::logical_or, HostBinary::logical_or>;
  t["Xor"] = binary<&GraphBuilder::logical_xor, HostBinary::logical_xor>;
  t["Not"] = logical_not;
  t["IsInf"] = is_inf;
  // Abs, Relu, Sigmoid ... and IsNaN are the generated converters of their U ops.
  t["LeakyRelu"] = leaky_relu;
  t["Elu"] = elu;
  t["HardSigmoid"] = hard_sigmoid;
  t["PRelu"] = prelu;
  t["Gelu"] = gelu;
  t["Clip"] = clip;
  t["Cast"] = cast;
  t["CastLike"] = cast_like;
  t["Where"] = where;
  t["Identity"] = identity;
}

void register_generated_converters(ConverterTable& t) {
  struct Generated {
    detail::OpId id;
    Converter convert;
  };
  // One entry per U op of ops.def; B and X ops have none (their ONNX ops take more inputs,
  // attributes, or fold on the host: written by hand above).
#define CPPNN_OP(id, method, kind, sig, types, traits, onnx, doc) \
  CPPNN_ONNX_IMPORT_##sig(id, method)
#define CPPNN_ONNX_IMPORT_U(id, method) \
  {detail::OpId::id, unary<detail::OpId::id, &GraphBuilder::method>},
#define CPPNN_ONNX_IMPORT_B(id, method)
#define CPPNN_ONNX_IMPORT_X(id, method)
  static const Generated kUnary[] = {
#include "cppnn/ops.def"
  };
#undef CPPNN_ONNX_IMPORT_U
#undef CPPNN_ONNX_IMPORT_B
#undef CPPNN_ONNX_IMPORT_X
  for (const Generated& g : kUnary) {
    const std::string& onnx = detail::op_info(g.id).onnx;
    // emplace keeps a hand-written converter of the same ONNX type (Identity, Not).
    if (!onnx.empty()) t.emplace(onnx, g.convert);
  }
}

}  // namespace cppnn::onnx_import
