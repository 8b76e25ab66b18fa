// Element-wise ops: binary arithmetic, logical, unary math, activations, cast, where.
#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

OpSchema binary(const std::string& name, std::initializer_list<DataType> types,
                bool logical_output) {
  std::vector<DataType> allowed(types);
  return OpSchema{name, {"a", "b"}, 2, false,
                  [allowed, logical_output](const InputDescs& in, Attrs&) {
                    const OperandDescriptor& a = *in[0];
                    const OperandDescriptor& b = *in[1];
                    check_same_type(a, "a", b, "b");
                    if (std::find(allowed.begin(), allowed.end(), a.data_type) == allowed.end())
                      type_error(operand_name("a") + " has unsupported data type " +
                                 std::string(to_string(a.data_type)));
                    DataType out = logical_output ? DataType::uint8 : a.data_type;
                    return std::vector<OperandDescriptor>{{out, broadcast_shapes(a.shape, b.shape)}};
                  }};
}

}  // namespace

void register_elementwise_ops(OpTable& table) {
  for (const char* op : {"add", "sub", "mul", "div", "max", "min", "pow"})
    table.add(binary(op, kNumericTypes, false));
}

}  // namespace detail

using namespace detail;

#define CPPNN_BINARY_METHOD(method, op)                                                    \
  Operand GraphBuilder::method(const Operand& a, const Operand& b, const OperatorOptions& o) { \
    return add_op(*this, op, {a, b}, {}, o.label)[0];                                      \
  }
CPPNN_BINARY_METHOD(add, "add")
CPPNN_BINARY_METHOD(sub, "sub")
CPPNN_BINARY_METHOD(mul, "mul")
CPPNN_BINARY_METHOD(div, "div")
CPPNN_BINARY_METHOD(max, "max")
CPPNN_BINARY_METHOD(min, "min")
CPPNN_BINARY_METHOD(pow, "pow")
#undef CPPNN_BINARY_METHOD

}  // namespace cppnn
