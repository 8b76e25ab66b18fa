// Which variants our implicit-GEMM kernels are timed in (src/backends/cuda/gemm_tiling.h):
// split-K only for products too small to fill the GPU, within its limits, and the names the
// runtime cache keeps them under.
#include <gtest/gtest.h>

#include "backends/cuda/gemm_tiling.h"

namespace cppnn::detail::cuda {
namespace {

constexpr int kH100 = 132;

int max_splits(const std::vector<GemmTiling>& t) {
  int s = 1;
  for (const GemmTiling& g : t) s = std::max(s, g.splits);
  return s;
}

TEST(GemmTiling, SplitKOnlyWhereTilesCannotFillTheGpu) {
  // ResNet-50 batch 8, 56x56x256 outputs: 392 x 4 tiles of 64x64. No split.
  std::vector<GemmTiling> big = gemm_tilings(3, 8 * 56 * 56, 256, 64 * 9 / 32, kH100);
  EXPECT_EQ(big.size(), 3u);
  EXPECT_EQ(max_splits(big), 1);
  EXPECT_EQ(untimed_tiling(big, 8 * 56 * 56, 256, kH100), 2);  // the largest tile
  // BERT's 128 x 768 product over k = 3072 (96 steps of 32): 2 x 12 tiles of 64x64, 4 x 12
  // of 32x64. Split 2 and 4; 8 would be 384 blocks, over two per multiprocessor.
  std::vector<GemmTiling> bert = gemm_tilings(3, 128, 768, 96, kH100);
  ASSERT_EQ(bert.size(), 5u);
  for (size_t i = 3; i < bert.size(); ++i) {
    EXPECT_EQ(bert[i].tile, 1);
    EXPECT_EQ(bert[i].splits, 2 << (i - 3));
  }
  EXPECT_EQ(bert[size_t(untimed_tiling(bert, 128, 768, kH100))].splits, 1);
  // ResNet-50 batch 1, last stage: 49 pixels x 512 channels over 4608 (144 steps): every
  // split fits under two blocks per multiprocessor (2 x 8 tiles of 32x64, times 8).
  EXPECT_EQ(max_splits(gemm_tilings(3, 49, 512, 144, kH100)), 8);
  // A short reduction keeps at least 4 steps per part: 12 steps allow 2 parts, not 4.
  EXPECT_EQ(max_splits(gemm_tilings(3, 49, 512, 12, kH100)), 2);
  EXPECT_EQ(max_splits(gemm_tilings(3, 49, 512, 7, kH100)), 1);
  // 66 tiles of 64x64 occupy half the SMs: no split.
  EXPECT_EQ(max_splits(gemm_tilings(3, 64, 66 * 64, 96, kH100)), 1);
}

TEST(GemmTiling, LargestTileOnlyForLargeProducts) {
  // The fp32 kernel's fourth shape (128x128): ResNet-50 batch 8's 56x56x256 outputs, 1568
  // tiles of 64x64, take it; BERT's 128x768 (24 tiles) does not.
  EXPECT_EQ(gemm_tilings(4, 256, 8 * 56 * 56, 72, kH100).size(), 4u);
  std::vector<GemmTiling> small = gemm_tilings(4, 128, 768, 384, kH100);
  for (const GemmTiling& t : small) EXPECT_NE(t.tile, 3);
}

TEST(GemmTiling, NamesAndReportText) {
  EXPECT_EQ(tiling_text("64x64", {0, 1}, true), "-64x64");
  EXPECT_EQ(tiling_text("32x64", {1, 4}, true), "-32x64-k4");
  EXPECT_EQ(tiling_text("32x64", {1, 4}, false), " 32x64 split 4");
}

}  // namespace
}  // namespace cppnn::detail::cuda
