// The launcher of the float32 CUDA-core convolution (simt_conv.cuh).
#include <algorithm>

#include "simt_conv.cuh"

namespace cppnn::detail::cuda {

bool simt_conv_supported(const SimtConvParams& p) { return simt_conv::supported(p); }

int simt_conv_tiles() { return simt_conv::kTileCount; }

const char* simt_conv_tile_name(int tile) {
  static const char* names[] = {"64x64", "32x64", "64x128", "128x128"};
  return tile >= 0 && tile < simt_conv::kTileCount ? names[tile] : "?";
}

cudaError_t launch_simt_conv(const SimtConvParams& p, int tile, cudaStream_t stream) {
  if (!simt_conv::supported(p) || tile < 0 || tile >= simt_conv::kTileCount) return cudaErrorInvalidValue;
  simt_conv::with_kernel(p, tile, [&](auto kernel) {
    kernel<<<simt_conv::blocks(p, tile), simt_conv::kThreads, 0, stream>>>(p);
  });
  if (p.splits > 1) {
    SplitReduceParams r = simt_conv::reduce_params(p);
    unsigned grid = unsigned(std::min<int64_t>((int64_t(r.rows) * r.cols + 255) / 256, 65535));
    split_reduce::with_kernel(r, [&](auto kernel) { kernel<<<grid, split_reduce::kBlock, 0, stream>>>(r); });
  }
  return cudaGetLastError();
}

}  // namespace cppnn::detail::cuda
