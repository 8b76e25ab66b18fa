#pragma once
// A conv2d / convTranspose2d node's convolution in the terms its GPU kernels take (cuDNN's
// legacy API, and our own kernels beside it): sizes, the filter's strides, and how padding
// that cuDNN's symmetric padding cannot express is handled.
#include <cstdint>
#include <string>

#include "graph/ir.h"
#include "graph/op_math/window_attrs.h"

namespace cppnn::detail::cuda {

// Everything about one node's convolution that cuDNN needs, in cuDNN's terms: the node's
// window (sizes, padding, strides, dilations and the filter's strides, read once for both
// backends by op_math::conv_window), and how cuDNN's legacy API takes it.
struct ConvGeometry : op_math::ConvWindow {
  bool half = false;
  // bfloat16 (cuDNN only: our own conv kernels take float32 and float16).
  bool bf16 = false;
  // The filter as cuDNN sees it, [fa, fb, kh, kw], and the strides (in elements) of the
  // graph's filter layout along those four.
  int64_t fa = 0, fb = 0;
  int64_t sa = 0, sb = 0, sy = 0, sx = 0;
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
