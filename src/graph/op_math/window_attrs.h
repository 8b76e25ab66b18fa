#pragma once
// A conv2d / convTranspose2d / pooling node's window read from its shapes and attributes,
// once for both backends (the CPU's oneDNN and loop kernels, the CUDA steps). Host only:
// the kernels take the plain structs (window.h). The attributes are the complete set the
// op's infer function (src/graph/ops/conv.cpp, pooling.cpp) filled and checked.
#include <cstdint>
#include <string>

#include "graph/ir.h"
#include "graph/op_math/window.h"

namespace cppnn::detail::op_math {

// A conv2d or convTranspose2d node's convolution.
struct ConvWindow {
  bool transposed = false, nhwc = false;
  int64_t n = 0, c = 0, h = 0, w = 0;  // the input
  int64_t k = 0, oh = 0, ow = 0;       // the output's channels and size
  int64_t kh = 0, kw = 0, groups = 1;
  std::string filter_layout;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  // The element strides of the filter (in the graph's filterLayout) along its logical dims
  // o, i, h, w. conv2d: o runs over all k output channels, i over the c / groups input
  // channels of a group. convTranspose2d: i runs over all c input channels, o over the
  // k / groups output channels of a group.
  int64_t filter_o = 0, filter_i = 0, filter_h = 0, filter_w = 0;
};

inline ConvWindow conv_window(const Dims& in, const Dims& filter, const Dims& out, const Attrs& a,
                              bool transposed) {
  ConvWindow s;
  s.transposed = transposed;
  s.nhwc = a.s("inputLayout") == "nhwc";
  s.n = in[0];
  s.c = s.nhwc ? in[3] : in[1];
  s.h = s.nhwc ? in[1] : in[2];
  s.w = s.nhwc ? in[2] : in[3];
  s.k = s.nhwc ? out[3] : out[1];
  s.oh = s.nhwc ? out[1] : out[2];
  s.ow = s.nhwc ? out[2] : out[3];
  s.filter_layout = a.s("filterLayout");
  const std::string& l = s.filter_layout;
  // Every filter layout keeps height before width; find where they start.
  size_t hpos = (l == "oihw" || l == "iohw") ? 2 : (l == "hwio" || l == "hwoi") ? 0 : 1;
  s.kh = filter[hpos];
  s.kw = filter[hpos + 1];
  s.groups = a.i("groups");
  const auto& p = a.ints("padding");
  const auto& st = a.ints("strides");
  const auto& d = a.ints("dilations");
  s.pad_top = p[0], s.pad_bottom = p[1], s.pad_left = p[2], s.pad_right = p[3];
  s.stride_h = st[0], s.stride_w = st[1], s.dil_h = d[0], s.dil_w = d[1];

  const int64_t KH = s.kh, KW = s.kw;
  int64_t& so = s.filter_o;
  int64_t& si = s.filter_i;
  int64_t& sh = s.filter_h;
  int64_t& sw = s.filter_w;
  if (!transposed) {
    const int64_t O = s.k, I = s.c / s.groups;
    if (l == "oihw")
      so = I * KH * KW, si = KH * KW, sh = KW, sw = 1;
    else if (l == "hwio")
      so = 1, si = O, sw = I * O, sh = KW * I * O;
    else if (l == "ohwi")
      si = 1, sw = I, sh = KW * I, so = KH * KW * I;
    else /* ihwo */
      so = 1, sw = O, sh = KW * O, si = KH * KW * O;
  } else {
    const int64_t I = s.c, O = s.k / s.groups;
    if (l == "iohw")
      si = O * KH * KW, so = KH * KW, sh = KW, sw = 1;
    else if (l == "hwoi")
      si = 1, so = I, sw = O * I, sh = KW * O * I;
    else /* ohwi */
      si = 1, sw = I, sh = KW * I, so = KH * KW * I;
  }
  return s;
}

// A pooling node's window; `in` and `out` are its input's and output's shapes.
inline PoolWindow pool_window(const Dims& in, const Dims& out, const Attrs& a) {
  PoolWindow w;
  bool nchw = a.s("layout") == "nchw";
  w.nhwc = !nchw;
  w.batches = in[0];
  w.channels = nchw ? in[1] : in[3];
  w.height = nchw ? in[2] : in[1];
  w.width = nchw ? in[3] : in[2];
  w.out_h = nchw ? out[2] : out[1];
  w.out_w = nchw ? out[3] : out[2];
  const auto& window = a.ints("windowDimensions");
  const auto& padding = a.ints("padding");
  const auto& strides = a.ints("strides");
  const auto& dilations = a.ints("dilations");
  w.window_h = window[0], w.window_w = window[1];
  w.pad_top = padding[0], w.pad_left = padding[2];
  w.stride_h = strides[0], w.stride_w = strides[1];
  w.dilation_h = dilations[0], w.dilation_w = dilations[1];
  return w;
}

}  // namespace cppnn::detail::op_math
