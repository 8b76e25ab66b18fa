#pragma once
// Our own convolution kernels beside cuDNN's: which of them takes a conv2d node, with its
// launch parameters. The depthwise kernel (kernels/depthwise_conv.cuh) takes conv2d with one
// input channel per group; the float16 tensor-core implicit GEMM (kernels/tensor_conv.cuh)
// takes nhwc conv2d with one group and channels a multiple of 8; the float32 CUDA-core
// implicit GEMM (kernels/simt_conv.cuh) takes nchw conv2d with one group. All fuse bias,
// residual and every activation, and read the graph's padding directly. The conv step
// (cudnn_conv.cpp) times the one that applies beside cuDNN's candidates, and the matmul step
// (own_gemm.h) uses the implicit GEMMs for products (CPPNN_CUDA_OWN_KERNELS, device.h).
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "backends/cuda/conv_geometry.h"
#include "backends/cuda/device.h"
#include "backends/cuda/gemm_tiling.h"
#include "backends/cuda/kernels/depthwise_conv.h"
#include "backends/cuda/kernels/simt_conv.h"
#include "backends/cuda/kernels/tensor_conv.h"

namespace cppnn::detail::cuda {

enum class OwnKernel { none, depthwise, tensor_core, simt };

// One of the implicit-GEMM kernels bound to its parameters, in every tiling worth timing
// (gemm_tiling.h), with split-K's buffer when a tiling splits.
class ImplicitGemm {
 public:
  ImplicitGemm() = default;
  // Empty when the kernel does not take `p`.
  ImplicitGemm(const TensorConvParams& p, const Device& device, const std::string& what);
  ImplicitGemm(const SimtConvParams& p, const Device& device, const std::string& what);

  OwnKernel kind() const { return kind_; }  // none, tensor_core or simt
  int variants() const { return int(tilings_.size()); }
  int untimed_variant(const Device& device) const;
  const void* filter() const;
  cudaError_t launch(int variant, cudaStream_t stream) const;
  // "own tensor-core kernel 32x64 split 4" / "own fp32 kernel 64x64".
  std::string description(int variant) const;
  // "own-tensor-<product>-64x64", "own-simt-<product>-32x64-k4": `product` is conv or gemm.
  std::string name(const char* product, int variant) const;

 private:
  OwnKernel kind_ = OwnKernel::none;
  TensorConvParams tensor_{};
  SimtConvParams simt_{};
  int64_t rows_ = 0, cols_ = 0;  // the product's output, as the tilings see it
  std::vector<GemmTiling> tilings_;
  DeviceBuffer partial_;  // split-K's float32 partial sums
};

// What a conv step binds on the device, and its fused activation (ConvActivation).
struct ConvOperands {
  const void* x = nullptr;
  const void* w = nullptr;  // the filter as cuDNN is given it: KCRS (nchw) or KRSC (nhwc)
  const void* bias = nullptr;
  const void* residual = nullptr;
  void* y = nullptr;
  int activation = 0;
  float lo = 0, hi = 0, alpha = 0;
};

class OwnConv {
 public:
  OwnConv() = default;
  // The kernel that takes the node, if one does (kind() says). `host_filter`: the constant
  // filter's bytes in the graph's layout (s's strides), or null; the depthwise kernel in nhwc
  // then gets a [tap][k] copy of its own, uploaded on `stream` (waited for).
  OwnConv(const ConvGeometry& s, const ConvOperands& ops, const void* host_filter,
          const std::string& what, const Device& device, cudaStream_t stream);

  OwnKernel kind() const { return depthwise_ready_ ? OwnKernel::depthwise : gemm_.kind(); }
  // The variants to time (0 .. variants() - 1), and the one to take untimed.
  int variants() const { return depthwise_ready_ ? 1 : gemm_.variants(); }
  int untimed_variant(const Device& device) const;
  // The filter the kernel reads: ops.w (which the step may have to reorder first) or its own.
  const void* filter() const;
  cudaError_t launch(const Device& device, int variant, cudaStream_t stream) const;
  // "own depthwise kernel" / "own tensor-core kernel 64x64" / "own fp32 kernel 32x64 split 4",
  // for the step's report line.
  std::string description(int variant) const;
  // How the runtime cache names a variant ("own-depthwise", "own-tensor-conv-64x64",
  // "own-simt-conv-32x64-k4"); variant_named is its inverse (-1 for any other text).
  std::string name(int variant) const;
  int variant_named(const std::string& text) const;

 private:
  bool depthwise_ready_ = false;
  DepthwiseConvParams depthwise_{};
  DeviceBuffer filter_;  // the depthwise kernel's [tap][k] filter, when it has its own
  ImplicitGemm gemm_;
};

}  // namespace cppnn::detail::cuda
