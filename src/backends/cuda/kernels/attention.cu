// The launcher of the fused attention kernel (attention.cuh).
#include "attention.cuh"

namespace cppnn::detail::cuda {

bool attention_head_dim_supported(int head_dim) {
  for (int d : kAttentionHeadDims)
    if (d == head_dim) return true;
  return false;
}

bool attention_supported(const AttentionParams& p) { return attention::supported(p); }

void attention_choose_splits(AttentionParams& p, int multiprocessors, size_t max_partial_bytes) {
  attention::choose_splits(p, multiprocessors, max_partial_bytes);
}

size_t attention_partial_bytes(const AttentionParams& p) { return attention::partial_bytes(p); }

cudaError_t launch_attention(const AttentionParams& p, cudaStream_t stream) {
  if (!attention::supported(p)) return cudaErrorInvalidValue;
  attention::with_kernel(p, [&](auto kernel) {
    kernel<<<attention::blocks(p), attention::kThreads, 0, stream>>>(p);
  });
  if (p.splits > 1)
    attention::combine_kernel<<<attention::combine_blocks(p), attention::kCombineThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace cppnn::detail::cuda
