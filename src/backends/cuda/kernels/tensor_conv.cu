// The launcher of the tensor-core convolution (tensor_conv.cuh).
#include <algorithm>
#include <climits>

#include "tensor_conv.cuh"

namespace cppnn::detail::cuda {

bool tensor_conv_supported(const TensorConvParams& p) { return tensor_conv::supported(p); }

int tensor_conv_tiles() { return tensor_conv::kTileCount; }

const char* tensor_conv_tile_name(int tile) {
  static const char* names[] = {"64x64", "32x64", "128x64"};
  return tile >= 0 && tile < tensor_conv::kTileCount ? names[tile] : "?";
}

cudaError_t launch_tensor_conv(const TensorConvParams& p, int tile, cudaStream_t stream) {
  if (!tensor_conv::supported(p) || tile < 0 || tile >= tensor_conv::kTileCount) return cudaErrorInvalidValue;
  tensor_conv::with_kernel(p, tile, [&](auto kernel) {
    kernel<<<tensor_conv::blocks(p, tile), tensor_conv::kThreads, 0, stream>>>(p);
  });
  if (p.splits > 1) {
    SplitReduceParams r = tensor_conv::reduce_params(p);
    unsigned grid = unsigned(std::min<int64_t>((int64_t(r.rows) * r.cols + 255) / 256, 65535));
    split_reduce::with_kernel(r, [&](auto kernel) { kernel<<<grid, split_reduce::kBlock, 0, stream>>>(r); });
  }
  return cudaGetLastError();
}

}  // namespace cppnn::detail::cuda
