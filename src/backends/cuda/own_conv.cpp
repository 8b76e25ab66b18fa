#include "backends/cuda/own_conv.h"

#include <cstring>
#include <vector>

#include "backends/cuda/cuda_status.h"

namespace cppnn::detail::cuda {

std::string own_variant_name(OwnVariant v) {
  if (v.kernel == OwnKernel::depthwise) return "own-depthwise";
  if (v.kernel == OwnKernel::tensor_core) return std::string("own-tensor-conv-") + tensor_conv_tile_name(v.variant);
  if (v.kernel == OwnKernel::simt) return std::string("own-simt-conv-") + simt_conv_tile_name(v.variant);
  return "";
}

OwnVariant own_variant_named(const std::string& name) {
  if (name == own_variant_name({OwnKernel::depthwise, 0})) return {OwnKernel::depthwise, 0};
  for (int t = 0; t < tensor_conv_tiles(); ++t)
    if (name == own_variant_name({OwnKernel::tensor_core, t})) return {OwnKernel::tensor_core, t};
  for (int t = 0; t < simt_conv_tiles(); ++t)
    if (name == own_variant_name({OwnKernel::simt, t})) return {OwnKernel::simt, t};
  return {};
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
    return;
  }
  if (!s.half && !s.nhwc && s.groups == 1) {
    // cuDNN's KCRS buffer is the kernel's [k][c][kh][kw].
    SimtConvParams p{};
    p.x = static_cast<const float*>(ops.x), p.w = static_cast<const float*>(ops.w);
    p.bias = static_cast<const float*>(ops.bias), p.residual = static_cast<const float*>(ops.residual);
    p.y = static_cast<float*>(ops.y);
    p.n = int(s.n), p.c = int(s.c), p.in_h = int(s.h), p.in_w = int(s.w);
    p.k = int(s.k), p.oh = int(s.oh), p.ow = int(s.ow), p.kh = int(s.kh), p.kw = int(s.kw);
    p.stride_h = int(s.stride_h), p.stride_w = int(s.stride_w);
    p.dil_h = int(s.dil_h), p.dil_w = int(s.dil_w);
    p.pad_top = int(s.pad_top), p.pad_left = int(s.pad_left);
    p.activation = ops.activation, p.lo = ops.lo, p.hi = ops.hi, p.alpha = ops.alpha;
    if (simt_conv_supported(p)) simt_ = p, kind_ = OwnKernel::simt;
  }
}

const void* OwnConv::filter() const {
  switch (kind_) {
    case OwnKernel::depthwise: return depthwise_.w;
    case OwnKernel::tensor_core: return tensor_.w;
    case OwnKernel::simt: return simt_.w;
    default: return nullptr;
  }
}

int OwnConv::variants() const {
  switch (kind_) {
    case OwnKernel::depthwise: return 1;
    case OwnKernel::tensor_core: return tensor_conv_tiles();
    case OwnKernel::simt: return simt_conv_tiles();
    default: return 0;
  }
}

int OwnConv::untimed_variant(const Device& device) const {
  if (kind_ != OwnKernel::tensor_core && kind_ != OwnKernel::simt) return 0;
  // Both kernels' tiles 0, 1, 2 are 64x64, a smaller and a larger one. Fewer 64x64 tiles than
  // multiprocessors: the smaller tile for more blocks; over four per multiprocessor: the larger.
  bool tc = kind_ == OwnKernel::tensor_core;
  int64_t pixels = tc ? int64_t(tensor_.n) * tensor_.oh * tensor_.ow : int64_t(simt_.n) * simt_.oh * simt_.ow;
  int64_t channels = tc ? tensor_.k : simt_.k;
  int64_t tiles = ((pixels + 63) / 64) * ((channels + 63) / 64);
  if (tiles < device.sm_total) return 1;
  if (tiles > 4 * int64_t(device.sm_total)) return 2;
  return 0;
}

cudaError_t OwnConv::launch(const Device& device, int variant, cudaStream_t stream) const {
  if (kind_ == OwnKernel::depthwise)
    return launch_depthwise_conv(
        depthwise_, device.grid_blocks(depthwise_conv_work_items(depthwise_), kDepthwiseBlock), stream);
  if (kind_ == OwnKernel::tensor_core) return launch_tensor_conv(tensor_, variant, stream);
  if (kind_ == OwnKernel::simt) return launch_simt_conv(simt_, variant, stream);
  return cudaErrorInvalidValue;
}

std::string OwnConv::description(int variant) const {
  if (kind_ == OwnKernel::depthwise) return "own depthwise kernel";
  if (kind_ == OwnKernel::simt) return std::string("own fp32 kernel ") + simt_conv_tile_name(variant);
  return std::string("own tensor-core kernel ") + tensor_conv_tile_name(variant);
}

}  // namespace cppnn::detail::cuda
