#include "backends/cuda/own_gemm.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include "backends/cuda/cuda_status.h"
#include "cppnn/error.h"

namespace cppnn::detail::cuda {

namespace {

// `batches` matrices [rows, cols] of `elem` bytes, transposed into [cols, rows] each.
std::vector<uint8_t> transposed(const void* src, int64_t batches, int64_t rows, int64_t cols, size_t elem) {
  std::vector<uint8_t> out(size_t(batches * rows * cols) * elem);
  const uint8_t* s = static_cast<const uint8_t*>(src);
  for (int64_t q = 0; q < batches; ++q)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        std::memcpy(&out[size_t((q * cols + c) * rows + r) * elem],
                    s + size_t((q * rows + r) * cols + c) * elem, elem);
  return out;
}

}  // namespace

OwnGemm::OwnGemm(const GemmProblem& p, const std::string& what, const Device& device, cudaStream_t stream) {
  if (p.a_trans || p.m <= 0 || p.n <= 0 || p.k <= 0 || p.m > INT32_MAX || p.n > INT32_MAX ||
      p.k > INT32_MAX)
    return;
  const size_t elem = p.half ? 2 : 4;
  auto upload = [&](const std::vector<uint8_t>& host) {
    b_transposed_ = DeviceBuffer(host.size(), "the transposed b of " + what);
    CPPNN_CUDA_CHECK(cudaMemcpyAsync(b_transposed_.data(), host.data(), host.size(),
                                     cudaMemcpyHostToDevice, stream));
    CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));  // the host bytes die here
    return b_transposed_.data();
  };
  if (!p.half) {
    // B as [k, n] row-major per problem: as it is, or a constant b^T transposed once.
    const void* b = p.b;
    if (p.b_trans) {
      if (!p.b_host) return;
      int64_t stored = p.b_stride == 0 ? 1 : p.batch;
      b = upload(transposed(p.b_host, stored, p.n, p.k, elem));
    }
    SimtConvParams s{};
    s.x = static_cast<const float*>(b), s.w = static_cast<const float*>(p.a);
    s.bias = static_cast<const float*>(p.bias), s.y = static_cast<float*>(p.d);
    s.n = 1, s.c = int(p.k), s.in_h = 1, s.in_w = int(p.n), s.k = int(p.m), s.oh = 1, s.ow = int(p.n);
    s.kh = s.kw = 1, s.stride_h = s.stride_w = s.dil_h = s.dil_w = 1;
    s.activation = p.activation, s.bias_per_pixel = 1;
    s.batches = int(std::min<int64_t>(p.batch, INT_MAX));
    s.x_batch = p.b_stride == 0 ? 0 : p.k * p.n;
    s.w_batch = p.a_stride, s.y_batch = p.m * p.n;
    if (p.batch > 65535 || !simt_conv_supported(s)) return;
    simt_ = s, kind_ = Kind::simt;
    // Split-K takes one problem; a batch fills the GPU with its problems anyway.
    tilings_ = gemm_tilings(simt_conv_tiles(), p.m, p.n, p.batch > 1 ? 0 : (p.k + 7) / 8, device.sm_total);
    partial_ = split_k_sums(tilings_, p.m * p.n, what);
    return;
  }
  // float16: B^T as [n, k] (the kernel's filter): b as it is when given transposed, else a
  // constant b transposed once. One problem only.
  if (p.batch != 1) return;
  const void* bt = p.b;
  if (!p.b_trans) {
    if (!p.b_host) return;
    bt = upload(transposed(p.b_host, 1, p.k, p.n, elem));
  }
  TensorConvParams t{};
  t.x = p.a, t.w = bt, t.bias = p.bias, t.y = p.d;
  t.n = 1, t.c = int(p.k), t.in_h = int(p.m), t.in_w = 1, t.k = int(p.n), t.oh = int(p.m), t.ow = 1;
  t.kh = t.kw = 1, t.stride_h = t.stride_w = t.dil_h = t.dil_w = 1;
  t.activation = p.activation;
  if (!tensor_conv_supported(t)) {
    b_transposed_ = DeviceBuffer();
    return;
  }
  tensor_ = t, kind_ = Kind::tensor_core;
  tilings_ = gemm_tilings(tensor_conv_tiles(), p.m, p.n, (p.k + 31) / 32, device.sm_total);
  partial_ = split_k_sums(tilings_, p.m * p.n, what);
}

int OwnGemm::untimed_variant(const Device& device) const {
  int64_t rows = kind_ == Kind::simt ? int64_t(simt_.k) * std::max(simt_.batches, 1) : tensor_.oh;
  int64_t cols = kind_ == Kind::simt ? simt_.ow : tensor_.k;
  return untimed_tiling(tilings_, rows, cols, device.sm_total);
}

cudaError_t OwnGemm::launch(int variant, cudaStream_t stream) const {
  if (variant < 0 || variant >= variants()) return cudaErrorInvalidValue;
  const GemmTiling& t = tilings_[size_t(variant)];
  float* partial = reinterpret_cast<float*>(partial_.data());
  if (kind_ == Kind::simt) {
    SimtConvParams p = simt_;
    p.splits = t.splits, p.partial = t.splits > 1 ? partial : nullptr;
    return launch_simt_conv(p, t.tile, stream);
  }
  if (kind_ == Kind::tensor_core) {
    TensorConvParams p = tensor_;
    p.splits = t.splits, p.partial = t.splits > 1 ? partial : nullptr;
    return launch_tensor_conv(p, t.tile, stream);
  }
  return cudaErrorInvalidValue;
}

std::string OwnGemm::description(int variant) const {
  const GemmTiling& t = tilings_[size_t(variant)];
  if (kind_ == Kind::simt) return "own fp32 kernel" + tiling_text(simt_conv_tile_name(t.tile), t, false);
  return "own tensor-core kernel" + tiling_text(tensor_conv_tile_name(t.tile), t, false);
}

std::string OwnGemm::name(int variant) const {
  const GemmTiling& t = tilings_[size_t(variant)];
  if (kind_ == Kind::simt) return "own-simt-gemm" + tiling_text(simt_conv_tile_name(t.tile), t, true);
  return "own-tensor-gemm" + tiling_text(tensor_conv_tile_name(t.tile), t, true);
}

int OwnGemm::variant_named(const std::string& text) const {
  for (int v = 0; v < variants(); ++v)
    if (text == name(v)) return v;
  return -1;
}

}  // namespace cppnn::detail::cuda
