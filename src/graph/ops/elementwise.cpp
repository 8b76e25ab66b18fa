// Element-wise ops: binary arithmetic, logical, unary math, activations, cast, where.
// The allowed data types per op are the spec's "allowed data types" tables.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/dispatch.h"
#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

using Types = std::initializer_list<DataType>;

constexpr Types kUint8 = {DataType::uint8};

std::string format_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The spec's "cast" of an MLNumber or double to a data type (ConvertToFloat / ConvertToInt),
// so that attributes hold exactly the value the kernel of that type will use.
double cast_number(double x, DataType type) {
  switch (type) {
    case DataType::float32:
      return double(float(x));
    case DataType::float16:
      return double(float(half(float(x))));
    default:
      break;
  }
  if (std::isnan(x)) return 0.0;
  double lo = 0, hi = 0;
  switch (type) {
    case DataType::int8:
      lo = -128.0, hi = 127.0;
      break;
    case DataType::uint8:
      lo = 0.0, hi = 255.0;
      break;
    case DataType::int32:
      lo = -2147483648.0, hi = 2147483647.0;
      break;
    // The spec's table says "signed" for uint32, which contradicts the type; unsigned it is.
    case DataType::uint32:
      lo = 0.0, hi = 4294967295.0;
      break;
    // 2^63 - 1 and 2^64 - 1 round to 2^63 and 2^64 in a double; kernels saturate on conversion.
    case DataType::int64:
      lo = -9223372036854775808.0, hi = 9223372036854775807.0;
      break;
    case DataType::uint64:
      lo = 0.0, hi = 18446744073709551615.0;
      break;
    default:
      break;
  }
  double v = std::nearbyint(std::min(std::max(x, lo), hi));  // ties to even
  return v == 0.0 ? 0.0 : v;                                 // +0 rather than -0
}

// Reads a `double` option (WebIDL restricted double: finite) and stores it cast to `type`.
void set_cast_option(Attrs& attrs, const std::string& name, double fallback, DataType type) {
  double v = attrs.f_or(name, fallback);
  if (!std::isfinite(v))
    type_error("option '" + name + "' must be a finite number, got " + format_number(v));
  attrs.set(name, cast_number(v, type));
}

OpSchema binary(const std::string& name) {
  return OpSchema{name, {"a", "b"}, 2, false, [](const InputDescs& in, Attrs&) {
                    check_same_type(*in[0], "a", *in[1], "b");
                    return std::vector<OperandDescriptor>{
                        {in[0]->data_type, broadcast_shapes(in[0]->shape, in[1]->shape)}};
                  }};
}

OpSchema logical_binary(const std::string& name, const Types& allowed) {
  return OpSchema{name, {"a", "b"}, 2, false, [allowed](const InputDescs& in, Attrs&) {
                    check_data_type(*in[0], "a", allowed);
                    check_same_type(*in[0], "a", *in[1], "b");
                    return std::vector<OperandDescriptor>{
                        {DataType::uint8, broadcast_shapes(in[0]->shape, in[1]->shape)}};
                  }};
}

// A one-input op whose output copies the input's descriptor. `options` casts the op's
// double options (name, default) to the input's type.
OpSchema unary(const std::string& name, const Types& allowed,
               std::vector<std::pair<std::string, double>> options = {}) {
  return OpSchema{
      name, {"input"}, 1, false, [allowed, options](const InputDescs& in, Attrs& attrs) {
        check_data_type(*in[0], "input", allowed);
        for (const auto& [option, fallback] : options)
          set_cast_option(attrs, option, fallback, in[0]->data_type);
        return std::vector<OperandDescriptor>{*in[0]};
      }};
}

std::vector<OperandDescriptor> infer_clamp(const InputDescs& in, Attrs& attrs) {
  DataType type = in[0]->data_type;
  // An absent bound does not clamp; it is stored as an infinity rather than the type's
  // limit so every backend reads one convention.
  double lo = attrs.has("minValue") ? cast_number(attrs.f("minValue"), type)
                                    : -std::numeric_limits<double>::infinity();
  double hi = attrs.has("maxValue") ? cast_number(attrs.f("maxValue"), type)
                                    : std::numeric_limits<double>::infinity();
  if (lo > hi)
    type_error("option 'minValue' (" + format_number(lo) + ") is greater than 'maxValue' (" +
               format_number(hi) + ") after casting to " + std::string(to_string(type)));
  attrs.set("minValue", lo);
  attrs.set("maxValue", hi);
  return {*in[0]};
}

std::vector<OperandDescriptor> infer_prelu(const InputDescs& in, Attrs&) {
  check_data_type(*in[0], "input", kSignedTypes);
  check_same_type(*in[0], "input", *in[1], "slope");
  return {{in[0]->data_type, broadcast_shapes(in[1]->shape, in[0]->shape)}};
}

std::vector<OperandDescriptor> infer_cast(const InputDescs& in, Attrs& attrs) {
  if (!attrs.has("dataType")) type_error("option 'dataType' is required");
  DataType type = data_type_from_string(attrs.s("dataType"));
  return {{type, in[0]->shape}};
}

std::vector<OperandDescriptor> infer_where(const InputDescs& in, Attrs&) {
  check_data_type(*in[0], "condition", kUint8);
  check_same_type(*in[1], "trueValue", *in[2], "falseValue");
  Dims values = broadcast_shapes(in[1]->shape, in[2]->shape);
  return {{in[1]->data_type, broadcast_shapes(in[0]->shape, values)}};
}

}  // namespace

void register_elementwise_ops(OpTable& table) {
  for (const char* op : {"add", "sub", "mul", "div", "max", "min", "pow"}) table.add(binary(op));

  for (const char* op :
       {"equal", "notEqual", "greater", "greaterOrEqual", "lesser", "lesserOrEqual"})
    table.add(logical_binary(op, kNumericTypes));
  for (const char* op : {"logicalAnd", "logicalOr", "logicalXor"})
    table.add(logical_binary(op, kUint8));
  table.add(OpSchema{"logicalNot", {"a"}, 1, false, [](const InputDescs& in, Attrs&) {
                       check_data_type(*in[0], "a", kUint8);
                       return std::vector<OperandDescriptor>{{DataType::uint8, in[0]->shape}};
                     }});
  // The spec's element-wise logical family: float inputs only, uint8 output.
  for (const char* op : {"isNaN", "isInfinite"})
    table.add(OpSchema{op, {"a"}, 1, false, [](const InputDescs& in, Attrs&) {
                         check_data_type(*in[0], "a", kFloatTypes);
                         return std::vector<OperandDescriptor>{{DataType::uint8, in[0]->shape}};
                       }});

  for (const char* op : {"abs", "neg", "sign", "relu"}) table.add(unary(op, kSignedTypes));
  for (const char* op :
       {"ceil", "cos", "erf", "exp", "floor", "log", "reciprocal", "roundEven", "sin", "sqrt",
        "tan", "gelu", "hardSwish", "sigmoid", "softplus", "softsign", "tanh"})
    table.add(unary(op, kFloatTypes));
  table.add(unary("identity", kNumericTypes));
  table.add(unary("elu", kFloatTypes, {{"alpha", 1.0}}));
  table.add(unary("hardSigmoid", kFloatTypes, {{"alpha", 0.2}, {"beta", 0.5}}));
  table.add(unary("leakyRelu", kFloatTypes, {{"alpha", 0.01}}));
  table.add(unary("linear", kFloatTypes, {{"alpha", 1.0}, {"beta", 0.0}}));
  table.add(OpSchema{"clamp", {"input"}, 1, false, infer_clamp});
  table.add(OpSchema{"prelu", {"input", "slope"}, 2, false, infer_prelu});
  table.add(OpSchema{"cast", {"input"}, 1, false, infer_cast});
  table.add(OpSchema{"where", {"condition", "trueValue", "falseValue"}, 3, false, infer_where});
}

}  // namespace detail

using namespace detail;

#define CPPNN_BINARY_METHOD(method, op)                                                        \
  Operand GraphBuilder::method(const Operand& a, const Operand& b, const OperatorOptions& o) { \
    return add_op(*this, op, {a, b}, {}, o.label)[0];                                          \
  }
CPPNN_BINARY_METHOD(add, "add")
CPPNN_BINARY_METHOD(sub, "sub")
CPPNN_BINARY_METHOD(mul, "mul")
CPPNN_BINARY_METHOD(div, "div")
CPPNN_BINARY_METHOD(max, "max")
CPPNN_BINARY_METHOD(min, "min")
CPPNN_BINARY_METHOD(pow, "pow")
CPPNN_BINARY_METHOD(equal, "equal")
CPPNN_BINARY_METHOD(not_equal, "notEqual")
CPPNN_BINARY_METHOD(greater, "greater")
CPPNN_BINARY_METHOD(greater_or_equal, "greaterOrEqual")
CPPNN_BINARY_METHOD(lesser, "lesser")
CPPNN_BINARY_METHOD(lesser_or_equal, "lesserOrEqual")
CPPNN_BINARY_METHOD(logical_and, "logicalAnd")
CPPNN_BINARY_METHOD(logical_or, "logicalOr")
CPPNN_BINARY_METHOD(logical_xor, "logicalXor")
CPPNN_BINARY_METHOD(prelu, "prelu")
#undef CPPNN_BINARY_METHOD

#define CPPNN_UNARY_METHOD(method, op)                                       \
  Operand GraphBuilder::method(const Operand& x, const OperatorOptions& o) { \
    return add_op(*this, op, {x}, {}, o.label)[0];                           \
  }
CPPNN_UNARY_METHOD(logical_not, "logicalNot")
CPPNN_UNARY_METHOD(is_nan, "isNaN")
CPPNN_UNARY_METHOD(is_infinite, "isInfinite")
CPPNN_UNARY_METHOD(abs, "abs")
CPPNN_UNARY_METHOD(ceil, "ceil")
CPPNN_UNARY_METHOD(cos, "cos")
CPPNN_UNARY_METHOD(erf, "erf")
CPPNN_UNARY_METHOD(exp, "exp")
CPPNN_UNARY_METHOD(floor, "floor")
CPPNN_UNARY_METHOD(identity, "identity")
CPPNN_UNARY_METHOD(log, "log")
CPPNN_UNARY_METHOD(neg, "neg")
CPPNN_UNARY_METHOD(reciprocal, "reciprocal")
CPPNN_UNARY_METHOD(round_even, "roundEven")
CPPNN_UNARY_METHOD(sin, "sin")
CPPNN_UNARY_METHOD(sign, "sign")
CPPNN_UNARY_METHOD(sqrt, "sqrt")
CPPNN_UNARY_METHOD(tan, "tan")
CPPNN_UNARY_METHOD(gelu, "gelu")
CPPNN_UNARY_METHOD(hard_swish, "hardSwish")
CPPNN_UNARY_METHOD(relu, "relu")
CPPNN_UNARY_METHOD(sigmoid, "sigmoid")
CPPNN_UNARY_METHOD(softplus, "softplus")
CPPNN_UNARY_METHOD(softsign, "softsign")
CPPNN_UNARY_METHOD(tanh, "tanh")
#undef CPPNN_UNARY_METHOD

Operand GraphBuilder::clamp(const Operand& x, const ClampOptions& o) {
  Attrs attrs;
  if (o.min_value) attrs.set("minValue", *o.min_value);
  if (o.max_value) attrs.set("maxValue", *o.max_value);
  return add_op(*this, "clamp", {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::elu(const Operand& x, const EluOptions& o) {
  Attrs attrs;
  attrs.set("alpha", o.alpha);
  return add_op(*this, "elu", {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::hard_sigmoid(const Operand& x, const HardSigmoidOptions& o) {
  Attrs attrs;
  attrs.set("alpha", o.alpha);
  attrs.set("beta", o.beta);
  return add_op(*this, "hardSigmoid", {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::leaky_relu(const Operand& x, const LeakyReluOptions& o) {
  Attrs attrs;
  attrs.set("alpha", o.alpha);
  return add_op(*this, "leakyRelu", {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::linear(const Operand& x, const LinearOptions& o) {
  Attrs attrs;
  attrs.set("alpha", o.alpha);
  attrs.set("beta", o.beta);
  return add_op(*this, "linear", {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::cast(const Operand& x, DataType type, const OperatorOptions& o) {
  Attrs attrs;
  attrs.set("dataType", std::string(to_string(type)));
  return add_op(*this, "cast", {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::where(const Operand& condition, const Operand& true_value,
                            const Operand& false_value, const OperatorOptions& o) {
  return add_op(*this, "where", {condition, true_value, false_value}, {}, o.label)[0];
}

}  // namespace cppnn
