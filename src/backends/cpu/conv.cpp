// CPU kernels of conv2d and convTranspose2d on oneDNN. The primitive is created once per node;
// constant filters and biases are packed once into the layout it wants; a run only moves the
// activations (when the primitive's layout differs from the graph's) and executes.
#include <cstdlib>
#include <string>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/onednn.h"
#include "graph/op_math/window_attrs.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using onednn::Staged;

// The node's window (op_math::conv_window, shared with the CUDA backend) in oneDNN's terms.
struct ConvShape : op_math::ConvWindow {
  memory::dims strides, dilations, pad_l, pad_r;
};

ConvShape conv_shape(const KernelContext& cx, bool transposed) {
  ConvShape s;
  static_cast<op_math::ConvWindow&>(s) = op_math::conv_window(
      cx.inputs[0]->shape, cx.inputs[1]->shape, cx.outputs[0]->shape, cx.node.attrs, transposed);
  s.strides = {s.stride_h, s.stride_w};
  s.dilations = {s.dil_h - 1, s.dil_w - 1};  // oneDNN counts the holes, not the step
  s.pad_l = {s.pad_top, s.pad_left};
  s.pad_r = {s.pad_bottom, s.pad_right};
  return s;
}

// The filter as oneDNN's logical (g,) o, i, h, w with the strides of the graph's layout.
// Dimension "i" of a conv2d filter holds inputChannels / groups, "o" all outputs; dimension
// "i" of a convTranspose2d filter all inputs, "o" outputChannels / groups.
memory::desc user_filter_desc(const ConvShape& s) {
  int64_t G = s.groups, Og = s.k / G, Ig = s.c / G, KH = s.kh, KW = s.kw;
  int64_t so = s.filter_o, si = s.filter_i, sh = s.filter_h, sw = s.filter_w;
  // The next group starts past a group's output channels (conv2d) or input channels.
  int64_t sg = s.transposed ? Ig * si : Og * so;
  if (G == 1) return memory::desc({s.k, s.c, KH, KW}, memory::data_type::f32, {so, si, sh, sw});
  return memory::desc({G, Og, Ig, KH, KW}, memory::data_type::f32, {sg, so, si, sh, sw});
}

memory::dims filter_dims(const ConvShape& s) {
  if (s.groups == 1) return {s.k, s.c, s.kh, s.kw};
  return {s.groups, s.k / s.groups, s.c / s.groups, s.kh, s.kw};
}

dnnl::primitive_desc make_pd(const ConvShape& s, tag io, bool bias,
                             const dnnl::primitive_attr& attr, bool winograd = false) {
  using dt = memory::data_type;
  memory::desc src({s.n, s.c, s.h, s.w}, dt::f32, io);
  memory::desc dst({s.n, s.k, s.oh, s.ow}, dt::f32, io);
  memory::desc wei(filter_dims(s), dt::f32, tag::any);
  memory::desc b = bias ? memory::desc({s.k}, dt::f32, tag::a) : memory::desc();
  const auto& e = onednn::engine();
  if (s.transposed) {
    dnnl::deconvolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                        dnnl::algorithm::deconvolution_direct, src, wei, b, dst,
                                        s.strides, s.dilations, s.pad_l, s.pad_r);
    return dnnl::deconvolution_forward::primitive_desc(d, attr, e);
  }
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                    winograd ? dnnl::algorithm::convolution_winograd
                                             : dnnl::algorithm::convolution_direct,
                                    src, wei, b, dst,
                                    s.strides, s.dilations, s.pad_l, s.pad_r);
  return dnnl::convolution_forward::primitive_desc(d, attr, e);
}

bool slow(const dnnl::primitive_desc& pd) {
  std::string impl = pd.impl_info_str();
  return impl.find("ref") != std::string::npos || impl.find("gemm") != std::string::npos;
}

// On plain nchw oneDNN 2.6 runs convolutions through im2col + gemm (with element-wise post-ops
// in a slow separate pass) or a reference loop: an order of magnitude slower than its direct
// kernels on nhwc. So an nchw graph gets an nhwc primitive and the activations are transposed
// in and out (Staged does it faster than oneDNN's reorder); only when nhwc has no direct kernel
// either does oneDNN choose a layout (any) and reorder to it.
// 3x3 stride-1 convolutions through oneDNN's Winograd kernels (F(4x4, 3x3) on AVX-512, in
// its blocked layout, reordered in and out): 2-2.6x faster per convolution than its direct
// nhwc kernel on 2 AVX-512 cores (64 to 512 channels, batch 1 and 8), 11-17% faster end to
// end on ResNet-18 with the reorders, within 2e-6 of ONNX Runtime (which it was within 1.6e-6
// of before). CPPNN_CPU_WINOGRAD=0 turns it off (read once).
bool winograd_allowed() {
  static const bool on = [] {
    const char* v = std::getenv("CPPNN_CPU_WINOGRAD");
    return !(v && std::string(v) == "0");
  }();
  return on;
}

dnnl::primitive_desc choose_pd(const ConvShape& s, bool bias, const dnnl::primitive_attr& attr,
                               bool winograd = true) {
  if (winograd && winograd_allowed() && !s.transposed && s.kh == 3 && s.kw == 3 && s.stride_h == 1 &&
      s.stride_w == 1 && s.dil_h == 1 && s.dil_w == 1 && s.groups == 1) {
    try {
      return make_pd(s, tag::any, bias, attr, true);
    } catch (const dnnl::error&) {
      // no Winograd kernel for this shape or CPU (oneDNN has them for AVX-512 only)
    }
  }
  dnnl::primitive_desc own = make_pd(s, s.nhwc ? tag::nhwc : tag::nchw, bias, attr);
  if (!slow(own)) return own;
  if (!s.nhwc) {
    dnnl::primitive_desc nhwc = make_pd(s, tag::nhwc, bias, attr);
    if (!slow(nhwc)) return nhwc;
  }
  dnnl::primitive_desc any = make_pd(s, tag::any, bias, attr);
  std::string impl = any.impl_info_str();
  return impl.find("ref") != std::string::npos ? own : any;
}

// A pointwise convolution on nchw is, per image, the matrix product filter[o, c] x x[c, h*w]:
// oneDNN's matmul runs it on the graph's layout with no transposes, faster than an nhwc
// convolution plus the transposes once the image is large enough to feed the product.
bool pointwise_as_matmul(const ConvShape& s) {
  return !s.transposed && !s.nhwc && s.kh == 1 && s.kw == 1 && s.groups == 1 &&
         s.strides == memory::dims{1, 1} && s.pad_l == memory::dims{0, 0} &&
         s.pad_r == memory::dims{0, 0} && s.oh * s.ow >= 256;
}

class ConvKernel final : public CpuKernel {
 public:
  ConvKernel(const KernelContext& cx, bool transposed) : stream_(onednn::engine()) {
    ConvShape s = conv_shape(cx, transposed);
    bool half = cx.inputs[0]->data_type == DataType::float16;
    has_bias_ = cx.inputs.size() > 2 && cx.inputs[2];
    residual_ = cx.inputs.size() > 3 && cx.inputs[3];
    using dt = memory::data_type;
    memory::desc bias_user({s.k}, dt::f32, tag::a);
    if (pointwise_as_matmul(s)) {
      int64_t pixels = s.h * s.w;
      // The filter is matmul's left operand (broadcast over images), the image its right.
      memory::desc filter_user({1, s.k, s.c}, dt::f32,
                               s.filter_layout == "oihw" || s.filter_layout == "ohwi"
                                   ? memory::dims{s.k * s.c, s.c, 1}
                                   : memory::dims{s.k * s.c, 1, s.k});
      memory::desc image({s.n, s.c, pixels}, dt::f32, tag::abc);
      memory::desc out({s.n, s.k, pixels}, dt::f32, tag::abc);
      memory::desc filter_want({1, s.k, s.c}, dt::f32, tag::abc);
      bias_user = memory::desc({1, s.k, 1}, dt::f32, tag::abc);  // a per-row binary add
      dnnl::post_ops ops;
      if (has_bias_) ops.append_binary(dnnl::algorithm::binary_add, bias_user);
      if (residual_) ops.append_sum(1.f);
      onednn::append_activation(ops, cx.node.attrs);
      dnnl::primitive_attr attr;
      attr.set_post_ops(ops);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(filter_want, image, out), attr,
                                      onednn::engine());
      prim_ = dnnl::matmul(pd);
      image_arg_ = DNNL_ARG_WEIGHTS, filter_arg_ = DNNL_ARG_SRC;
      bias_arg_ = DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1;
      init(image, image, out, out, filter_user, filter_want, bias_user, bias_user, half, cx);
      return;
    }
    // oneDNN 2.6's deconvolution with a bias or an activation post-op runs 8-50x slower than
    // without (2x2 stride-2, 24 -> 24 channels of 160x160 on 2 AVX-512 cores: 0.46 ms plain,
    // 3.9 ms with a bias, 26 ms with bias + relu): a transposed conv runs plain and a binary
    // primitive adds the bias and applies the activation after it, in place on its output.
    bool split_epilogue = transposed && !residual_ &&
                          (has_bias_ || !cx.node.attrs.s_or("activation", "").empty());
    dnnl::primitive_attr attr = split_epilogue ? dnnl::primitive_attr() : onednn::make_attr(cx.node.attrs, residual_);
    tag io = s.nhwc ? tag::nhwc : tag::nchw;
    dnnl::primitive_desc pd;
    // A Winograd primitive whose filter cannot be reordered from the graph's layout (oneDNN
    // has no reorder from some strided filter layouts, ohwi / ihwo, to its Winograd format)
    // gives way to the direct one.
    for (bool winograd : {true, false}) {
      try {
        pd = choose_pd(s, has_bias_ && !split_epilogue, attr, winograd);
        init(memory::desc({s.n, s.c, s.h, s.w}, dt::f32, io), pd.src_desc(0),
             memory::desc({s.n, s.k, s.oh, s.ow}, dt::f32, io), pd.dst_desc(0), user_filter_desc(s),
             pd.weights_desc(0), bias_user, split_epilogue ? bias_user : pd.weights_desc(1), half, cx);
        break;
      } catch (const dnnl::error&) {
        if (!winograd) throw;
      }
    }
    prim_ = dnnl::primitive(pd);
    direct_ = !transposed && !half;
    if (split_epilogue) {
      if (has_bias_) bias_arg_ = -1;  // not the deconvolution's: the epilogue's
      memory::desc row({1, s.k, 1, 1}, dt::f32, tag::abcd);
      memory::desc view = pd.dst_desc(0);
      // One output channel (a segmentation head's probability map) in a plain layout: one
      // flat row plus a scalar, which oneDNN broadcasts fast (per channel it took 4.4 ms
      // for 640x640 where this takes about 0.3).
      memory::desc plain_nchw({s.n, s.k, s.oh, s.ow}, dt::f32, tag::nchw);
      memory::desc plain_nhwc({s.n, s.k, s.oh, s.ow}, dt::f32, tag::nhwc);
      if (s.k == 1 && (view == plain_nchw || view == plain_nhwc)) {
        view = memory::desc({1, s.n * s.oh * s.ow}, dt::f32, tag::ab);
        row = memory::desc({1, 1}, dt::f32, tag::ab);
      }
      dnnl::post_ops ops;
      onednn::append_activation(ops, cx.node.attrs);
      dnnl::primitive_attr eattr;
      eattr.set_post_ops(ops);
      dnnl::binary::primitive_desc bpd(
          dnnl::binary::desc(dnnl::algorithm::binary_add, view, row, view), eattr, onednn::engine());
      epilogue_ = dnnl::binary(bpd);
      // Made once; a run points them at the bias and the output.
      if (has_bias_) {
        row_ = dnnl::memory(row, onednn::engine(), DNNL_MEMORY_NONE);
      } else {  // an activation alone: add zeros
        row_ = dnnl::memory(row, onednn::engine());
        std::memset(row_.get_data_handle(), 0, size_t(s.k) * sizeof(float));
      }
      if (!(view == pd.dst_desc(0))) flat_ = dnnl::memory(view, onednn::engine(), DNNL_MEMORY_NONE);
    }
  }

  bool hand_output_natively_to(CpuKernel& next_kernel) override {
    auto* next_conv = dynamic_cast<ConvKernel*>(&next_kernel);
    if (!next_conv || next_conv == this) return false;
    ConvKernel& next = *next_conv;
    // Not with a residual: the memory plan may give the output the residual's own buffer,
    // which a reorder into another layout in place would corrupt.
    if (!direct_ || residual_ || !next.direct_ || !(dst_want_ == next.src_want_) || dst_want_ == dst_user_)
      return false;
    onednn::Staged out = dst_, in = next.src_;
    if (!out.go_native() || !in.go_native()) return false;
    dst_ = out;
    next.src_ = in;
    return true;
  }

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    onednn::guarded("conv", [&] {
      std::unordered_map<int, memory> args;
      args[image_arg_] = src_.load(in[0]->data(), stream_);
      args[filter_arg_] = filter_.get(in[1], stream_);
      if (has_bias_ && bias_arg_ >= 0) args[bias_arg_] = bias_.get(in[2], stream_);
      const dnnl::memory& dst = dst_.target(out[0]->data());
      args[DNNL_ARG_DST] = dst;
      if (residual_) residual_in_.load(in[3]->data(), stream_);
      prim_.execute(stream_, args);
      if (epilogue_) {
        if (has_bias_) row_.set_data_handle(bias_.get(in[2], stream_).get_data_handle());
        dnnl::memory target = dst;
        if (flat_) {
          flat_.set_data_handle(dst.get_data_handle());
          target = flat_;
        }
        epilogue_.execute(stream_, {{DNNL_ARG_SRC_0, target}, {DNNL_ARG_SRC_1, row_}, {DNNL_ARG_DST, target}});
      }
      dst_.store(out[0]->data(), stream_);
      stream_.wait();
    }, ErrorKind::OperationError);
  }

 private:
  // Each operand as the graph holds it (user) and as the primitive wants it.
  void init(const memory::desc& src_user, const memory::desc& src_want,
            const memory::desc& dst_user, const memory::desc& dst_want,
            const memory::desc& filter_user, const memory::desc& filter_want,
            const memory::desc& bias_user, const memory::desc& bias_want, bool half,
            const KernelContext& cx) {
    src_ = Staged(src_user, src_want, half, Staged::Direction::in);
    dst_ = Staged(dst_user, dst_want, half, Staged::Direction::out);
    src_want_ = src_want, dst_want_ = dst_want, dst_user_ = dst_user;
    if (residual_)
      residual_in_ = Staged(dst_user, dst_want, half, Staged::Direction::in, &dst_.memory());
    filter_ = onednn::Weights(filter_user, filter_want, half, cx.constants[1]);
    if (has_bias_) bias_ = onednn::Weights(bias_user, bias_want, half, cx.constants[2]);
  }

  dnnl::stream stream_;
  dnnl::primitive prim_;
  memory::desc src_want_, dst_want_, dst_user_;
  bool direct_ = false;  // a convolution primitive (not the pointwise matmul)
  dnnl::primitive epilogue_;  // a transposed conv's bias and activation (see the constructor)
  dnnl::memory row_;          // its bias row (zeros without a bias)
  dnnl::memory flat_;         // its flat view of the output, for one output channel
  int image_arg_ = DNNL_ARG_SRC, filter_arg_ = DNNL_ARG_WEIGHTS, bias_arg_ = DNNL_ARG_BIAS;
  Staged src_, dst_, residual_in_;
  onednn::Weights filter_, bias_;
  bool has_bias_ = false, residual_ = false;
};

KernelFactory conv_factory(bool transposed) {
  return [transposed](const KernelContext& cx) -> std::unique_ptr<CpuKernel> {
    return onednn::guarded(op_name(cx.node.op).c_str(), [&] {
      return std::make_unique<ConvKernel>(cx, transposed);
    });
  };
}

}  // namespace

void register_conv_kernels(CpuKernelRegistry& r) {
  r.add(OpId::conv2d, conv_factory(false));
  r.add(OpId::convTranspose2d, conv_factory(true));
}

CPPNN_ISA_END
}  // namespace cppnn::detail
