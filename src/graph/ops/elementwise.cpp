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
    case DataType::bfloat16:
      return double(bfloat16_to_float(float_to_bfloat16(float(x))));
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

// Broadcasting arithmetic: any type, both inputs alike, output of that type.
OpSchema binary(OpId id) {
  return OpSchema{id, {"a", "b"}, 2, false, [](const InputDescs& in, Attrs&) {
                    check_same_type(*in[0], "a", *in[1], "b");
                    return std::vector<OperandDescriptor>{
                        {in[0]->data_type, broadcast_shapes(in[0]->shape, in[1]->shape)}};
                  }};
}

// Comparisons and binary logic: uint8 out.
OpSchema logical_binary(OpId id, std::span<const DataType> allowed) {
  return OpSchema{id, {"a", "b"}, 2, false, [allowed](const InputDescs& in, Attrs&) {
                    check_data_type(*in[0], "a", allowed);
                    check_same_type(*in[0], "a", *in[1], "b");
                    return std::vector<OperandDescriptor>{
                        {DataType::uint8, broadcast_shapes(in[0]->shape, in[1]->shape)}};
                  }};
}

// Unary logic (logicalNot, isNaN, isInfinite): input "a", uint8 out.
OpSchema logical_unary(OpId id, std::span<const DataType> allowed) {
  return OpSchema{id, {"a"}, 1, false, [allowed](const InputDescs& in, Attrs&) {
                    check_data_type(*in[0], "a", allowed);
                    return std::vector<OperandDescriptor>{{DataType::uint8, in[0]->shape}};
                  }};
}

// A one-input op whose output copies the input's descriptor. `options` casts the op's
// double options (name, default) to the input's type.
OpSchema unary(OpId id, std::vector<DataType> allowed,
               std::vector<std::pair<std::string, double>> options = {}) {
  return OpSchema{
      id, {"input"}, 1, false, [allowed, options](const InputDescs& in, Attrs& attrs) {
        check_data_type(*in[0], "input", allowed);
        for (const auto& [option, fallback] : options)
          set_cast_option(attrs, option, fallback, in[0]->data_type);
        return std::vector<OperandDescriptor>{*in[0]};
      }};
}

// The schema of an op whose ops.def signature is U or B, from its kind and types.
OpSchema generated_schema(const OpInfo& op) {
  std::span<const DataType> types = op_types(op.types);
  if (op.sig == OpSig::B) {
    if (op.kind == OpKind::binary) return binary(op.id);
    if (op.kind == OpKind::comparison || op.kind == OpKind::logical)
      return logical_binary(op.id, types);
  } else if (op.sig == OpSig::U) {
    if (op.kind == OpKind::logical) return logical_unary(op.id, types);
    if (op.kind == OpKind::unary || op.kind == OpKind::activation)
      return unary(op.id, {types.begin(), types.end()});
  }
  fail(ErrorKind::OperationError,
       "internal: ops.def gives " + op.name + " a generated signature its kind has no schema for");
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
  // "bfloat16" only from the precision lowering or an engine: the builder refuses the
  // result's type.
  DataType type = internal_data_type_from_string(attrs.s("dataType"));
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
  for (const OpInfo& op : all_ops())
    if (op.sig != OpSig::X) table.add(generated_schema(op));
  table.add(unary(OpId::elu, kFloatTypes, {{"alpha", 1.0}}));
  table.add(unary(OpId::hardSigmoid, kFloatTypes, {{"alpha", 0.2}, {"beta", 0.5}}));
  table.add(unary(OpId::leakyRelu, kFloatTypes, {{"alpha", 0.01}}));
  table.add(unary(OpId::linear, kFloatTypes, {{"alpha", 1.0}, {"beta", 0.0}}));
  table.add(OpSchema{OpId::clamp, {"input"}, 1, false, infer_clamp});
  table.add(OpSchema{OpId::prelu, {"input", "slope"}, 2, false, infer_prelu});
  table.add(OpSchema{OpId::cast, {"input"}, 1, false, infer_cast});
  table.add(OpSchema{OpId::where, {"condition", "trueValue", "falseValue"}, 3, false, infer_where});
}

}  // namespace detail

using namespace detail;

// The builder methods of the U and B ops of ops.def.
#define CPPNN_OP(id, method, kind, sig, ...) CPPNN_METHOD_##sig(method, id)
#define CPPNN_METHOD_B(method, id)                                                             \
  Operand GraphBuilder::method(const Operand& a, const Operand& b, const OperatorOptions& o) { \
    return add_op(*this, OpId::id, {a, b}, {}, o.label)[0];                                    \
  }
#define CPPNN_METHOD_U(method, id)                                           \
  Operand GraphBuilder::method(const Operand& x, const OperatorOptions& o) { \
    return add_op(*this, OpId::id, {x}, {}, o.label)[0];                     \
  }
#define CPPNN_METHOD_X(method, id)
#include "cppnn/ops.def"
#undef CPPNN_METHOD_B
#undef CPPNN_METHOD_U
#undef CPPNN_METHOD_X

Operand GraphBuilder::prelu(const Operand& x, const Operand& slope, const OperatorOptions& o) {
  return add_op(*this, OpId::prelu, {x, slope}, {}, o.label)[0];
}

Operand GraphBuilder::clamp(const Operand& x, const ClampOptions& o) {
  Attrs attrs;
  if (o.min_value) attrs.set("minValue", *o.min_value);
  if (o.max_value) attrs.set("maxValue", *o.max_value);
  return add_op(*this, OpId::clamp, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::elu(const Operand& x, const EluOptions& o) {
  Attrs attrs;
  attrs.set("alpha", o.alpha);
  return add_op(*this, OpId::elu, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::hard_sigmoid(const Operand& x, const HardSigmoidOptions& o) {
  Attrs attrs;
  attrs.set("alpha", o.alpha);
  attrs.set("beta", o.beta);
  return add_op(*this, OpId::hardSigmoid, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::leaky_relu(const Operand& x, const LeakyReluOptions& o) {
  Attrs attrs;
  attrs.set("alpha", o.alpha);
  return add_op(*this, OpId::leakyRelu, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::linear(const Operand& x, const LinearOptions& o) {
  Attrs attrs;
  attrs.set("alpha", o.alpha);
  attrs.set("beta", o.beta);
  return add_op(*this, OpId::linear, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::cast(const Operand& x, DataType type, const OperatorOptions& o) {
  Attrs attrs;
  attrs.set("dataType", std::string(to_string(type)));
  return add_op(*this, OpId::cast, {x}, std::move(attrs), o.label)[0];
}

Operand GraphBuilder::where(const Operand& condition, const Operand& true_value,
                            const Operand& false_value, const OperatorOptions& o) {
  return add_op(*this, OpId::where, {condition, true_value, false_value}, {}, o.label)[0];
}

}  // namespace cppnn
