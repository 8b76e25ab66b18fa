#pragma once
// Our own kernels for matmul and gemm, beside cuBLASLt: a row-major D = A B + bias (per
// column) is the 1x1 case of our convolution kernels. float32 runs on the CUDA-core kernel
// (A as its filter, B as its input, batches on the grid's second dimension); float16 on the
// tensor-core kernel (A as its nhwc input, B^T as its filter, or B itself read with
// ldmatrix.trans; batches on the grid's second dimension). Only a float32 constant b given
// transposed is transposed (once, on the host). A float16 product of at most 8 rows (a
// decoder's step) also has the matrix-vector kernel (kernels/gemv.h) as one more variant. The matmul step (lt_matmul.cpp) times these beside cuBLASLt's algorithm
// (CPPNN_CUDA_OWN_KERNELS, device.h).
#include <cuda_runtime.h>

#include <string>

#include "backends/cuda/device.h"
#include "backends/cuda/kernels/gemv.h"
#include "backends/cuda/own_conv.h"

namespace cppnn::detail::cuda {

// One matmul as the step sees it, row-major: D[m, n] = op(a)[m, k] op(b)[k, n] (+ bias[n]),
// `batch` problems at the given strides (elements; 0: shared by all).
struct GemmProblem {
  bool half = false;
  int64_t m = 0, n = 0, k = 0;
  bool a_trans = false, b_trans = false;
  int64_t batch = 1, a_stride = 0, b_stride = 0;
  const void* a = nullptr;
  const void* b = nullptr;
  const void* bias = nullptr;
  void* d = nullptr;
  int activation = 0;             // ConvActivation
  const void* b_host = nullptr;   // b's bytes when it is a constant, else null
};

class OwnGemm {
 public:
  OwnGemm() = default;
  // Which kernel takes the problem, if one does; uploads a transposed B on `stream` when the
  // kernel needs one (waited for).
  OwnGemm(const GemmProblem& p, const std::string& what, const Device& device, cudaStream_t stream);

  bool possible() const { return gemm_.kind() != OwnKernel::none || gemv_ok_; }
  // The tiled kernel's variants, then the matrix-vector kernel where it takes the problem.
  int variants() const { return tiled_variants() + gemv_variants(); }
  int untimed_variant(const Device& device) const;
  cudaError_t launch(int variant, cudaStream_t stream) const;
  // "own fp32 kernel 64x64" / "own tensor-core kernel 32x64 split 4" / "own fp16 gemv", for
  // the step's report line, and the name the runtime cache keeps ("own-simt-gemm-64x64",
  // "own-gemv-kn", ...).
  std::string description(int variant) const;
  std::string name(int variant) const;
  // The variant a name() names; -1 for any other text.
  int variant_named(const std::string& name) const;

 private:
  int tiled_variants() const { return gemm_.kind() == OwnKernel::none ? 0 : gemm_.variants(); }
  // b [k, n]: 32 and 8 columns a block; b [n, k]: one form.
  int gemv_variants() const { return gemv_ok_ ? (gemv_.b_nk ? 1 : 2) : 0; }
  bool is_gemv(int variant) const { return variant >= tiled_variants() && variant < variants(); }
  GemvParams gemv_params(int variant) const;

  DeviceBuffer b_transposed_;  // declared before gemm_: its kernel reads it
  ImplicitGemm gemm_;
  GemvParams gemv_{};
  bool gemv_ok_ = false;
};

}  // namespace cppnn::detail::cuda
