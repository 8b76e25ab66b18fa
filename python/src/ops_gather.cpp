// Builder methods of the gather family: gather, gather_elements, gather_nd,
// scatter_elements, scatter_nd.
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
  cls.def(
      "scatter_elements",
      [](PyGraphBuilder& b, const Operand& x, const Operand& indices, const Operand& updates,
         int64_t axis, const std::string& label) {
        auto o = labelled<cppnn::ScatterOptions>(label);
        o.axis = to_u32(axis, "scatter_elements", "axis");
        return b.builder.scatter_elements(x, indices, updates, o);
      },
      "x"_a, "indices"_a, "updates"_a, "axis"_a = 0, nb::kw_only(), "label"_a = "",
      "WebNN scatterElements: a copy of x with updates written where indices (x's rank, the\n"
      "updates' shape) point along `axis` (negative indices count from the end; out-of-range\n"
      "ones are clamped; of repeated ones the last update wins).");
  cls.def(
      "scatter_nd",
      [](PyGraphBuilder& b, const Operand& x, const Operand& indices, const Operand& updates,
         const std::string& label) {
        return b.builder.scatter_nd(x, indices, updates, labelled<OperatorOptions>(label));
      },
      "x"_a, "indices"_a, "updates"_a, nb::kw_only(), "label"_a = "",
      "WebNN scatterND: a copy of x with the slices of updates written at the coordinates in\n"
      "the last axis of indices (negative ones count from the end; out-of-range ones are\n"
      "clamped; of repeated ones the last update wins).");
}

}  // namespace webnn_py
