#pragma once
// The fused attention kernel's parameters and launcher (attention.cu): softmax(Q K^T * scale
// + mask) V in one pass over the keys, never writing the scores (flash attention), float16
// operands, float accumulation. Q, K, V and the output are read and written in place
// through strides, so the transposes around an exported attention cost nothing: element
// (b, h, s, d) of each is at base + b * stride_b + h * stride_h + s * stride_s + d.
#include <cuda_runtime.h>

#include <cstdint>

namespace cppnn::detail::cuda {

struct AttentionStrides {
  int64_t b = 0, h = 0, s = 0;  // in elements; the head dimension is contiguous
};

enum class AttentionMask : int { none = 0, f16 = 1, f32 = 2 };

struct AttentionParams {
  const void* q = nullptr;  // __half
  const void* k = nullptr;
  const void* v = nullptr;
  void* out = nullptr;
  // Added to the scaled scores, broadcast to [batch, heads, sq, sk] through its strides
  // (0 along a broadcast axis); `mask_type` none: no mask.
  const void* mask = nullptr;
  AttentionMask mask_type = AttentionMask::none;
  int64_t mask_b = 0, mask_h = 0, mask_q = 0, mask_k = 0;
  // A boolean (uint8) mask applied first, as where(cond, scores, fill) (or where(cond, fill,
  // scores) with fill_where_true): a filled score is `fill`, before the added mask. Broadcast
  // through its strides; null: none.
  const uint8_t* cond = nullptr;
  int64_t cond_b = 0, cond_h = 0, cond_q = 0, cond_k = 0;
  float fill = 0.0f;
  bool fill_where_true = false;
  // Causal: key k is visible to query q iff k <= q + causal_offset (>= 0), from indices, no
  // memory read. A query block computes only the key tiles it sees, the diagonal ones
  // masked, and the grid runs the heaviest query blocks (the last) first. Any mask or cond
  // above applies to the visible keys as well.
  bool causal = false;
  int causal_offset = 0;
  AttentionStrides qs, ks, vs, os;
  int batch = 0, heads = 0, sq = 0, sk = 0;
  int head_dim = 0;  // one of kAttentionHeadDims
  float scale = 1.0f;
  // A row whose probabilities are NaN (every key masked with -inf, or a NaN score) is
  // written as zeros: the where(isNaN(p), 0, p) that PyTorch's exported
  // scaled_dot_product_attention puts after its softmax.
  bool zero_nan_rows = false;
  // Split keys (flash-decoding), for problems of too few query blocks to fill the GPU (a
  // decode step's one query): block x of the grid is (query block, split); split s takes
  // keys [s * split_keys, (s + 1) * split_keys) and writes its unnormalized output, row
  // maximum and row sum to `partial` (float: splits x batch x heads x sq x (head_dim + 2)),
  // which the second pass (attention_combine) merges into the output. splits == 1: none.
  int splits = 1;
  int split_keys = 0;  // a multiple of 64
  float* partial = nullptr;
};

// Sets p.splits and p.split_keys for a GPU of `multiprocessors`, keeping the partial results
// under `max_partial_bytes`: 1 (no split) when the grid fills the GPU anyway.
void attention_choose_splits(AttentionParams& p, int multiprocessors, size_t max_partial_bytes);
// The bytes of `partial` for p.splits.
size_t attention_partial_bytes(const AttentionParams& p);

// The head dimensions the kernel is built for.
constexpr int kAttentionHeadDims[] = {32, 64, 80, 96, 128};
bool attention_head_dim_supported(int head_dim);

// Whether `p` can run: a supported head dimension, every base and stride of Q, K, V and the
// output a multiple of 8 elements (16-byte loads), sizes that fit a grid, and with splits,
// split_keys a multiple of 64 covering the keys and a partial buffer.
bool attention_supported(const AttentionParams& p);

cudaError_t launch_attention(const AttentionParams& p, cudaStream_t stream);

}  // namespace cppnn::detail::cuda
