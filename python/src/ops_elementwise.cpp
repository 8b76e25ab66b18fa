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

// The U and B ops of include/cppnn/ops.def, with its method names and docstrings; every
// other element-wise op is bound by hand below, the other families in ops_<family>.cpp.
#define CPPNN_OP(id, method, kind, sig, types, traits, onnx, doc) CPPNN_PY_BINARY_##sig(method, doc)
#define CPPNN_PY_BINARY_B(method, doc) {#method, &GraphBuilder::method, doc},
#define CPPNN_PY_BINARY_U(method, doc)
#define CPPNN_PY_BINARY_X(method, doc)
const BinaryOp kBinary[] = {
#include "cppnn/ops.def"
};
#undef CPPNN_PY_BINARY_B
#undef CPPNN_PY_BINARY_U
#undef CPPNN_PY_BINARY_X

#define CPPNN_OP(id, method, kind, sig, types, traits, onnx, doc) CPPNN_PY_UNARY_##sig(method, doc)
#define CPPNN_PY_UNARY_U(method, doc) {#method, &GraphBuilder::method, doc},
#define CPPNN_PY_UNARY_B(method, doc)
#define CPPNN_PY_UNARY_X(method, doc)
const UnaryOp kUnary[] = {
#include "cppnn/ops.def"
};
#undef CPPNN_PY_UNARY_U
#undef CPPNN_PY_UNARY_B
#undef CPPNN_PY_UNARY_X

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
