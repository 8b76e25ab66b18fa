// The launcher of the depthwise convolution kernels (depthwise_conv.cuh).
#include <climits>

#include "depthwise_conv.cuh"

namespace cppnn::detail::cuda {

int64_t depthwise_conv_work_items(const DepthwiseConvParams& p) { return depthwise::work_items(p); }

cudaError_t launch_depthwise_conv(const DepthwiseConvParams& p, unsigned grid, cudaStream_t stream) {
  int64_t items = depthwise::work_items(p);
  // The unsigned grid-stride index must not wrap past its last step.
  if (items == 0 || grid == 0 || items + int64_t(grid) * kDepthwiseBlock > int64_t(UINT_MAX))
    return cudaErrorInvalidValue;
  depthwise::with_kernel(p, [&](auto kernel) { kernel<<<grid, kDepthwiseBlock, 0, stream>>>(p); });
  return cudaGetLastError();
}

}  // namespace cppnn::detail::cuda
