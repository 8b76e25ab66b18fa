// Exporters of the convolutions: conv2d and convTranspose2d. ONNX's are NCHW with OIHW / IOHW
// weights: other layouts get Transpose nodes (in_nchw), or a transposed initializer for a
// constant filter. Fused epilogues become the ONNX nodes they stand for (finish_fused).
#include <algorithm>
#include <numeric>

#include "core/checked.h"
#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

using Ints = std::vector<int64_t>;

using detail::checked_add;
using detail::checked_mul;
using detail::checked_sub;
// Arithmetic on a node's sizes and attributes. Validation bounds them (graphs come from the
// builder or an engine file); checked all the same, so that a bound loosened there cannot
// become a wrapped size here. An overflow is a graph no builder made.
constexpr ErrorKind kMalformed = ErrorKind::DataError;
constexpr const char* kOutputSize = "export: the output size";

Ints permuted(const Dims& shape, const Ints& perm) {
  Ints out;
  for (int64_t p : perm) out.push_back(shape[size_t(p)]);
  return out;
}

void conv2d(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  ElemType type = elem_type(ctx.input_desc(0).data_type);
  static const std::map<std::string, Ints> kToOihw = {{"oihw", {0, 1, 2, 3}},
                                                      {"hwio", {3, 2, 0, 1}},
                                                      {"ohwi", {0, 3, 1, 2}},
                                                      {"ihwo", {3, 0, 1, 2}}};
  const Ints& perm = kToOihw.at(a.s("filterLayout"));
  std::string filter =
      a.s("filterLayout") == "oihw" ? ctx.input(1) : transposed_input(ctx, 1, perm);
  Ints oihw = permuted(ctx.input_desc(1).shape, perm);
  bool epilogue = !a.s_or("activation", "").empty() || ctx.has_input(3);
  std::string target = epilogue ? ctx.temp(type) : ctx.output(0);
  in_nchw(ctx, a.s("inputLayout") == "nhwc", target,
          [&](const std::string& x, const std::string& y) {
            std::vector<std::string> inputs{x, filter};
            if (ctx.has_input(2)) inputs.push_back(ctx.input(2));
            auto& n = ctx.emit("Conv", inputs, {y});
            set_attr(n, "kernel_shape", Ints{oihw[2], oihw[3]});
            set_attr(n, "pads", onnx_pads(a.ints("padding")));
            set_attr(n, "strides", a.ints("strides"));
            set_attr(n, "dilations", a.ints("dilations"));
            set_attr(n, "group", a.i("groups"));
          });
  finish_fused(ctx, target, ctx.has_input(3) ? ctx.input(3) : "");
}

void conv_transpose2d(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  ElemType type = elem_type(ctx.input_desc(0).data_type);
  static const std::map<std::string, Ints> kToIohw = {
      {"iohw", {0, 1, 2, 3}}, {"hwoi", {3, 2, 0, 1}}, {"ohwi", {3, 0, 1, 2}}};
  const Ints& perm = kToIohw.at(a.s("filterLayout"));
  std::string filter =
      a.s("filterLayout") == "iohw" ? ctx.input(1) : transposed_input(ctx, 1, perm);
  Ints iohw = permuted(ctx.input_desc(1).shape, perm);
  bool nhwc = a.s("inputLayout") == "nhwc";
  const Dims& in = ctx.input_desc(0).shape;
  const Dims& out = ctx.output_desc(0).shape;
  // outputSizes and outputPadding both say how far the output runs past the last window.
  const Ints& pad = a.ints("padding");
  const Ints& s = a.ints("strides");
  const Ints& d = a.ints("dilations");
  Ints output_padding;
  for (size_t i = 0; i < 2; ++i) {
    int64_t in_size = in[nhwc ? 1 + i : 2 + i], out_size = out[nhwc ? 1 + i : 2 + i];
    int64_t natural = checked_add(checked_mul(in_size - 1, s[i], kOutputSize, kMalformed),
                                  window_span(iohw[2 + i], d[i]), kOutputSize, kMalformed);
    natural = checked_sub(checked_sub(natural, pad[2 * i], kOutputSize, kMalformed), pad[2 * i + 1],
                          kOutputSize, kMalformed);
    output_padding.push_back(checked_sub(out_size, natural, kOutputSize, kMalformed));
  }
  bool epilogue = !a.s_or("activation", "").empty();
  std::string target = epilogue ? ctx.temp(type) : ctx.output(0);
  in_nchw(ctx, nhwc, target, [&](const std::string& x, const std::string& y) {
    std::vector<std::string> inputs{x, filter};
    if (ctx.has_input(2)) inputs.push_back(ctx.input(2));
    auto& n = ctx.emit("ConvTranspose", inputs, {y});
    set_attr(n, "kernel_shape", Ints{iohw[2], iohw[3]});
    set_attr(n, "pads", onnx_pads(pad));
    set_attr(n, "strides", s);
    set_attr(n, "dilations", d);
    set_attr(n, "group", a.i("groups"));
    set_attr(n, "output_padding", output_padding);
  });
  finish_fused(ctx, target, "");
}

}  // namespace

void register_conv_exporters(ConverterTable& t) {
  using detail::OpId;
  t[OpId::conv2d] = conv2d;
  t[OpId::convTranspose2d] = conv_transpose2d;
}

}  // namespace cppnn::onnx_export
