#include "backends/cuda/own_conv.h"

#include <cstring>
#include <vector>

#include "backends/cuda/cuda_status.h"

namespace cppnn::detail::cuda {

const char* own_kernel_name(OwnKernel k) {
  return k == OwnKernel::depthwise ? "own-depthwise" : k == OwnKernel::tensor_core ? "own-tensor-conv" : "";
}

OwnKernel own_kernel_named(const std::string& name) {
  for (OwnKernel k : {OwnKernel::depthwise, OwnKernel::tensor_core})
    if (name == own_kernel_name(k)) return k;
  return OwnKernel::none;
}

OwnConv::OwnConv(const ConvGeometry& s, const ConvOperands& ops, const void* host_filter,
                 const std::string& what, cudaStream_t stream) {
  if (s.transposed) return;
  if (s.fb == 1 && s.groups == s.c && s.k % s.c == 0) {
    // Depthwise: cuDNN's buffer is [k][tap] in both layouts (one input channel per group).
    DepthwiseConvParams p{};
    const int64_t taps = s.kh * s.kw;
    p.x = ops.x, p.bias = ops.bias, p.residual = ops.residual, p.y = ops.y;
    p.w = ops.w, p.w_k = int(taps), p.w_tap = 1;
    p.n = int(s.n), p.c = int(s.c), p.in_h = int(s.h), p.in_w = int(s.w);
    p.k = int(s.k), p.oh = int(s.oh), p.ow = int(s.ow), p.kh = int(s.kh), p.kw = int(s.kw);
    p.stride_h = int(s.stride_h), p.stride_w = int(s.stride_w);
    p.dil_h = int(s.dil_h), p.dil_w = int(s.dil_w);
    p.pad_top = int(s.pad_top), p.pad_left = int(s.pad_left);
    p.nhwc = s.nhwc ? 1 : 0, p.half = s.half ? 1 : 0, p.activation = ops.activation;
    p.lo = ops.lo, p.hi = ops.hi, p.alpha = ops.alpha;
    if (depthwise_conv_work_items(p) == 0) return;
    if (s.nhwc && host_filter) {
      // [tap][k]: a thread's 8 (or 4) adjacent channels of one tap in one 16-byte load.
      const size_t elem = s.half ? 2 : 4;
      std::vector<uint8_t> host(size_t(taps * s.k) * elem);
      const uint8_t* src = static_cast<const uint8_t*>(host_filter);
      for (int64_t o = 0; o < s.k; ++o)
        for (int64_t y = 0; y < s.kh; ++y)
          for (int64_t x = 0; x < s.kw; ++x)
            std::memcpy(&host[size_t((y * s.kw + x) * s.k + o) * elem],
                        src + size_t(o * s.sa + y * s.sy + x * s.sx) * elem, elem);
      filter_ = DeviceBuffer(host.size(), "the depthwise filter of " + what);
      CPPNN_CUDA_CHECK(cudaMemcpyAsync(filter_.data(), host.data(), host.size(),
                                       cudaMemcpyHostToDevice, stream));
      CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));  // the host bytes die here
      p.w = filter_.data(), p.w_k = 1, p.w_tap = int(s.k);
    }
    depthwise_ = p, kind_ = OwnKernel::depthwise;
    return;
  }
  if (s.half && s.nhwc && s.groups == 1) {
    // cuDNN's KRSC buffer is the kernel's [k][kh][kw][c].
    TensorConvParams p{};
    p.x = ops.x, p.w = ops.w, p.bias = ops.bias, p.residual = ops.residual, p.y = ops.y;
    p.n = int(s.n), p.c = int(s.c), p.in_h = int(s.h), p.in_w = int(s.w);
    p.k = int(s.k), p.oh = int(s.oh), p.ow = int(s.ow), p.kh = int(s.kh), p.kw = int(s.kw);
    p.stride_h = int(s.stride_h), p.stride_w = int(s.stride_w);
    p.dil_h = int(s.dil_h), p.dil_w = int(s.dil_w);
    p.pad_top = int(s.pad_top), p.pad_left = int(s.pad_left);
    p.activation = ops.activation, p.lo = ops.lo, p.hi = ops.hi, p.alpha = ops.alpha;
    if (tensor_conv_supported(p)) tensor_ = p, kind_ = OwnKernel::tensor_core;
  }
}

const void* OwnConv::filter() const {
  return kind_ == OwnKernel::depthwise ? depthwise_.w : kind_ == OwnKernel::tensor_core ? tensor_.w : nullptr;
}

cudaError_t OwnConv::launch(const Device& device, cudaStream_t stream) const {
  if (kind_ == OwnKernel::depthwise)
    return launch_depthwise_conv(
        depthwise_, device.grid_blocks(depthwise_conv_work_items(depthwise_), kDepthwiseBlock), stream);
  if (kind_ == OwnKernel::tensor_core) return launch_tensor_conv(tensor_, stream);
  return cudaErrorInvalidValue;
}

const char* OwnConv::description() const {
  return kind_ == OwnKernel::depthwise ? "own depthwise kernel" : "own tensor-core kernel";
}

}  // namespace cppnn::detail::cuda
