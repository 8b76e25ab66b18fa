// Pooling ops: averagePool2d, l2Pool2d, maxPool2d (the spec's "create a pooling operation").
// Infer fills "windowDimensions", "padding", "strides", "dilations", "layout" and
// "outputShapeRounding"; "outputSizes" stays only when the caller gave it. Kernels take the
// output height and width from the output descriptor.
#include <cstdint>

#include "core/checked.h"
#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

std::vector<int64_t> list_attr(const Attrs& attrs, const std::string& name,
                               std::vector<int64_t> fallback) {
  return attrs.has(name) ? attrs.ints(name) : fallback;
}

void check_size(const std::vector<int64_t>& v, size_t size, const std::string& name) {
  if (v.size() != size)
    type_error(name + " must have " + std::to_string(size) + " values, got " +
               std::to_string(v.size()) + " " + to_string(v));
}

void check_positive(const std::vector<int64_t>& v, const std::string& name) {
  for (int64_t x : v)
    if (x <= 0) type_error(name + " must all be greater than 0, got " + to_string(v));
}

// The spec's "calculate conv output size", (input - effective + padding) / stride + 1, kept
// as integers: the numerator, whose quotient the caller rounds. A double loses the low bits
// of large attributes (and past 2^63 has no int64 at all), so the rounding is exact here.
struct WindowFit {
  int64_t effective;  // the dilated window
  int64_t padded;     // the input with its padding
  int64_t numerator;  // padded - effective
};

WindowFit window_fit(int64_t input, int64_t window, int64_t pad_begin, int64_t pad_end,
                     int64_t dilation, const char* axis) {
  std::string what = std::string("the pooling window ") + axis;
  WindowFit f;
  f.effective = checked_dilated_size(window, dilation, what);
  f.padded = checked_add(checked_add(input, pad_begin, what), pad_end, what);
  // Both are >= 0 (window >= 1, dilation >= 1, padding >= 0): no overflow.
  f.numerator = f.padded - f.effective;
  return f;
}

// The spec's "create a pooling operation"; maxPool2d takes any data type.
std::vector<OperandDescriptor> infer_pooling(const InputDescs& in, Attrs& attrs, bool any_type) {
  const OperandDescriptor& input = *in[0];
  if (!any_type) check_data_type(input, "input", kFloatTypes);
  check_rank(input, "input", 4);
  std::string layout = attrs.s_or("layout", "nchw");
  if (layout != "nchw" && layout != "nhwc")
    type_error("layout must be \"nchw\" or \"nhwc\", got \"" + layout + "\"");
  bool nchw = layout == "nchw";
  int64_t batches = input.shape[0];
  int64_t channels = input.shape[nchw ? 1 : 3];
  int64_t height = input.shape[nchw ? 2 : 1];
  int64_t width = input.shape[nchw ? 3 : 2];

  std::vector<int64_t> window = list_attr(attrs, "windowDimensions", {height, width});
  check_size(window, 2, "windowDimensions");
  check_positive(window, "windowDimensions");
  check_unsigned_long(window, "windowDimensions");
  bool has_output_sizes = attrs.has("outputSizes");
  // As the spec says: explicit output sizes reset the padding to zeros.
  std::vector<int64_t> padding = has_output_sizes ? std::vector<int64_t>{0, 0, 0, 0}
                                                  : list_attr(attrs, "padding", {0, 0, 0, 0});
  check_size(padding, 4, "padding");
  for (int64_t p : padding)
    if (p < 0) type_error("padding must not be negative, got " + to_string(padding));
  check_unsigned_long(padding, "padding");
  std::vector<int64_t> strides = list_attr(attrs, "strides", {1, 1});
  check_size(strides, 2, "strides");
  check_positive(strides, "strides");
  check_unsigned_long(strides, "strides");
  std::vector<int64_t> output_sizes;
  if (has_output_sizes) {
    output_sizes = attrs.ints("outputSizes");
    check_size(output_sizes, 2, "outputSizes");
    check_positive(output_sizes, "outputSizes");
    check_unsigned_long(output_sizes, "outputSizes");
  }
  std::vector<int64_t> dilations = list_attr(attrs, "dilations", {1, 1});
  check_size(dilations, 2, "dilations");
  check_positive(dilations, "dilations");
  check_unsigned_long(dilations, "dilations");
  std::string rounding = attrs.s_or("outputShapeRounding", "floor");
  if (rounding != "floor" && rounding != "ceil")
    type_error("outputShapeRounding must be \"floor\" or \"ceil\", got \"" + rounding + "\"");

  WindowFit fit[2];
  int64_t floor_out[2], ceil_out[2];
  for (size_t i = 0; i < 2; ++i) {
    const char* axis = i == 0 ? "height" : "width";
    fit[i] = window_fit(i == 0 ? height : width, window[i], padding[2 * i], padding[2 * i + 1],
                        dilations[i], axis);
    std::string what = std::string("the output ") + axis;
    floor_out[i] = checked_add(floor_div(fit[i].numerator, strides[i]), 1, what);
    ceil_out[i] = checked_add(ceil_div(fit[i].numerator, strides[i]), 1, what);
  }
  int64_t out[2];
  if (has_output_sizes) {
    bool is_floor = output_sizes[0] == floor_out[0] && output_sizes[1] == floor_out[1];
    bool is_ceil = output_sizes[0] == ceil_out[0] && output_sizes[1] == ceil_out[1];
    if (!is_floor && !is_ceil)
      type_error("outputSizes " + to_string(output_sizes) + " must be the floor [" +
                 std::to_string(floor_out[0]) + ", " + std::to_string(floor_out[1]) +
                 "] or the ceil [" + std::to_string(ceil_out[0]) + ", " +
                 std::to_string(ceil_out[1]) + "] of the computed output size");
    out[0] = output_sizes[0];
    out[1] = output_sizes[1];
  } else {
    for (size_t i = 0; i < 2; ++i) out[i] = rounding == "floor" ? floor_out[i] : ceil_out[i];
  }
  for (size_t i = 0; i < 2; ++i) {
    if (out[i] <= 0 || out[i] > int64_t(INT32_MAX)) {
      if (fit[i].effective > fit[i].padded)
        type_error(std::string("the window ") + (i == 0 ? "height" : "width") + " " +
                   std::to_string(fit[i].effective) +
                   " (dilated) is larger than the padded input " + std::to_string(fit[i].padded) +
                   ", so the output size is not a valid dimension");
      type_error(std::string("the output ") + (i == 0 ? "height" : "width") + " " +
                 std::to_string(out[i]) + " is not a valid dimension");
    }
  }
  attrs.set("windowDimensions", window);
  attrs.set("padding", padding);
  attrs.set("strides", strides);
  attrs.set("dilations", dilations);
  attrs.set("layout", layout);
  attrs.set("outputShapeRounding", rounding);
  Dims shape =
      nchw ? Dims{batches, channels, out[0], out[1]} : Dims{batches, out[0], out[1], channels};
  return std::vector<OperandDescriptor>{{input.data_type, shape}};
}

OpSchema pooling(OpId id, bool any_type) {
  return OpSchema{id, {"input"}, 1, false, [any_type](const InputDescs& in, Attrs& attrs) {
                    return infer_pooling(in, attrs, any_type);
                  }};
}

}  // namespace

void register_pooling_ops(OpTable& table) {
  table.add(pooling(OpId::averagePool2d, false));
  table.add(pooling(OpId::l2Pool2d, false));
  table.add(pooling(OpId::maxPool2d, true));  // maxPool2d allows any data type
}

}  // namespace detail

using namespace detail;

namespace {
Attrs pool_attrs(const Pool2dOptions& o) {
  Attrs attrs;
  // An empty list means the option is absent (the C++ API has no other way to say so).
  if (!o.window_dimensions.empty()) attrs.set_ints("windowDimensions", o.window_dimensions);
  if (!o.padding.empty()) attrs.set_ints("padding", o.padding);
  if (!o.strides.empty()) attrs.set_ints("strides", o.strides);
  if (!o.dilations.empty()) attrs.set_ints("dilations", o.dilations);
  if (!o.output_sizes.empty()) attrs.set_ints("outputSizes", o.output_sizes);
  attrs.set("layout", std::string(o.layout == InputLayout::nchw ? "nchw" : "nhwc"));
  attrs.set("outputShapeRounding",
            std::string(o.output_shape_rounding == RoundingType::floor ? "floor" : "ceil"));
  return attrs;
}
}  // namespace

Operand GraphBuilder::average_pool2d(const Operand& x, const Pool2dOptions& o) {
  return add_op(*this, OpId::averagePool2d, {x}, pool_attrs(o), o.label)[0];
}
Operand GraphBuilder::l2_pool2d(const Operand& x, const Pool2dOptions& o) {
  return add_op(*this, OpId::l2Pool2d, {x}, pool_attrs(o), o.label)[0];
}
Operand GraphBuilder::max_pool2d(const Operand& x, const Pool2dOptions& o) {
  return add_op(*this, OpId::maxPool2d, {x}, pool_attrs(o), o.label)[0];
}

}  // namespace cppnn
