// Convolutions: conv2d, convTranspose2d. Besides the spec's options their schemas accept what
// the compiler's fusion pass adds: an "activation" attribute on both and a "residual" operand
// on conv2d (check_fused_activation, graph/validation.h, shared with matmul.cpp).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/checked.h"
#include "core/dispatch.h"
#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

using Ints = std::vector<int64_t>;

// A list option of `size` unsigned longs; fills `fallback` when absent.
Ints list_option(Attrs& attrs, const std::string& name, size_t size, const Ints& fallback,
                 bool nonzero) {
  if (!attrs.has(name)) attrs.set(name, fallback);
  const Ints& v = attrs.ints(name);
  if (v.size() != size)
    type_error("option '" + name + "' must have " + std::to_string(size) + " values, got " +
               to_string(v));
  for (int64_t x : v) {
    if (x < 0 || x > int64_t(std::numeric_limits<uint32_t>::max()))
      type_error("option '" + name + "' must hold unsigned 32-bit integers, got " + to_string(v));
    if (nonzero && x == 0) type_error("option '" + name + "' must not contain 0, got " + to_string(v));
  }
  return v;
}

std::string enum_option(Attrs& attrs, const std::string& name, const std::vector<std::string>& allowed) {
  if (!attrs.has(name)) attrs.set(name, allowed.front());
  const std::string& v = attrs.s(name);
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    type_error("option '" + name + "' is '" + v + "'; allowed: " + list);
  }
  return v;
}

int64_t groups_option(Attrs& attrs) {
  if (!attrs.has("groups")) attrs.set("groups", int64_t(1));
  int64_t g = attrs.i("groups");
  if (g <= 0 || g > int64_t(std::numeric_limits<uint32_t>::max()))
    type_error("option 'groups' must be a positive unsigned 32-bit integer, got " + std::to_string(g));
  return g;
}

void check_output_dim(int64_t size, const char* what, const std::string& how) {
  if (size <= 0 || size > kMaxDimension)
    type_error("output " + std::string(what) + " " + std::to_string(size) +
               " is not a valid dimension (" + how + ")");
}

struct Spatial {
  int64_t batches, channels, height, width;
};

Spatial input_dims(const OperandDescriptor& input, const std::string& layout) {
  const Dims& s = input.shape;
  if (layout == "nchw") return {s[0], s[1], s[2], s[3]};
  return {s[0], s[3], s[1], s[2]};
}

Dims output_shape(const std::string& layout, int64_t n, int64_t c, int64_t h, int64_t w) {
  return layout == "nchw" ? Dims{n, c, h, w} : Dims{n, h, w, c};
}

void check_bias(const OperandDescriptor* bias, const OperandDescriptor& input, int64_t channels) {
  if (!bias) return;
  if (bias->shape != Dims{channels})
    type_error(operand_name("bias") + " must have shape [" + std::to_string(channels) +
               "] (the output channels), got " + to_string(bias->shape));
  check_same_type(input, "input", *bias, "bias");
}

std::vector<OperandDescriptor> infer_conv2d(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& input = *in[0];
  const OperandDescriptor& filter = *in[1];
  check_data_type(input, "input", kFloatTypes);
  check_rank(input, "input", 4);
  check_rank(filter, "filter", 4);
  check_same_type(input, "input", filter, "filter");
  Ints pad = list_option(attrs, "padding", 4, {0, 0, 0, 0}, false);
  Ints strides = list_option(attrs, "strides", 2, {1, 1}, true);
  Ints dilations = list_option(attrs, "dilations", 2, {1, 1}, true);
  int64_t groups = groups_option(attrs);
  std::string layout = enum_option(attrs, "inputLayout", {"nchw", "nhwc"});
  std::string fl = enum_option(attrs, "filterLayout", {"oihw", "hwio", "ohwi", "ihwo"});

  Spatial x = input_dims(input, layout);
  const Dims& f = filter.shape;
  int64_t fh, fw, fi, fo;
  if (fl == "hwio") fh = f[0], fw = f[1], fi = f[2], fo = f[3];
  else if (fl == "ohwi") fo = f[0], fh = f[1], fw = f[2], fi = f[3];
  else if (fl == "ihwo") fi = f[0], fh = f[1], fw = f[2], fo = f[3];
  else fo = f[0], fi = f[1], fh = f[2], fw = f[3];
  if (x.channels % groups != 0)
    type_error(operand_name("input") + " has " + std::to_string(x.channels) +
               " channels, which groups (" + std::to_string(groups) + ") does not divide");
  if (x.channels / groups != fi)
    type_error(operand_name("filter") + " has " + std::to_string(fi) +
               " input channels but input channels / groups is " +
               std::to_string(x.channels / groups) + " (filter shape " + to_string(f) + ", " +
               fl + ")");
  if (fo % groups != 0)
    type_error(operand_name("filter") + " has " + std::to_string(fo) +
               " output channels, which groups (" + std::to_string(groups) + ") does not divide");
  check_bias(in.size() > 2 ? in[2] : nullptr, input, fo);

  auto size = [](int64_t input_size, int64_t filter_size, int64_t begin, int64_t end,
                 int64_t stride, int64_t dilation, const char* what) {
    int64_t effective = checked_dilated_size(filter_size, dilation, what);
    int64_t span =
        checked_add(checked_add(checked_sub(input_size, effective, what), begin, what), end, what);
    return checked_add(floor_div(span, stride), 1, what);
  };
  int64_t oh = size(x.height, fh, pad[0], pad[1], strides[0], dilations[0], "output height");
  int64_t ow = size(x.width, fw, pad[2], pad[3], strides[1], dilations[1], "output width");
  check_output_dim(oh, "height", "input height " + std::to_string(x.height) + ", filter height " +
                                     std::to_string(fh) + ", padding and dilation too large");
  check_output_dim(ow, "width", "input width " + std::to_string(x.width) + ", filter width " +
                                    std::to_string(fw) + ", padding and dilation too large");
  OperandDescriptor out{input.data_type, output_shape(layout, x.batches, fo, oh, ow)};

  if (in.size() > 3 && in[3]) {
    check_same_type(input, "input", *in[3], "residual");
    if (in[3]->shape != out.shape)
      type_error(operand_name("residual") + " must have the output's shape " +
                 to_string(out.shape) + ", got " + to_string(in[3]->shape));
  }
  check_fused_activation(attrs);
  return {out};
}

std::vector<OperandDescriptor> infer_conv_transpose2d(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& input = *in[0];
  const OperandDescriptor& filter = *in[1];
  check_rank(input, "input", 4);
  check_data_type(input, "input", kFloatTypes);
  check_rank(filter, "filter", 4);
  check_same_type(input, "input", filter, "filter");
  Ints pad = list_option(attrs, "padding", 4, {0, 0, 0, 0}, false);
  Ints strides = list_option(attrs, "strides", 2, {1, 1}, true);
  Ints dilations = list_option(attrs, "dilations", 2, {1, 1}, true);
  Ints out_pad = list_option(attrs, "outputPadding", 2, {0, 0}, false);
  bool has_sizes = attrs.has("outputSizes");
  Ints sizes = has_sizes ? list_option(attrs, "outputSizes", 2, {}, false) : Ints{};
  if (!has_sizes && (out_pad[0] >= strides[0] || out_pad[1] >= strides[1]))
    type_error("option 'outputPadding' " + to_string(out_pad) +
               " must be smaller than option 'strides' " + to_string(strides));
  int64_t groups = groups_option(attrs);
  std::string layout = enum_option(attrs, "inputLayout", {"nchw", "nhwc"});
  std::string fl = enum_option(attrs, "filterLayout", {"iohw", "hwoi", "ohwi"});

  Spatial x = input_dims(input, layout);
  const Dims& f = filter.shape;
  int64_t fh, fw, fi, fo;
  if (fl == "hwoi") fh = f[0], fw = f[1], fo = f[2], fi = f[3];
  else if (fl == "ohwi") fo = f[0], fh = f[1], fw = f[2], fi = f[3];
  else fi = f[0], fo = f[1], fh = f[2], fw = f[3];
  if (x.channels != fi)
    type_error(operand_name("filter") + " has " + std::to_string(fi) +
               " input channels but operand 'input' has " + std::to_string(x.channels) +
               " (filter shape " + to_string(f) + ", " + fl + ")");
  // Not a spec step, but channels that groups does not divide cannot be split into groups.
  if (x.channels % groups != 0)
    type_error(operand_name("input") + " has " + std::to_string(x.channels) +
               " channels, which groups (" + std::to_string(groups) + ") does not divide");
  int64_t out_channels = checked_mul(fo, groups, "output channels");
  check_output_dim(out_channels, "channels", "filter output channels times groups");
  check_bias(in.size() > 2 ? in[2] : nullptr, input, out_channels);

  auto size = [](int64_t input_size, int64_t filter_size, int64_t begin, int64_t end,
                 int64_t stride, int64_t dilation, const char* what) {
    int64_t effective = checked_dilated_size(filter_size, dilation, what);
    int64_t span = checked_add(checked_mul(input_size - 1, stride, what), effective, what);
    return checked_sub(checked_sub(span, begin, what), end, what);
  };
  int64_t ch = size(x.height, fh, pad[0], pad[1], strides[0], dilations[0], "output height");
  int64_t cw = size(x.width, fw, pad[2], pad[3], strides[1], dilations[1], "output width");
  int64_t oh, ow;
  if (has_sizes) {
    oh = sizes[0], ow = sizes[1];
    int64_t h_end = checked_add(ch, strides[0], "output height");
    int64_t w_end = checked_add(cw, strides[1], "output width");
    if (oh < ch || oh >= h_end)
      type_error("option 'outputSizes' height " + std::to_string(oh) + " must be in [" +
                 std::to_string(ch) + ", " + std::to_string(h_end) + ")");
    if (ow < cw || ow >= w_end)
      type_error("option 'outputSizes' width " + std::to_string(ow) + " must be in [" +
                 std::to_string(cw) + ", " + std::to_string(w_end) + ")");
  } else {
    oh = checked_add(ch, out_pad[0], "output height");
    ow = checked_add(cw, out_pad[1], "output width");
  }
  check_output_dim(oh, "height", "input height " + std::to_string(x.height) + ", filter height " +
                                     std::to_string(fh) + ", padding too large");
  check_output_dim(ow, "width", "input width " + std::to_string(x.width) + ", filter width " +
                                    std::to_string(fw) + ", padding too large");
  check_fused_activation(attrs);
  return {{input.data_type, output_shape(layout, x.batches, out_channels, oh, ow)}};
}

const char* name_of(InputLayout l) { return l == InputLayout::nhwc ? "nhwc" : "nchw"; }
const char* name_of(Conv2dFilterLayout l) {
  switch (l) {
    case Conv2dFilterLayout::hwio: return "hwio";
    case Conv2dFilterLayout::ohwi: return "ohwi";
    case Conv2dFilterLayout::ihwo: return "ihwo";
    default: return "oihw";
  }
}
const char* name_of(ConvTranspose2dFilterLayout l) {
  switch (l) {
    case ConvTranspose2dFilterLayout::hwoi: return "hwoi";
    case ConvTranspose2dFilterLayout::ohwi: return "ohwi";
    default: return "iohw";
  }
}

// An empty list in the C++ options means the option was not given.
void set_list(Attrs& attrs, const char* name, const std::vector<uint32_t>& v) {
  if (!v.empty()) attrs.set_ints(name, v);
}

}  // namespace

void register_conv_ops(OpTable& table) {
  table.add(OpSchema{OpId::conv2d, {"input", "filter", "bias", "residual"}, 2, false, infer_conv2d});
  table.add(OpSchema{OpId::convTranspose2d, {"input", "filter", "bias"}, 2, false, infer_conv_transpose2d});
}

}  // namespace detail

using namespace detail;

Operand GraphBuilder::conv2d(const Operand& input, const Operand& filter, const Conv2dOptions& o) {
  Attrs a;
  set_list(a, "padding", o.padding);
  set_list(a, "strides", o.strides);
  set_list(a, "dilations", o.dilations);
  a.set("groups", int64_t(o.groups));
  a.set("inputLayout", std::string(name_of(o.input_layout)));
  a.set("filterLayout", std::string(name_of(o.filter_layout)));
  std::vector<Operand> inputs{input, filter};
  if (o.bias.valid()) inputs.push_back(o.bias);
  return add_op(*this, OpId::conv2d, inputs, std::move(a), o.label)[0];
}

Operand GraphBuilder::conv_transpose2d(const Operand& input, const Operand& filter,
                                       const ConvTranspose2dOptions& o) {
  Attrs a;
  set_list(a, "padding", o.padding);
  set_list(a, "strides", o.strides);
  set_list(a, "dilations", o.dilations);
  set_list(a, "outputPadding", o.output_padding);
  set_list(a, "outputSizes", o.output_sizes);
  a.set("groups", int64_t(o.groups));
  a.set("inputLayout", std::string(name_of(o.input_layout)));
  a.set("filterLayout", std::string(name_of(o.filter_layout)));
  std::vector<Operand> inputs{input, filter};
  if (o.bias.valid()) inputs.push_back(o.bias);
  return add_op(*this, OpId::convTranspose2d, inputs, std::move(a), o.label)[0];
}

}  // namespace cppnn
