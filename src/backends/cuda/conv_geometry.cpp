#include "backends/cuda/conv_geometry.h"

#include <algorithm>

#include "backends/cuda/kernels/conv_epilogue.h"

namespace cppnn::detail::cuda {

namespace {

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t effective(int64_t k, int64_t d) { return (k - 1) * d + 1; }

}  // namespace

ConvGeometry conv_geometry(const GraphIR& g, const Node& node) {
  ConvGeometry s;
  const Attrs& a = node.attrs;
  s.transposed = node.op == OpId::convTranspose2d;
  s.nhwc = a.s("inputLayout") == "nhwc";
  const Dims& in = g.desc(node.inputs[0]).shape;
  const Dims& f = g.desc(node.inputs[1]).shape;
  const Dims& out = g.desc(node.outputs[0]).shape;
  s.half = g.desc(node.outputs[0]).data_type == DataType::float16;
  s.n = in[0];
  s.c = s.nhwc ? in[3] : in[1];
  s.h = s.nhwc ? in[1] : in[2];
  s.w = s.nhwc ? in[2] : in[3];
  s.k = s.nhwc ? out[3] : out[1];
  s.oh = s.nhwc ? out[1] : out[2];
  s.ow = s.nhwc ? out[2] : out[3];
  s.filter_layout = a.s("filterLayout");
  const std::string& l = s.filter_layout;
  // Every filter layout keeps height before width.
  size_t hpos = (l == "oihw" || l == "iohw") ? 2 : (l == "hwio" || l == "hwoi") ? 0 : 1;
  s.kh = f[hpos];
  s.kw = f[hpos + 1];
  s.groups = a.i("groups");
  const auto& p = a.ints("padding");
  const auto& st = a.ints("strides");
  const auto& d = a.ints("dilations");
  s.pad_top = p[0], s.pad_bottom = p[1], s.pad_left = p[2], s.pad_right = p[3];
  s.stride_h = st[0], s.stride_w = st[1], s.dil_h = d[0], s.dil_w = d[1];

  int64_t G = s.groups, KH = s.kh, KW = s.kw;
  if (!s.transposed) {
    // cuDNN's [K, C/g, R, S] is conv2d's oihw: a = output channel o, b = i (of C/g).
    int64_t O = s.k, I = s.c / G;
    s.fa = O, s.fb = I;
    if (l == "oihw") s.sa = I * KH * KW, s.sb = KH * KW, s.sy = KW, s.sx = 1;
    else if (l == "hwio") s.sa = 1, s.sb = O, s.sx = I * O, s.sy = KW * I * O;
    else if (l == "ohwi") s.sb = 1, s.sx = I, s.sy = KW * I, s.sa = KH * KW * I;
    else /* ihwo */ s.sa = 1, s.sx = O, s.sy = KW * O, s.sb = KH * KW * O;
  } else {
    // cuDNN's [K, C/g, R, S] of the backward-data convolution is convTranspose2d's iohw:
    // a = input channel i (all of them), b = o (of outputChannels / groups).
    int64_t Ci = s.c, Og = s.k / G;
    s.fa = Ci, s.fb = Og;
    if (l == "iohw") s.sa = Og * KH * KW, s.sb = KH * KW, s.sy = KW, s.sx = 1;
    else if (l == "hwoi") s.sa = 1, s.sb = Ci, s.sx = Og * Ci, s.sy = KW * Og * Ci;
    else /* ohwi */ s.sa = 1, s.sx = Ci, s.sy = KW * Ci, s.sb = KH * KW * Ci;
  }

  s.xh = s.h, s.xw = s.w;
  s.yh = s.oh, s.yw = s.ow;
  if (!s.transposed) {
    // The output size symmetric padding `begin` gives; when it is the graph's, the extra
    // rows of cuDNN's padding are never read by a window that the output keeps.
    auto sym = [](int64_t in_size, int64_t k, int64_t dil, int64_t pad, int64_t stride) {
      return floor_div(in_size + 2 * pad - effective(k, dil), stride) + 1;
    };
    bool h_ok = s.pad_top == s.pad_bottom || sym(s.h, s.kh, s.dil_h, s.pad_top, s.stride_h) == s.oh;
    bool w_ok = s.pad_left == s.pad_right || sym(s.w, s.kw, s.dil_w, s.pad_left, s.stride_w) == s.ow;
    s.cudnn_pad_h = s.pad_top, s.cudnn_pad_w = s.pad_left;
    if (!h_ok || !w_ok) {
      // Pad the input by what exceeds the symmetric part: the output size is then exact.
      s.explicit_pad = true;
      if (!h_ok) {
        s.cudnn_pad_h = std::min(s.pad_top, s.pad_bottom);
        s.pre_top = s.pad_top - s.cudnn_pad_h;
        s.xh = s.h + s.pre_top + (s.pad_bottom - s.cudnn_pad_h);
      }
      if (!w_ok) {
        s.cudnn_pad_w = std::min(s.pad_left, s.pad_right);
        s.pre_left = s.pad_left - s.cudnn_pad_w;
        s.xw = s.w + s.pre_left + (s.pad_right - s.cudnn_pad_w);
      }
    }
  } else {
    // dx[i] gathers full[i + pad]: pad = begin crops the transposed output exactly; cuDNN
    // only asks that the forward convolution of dx have dy's size.
    s.cudnn_pad_h = s.pad_top, s.cudnn_pad_w = s.pad_left;
    int64_t fh = floor_div(s.oh + 2 * s.pad_top - effective(s.kh, s.dil_h), s.stride_h) + 1;
    int64_t fw = floor_div(s.ow + 2 * s.pad_left - effective(s.kw, s.dil_w), s.stride_w) + 1;
    if (fh != s.h || fw != s.w) {
      // The whole transposed output, (in - 1) * stride + effective kernel: the smallest size
      // whose forward convolution (no padding) has dy's size.
      s.crop = true;
      s.cudnn_pad_h = s.cudnn_pad_w = 0;
      s.yh = (s.h - 1) * s.stride_h + effective(s.kh, s.dil_h);
      s.yw = (s.w - 1) * s.stride_w + effective(s.kw, s.dil_w);
    }
  }
  return s;
}

int conv_activation_code(const std::string& act) {
  if (act.empty()) return kConvActNone;
  switch (find_op(act).value_or(OpId::none)) {
    case OpId::relu:
      return kConvActRelu;
    case OpId::clamp:
      return kConvActClamp;
    case OpId::sigmoid:
      return kConvActSigmoid;
    case OpId::tanh:
      return kConvActTanh;
    case OpId::leakyRelu:
      return kConvActLeakyRelu;
    case OpId::elu:
      return kConvActElu;
    case OpId::hardSwish:
      return kConvActHardSwish;
    case OpId::gelu:
      return kConvActGelu;
    default:
      return -1;
  }
}

}  // namespace cppnn::detail::cuda
