// The launcher of the fused attention kernel (attention.cuh).
#include "attention.cuh"

namespace cppnn::detail::cuda {

bool attention_head_dim_supported(int head_dim) {
  for (int d : kAttentionHeadDims)
    if (d == head_dim) return true;
  return false;
}

bool attention_supported(const AttentionParams& p) { return attention::supported(p); }

cudaError_t launch_attention(const AttentionParams& p, cudaStream_t stream) {
  if (!attention::supported(p)) return cudaErrorInvalidValue;
  attention::with_kernel(p, [&](auto kernel) {
    kernel<<<attention::blocks(p), attention::kThreads, 0, stream>>>(p);
  });
  return cudaGetLastError();
}

}  // namespace cppnn::detail::cuda
