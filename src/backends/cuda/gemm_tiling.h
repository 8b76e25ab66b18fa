#pragma once
// The variants our implicit-GEMM kernels are timed in (own_conv.h, own_gemm.h): tile shapes,
// and split-K where a product has too few tiles to fill the GPU. Plain C++, tested on the host.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace cppnn::detail::cuda {

// A variant of an implicit-GEMM kernel: a tile shape, and the reduction split `splits` ways
// (split-K, 1: not split).
struct GemmTiling {
  int tile = 0;
  int splits = 1;
};

// The tilings to time for a product of rows x cols over `steps` reduction steps: the first
// three tile shapes (64x64, a smaller, a larger) unsplit, any further ones (larger still)
// where 64x64 tiles would be at least four per multiprocessor; and where they would occupy
// fewer than half the multiprocessors, the second (smaller) tile shape split 2, 4 or 8 ways,
// each part keeping at least 4 steps and the blocks at most 2 per multiprocessor.
inline std::vector<GemmTiling> gemm_tilings(int tiles, int64_t rows, int64_t cols, int64_t steps, int sm_total) {
  std::vector<GemmTiling> out;
  const int64_t sms = std::max(sm_total, 1);
  const int64_t base = ((rows + 63) / 64) * ((cols + 63) / 64);
  for (int t = 0; t < tiles; ++t)
    if (t < 3 || base >= 4 * sms) out.push_back({t, 1});
  if (tiles < 2 || 2 * base >= sms) return out;
  const int64_t small = ((rows + 31) / 32) * ((cols + 63) / 64);  // the second shape, 32x64
  for (int splits : {2, 4, 8})
    if (steps >= 4 * splits && small * splits <= 2 * sms) out.push_back({1, splits});
  return out;
}

// Of `tilings`, the unsplit one to take untimed: the second tile shape when 64x64 tiles
// would not occupy every multiprocessor, the third over four per multiprocessor, else the
// first.
inline int untimed_tiling(const std::vector<GemmTiling>& tilings, int64_t rows, int64_t cols, int sm_total) {
  const int64_t base = ((rows + 63) / 64) * ((cols + 63) / 64);
  int tile = base < sm_total ? 1 : base > 4 * int64_t(sm_total) ? 2 : 0;
  for (size_t i = 0; i < tilings.size(); ++i)
    if (tilings[i].tile == tile && tilings[i].splits == 1) return int(i);
  return 0;
}

// " 64x64" or " 32x64 split 4": a tiling in a report line; "-64x64" / "-32x64-k4" in a name.
inline std::string tiling_text(const char* tile_name, const GemmTiling& t, bool for_name) {
  std::string text(for_name ? "-" : " ");
  text += tile_name;
  if (t.splits > 1) {
    text += for_name ? "-k" : " split ";
    text += std::to_string(t.splits);
  }
  return text;
}

}  // namespace cppnn::detail::cuda
