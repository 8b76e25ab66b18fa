// Builder methods of the neural-network families: matmul, gemm, convolutions, pooling,
// normalizations, reductions. List options left as None take the spec's defaults.
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

Operand or_absent(const std::optional<Operand>& o) { return o ? *o : Operand(); }

using Pool = Operand (GraphBuilder::*)(const Operand&, const cppnn::Pool2dOptions&);
using Reduce = Operand (GraphBuilder::*)(const Operand&, const cppnn::ReduceOptions&);
using ArgReduce = Operand (GraphBuilder::*)(const Operand&, uint32_t,
                                            const cppnn::ArgMinMaxOptions&);

struct PoolOp {
  const char* name;
  Pool fn;
};
struct ReduceOp {
  const char* name;
  Reduce fn;
};
struct ArgOp {
  const char* name;
  ArgReduce fn;
};

const PoolOp kPools[] = {{"average_pool2d", &GraphBuilder::average_pool2d},
                         {"l2_pool2d", &GraphBuilder::l2_pool2d},
                         {"max_pool2d", &GraphBuilder::max_pool2d}};
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

void bind_linear_algebra(BuilderClass& cls) {
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
  cls.def(
      "conv2d",
      [](PyGraphBuilder& b, const Operand& input, const Operand& filter, const Ints& padding,
         const Ints& strides, const Ints& dilations, int64_t groups,
         const std::string& input_layout, const std::string& filter_layout,
         const std::optional<Operand>& bias, const std::string& label) {
        const char* op = "conv2d";
        auto o = labelled<cppnn::Conv2dOptions>(label);
        o.padding = to_u32s_or_empty(padding, op, "padding");
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
      "2-D convolution. padding: [begin_h, end_h, begin_w, end_w]; strides, dilations: [h, w].");
  cls.def(
      "conv_transpose2d",
      [](PyGraphBuilder& b, const Operand& input, const Operand& filter, const Ints& padding,
         const Ints& strides, const Ints& dilations, const Ints& output_padding,
         const Ints& output_sizes, int64_t groups, const std::string& input_layout,
         const std::string& filter_layout, const std::optional<Operand>& bias,
         const std::string& label) {
        const char* op = "conv_transpose2d";
        auto o = labelled<cppnn::ConvTranspose2dOptions>(label);
        o.padding = to_u32s_or_empty(padding, op, "padding");
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
      nb::kw_only(), "label"_a = "", "2-D transposed convolution.");
}

void bind_pooling(BuilderClass& cls) {
  for (const PoolOp& op : kPools) {
    Pool fn = op.fn;
    const char* name = op.name;
    cls.def(
        name,
        [fn, name](PyGraphBuilder& b, const Operand& x, const Ints& window_dimensions,
                   const Ints& padding, const Ints& strides, const Ints& dilations,
                   const std::string& layout, const std::string& output_shape_rounding,
                   const Ints& output_sizes, const std::string& label) {
          auto o = labelled<cppnn::Pool2dOptions>(label);
          o.window_dimensions = to_u32s_or_empty(window_dimensions, name, "window_dimensions");
          o.padding = to_u32s_or_empty(padding, name, "padding");
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
        "label"_a = "", "2-D pooling; window_dimensions default to the whole spatial size.");
  }
}

void bind_normalization(BuilderClass& cls) {
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
        o.epsilon = epsilon;
        return b.builder.layer_normalization(x, o);
      },
      "x"_a, "scale"_a = nb::none(), "bias"_a = nb::none(), "axes"_a = nb::none(),
      "epsilon"_a = 1e-5, nb::kw_only(), "label"_a = "",
      "Normalizes over axes (default: every axis but the first).");
}

void bind_reductions(BuilderClass& cls) {
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
          o.output_data_type =
              to_data_type(output_data_type, std::string(name) + ": output_data_type");
          return (b.builder.*fn)(x, to_u32(axis, name, "axis"), o);
        },
        "x"_a, "axis"_a, "keep_dimensions"_a = false, "output_data_type"_a = "int32", nb::kw_only(),
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
}

}  // namespace

void bind_nn_ops(BuilderClass& cls) {
  bind_linear_algebra(cls);
  bind_pooling(cls);
  bind_normalization(cls);
  bind_reductions(cls);
}

}  // namespace webnn_py
