// Builder methods of the movement family: reshape, transpose, concat, split, slice, expand,
// pad, tile, reverse, triangular, resample2d.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <climits>

#include "builder.h"

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::Operand;
using Ints = std::optional<std::vector<int64_t>>;
using cppnn::OperatorOptions;

std::vector<Operand> split(PyGraphBuilder& b, const Operand& x, nb::handle splits, int64_t axis,
                           const std::string& label) {
  auto o = labelled<cppnn::SplitOptions>(label);
  o.axis = to_u32(axis, "split", "axis");
  if (nb::isinstance<nb::int_>(splits))
    return b.builder.split(x, to_u32(nb::cast<int64_t>(splits), "split", "splits"), o);
  std::vector<int64_t> sizes;
  if (!nb::try_cast(splits, sizes))
    cppnn::fail(cppnn::ErrorKind::TypeError,
                "split: splits must be an int (equal parts) or a list of sizes, got " +
                    nb::cast<std::string>(nb::repr(splits)));
  return b.builder.split(x, to_u32s(sizes, "split", "splits"), o);
}

// pad(x, beginning_padding, ending_padding, mode, value) as the spec writes it, or rustnn's
// pad(x, padding, mode, value) with padding = beginnings then ends (ONNX's pads), positional
// (the third argument is then the mode) or padding=.
Operand pad(PyGraphBuilder& b, const Operand& x, const Ints& beginning_padding,
            nb::handle ending_padding, nb::handle mode, nb::handle value, const std::string& label,
            const Ints& padding) {
  const char* op = "pad";
  std::vector<int64_t> begins, ends;
  bool rustnn = padding.has_value() || ending_padding.is_none() ||
                nb::isinstance<nb::str>(ending_padding);
  if (rustnn) {
    if (padding && beginning_padding)
      cppnn::fail(cppnn::ErrorKind::TypeError,
                  "pad: give padding (beginnings then ends) or beginning_padding and "
                  "ending_padding, not both");
    if (!padding && !beginning_padding)
      cppnn::fail(cppnn::ErrorKind::TypeError, "pad: the padding is missing");
    const std::vector<int64_t>& flat = padding ? *padding : *beginning_padding;
    if (flat.size() != 2 * x.shape().size())
      cppnn::fail(cppnn::ErrorKind::TypeError,
                  "pad: padding must list " + std::to_string(2 * x.shape().size()) +
                      " values (the beginnings of the " + std::to_string(x.shape().size()) +
                      " axes, then their ends), got " + std::to_string(flat.size()));
    begins.assign(flat.begin(), flat.begin() + ptrdiff_t(flat.size() / 2));
    ends.assign(flat.begin() + ptrdiff_t(flat.size() / 2), flat.end());
    if (nb::isinstance<nb::str>(ending_padding)) {  // pad(x, padding, mode, value)
      if (!nb::isinstance<nb::str>(mode) && !mode.is_none()) value = mode;
      mode = ending_padding;
    }
  } else {
    if (!beginning_padding)
      cppnn::fail(cppnn::ErrorKind::TypeError, "pad: beginning_padding is missing");
    begins = *beginning_padding;
    if (!nb::try_cast(ending_padding, ends))
      cppnn::fail(cppnn::ErrorKind::TypeError, "pad: ending_padding must be a list of ints, got " +
                                                   nb::cast<std::string>(nb::repr(ending_padding)));
  }
  auto o = labelled<cppnn::PadOptions>(label);
  using M = cppnn::PaddingMode;
  std::string mode_name = "constant";
  if (!mode.is_none()) {
    if (!nb::isinstance<nb::str>(mode))
      cppnn::fail(cppnn::ErrorKind::TypeError,
                  "pad: mode must be a string, got " + nb::cast<std::string>(nb::repr(mode)));
    mode_name = nb::cast<std::string>(mode);
  }
  o.mode = parse_enum<M>(
      mode_name, {{"constant", M::constant}, {"edge", M::edge}, {"reflection", M::reflection}}, op,
      "mode");
  if (!value.is_none()) {
    double v = 0;
    if (!nb::try_cast(value, v))
      cppnn::fail(cppnn::ErrorKind::TypeError,
                  "pad: value must be a number, got " + nb::cast<std::string>(nb::repr(value)));
    o.value = v;
  }
  return b.builder.pad(x, to_u32s(begins, op, "beginning_padding"),
                       to_u32s(ends, op, "ending_padding"), o);
}

}  // namespace

void bind_movement_ops(BuilderClass& cls) {
  cls.def(
      "reshape",
      [](PyGraphBuilder& b, const Operand& x, const std::vector<int64_t>& new_shape,
         const std::string& label) {
        return b.builder.reshape(x, to_u32s(new_shape, "reshape", "new_shape"),
                                 labelled<OperatorOptions>(label));
      },
      "x"_a, "new_shape"_a, nb::kw_only(), "label"_a = "");
  cls.def(
      "transpose",
      [](PyGraphBuilder& b, const Operand& x, const Ints& permutation, const std::string& label) {
        auto o = labelled<cppnn::TransposeOptions>(label);
        o.permutation = to_u32s_opt(permutation, "transpose", "permutation");
        return b.builder.transpose(x, o);
      },
      "x"_a, "permutation"_a = nb::none(), nb::kw_only(), "label"_a = "",
      "Permutes the axes (default: reverses them).");
  cls.def(
      "concat",
      [](PyGraphBuilder& b, const std::vector<Operand>& inputs, int64_t axis,
         const std::string& label) {
        return b.builder.concat(inputs, to_u32(axis, "concat", "axis"),
                                labelled<OperatorOptions>(label));
      },
      "inputs"_a, "axis"_a, nb::kw_only(), "label"_a = "");
  cls.def("split", &split, "x"_a, "splits"_a, "axis"_a = 0, nb::kw_only(), "label"_a = "",
          "Splits along axis into `splits` equal parts (int) or parts of the listed sizes;\n"
          "returns a list of operands.");
  cls.def(
      "slice",
      [](PyGraphBuilder& b, const Operand& x, const std::vector<int64_t>& starts,
         const std::vector<int64_t>& sizes, const Ints& strides, const std::string& label) {
        auto o = labelled<cppnn::SliceOptions>(label);
        o.strides = to_u32s_or_empty(strides, "slice", "strides");
        return b.builder.slice(x, to_u32s(starts, "slice", "starts"),
                               to_u32s(sizes, "slice", "sizes"), o);
      },
      "x"_a, "starts"_a, "sizes"_a, "strides"_a = nb::none(), nb::kw_only(), "label"_a = "");
  cls.def(
      "expand",
      [](PyGraphBuilder& b, const Operand& x, const std::vector<int64_t>& new_shape,
         const std::string& label) {
        return b.builder.expand(x, to_u32s(new_shape, "expand", "new_shape"),
                                labelled<OperatorOptions>(label));
      },
      "x"_a, "new_shape"_a, nb::kw_only(), "label"_a = "", "Broadcasts to new_shape.");
  cls.def("pad", &pad, "x"_a, "beginning_padding"_a = nb::none(), "ending_padding"_a = nb::none(),
          nb::arg("mode").none() = "constant", nb::arg("value").none() = 0.0, nb::kw_only(),
          "label"_a = "", "padding"_a = nb::none(),
          "mode: 'constant', 'edge' or 'reflection'. Also rustnn's pad(x, padding, mode=None,\n"
          "value=None): padding lists the beginnings of every axis then their ends.");
  cls.def(
      "tile",
      [](PyGraphBuilder& b, const Operand& x, const std::vector<int64_t>& repetitions,
         const std::string& label) {
        return b.builder.tile(x, to_u32s(repetitions, "tile", "repetitions"),
                              labelled<OperatorOptions>(label));
      },
      "x"_a, "repetitions"_a, nb::kw_only(), "label"_a = "");
  cls.def(
      "reverse",
      [](PyGraphBuilder& b, const Operand& x, const Ints& axes, const std::string& label) {
        auto o = labelled<cppnn::ReverseOptions>(label);
        o.axes = to_u32s_opt(axes, "reverse", "axes");
        return b.builder.reverse(x, o);
      },
      "x"_a, "axes"_a = nb::none(), nb::kw_only(), "label"_a = "",
      "Reverses the order along axes (default: all).");
  cls.def(
      "triangular",
      [](PyGraphBuilder& b, const Operand& x, bool upper, int64_t diagonal,
         const std::string& label) {
        if (diagonal < INT32_MIN || diagonal > INT32_MAX)
          cppnn::fail(
              cppnn::ErrorKind::TypeError,
              "triangular: diagonal must be a 32-bit integer, got " + std::to_string(diagonal));
        auto o = labelled<cppnn::TriangularOptions>(label);
        o.upper = upper;
        o.diagonal = int32_t(diagonal);
        return b.builder.triangular(x, o);
      },
      "x"_a, "upper"_a = true, "diagonal"_a = 0, nb::kw_only(), "label"_a = "",
      "Keeps the upper (or lower) triangle of the last two axes, zeroing the rest.");
  cls.def(
      "resample2d",
      [](PyGraphBuilder& b, const Operand& x, const std::string& mode,
         const std::optional<std::vector<double>>& scales, const Ints& sizes, const Ints& axes,
         const std::string& label) {
        auto o = labelled<cppnn::Resample2dOptions>(label);
        using M = cppnn::InterpolationMode;
        o.mode =
            parse_enum<M>(mode, {{"nearest-neighbor", M::nearest_neighbor}, {"linear", M::linear}},
                          "resample2d", "mode");
        if (scales) o.scales.assign(scales->begin(), scales->end());
        o.sizes = to_u32s_or_empty(sizes, "resample2d", "sizes");
        o.axes = to_u32s_or_empty(axes, "resample2d", "axes");
        return b.builder.resample2d(x, o);
      },
      "x"_a, "mode"_a = "nearest-neighbor", "scales"_a = nb::none(), "sizes"_a = nb::none(),
      "axes"_a = nb::none(), nb::kw_only(), "label"_a = "",
      "Resizes two axes (default [2, 3]) by scales or to sizes; mode: 'nearest-neighbor' or\n"
      "'linear'.");
}

}  // namespace webnn_py
