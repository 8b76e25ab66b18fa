// Builder methods of the pooling family: average_pool2d, l2_pool2d, max_pool2d. List options
// left as None take the spec's defaults.
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

using Pool = Operand (GraphBuilder::*)(const Operand&, const cppnn::Pool2dOptions&);

struct PoolOp {
  const char* name;
  Pool fn;
};

const PoolOp kPools[] = {{"average_pool2d", &GraphBuilder::average_pool2d},
                         {"l2_pool2d", &GraphBuilder::l2_pool2d},
                         {"max_pool2d", &GraphBuilder::max_pool2d}};

}  // namespace

void bind_pooling_ops(BuilderClass& cls) {
  for (const PoolOp& op : kPools) {
    Pool fn = op.fn;
    const char* name = op.name;
    cls.def(
        name,
        [fn, name](PyGraphBuilder& b, const Operand& x, const Ints& window_dimensions,
                   const Ints& padding, const Ints& strides, const Ints& dilations,
                   const std::string& layout, const std::string& output_shape_rounding,
                   const Ints& output_sizes, const std::string& label, const Ints& pads) {
          auto o = labelled<cppnn::Pool2dOptions>(label);
          o.window_dimensions = to_u32s_or_empty(window_dimensions, name, "window_dimensions");
          o.padding = padding_or_pads(padding, pads, name);
          o.strides = to_u32s_or_empty(strides, name, "strides");
          o.dilations = to_u32s_or_empty(dilations, name, "dilations");
          o.layout = parse_layout(layout, name, "layout");
          using R = cppnn::RoundingType;
          o.output_shape_rounding =
              parse_enum<R>(output_shape_rounding, {{"floor", R::floor}, {"ceil", R::ceil}}, name,
                            "output_shape_rounding");
          o.output_sizes = to_u32s_or_empty(output_sizes, name, "output_sizes");
          return (b.builder.*fn)(x, o);
        },
        "x"_a, "window_dimensions"_a = nb::none(), "padding"_a = nb::none(),
        "strides"_a = nb::none(), "dilations"_a = nb::none(), "layout"_a = "nchw",
        "output_shape_rounding"_a = "floor", "output_sizes"_a = nb::none(), nb::kw_only(),
        "label"_a = "", "pads"_a = nb::none(),
        "2-D pooling; window_dimensions default to the whole spatial size. padding: [begin_h,\n"
        "end_h, begin_w, end_w] (or rustnn's pads: [begin_h, begin_w, end_h, end_w]).");
  }
}

}  // namespace webnn_py
