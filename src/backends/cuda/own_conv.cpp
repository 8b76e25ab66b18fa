#include "backends/cuda/own_conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cuda/cuda_status.h"
#include "cppnn/error.h"

namespace cppnn::detail::cuda {

namespace {

// The sizes, window and activation every kernel's parameters carry, in the same names.
template <typename Params>
void set_window(Params& p, const ConvGeometry& s, const ConvOperands& ops) {
  p.n = int(s.n), p.c = int(s.c), p.in_h = int(s.h), p.in_w = int(s.w);
  p.k = int(s.k), p.oh = int(s.oh), p.ow = int(s.ow), p.kh = int(s.kh), p.kw = int(s.kw);
  p.stride_h = int(s.stride_h), p.stride_w = int(s.stride_w);
  p.dil_h = int(s.dil_h), p.dil_w = int(s.dil_w);
  p.pad_top = int(s.pad_top), p.pad_left = int(s.pad_left);
  p.activation = ops.activation, p.lo = ops.lo, p.hi = ops.hi, p.alpha = ops.alpha;
}

}  // namespace

DeviceBuffer split_k_sums(std::vector<GemmTiling>& tilings, int64_t outputs, const std::string& what) {
  int splits = 1;
  for (const GemmTiling& t : tilings) splits = std::max(splits, t.splits);
  if (splits <= 1) return DeviceBuffer();
  try {
    return DeviceBuffer(size_t(splits * outputs) * sizeof(float), "the split-K sums of " + what);
  } catch (const Error&) {
    (void)cudaGetLastError();  // the failed allocation must not show in a later launch's status
    // Split-K is an option: without room for its partial sums, the unsplit tilings remain.
    tilings.erase(std::remove_if(tilings.begin(), tilings.end(), [](const GemmTiling& t) { return t.splits > 1; }),
                  tilings.end());
    return DeviceBuffer();
  }
}

OwnConv::OwnConv(const ConvGeometry& s, const ConvOperands& ops, const void* host_filter,
                 const std::string& what, const Device& device, cudaStream_t stream) {
  if (s.transposed) return;
  if (s.fb == 1 && s.groups == s.c && s.k % s.c == 0) {
    // Depthwise: cuDNN's buffer is [k][tap] in both layouts (one input channel per group).
    DepthwiseConvParams p{};
    const int64_t taps = s.kh * s.kw;
    p.x = ops.x, p.bias = ops.bias, p.residual = ops.residual, p.y = ops.y;
    p.w = ops.w, p.w_k = int(taps), p.w_tap = 1;
    set_window(p, s, ops);
    p.nhwc = s.nhwc ? 1 : 0, p.half = s.half ? 1 : 0;
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
    tilings_ = {GemmTiling{}};
    return;
  }
  if (s.half && s.nhwc && s.groups == 1) {
    // cuDNN's KRSC buffer is the kernel's [k][kh][kw][c].
    TensorConvParams p{};
    p.x = ops.x, p.w = ops.w, p.bias = ops.bias, p.residual = ops.residual, p.y = ops.y;
    set_window(p, s, ops);
    if (!tensor_conv_supported(p)) return;
    tensor_ = p, kind_ = OwnKernel::tensor_core;
    const int64_t rows = s.n * s.oh * s.ow, steps = (s.kh * s.kw * s.c + 31) / 32;
    tilings_ = gemm_tilings(tensor_conv_tiles(), rows, s.k, steps, device.sm_total);
    partial_ = split_k_sums(tilings_, rows * s.k, what);
    return;
  }
  if (!s.half && !s.nhwc && s.groups == 1) {
    // cuDNN's KCRS buffer is the kernel's [k][c][kh][kw].
    SimtConvParams p{};
    p.x = static_cast<const float*>(ops.x), p.w = static_cast<const float*>(ops.w);
    p.bias = static_cast<const float*>(ops.bias), p.residual = static_cast<const float*>(ops.residual);
    p.y = static_cast<float*>(ops.y);
    set_window(p, s, ops);
    if (!simt_conv_supported(p)) return;
    simt_ = p, kind_ = OwnKernel::simt;
    const int64_t cols = s.n * s.oh * s.ow, steps = (s.c * s.kh * s.kw + 7) / 8;
    tilings_ = gemm_tilings(simt_conv_tiles(), s.k, cols, steps, device.sm_total);
    partial_ = split_k_sums(tilings_, s.k * cols, what);
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

int OwnConv::untimed_variant(const Device& device) const {
  if (kind_ == OwnKernel::tensor_core)
    return untimed_tiling(tilings_, int64_t(tensor_.n) * tensor_.oh * tensor_.ow, tensor_.k, device.sm_total);
  if (kind_ == OwnKernel::simt)
    return untimed_tiling(tilings_, int64_t(simt_.n) * simt_.oh * simt_.ow, simt_.k, device.sm_total);
  return 0;
}

cudaError_t OwnConv::launch(const Device& device, int variant, cudaStream_t stream) const {
  if (variant < 0 || variant >= variants()) return cudaErrorInvalidValue;
  const GemmTiling& t = tilings_[size_t(variant)];
  float* partial = reinterpret_cast<float*>(partial_.data());
  if (kind_ == OwnKernel::depthwise)
    return launch_depthwise_conv(
        depthwise_, device.grid_blocks(depthwise_conv_work_items(depthwise_), kDepthwiseBlock), stream);
  if (kind_ == OwnKernel::tensor_core) {
    TensorConvParams p = tensor_;
    p.splits = t.splits, p.partial = t.splits > 1 ? partial : nullptr;
    return launch_tensor_conv(p, t.tile, stream);
  }
  if (kind_ == OwnKernel::simt) {
    SimtConvParams p = simt_;
    p.splits = t.splits, p.partial = t.splits > 1 ? partial : nullptr;
    return launch_simt_conv(p, t.tile, stream);
  }
  return cudaErrorInvalidValue;
}

std::string OwnConv::description(int variant) const {
  if (kind_ == OwnKernel::depthwise) return "own depthwise kernel";
  const GemmTiling& t = tilings_[size_t(variant)];
  if (kind_ == OwnKernel::simt) return "own fp32 kernel" + tiling_text(simt_conv_tile_name(t.tile), t, false);
  return "own tensor-core kernel" + tiling_text(tensor_conv_tile_name(t.tile), t, false);
}

std::string OwnConv::name(int variant) const {
  if (kind_ == OwnKernel::depthwise) return "own-depthwise";
  const GemmTiling& t = tilings_[size_t(variant)];
  if (kind_ == OwnKernel::simt) return "own-simt-conv" + tiling_text(simt_conv_tile_name(t.tile), t, true);
  return "own-tensor-conv" + tiling_text(tensor_conv_tile_name(t.tile), t, true);
}

int OwnConv::variant_named(const std::string& text) const {
  for (int v = 0; v < variants(); ++v)
    if (text == name(v)) return v;
  return -1;
}

}  // namespace cppnn::detail::cuda
