// float32 averagePool2d and maxPool2d through oneDNN 2.6 (pooling_v2: dilated pooling).
// "ceil" rounding and explicit output sizes become a larger right/bottom padding, which
// oneDNN's exclude-padding average and its max ignore like the real padding.
#include "backends/cpu/pooling_dnnl.h"

#include <oneapi/dnnl/dnnl.hpp>

namespace cppnn::detail {

namespace {

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

class DnnlPoolKernel final : public CpuKernel {
 public:
  DnnlPoolKernel(dnnl::pooling_v2_forward::primitive_desc pd)
      : pd_(std::move(pd)), primitive_(pd_) {}

  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    dnnl::stream stream(cpu_engine());
    dnnl::memory src(pd_.src_desc(), cpu_engine(), const_cast<void*>(in[0]->data()));
    dnnl::memory dst(pd_.dst_desc(), cpu_engine(), out[0]->data());
    primitive_.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
    stream.wait();
  }

 private:
  dnnl::pooling_v2_forward::primitive_desc pd_;
  dnnl::pooling_v2_forward primitive_;
};

}  // namespace

std::unique_ptr<CpuKernel> make_dnnl_pool_kernel(const KernelContext& cx, bool max) {
  if (cx.inputs[0]->data_type != DataType::float32) return nullptr;
  const Attrs& a = cx.node.attrs;
  bool nchw = a.s("layout") == "nchw";
  const Dims& in = cx.inputs[0]->shape;
  const Dims& out = cx.outputs[0]->shape;
  // oneDNN's logical order is always N, C, H, W; the tag gives the memory layout.
  auto logical = [&](const Dims& s) {
    return nchw ? dnnl::memory::dims{s[0], s[1], s[2], s[3]}
                : dnnl::memory::dims{s[0], s[3], s[1], s[2]};
  };
  dnnl::memory::dims src_dims = logical(in), dst_dims = logical(out);
  const auto& window = a.ints("windowDimensions");
  const auto& padding = a.ints("padding");
  const auto& strides = a.ints("strides");
  const auto& dilations = a.ints("dilations");
  dnnl::memory::dims kernel{window[0], window[1]}, stride{strides[0], strides[1]};
  dnnl::memory::dims dilation{dilations[0] - 1, dilations[1] - 1};  // oneDNN counts the gaps
  dnnl::memory::dims pad_l{padding[0], padding[2]}, pad_r(2);
  for (size_t i = 0; i < 2; ++i) {
    int64_t effective = (window[i] - 1) * dilations[i] + 1;
    // The end padding that makes oneDNN's floor formula give our output size.
    int64_t need = (dst_dims[2 + i] - 1) * strides[i] + effective - src_dims[2 + i] - pad_l[i];
    pad_r[i] = std::max<int64_t>(need, 0);
    int64_t size = (src_dims[2 + i] - effective + pad_l[i] + pad_r[i]) / strides[i] + 1;
    if (size != dst_dims[2 + i]) return nullptr;
  }
  auto tag = nchw ? dnnl::memory::format_tag::nchw : dnnl::memory::format_tag::nhwc;
  dnnl::memory::desc src_md(src_dims, dnnl::memory::data_type::f32, tag);
  dnnl::memory::desc dst_md(dst_dims, dnnl::memory::data_type::f32, tag);
  auto algorithm =
      max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
  try {
    dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src_md,
                                        dst_md, stride, kernel, dilation, pad_l, pad_r);
    return std::make_unique<DnnlPoolKernel>(
        dnnl::pooling_v2_forward::primitive_desc(desc, cpu_engine()));
  } catch (const dnnl::error&) {
    return nullptr;  // a shape oneDNN does not take: the caller's own loops handle it
  }
}

}  // namespace cppnn::detail
