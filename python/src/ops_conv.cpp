// Builder methods of the conv family: conv2d, conv_transpose2d. List options left as None
// take the spec's defaults.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "builder.h"

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::Operand;
using Ints = std::optional<std::vector<int64_t>>;

}  // namespace

void bind_conv_ops(BuilderClass& cls) {
  cls.def(
      "conv2d",
      [](PyGraphBuilder& b, const Operand& input, const Operand& filter, const Ints& padding,
         const Ints& strides, const Ints& dilations, int64_t groups,
         const std::string& input_layout, const std::string& filter_layout,
         const std::optional<Operand>& bias, const std::string& label, const Ints& pads) {
        const char* op = "conv2d";
        auto o = labelled<cppnn::Conv2dOptions>(label);
        o.padding = padding_or_pads(padding, pads, op);
        o.strides = to_u32s_or_empty(strides, op, "strides");
        o.dilations = to_u32s_or_empty(dilations, op, "dilations");
        o.groups = to_u32(groups, op, "groups");
        o.input_layout = parse_layout(input_layout, op, "input_layout");
        using L = cppnn::Conv2dFilterLayout;
        o.filter_layout = parse_enum<L>(
            filter_layout,
            {{"oihw", L::oihw}, {"hwio", L::hwio}, {"ohwi", L::ohwi}, {"ihwo", L::ihwo}}, op,
            "filter_layout");
        o.bias = or_absent(bias);
        return b.builder.conv2d(input, filter, o);
      },
      "input"_a, "filter"_a, "padding"_a = nb::none(), "strides"_a = nb::none(),
      "dilations"_a = nb::none(), "groups"_a = 1, "input_layout"_a = "nchw",
      "filter_layout"_a = "oihw", "bias"_a = nb::none(), nb::kw_only(), "label"_a = "",
      "pads"_a = nb::none(),
      "2-D convolution. padding: [begin_h, end_h, begin_w, end_w] (or rustnn's pads: [begin_h,\n"
      "begin_w, end_h, end_w]); strides, dilations: [h, w].");
  cls.def(
      "conv_transpose2d",
      [](PyGraphBuilder& b, const Operand& input, const Operand& filter, const Ints& padding,
         const Ints& strides, const Ints& dilations, const Ints& output_padding,
         const Ints& output_sizes, int64_t groups, const std::string& input_layout,
         const std::string& filter_layout, const std::optional<Operand>& bias,
         const std::string& label, const Ints& pads) {
        const char* op = "conv_transpose2d";
        auto o = labelled<cppnn::ConvTranspose2dOptions>(label);
        o.padding = padding_or_pads(padding, pads, op);
        o.strides = to_u32s_or_empty(strides, op, "strides");
        o.dilations = to_u32s_or_empty(dilations, op, "dilations");
        o.output_padding = to_u32s_or_empty(output_padding, op, "output_padding");
        o.output_sizes = to_u32s_or_empty(output_sizes, op, "output_sizes");
        o.groups = to_u32(groups, op, "groups");
        o.input_layout = parse_layout(input_layout, op, "input_layout");
        using L = cppnn::ConvTranspose2dFilterLayout;
        o.filter_layout =
            parse_enum<L>(filter_layout, {{"iohw", L::iohw}, {"hwoi", L::hwoi}, {"ohwi", L::ohwi}},
                          op, "filter_layout");
        o.bias = or_absent(bias);
        return b.builder.conv_transpose2d(input, filter, o);
      },
      "input"_a, "filter"_a, "padding"_a = nb::none(), "strides"_a = nb::none(),
      "dilations"_a = nb::none(), "output_padding"_a = nb::none(), "output_sizes"_a = nb::none(),
      "groups"_a = 1, "input_layout"_a = "nchw", "filter_layout"_a = "iohw", "bias"_a = nb::none(),
      nb::kw_only(), "label"_a = "", "pads"_a = nb::none(),
      "2-D transposed convolution. padding as conv2d's (or rustnn's pads).");
}

}  // namespace webnn_py
