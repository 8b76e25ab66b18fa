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
    if (p.batch > 65535) return;
    gemm_ = ImplicitGemm(s, device, what);
    if (!possible()) b_transposed_ = DeviceBuffer();
    return;
  }
  // float16: the kernel's filter is b^T [n, k] when b is given transposed, else b itself
  // [k, n] (filter_kn: copied 8 columns at a time and read with ldmatrix.trans). Nothing is
  // transposed on the host: that cost BERT-base's warm start about 60 ms.
  if (p.batch == 1 && p.m <= kGemvMaxRows) {
    gemv_.a = p.a, gemv_.b = p.b, gemv_.bias = p.bias, gemv_.d = p.d;
    gemv_.m = int(p.m), gemv_.n = int(p.n), gemv_.k = int(p.k);
    gemv_.b_nk = p.b_trans ? 1 : 0;
    gemv_.activation = p.activation;
    gemv_.cols_per_block = 32;
    gemv_ok_ = gemv_supported(gemv_);
  }
  if (p.batch > 65535) return;
  TensorConvParams t{};
  t.w = p.b;
  t.filter_kn = p.b_trans ? 0 : 1;
  t.x = p.a, t.bias = p.bias, t.y = p.d;
  t.n = 1, t.c = int(p.k), t.in_h = int(p.m), t.in_w = 1, t.k = int(p.n), t.oh = int(p.m), t.ow = 1;
  t.kh = t.kw = 1, t.stride_h = t.stride_w = t.dil_h = t.dil_w = 1;
  t.activation = p.activation;
  t.batches = int(p.batch);
  t.x_batch = p.a_stride, t.w_batch = p.b_stride, t.y_batch = p.m * p.n;
  gemm_ = ImplicitGemm(t, device, what);
  if (!possible()) b_transposed_ = DeviceBuffer();
}

GemvParams OwnGemm::gemv_params(int variant) const {
  GemvParams g = gemv_;
  if (!g.b_nk) g.cols_per_block = variant == tiled_variants() ? 32 : 8;
  return g;
}

int OwnGemm::untimed_variant(const Device& device) const {
  // A few rows: the matrix-vector kernel reads B once, where a tile would be mostly empty;
  // 32 columns a block where that still gives every SM a block, else 8.
  if (gemv_ok_) {
    bool wide = gemv_.b_nk || gemv_.n / 32 >= int64_t(device.sm_count);
    return tiled_variants() + (wide ? 0 : 1);
  }
  return gemm_.untimed_variant(device);
}

cudaError_t OwnGemm::launch(int variant, cudaStream_t stream) const {
  if (is_gemv(variant)) return launch_gemv(gemv_params(variant), stream);
  return gemm_.launch(variant, stream);
}

std::string OwnGemm::description(int variant) const {
  if (!is_gemv(variant)) return gemm_.description(variant);
  GemvParams g = gemv_params(variant);
  return g.b_nk ? "own fp16 gemv (b [n, k])"
                : "own fp16 gemv (b [k, n], " + std::to_string(g.cols_per_block) + " columns a block)";
}

std::string OwnGemm::name(int variant) const {
  if (!is_gemv(variant)) return gemm_.name("gemm", variant);
  GemvParams g = gemv_params(variant);
  return g.b_nk ? "own-gemv-nk" : "own-gemv-kn" + std::to_string(g.cols_per_block);
}

int OwnGemm::variant_named(const std::string& text) const {
  for (int v = 0; v < variants(); ++v)
    if (text == name(v)) return v;
  return -1;
}

}  // namespace cppnn::detail::cuda
