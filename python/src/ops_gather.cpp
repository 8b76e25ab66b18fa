// Builder methods of the gather family: gather, gather_elements, gather_nd.
#include <nanobind/stl/string.h>

#include "builder.h"

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::Operand;
using cppnn::OperatorOptions;

}  // namespace

void bind_gather_ops(BuilderClass& cls) {
  cls.def(
      "gather",
      [](PyGraphBuilder& b, const Operand& x, const Operand& indices, int64_t axis,
         const std::string& label) {
        auto o = labelled<cppnn::GatherOptions>(label);
        o.axis = to_u32(axis, "gather", "axis");
        return b.builder.gather(x, indices, o);
      },
      "x"_a, "indices"_a, "axis"_a = 0, nb::kw_only(), "label"_a = "");
  cls.def(
      "gather_elements",
      [](PyGraphBuilder& b, const Operand& x, const Operand& indices, int64_t axis,
         const std::string& label) {
        auto o = labelled<cppnn::GatherOptions>(label);
        o.axis = to_u32(axis, "gather_elements", "axis");
        return b.builder.gather_elements(x, indices, o);
      },
      "x"_a, "indices"_a, "axis"_a = 0, nb::kw_only(), "label"_a = "",
      "WebNN gatherElements: indices of x's rank pick along `axis` (negative indices count\n"
      "from the end; out-of-range ones are clamped).");
  cls.def(
      "gather_nd",
      [](PyGraphBuilder& b, const Operand& x, const Operand& indices, const std::string& label) {
        return b.builder.gather_nd(x, indices, labelled<OperatorOptions>(label));
      },
      "x"_a, "indices"_a, nb::kw_only(), "label"_a = "",
      "WebNN gatherND: the last axis of indices holds coordinates into x's leading axes\n"
      "(negative ones count from the end; out-of-range ones are clamped).");
}

}  // namespace webnn_py
