// The launcher of the tensor-core convolution (tensor_conv.cuh).
#include <climits>

#include "tensor_conv.cuh"

namespace cppnn::detail::cuda {

bool tensor_conv_supported(const TensorConvParams& p) { return tensor_conv::supported(p); }

cudaError_t launch_tensor_conv(const TensorConvParams& p, cudaStream_t stream) {
  if (!tensor_conv::supported(p)) return cudaErrorInvalidValue;
  tensor_conv::kernel<<<tensor_conv::blocks(p), tensor_conv::kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace cppnn::detail::cuda
