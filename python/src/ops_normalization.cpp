// Builder methods of the normalization family: batch_normalization, instance_normalization,
// layer_normalization.
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

void bind_normalization_ops(BuilderClass& cls) {
  cls.def(
      "batch_normalization",
      [](PyGraphBuilder& b, const Operand& x, const Operand& mean, const Operand& variance,
         const std::optional<Operand>& scale, const std::optional<Operand>& bias, int64_t axis,
         double epsilon, const std::string& label) {
        auto o = labelled<cppnn::BatchNormalizationOptions>(label);
        o.scale = or_absent(scale);
        o.bias = or_absent(bias);
        o.axis = to_u32(axis, "batch_normalization", "axis");
        o.epsilon = epsilon;
        return b.builder.batch_normalization(x, mean, variance, o);
      },
      "x"_a, "mean"_a, "variance"_a, "scale"_a = nb::none(), "bias"_a = nb::none(), "axis"_a = 1,
      "epsilon"_a = 1e-5, nb::kw_only(), "label"_a = "");
  cls.def(
      "instance_normalization",
      [](PyGraphBuilder& b, const Operand& x, const std::optional<Operand>& scale,
         const std::optional<Operand>& bias, double epsilon, const std::string& layout,
         const std::string& label) {
        auto o = labelled<cppnn::InstanceNormalizationOptions>(label);
        o.scale = or_absent(scale);
        o.bias = or_absent(bias);
        o.epsilon = epsilon;
        o.layout = parse_layout(layout, "instance_normalization", "layout");
        return b.builder.instance_normalization(x, o);
      },
      "x"_a, "scale"_a = nb::none(), "bias"_a = nb::none(), "epsilon"_a = 1e-5, "layout"_a = "nchw",
      nb::kw_only(), "label"_a = "");
  cls.def(
      "layer_normalization",
      [](PyGraphBuilder& b, const Operand& x, const std::optional<Operand>& scale,
         const std::optional<Operand>& bias, const Ints& axes, double epsilon,
         const std::string& label) {
        auto o = labelled<cppnn::LayerNormalizationOptions>(label);
        o.scale = or_absent(scale);
        o.bias = or_absent(bias);
        o.axes = to_u32s_opt(axes, "layer_normalization", "axes");
        // No axes and a scale (or bias) of lower rank than the spec's default (every axis
        // but the first) wants, which the spec refuses: its trailing axes, as rustnn does.
        const std::optional<Operand>& param = scale ? scale : bias;
        if (!axes && param && param->rank() >= 1 && param->rank() + 1 < x.rank()) {
          o.axes.emplace();
          for (size_t i = x.rank() - param->rank(); i < x.rank(); ++i) o.axes->push_back(uint32_t(i));
        }
        o.epsilon = epsilon;
        return b.builder.layer_normalization(x, o);
      },
      "x"_a, "scale"_a = nb::none(), "bias"_a = nb::none(), "axes"_a = nb::none(),
      "epsilon"_a = 1e-5, nb::kw_only(), "label"_a = "",
      "Normalizes over axes (default: every axis but the first; with a scale or bias of\n"
      "lower rank than that, its trailing axes, as rustnn does).");
}

}  // namespace webnn_py
