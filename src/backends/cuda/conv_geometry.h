#pragma once
// A conv2d / convTranspose2d node's convolution in the terms its GPU kernels take (cuDNN's
// legacy API, and our own kernels beside it): sizes, the filter's strides, and how padding
// that cuDNN's symmetric padding cannot express is handled.
#include <cstdint>
#include <string>

#include "graph/ir.h"

namespace cppnn::detail::cuda {

// Everything about one node's convolution that cuDNN needs, in cuDNN's terms.
struct ConvGeometry {
  bool transposed = false, nhwc = false, half = false;
  int64_t n = 0, c = 0, h = 0, w = 0;  // the input (convTranspose2d: cuDNN's dy)
  int64_t k = 0, oh = 0, ow = 0;       // the output's channels and size
  int64_t kh = 0, kw = 0, groups = 1;
  // The filter as cuDNN sees it, [fa, fb, kh, kw], and the strides (in elements) of the
  // graph's filter layout along those four.
  int64_t fa = 0, fb = 0;
  int64_t sa = 0, sb = 0, sy = 0, sx = 0;
  std::string filter_layout;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  int64_t cudnn_pad_h = 0, cudnn_pad_w = 0;
  // conv2d whose padding cuDNN cannot express: the input padded into [n, c, xh, xw] with
  // (pre_top, pre_left) before it; xh, xw are the input's own size otherwise.
  bool explicit_pad = false;
  int64_t pre_top = 0, pre_left = 0, xh = 0, xw = 0;
  // convTranspose2d whose padding cuDNN cannot express: cuDNN computes the whole transposed
  // output [n, k, yh, yw] (no padding), which is then cropped at (pad_top, pad_left) into the
  // output, zeros past its end (output padding); yh, yw are the output's own size otherwise.
  bool crop = false;
  int64_t yh = 0, yw = 0;
  std::string why_not;  // non-empty: cuDNN cannot run it
};

ConvGeometry conv_geometry(const GraphIR& g, const Node& node);

// The ConvActivation (kernels/conv_epilogue.h) of a fused activation's name; -1 for one no
// conv kernel applies.
int conv_activation_code(const std::string& act);

}  // namespace cppnn::detail::cuda
