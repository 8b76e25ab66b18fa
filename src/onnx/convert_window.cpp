#include "onnx/convert_window.h"

#include <algorithm>

#include "core/checked.h"

namespace cppnn::onnx_import {

namespace {

using detail::checked_add;
using detail::checked_mul;
using detail::checked_sub;
// Kernel sizes, strides, dilations and pads come from the file, unchecked until the builder
// sees them: arithmetic past int64 on them is a malformed model.
constexpr ErrorKind kMalformed = ErrorKind::DataError;

}  // namespace

int64_t dilated_span(int64_t kernel, int64_t dilation) {
  return detail::checked_dilated_size(kernel, dilation, "the dilated kernel size", kMalformed);
}

std::vector<int64_t> ints_of_length(const NodeContext& ctx, const std::string& name, size_t n,
                                    int64_t fallback) {
  auto v = ctx.attr_ints(name);
  if (!v) return std::vector<int64_t>(n, fallback);
  if (v->size() != n)
    ctx.bad_model("attribute '" + name + "' has " + std::to_string(v->size()) +
                  " values, the op has " + std::to_string(n) + " spatial dimensions");
  return *v;
}

Window window_of(const NodeContext& ctx, const Dims& spatial_in, std::vector<int64_t> kernel) {
  size_t n = spatial_in.size();
  Window w;
  w.kernel = std::move(kernel);
  w.strides = ints_of_length(ctx, "strides", n, 1);
  w.dilations = ints_of_length(ctx, "dilations", n, 1);
  std::vector<int64_t> pads = ints_of_length(ctx, "pads", 2 * n, 0);
  for (size_t d = 0; d < n; ++d) {
    if (w.strides[d] < 1 || w.dilations[d] < 1) ctx.bad_model("strides and dilations must be >= 1");
    w.begins.push_back(pads[d]);
    w.ends.push_back(pads[n + d]);
  }
  std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") return w;
  if (auto_pad == "VALID") {
    std::fill(w.begins.begin(), w.begins.end(), 0);
    std::fill(w.ends.begin(), w.ends.end(), 0);
    return w;
  }
  if (auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    ctx.not_supported("attribute 'auto_pad' value '" + auto_pad + "' is not supported");
  // SAME_*: the output is ceil(input / stride); the odd padding goes at the end (UPPER) or
  // at the beginning (LOWER).
  for (size_t d = 0; d < n; ++d) {
    const char* what = "the SAME padding";
    int64_t out = detail::ceil_div(spatial_in[d], w.strides[d]);
    int64_t last = checked_add(checked_mul(out - 1, w.strides[d], what, kMalformed),
                               dilated_span(w.kernel[d], w.dilations[d]), what, kMalformed);
    int64_t total = std::max<int64_t>(0, checked_sub(last, spatial_in[d], what, kMalformed));
    int64_t small = total / 2;
    w.begins[d] = auto_pad == "SAME_UPPER" ? small : total - small;
    w.ends[d] = total - w.begins[d];
  }
  return w;
}

std::vector<uint32_t> webnn_padding(const NodeContext& ctx, const Window& w) {
  return to_u32(ctx, {w.begins[0], w.ends[0], w.begins[1], w.ends[1]}, "pads");
}

Dims spatial_of(const Dims& shape) { return Dims(shape.begin() + 2, shape.end()); }

}  // namespace cppnn::onnx_import
