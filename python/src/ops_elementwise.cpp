// Builder methods of the element-wise family: binary, logical, unary, activations, cast,
// where. Option names are the spec's in snake_case; every op takes label= last.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "builder.h"

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::GraphBuilder;
using cppnn::Operand;

using Binary = Operand (GraphBuilder::*)(const Operand&, const Operand&,
                                         const cppnn::OperatorOptions&);
using Unary = Operand (GraphBuilder::*)(const Operand&, const cppnn::OperatorOptions&);

struct BinaryOp {
  const char* name;
  Binary fn;
  const char* doc;
};
struct UnaryOp {
  const char* name;
  Unary fn;
  const char* doc;
};

const BinaryOp kBinary[] = {
    {"add", &GraphBuilder::add, "a + b, broadcasting."},
    {"sub", &GraphBuilder::sub, "a - b, broadcasting."},
    {"mul", &GraphBuilder::mul, "a * b, broadcasting."},
    {"div", &GraphBuilder::div, "a / b, broadcasting."},
    {"max", &GraphBuilder::max, "Element-wise maximum, broadcasting."},
    {"min", &GraphBuilder::min, "Element-wise minimum, broadcasting."},
    {"pow", &GraphBuilder::pow, "a ** b, broadcasting."},
    {"equal", &GraphBuilder::equal, "a == b as uint8 (1 or 0), broadcasting."},
    {"not_equal", &GraphBuilder::not_equal, "a != b as uint8, broadcasting."},
    {"greater", &GraphBuilder::greater, "a > b as uint8, broadcasting."},
    {"greater_or_equal", &GraphBuilder::greater_or_equal, "a >= b as uint8, broadcasting."},
    {"lesser", &GraphBuilder::lesser, "a < b as uint8, broadcasting."},
    {"lesser_or_equal", &GraphBuilder::lesser_or_equal, "a <= b as uint8, broadcasting."},
    {"logical_and", &GraphBuilder::logical_and, "a and b on uint8 (non-zero is true)."},
    {"logical_or", &GraphBuilder::logical_or, "a or b on uint8 (non-zero is true)."},
    {"logical_xor", &GraphBuilder::logical_xor, "a xor b on uint8 (non-zero is true)."},
};

const UnaryOp kUnary[] = {
    {"logical_not", &GraphBuilder::logical_not, "not x on uint8 (non-zero is true)."},
    {"is_nan", &GraphBuilder::is_nan, "1 where x (float32 or float16) is NaN, else 0, as uint8."},
    {"is_infinite", &GraphBuilder::is_infinite,
     "1 where x (float32 or float16) is +inf or -inf, else 0, as uint8."},
    {"abs", &GraphBuilder::abs, "|x|"},
    {"ceil", &GraphBuilder::ceil, "Rounds up."},
    {"cos", &GraphBuilder::cos, "cos(x)"},
    {"erf", &GraphBuilder::erf, "The error function."},
    {"exp", &GraphBuilder::exp, "e ** x"},
    {"floor", &GraphBuilder::floor, "Rounds down."},
    {"identity", &GraphBuilder::identity, "x"},
    {"log", &GraphBuilder::log, "Natural logarithm."},
    {"neg", &GraphBuilder::neg, "-x"},
    {"reciprocal", &GraphBuilder::reciprocal, "1 / x"},
    {"round_even", &GraphBuilder::round_even, "Rounds to the nearest integer, halves to even."},
    {"sin", &GraphBuilder::sin, "sin(x)"},
    {"sign", &GraphBuilder::sign, "-1, 0 or 1."},
    {"sqrt", &GraphBuilder::sqrt, "Square root."},
    {"tan", &GraphBuilder::tan, "tan(x)"},
    {"gelu", &GraphBuilder::gelu, "0.5 * x * (1 + erf(x / sqrt(2)))"},
    {"hard_swish", &GraphBuilder::hard_swish, "x * max(0, min(6, x + 3)) / 6"},
    {"relu", &GraphBuilder::relu, "max(0, x)"},
    {"sigmoid", &GraphBuilder::sigmoid, "1 / (1 + e ** -x)"},
    {"softplus", &GraphBuilder::softplus, "log(1 + e ** x)"},
    {"softsign", &GraphBuilder::softsign, "x / (1 + |x|)"},
    {"tanh", &GraphBuilder::tanh, "tanh(x)"},
};

}  // namespace

void bind_elementwise_ops(BuilderClass& cls) {
  for (const BinaryOp& op : kBinary) {
    Binary fn = op.fn;
    cls.def(
        op.name,
        [fn](PyGraphBuilder& b, const Operand& x, const Operand& y, const std::string& label) {
          return (b.builder.*fn)(x, y, labelled<cppnn::OperatorOptions>(label));
        },
        "a"_a, "b"_a, nb::kw_only(), "label"_a = "", op.doc);
  }
  for (const UnaryOp& op : kUnary) {
    Unary fn = op.fn;
    cls.def(
        op.name,
        [fn](PyGraphBuilder& b, const Operand& x, const std::string& label) {
          return (b.builder.*fn)(x, labelled<cppnn::OperatorOptions>(label));
        },
        "x"_a, nb::kw_only(), "label"_a = "", op.doc);
  }

  cls.def(
      "clamp",
      [](PyGraphBuilder& b, const Operand& x, std::optional<double> min_value,
         std::optional<double> max_value, const std::string& label) {
        auto o = labelled<cppnn::ClampOptions>(label);
        o.min_value = min_value;
        o.max_value = max_value;
        return b.builder.clamp(x, o);
      },
      "x"_a, "min_value"_a = nb::none(), "max_value"_a = nb::none(), nb::kw_only(), "label"_a = "",
      "min(max(x, min_value), max_value); None: unbounded.");
  cls.def(
      "elu",
      [](PyGraphBuilder& b, const Operand& x, double alpha, const std::string& label) {
        auto o = labelled<cppnn::EluOptions>(label);
        o.alpha = alpha;
        return b.builder.elu(x, o);
      },
      "x"_a, "alpha"_a = 1.0, nb::kw_only(), "label"_a = "");
  cls.def(
      "hard_sigmoid",
      [](PyGraphBuilder& b, const Operand& x, double alpha, double beta, const std::string& label) {
        auto o = labelled<cppnn::HardSigmoidOptions>(label);
        o.alpha = alpha;
        o.beta = beta;
        return b.builder.hard_sigmoid(x, o);
      },
      "x"_a, "alpha"_a = 0.2, "beta"_a = 0.5, nb::kw_only(), "label"_a = "",
      "max(0, min(1, alpha * x + beta))");
  cls.def(
      "leaky_relu",
      [](PyGraphBuilder& b, const Operand& x, double alpha, const std::string& label) {
        auto o = labelled<cppnn::LeakyReluOptions>(label);
        o.alpha = alpha;
        return b.builder.leaky_relu(x, o);
      },
      "x"_a, "alpha"_a = 0.01, nb::kw_only(), "label"_a = "");
  cls.def(
      "linear",
      [](PyGraphBuilder& b, const Operand& x, double alpha, double beta, const std::string& label) {
        auto o = labelled<cppnn::LinearOptions>(label);
        o.alpha = alpha;
        o.beta = beta;
        return b.builder.linear(x, o);
      },
      "x"_a, "alpha"_a = 1.0, "beta"_a = 0.0, nb::kw_only(), "label"_a = "", "alpha * x + beta");
  cls.def(
      "prelu",
      [](PyGraphBuilder& b, const Operand& x, const Operand& slope, const std::string& label) {
        return b.builder.prelu(x, slope, labelled<cppnn::OperatorOptions>(label));
      },
      "x"_a, "slope"_a, nb::kw_only(), "label"_a = "", "x if x >= 0 else slope * x");
  cls.def(
      "softmax",
      [](PyGraphBuilder& b, const Operand& x, int64_t axis, const std::string& label) {
        return b.builder.softmax(x, to_u32(axis, "softmax", "axis"),
                                 labelled<cppnn::OperatorOptions>(label));
      },
      "x"_a, "axis"_a, nb::kw_only(), "label"_a = "");
  cls.def(
      "cast",
      [](PyGraphBuilder& b, const Operand& x, nb::handle data_type, const std::string& label) {
        return b.builder.cast(x, to_data_type(data_type, "cast: data_type"),
                              labelled<cppnn::OperatorOptions>(label));
      },
      "x"_a, "data_type"_a, nb::kw_only(), "label"_a = "",
      "Converts to data_type ('float16', numpy.int32, ...).");
  cls.def(
      "where",
      [](PyGraphBuilder& b, const Operand& condition, const Operand& true_value,
         const Operand& false_value, const std::string& label) {
        return b.builder.where(condition, true_value, false_value,
                               labelled<cppnn::OperatorOptions>(label));
      },
      "condition"_a, "true_value"_a, "false_value"_a, nb::kw_only(), "label"_a = "",
      "true_value where condition (uint8) is non-zero, else false_value; broadcasting.");
}

}  // namespace webnn_py
