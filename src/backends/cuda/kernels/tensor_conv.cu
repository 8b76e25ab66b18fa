// The launcher of the tensor-core convolution (tensor_conv.cuh).
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
  return cudaGetLastError();
}

}  // namespace cppnn::detail::cuda
