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

// Split-K's partial sums for the largest split among `tilings`; without device memory for
// them, the split tilings are dropped instead (split-K is an option).
DeviceBuffer split_k_sums(std::vector<GemmTiling>& tilings, int64_t outputs, const std::string& what) {
  int splits = 1;
  for (const GemmTiling& t : tilings) splits = std::max(splits, t.splits);
  if (splits <= 1) return DeviceBuffer();
  try {
    return DeviceBuffer(size_t(splits * outputs) * sizeof(float), "the split-K sums of " + what);
  } catch (const Error&) {
    (void)cudaGetLastError();  // the failed allocation must not show in a later launch's status
    tilings.erase(std::remove_if(tilings.begin(), tilings.end(), [](const GemmTiling& t) { return t.splits > 1; }),
                  tilings.end());
    return DeviceBuffer();
  }
}

}  // namespace

ImplicitGemm::ImplicitGemm(const TensorConvParams& p, const Device& device, const std::string& what) {
  if (!tensor_conv_supported(p)) return;
  kind_ = OwnKernel::tensor_core, tensor_ = p;
  rows_ = int64_t(p.n) * p.oh * p.ow * std::max(p.batches, 1), cols_ = p.k;
  // Split-K takes one problem; a batch fills the GPU with its problems.
  int64_t steps = p.batches > 1 ? 0 : (int64_t(p.kh) * p.kw * p.c + 31) / 32;
  tilings_ = gemm_tilings(tensor_conv_tiles(), rows_, cols_, steps, device.sm_total);
  partial_ = split_k_sums(tilings_, rows_ * cols_, what);
}

ImplicitGemm::ImplicitGemm(const SimtConvParams& p, const Device& device, const std::string& what) {
  if (!simt_conv_supported(p)) return;
  kind_ = OwnKernel::simt, simt_ = p;
  rows_ = int64_t(p.k) * std::max(p.batches, 1), cols_ = int64_t(p.n) * p.oh * p.ow;
  // Split-K takes one problem; a batch fills the GPU with its problems.
  int64_t steps = p.batches > 1 ? 0 : (int64_t(p.c) * p.kh * p.kw + 7) / 8;
  tilings_ = gemm_tilings(simt_conv_tiles(), rows_, cols_, steps, device.sm_total);
  partial_ = split_k_sums(tilings_, rows_ * cols_, what);
}

int ImplicitGemm::untimed_variant(const Device& device) const {
  return untimed_tiling(tilings_, rows_, cols_, device.sm_total);
}

const void* ImplicitGemm::filter() const {
  return kind_ == OwnKernel::tensor_core ? tensor_.w : kind_ == OwnKernel::simt ? simt_.w : nullptr;
}

cudaError_t ImplicitGemm::launch(int variant, cudaStream_t stream) const {
  if (variant < 0 || variant >= variants()) return cudaErrorInvalidValue;
  const GemmTiling& t = tilings_[size_t(variant)];
  float* partial = t.splits > 1 ? reinterpret_cast<float*>(partial_.data()) : nullptr;
  if (kind_ == OwnKernel::tensor_core) {
    TensorConvParams p = tensor_;
    p.splits = t.splits, p.partial = partial;
    return launch_tensor_conv(p, t.tile, stream);
  }
  SimtConvParams p = simt_;
  p.splits = t.splits, p.partial = partial;
  return launch_simt_conv(p, t.tile, stream);
}

std::string ImplicitGemm::description(int variant) const {
  const GemmTiling& t = tilings_[size_t(variant)];
  if (kind_ == OwnKernel::simt) return "own fp32 kernel" + tiling_text(simt_conv_tile_name(t.tile), t, false);
  return "own tensor-core kernel" + tiling_text(tensor_conv_tile_name(t.tile), t, false);
}

std::string ImplicitGemm::name(const char* product, int variant) const {
  const GemmTiling& t = tilings_[size_t(variant)];
  bool simt = kind_ == OwnKernel::simt;
  std::string text = simt ? "own-simt-" : "own-tensor-";
  text += product;
  return text + tiling_text(simt ? simt_conv_tile_name(t.tile) : tensor_conv_tile_name(t.tile), t, true);
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
    depthwise_ = p, depthwise_ready_ = true;
    return;
  }
  if (s.half && s.nhwc && s.groups == 1) {
    // cuDNN's KRSC buffer is the kernel's [k][kh][kw][c].
    TensorConvParams p{};
    p.x = ops.x, p.w = ops.w, p.bias = ops.bias, p.residual = ops.residual, p.y = ops.y;
    set_window(p, s, ops);
    gemm_ = ImplicitGemm(p, device, what);
  } else if (!s.half && !s.nhwc && s.groups == 1) {
    // cuDNN's KCRS buffer is the kernel's [k][c][kh][kw].
    SimtConvParams p{};
    p.x = static_cast<const float*>(ops.x), p.w = static_cast<const float*>(ops.w);
    p.bias = static_cast<const float*>(ops.bias), p.residual = static_cast<const float*>(ops.residual);
    p.y = static_cast<float*>(ops.y);
    set_window(p, s, ops);
    gemm_ = ImplicitGemm(p, device, what);
  }
}

int OwnConv::untimed_variant(const Device& device) const {
  return depthwise_ready_ ? 0 : gemm_.untimed_variant(device);
}

const void* OwnConv::filter() const { return depthwise_ready_ ? depthwise_.w : gemm_.filter(); }

cudaError_t OwnConv::launch(const Device& device, int variant, cudaStream_t stream) const {
  if (!depthwise_ready_) return gemm_.launch(variant, stream);
  if (variant != 0) return cudaErrorInvalidValue;
  return launch_depthwise_conv(
      depthwise_, device.grid_blocks(depthwise_conv_work_items(depthwise_), kDepthwiseBlock), stream);
}

std::string OwnConv::description(int variant) const {
  return depthwise_ready_ ? "own depthwise kernel" : gemm_.description(variant);
}

std::string OwnConv::name(int variant) const {
  return depthwise_ready_ ? "own-depthwise" : gemm_.name("conv", variant);
}

int OwnConv::variant_named(const std::string& text) const {
  for (int v = 0; v < variants(); ++v)
    if (text == name(v)) return v;
  return -1;
}

}  // namespace cppnn::detail::cuda
