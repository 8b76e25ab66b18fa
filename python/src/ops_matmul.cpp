// Builder methods of the matmul family: matmul, gemm.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "builder.h"

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::Operand;

}  // namespace

void bind_matmul_ops(BuilderClass& cls) {
  cls.def(
      "matmul",
      [](PyGraphBuilder& b, const Operand& x, const Operand& y, const std::string& label) {
        return b.builder.matmul(x, y, labelled<cppnn::OperatorOptions>(label));
      },
      "a"_a, "b"_a, nb::kw_only(), "label"_a = "",
      "Matrix product of the last two axes, broadcasting the others.");
  cls.def(
      "gemm",
      [](PyGraphBuilder& b, const Operand& x, const Operand& y, const std::optional<Operand>& c,
         double alpha, double beta, bool a_transpose, bool b_transpose, const std::string& label) {
        auto o = labelled<cppnn::GemmOptions>(label);
        o.c = or_absent(c);
        o.alpha = alpha;
        o.beta = beta;
        o.a_transpose = a_transpose;
        o.b_transpose = b_transpose;
        return b.builder.gemm(x, y, o);
      },
      "a"_a, "b"_a, "c"_a = nb::none(), "alpha"_a = 1.0, "beta"_a = 1.0, "a_transpose"_a = false,
      "b_transpose"_a = false, nb::kw_only(), "label"_a = "",
      "alpha * A @ B + beta * c on 2-D operands (A, B optionally transposed).");
}

}  // namespace webnn_py
