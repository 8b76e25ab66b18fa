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
  cls.def(
      "pad",
      [](PyGraphBuilder& b, const Operand& x, const std::vector<int64_t>& beginning_padding,
         const std::vector<int64_t>& ending_padding, const std::string& mode, double value,
         const std::string& label) {
        auto o = labelled<cppnn::PadOptions>(label);
        using M = cppnn::PaddingMode;
        o.mode = parse_enum<M>(
            mode, {{"constant", M::constant}, {"edge", M::edge}, {"reflection", M::reflection}},
            "pad", "mode");
        o.value = value;
        return b.builder.pad(x, to_u32s(beginning_padding, "pad", "beginning_padding"),
                             to_u32s(ending_padding, "pad", "ending_padding"), o);
      },
      "x"_a, "beginning_padding"_a, "ending_padding"_a, "mode"_a = "constant", "value"_a = 0.0,
      nb::kw_only(), "label"_a = "", "mode: 'constant', 'edge' or 'reflection'.");
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
