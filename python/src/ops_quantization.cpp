// Builder methods of the quantization family: quantize_linear, dequantize_linear.
#include <nanobind/stl/string.h>

#include "builder.h"

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::Operand;
using cppnn::OperatorOptions;

}  // namespace

void bind_quantization_ops(BuilderClass& cls) {
  cls.def(
      "quantize_linear",
      [](PyGraphBuilder& b, const Operand& x, const Operand& scale, const Operand& zero_point,
         const std::string& label) {
        return b.builder.quantize_linear(x, scale, zero_point, labelled<OperatorOptions>(label));
      },
      "x"_a, "scale"_a, "zero_point"_a, nb::kw_only(), "label"_a = "",
      "WebNN quantizeLinear: saturate(roundEven(x / scale) + zero_point) in zero_point's type;\n"
      "scale and zero_point have x's rank and divide its shape (per-tensor, per-axis or\n"
      "block-wise).");
  cls.def(
      "dequantize_linear",
      [](PyGraphBuilder& b, const Operand& x, const Operand& scale, const Operand& zero_point,
         const std::string& label) {
        return b.builder.dequantize_linear(x, scale, zero_point, labelled<OperatorOptions>(label));
      },
      "x"_a, "scale"_a, "zero_point"_a, nb::kw_only(), "label"_a = "",
      "WebNN dequantizeLinear: (x - zero_point) * scale in scale's type; scale and zero_point\n"
      "have x's rank and divide its shape (per-tensor, per-axis or block-wise).");
}

}  // namespace webnn_py
