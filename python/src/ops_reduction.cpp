// Builder methods of the reduction family: the reduce* ops, arg_min, arg_max, cumulative_sum
// and softmax.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "builder.h"

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::GraphBuilder;
using cppnn::Operand;
using Ints = std::optional<std::vector<int64_t>>;

using Reduce = Operand (GraphBuilder::*)(const Operand&, const cppnn::ReduceOptions&);
using ArgReduce = Operand (GraphBuilder::*)(const Operand&, uint32_t,
                                            const cppnn::ArgMinMaxOptions&);

struct ReduceOp {
  const char* name;
  Reduce fn;
};
struct ArgOp {
  const char* name;
  ArgReduce fn;
};

const ReduceOp kReductions[] = {{"reduce_l1", &GraphBuilder::reduce_l1},
                                {"reduce_l2", &GraphBuilder::reduce_l2},
                                {"reduce_log_sum", &GraphBuilder::reduce_log_sum},
                                {"reduce_log_sum_exp", &GraphBuilder::reduce_log_sum_exp},
                                {"reduce_max", &GraphBuilder::reduce_max},
                                {"reduce_mean", &GraphBuilder::reduce_mean},
                                {"reduce_min", &GraphBuilder::reduce_min},
                                {"reduce_product", &GraphBuilder::reduce_product},
                                {"reduce_sum", &GraphBuilder::reduce_sum},
                                {"reduce_sum_square", &GraphBuilder::reduce_sum_square}};
const ArgOp kArgs[] = {{"arg_max", &GraphBuilder::arg_max}, {"arg_min", &GraphBuilder::arg_min}};

}  // namespace

void bind_reduction_ops(BuilderClass& cls) {
  for (const ReduceOp& op : kReductions) {
    Reduce fn = op.fn;
    const char* name = op.name;
    cls.def(
        name,
        [fn, name](PyGraphBuilder& b, const Operand& x, const Ints& axes, bool keep_dimensions,
                   const std::string& label) {
          auto o = labelled<cppnn::ReduceOptions>(label);
          o.axes = to_u32s_opt(axes, name, "axes");
          o.keep_dimensions = keep_dimensions;
          return (b.builder.*fn)(x, o);
        },
        "x"_a, "axes"_a = nb::none(), "keep_dimensions"_a = false, nb::kw_only(), "label"_a = "",
        "Reduces over axes (default: all axes).");
  }
  for (const ArgOp& op : kArgs) {
    ArgReduce fn = op.fn;
    const char* name = op.name;
    cls.def(
        name,
        [fn, name](PyGraphBuilder& b, const Operand& x, int64_t axis, bool keep_dimensions,
                   nb::handle output_data_type, const std::string& label) {
          auto o = labelled<cppnn::ArgMinMaxOptions>(label);
          o.keep_dimensions = keep_dimensions;
          if (!output_data_type.is_none())  // None (rustnn's default): the spec's int32
            o.output_data_type =
                to_data_type(output_data_type, std::string(name) + ": output_data_type");
          return (b.builder.*fn)(x, to_u32(axis, name, "axis"), o);
        },
        "x"_a, "axis"_a, "keep_dimensions"_a = false, nb::arg("output_data_type").none() = "int32", nb::kw_only(),
        "label"_a = "");
  }
  cls.def(
      "cumulative_sum",
      [](PyGraphBuilder& b, const Operand& x, int64_t axis, bool exclusive, bool reversed,
         const std::string& label) {
        auto o = labelled<cppnn::CumulativeSumOptions>(label);
        o.exclusive = exclusive;
        o.reversed = reversed;
        return b.builder.cumulative_sum(x, to_u32(axis, "cumulative_sum", "axis"), o);
      },
      "x"_a, "axis"_a, "exclusive"_a = false, "reversed"_a = false, nb::kw_only(), "label"_a = "");
  cls.def(
      "softmax",
      [](PyGraphBuilder& b, const Operand& x, int64_t axis, const std::string& label) {
        return b.builder.softmax(x, to_u32(axis, "softmax", "axis"),
                                 labelled<cppnn::OperatorOptions>(label));
      },
      "x"_a, "axis"_a, nb::kw_only(), "label"_a = "");
}

}  // namespace webnn_py
