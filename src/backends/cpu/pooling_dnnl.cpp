// float32 averagePool2d and maxPool2d through oneDNN 2.6 (pooling_v2: dilated pooling).
// "ceil" rounding and explicit output sizes become a larger right/bottom padding, which
// oneDNN's exclude-padding average and its max ignore like the real padding.
#include "backends/cpu/isa_target.h"
#include "backends/cpu/pooling_dnnl.h"

#include <oneapi/dnnl/dnnl.hpp>

namespace cppnn::detail {
CPPNN_ISA_BEGIN

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

std::unique_ptr<CpuKernel> make_dnnl_pool_kernel(const KernelContext& cx,
                                                 const op_math::PoolWindow& w, bool max) {
  if (cx.inputs[0]->data_type != DataType::float32) return nullptr;
  bool nchw = !w.nhwc;
  // oneDNN's logical order is always N, C, H, W; the tag gives the memory layout.
  dnnl::memory::dims src_dims{w.batches, w.channels, w.height, w.width};
  dnnl::memory::dims dst_dims{w.batches, w.channels, w.out_h, w.out_w};
  dnnl::memory::dims kernel{w.window_h, w.window_w}, stride{w.stride_h, w.stride_w};
  dnnl::memory::dims dilation{w.dilation_h - 1, w.dilation_w - 1};  // oneDNN counts the gaps
  dnnl::memory::dims pad_l{w.pad_top, w.pad_left}, pad_r(2);
  const int64_t dilations[2] = {w.dilation_h, w.dilation_w};
  for (size_t i = 0; i < 2; ++i) {
    int64_t effective = op_math::dilated_size(kernel[i], dilations[i]);
    // The end padding that makes oneDNN's floor formula give our output size.
    int64_t need = (dst_dims[2 + i] - 1) * stride[i] + effective - src_dims[2 + i] - pad_l[i];
    pad_r[i] = std::max<int64_t>(need, 0);
    int64_t size = op_math::conv_output_size(src_dims[2 + i], kernel[i], dilations[i], pad_l[i],
                                             pad_r[i], stride[i]);
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

CPPNN_ISA_END
}  // namespace cppnn::detail
