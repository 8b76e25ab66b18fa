#include "backends/cuda/conv_geometry.h"

#include <algorithm>

#include "backends/cuda/kernels/conv_epilogue.h"

namespace cppnn::detail::cuda {

ConvGeometry conv_geometry(const GraphIR& g, const Node& node) {
  ConvGeometry s;
  static_cast<op_math::ConvWindow&>(s) =
      op_math::conv_window(g.desc(node.inputs[0]).shape, g.desc(node.inputs[1]).shape,
                           g.desc(node.outputs[0]).shape, node.attrs,
                           node.op == OpId::convTranspose2d);
  s.half = g.desc(node.outputs[0]).data_type == DataType::float16;
  s.bf16 = g.desc(node.outputs[0]).data_type == DataType::bfloat16;
  if (!s.transposed) {
    // cuDNN's [K, C/g, R, S] is conv2d's oihw: a = output channel o, b = i (of C/g).
    s.fa = s.k, s.fb = s.c / s.groups;
    s.sa = s.filter_o, s.sb = s.filter_i;
  } else {
    // cuDNN's [K, C/g, R, S] of the backward-data convolution is convTranspose2d's iohw:
    // a = input channel i (all of them), b = o (of outputChannels / groups).
    s.fa = s.c, s.fb = s.k / s.groups;
    s.sa = s.filter_i, s.sb = s.filter_o;
  }
  s.sy = s.filter_h, s.sx = s.filter_w;

  s.xh = s.h, s.xw = s.w;
  s.yh = s.oh, s.yw = s.ow;
  if (!s.transposed) {
    // The output size symmetric padding `begin` gives; when it is the graph's, the extra
    // rows of cuDNN's padding are never read by a window that the output keeps.
    using op_math::conv_output_size;
    bool h_ok = s.pad_top == s.pad_bottom ||
                conv_output_size(s.h, s.kh, s.dil_h, s.pad_top, s.pad_top, s.stride_h) == s.oh;
    bool w_ok = s.pad_left == s.pad_right ||
                conv_output_size(s.w, s.kw, s.dil_w, s.pad_left, s.pad_left, s.stride_w) == s.ow;
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
    int64_t fh = op_math::conv_output_size(s.oh, s.kh, s.dil_h, s.pad_top, s.pad_top, s.stride_h);
    int64_t fw = op_math::conv_output_size(s.ow, s.kw, s.dil_w, s.pad_left, s.pad_left, s.stride_w);
    if (fh != s.h || fw != s.w) {
      // The whole transposed output, (in - 1) * stride + dilated kernel (no padding): the
      // smallest size whose forward convolution (no padding) has dy's size.
      s.crop = true;
      s.cudnn_pad_h = s.cudnn_pad_w = 0;
      s.yh = op_math::conv_transpose_output_size(s.h, s.kh, s.dil_h, 0, 0, s.stride_h);
      s.yw = op_math::conv_transpose_output_size(s.w, s.kw, s.dil_w, 0, 0, s.stride_w);
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
