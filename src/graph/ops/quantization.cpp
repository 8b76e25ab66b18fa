// Quantization ops: quantizeLinear and dequantizeLinear: validation and output shapes per
// the WebNN spec's method steps. The scale and zero point have the input's rank and each of
// their dimensions divides the input's ("blockwise broadcastable"): a dimension of 1 is
// per-tensor along that axis, the input's size per-element (per-axis), anything between
// one value per block of input / scale elements. The spec leaves zero, negative and NaN
// scales to the implementation; they are runtime values (or constants) and pass here: the
// kernels compute with them as IEEE arithmetic does and saturate (graph/op_math/quantize.h).
#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

constexpr std::initializer_list<DataType> kQuantizedTypes = {DataType::uint8, DataType::int8,
                                                             DataType::uint32, DataType::int32};

// The spec's checks of scale and zeroPoint against the input, after the data types: the
// same rank, the same shape as each other, and blockwise broadcastable to the input.
void check_scale_and_zero_point(const OperandDescriptor& x, const OperandDescriptor& scale,
                                const OperandDescriptor& zero_point) {
  for (const auto& [desc, name] : {std::pair{&scale, "scale"}, std::pair{&zero_point, "zeroPoint"}})
    if (desc->shape.size() != x.shape.size())
      type_error(operand_name(name) + " of shape " + to_string(desc->shape) +
                 " must have the rank of " + operand_name("input") + " of shape " +
                 to_string(x.shape));
  if (scale.shape != zero_point.shape)
    type_error(operand_name("zeroPoint") + " of shape " + to_string(zero_point.shape) +
               " must have the shape of " + operand_name("scale") + " " + to_string(scale.shape));
  // Blockwise broadcasting: every dimension of the scale divides the input's. A scale
  // dimension of 0 divides nothing (the kernels would have no block size).
  for (size_t d = 0; d < x.shape.size(); ++d)
    if (scale.shape[d] <= 0 || x.shape[d] % scale.shape[d] != 0)
      type_error(operand_name("scale") + " of shape " + to_string(scale.shape) +
                 " is not blockwise broadcastable to " + operand_name("input") + " of shape " +
                 to_string(x.shape) + ": dimension " + std::to_string(d) + " (" +
                 std::to_string(scale.shape[d]) + ") does not divide " +
                 std::to_string(x.shape[d]));
}

std::vector<OperandDescriptor> infer_quantize(const InputDescs& in, Attrs&) {
  const OperandDescriptor& x = *in[0];
  const OperandDescriptor& scale = *in[1];
  const OperandDescriptor& zero_point = *in[2];
  check_data_type(x, "input", kFloatTypes);
  check_data_type(scale, "scale", kFloatTypes);
  check_same_type(x, "input", scale, "scale");
  check_data_type(zero_point, "zeroPoint", kQuantizedTypes);
  check_scale_and_zero_point(x, scale, zero_point);
  return {OperandDescriptor{zero_point.data_type, x.shape}};
}

std::vector<OperandDescriptor> infer_dequantize(const InputDescs& in, Attrs&) {
  const OperandDescriptor& x = *in[0];
  const OperandDescriptor& scale = *in[1];
  const OperandDescriptor& zero_point = *in[2];
  check_data_type(x, "input", kQuantizedTypes);
  check_data_type(scale, "scale", kFloatTypes);
  check_data_type(zero_point, "zeroPoint", kQuantizedTypes);
  check_same_type(x, "input", zero_point, "zeroPoint");
  check_scale_and_zero_point(x, scale, zero_point);
  return {OperandDescriptor{scale.data_type, x.shape}};
}

}  // namespace

void register_quantization_ops(OpTable& table) {
  table.add(OpSchema{OpId::quantizeLinear, {"input", "scale", "zeroPoint"}, 3, false,
                     infer_quantize});
  table.add(OpSchema{OpId::dequantizeLinear, {"input", "scale", "zeroPoint"}, 3, false,
                     infer_dequantize});
}

}  // namespace detail

using namespace detail;

Operand GraphBuilder::quantize_linear(const Operand& x, const Operand& scale,
                                      const Operand& zero_point, const OperatorOptions& o) {
  return add_op(*this, OpId::quantizeLinear, {x, scale, zero_point}, Attrs{}, o.label)[0];
}

Operand GraphBuilder::dequantize_linear(const Operand& x, const Operand& scale,
                                        const Operand& zero_point, const OperatorOptions& o) {
  return add_op(*this, OpId::dequantizeLinear, {x, scale, zero_point}, Attrs{}, o.label)[0];
}

}  // namespace cppnn
