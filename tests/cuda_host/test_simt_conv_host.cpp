// The float32 CUDA-core convolution (src/backends/cuda/kernels/simt_conv.cuh), compiled as
// host C++ and run with each block's threads as fibers (host_grid.h), against a float64
// convolution written here: the tiling of every tile shape, both shared-memory buffers and
// the barriers between them, the implicit-GEMM addressing of an nchw input (padding,
// strides, dilations, taps, pixels running across images), partial tiles, the epilogue.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda_host/host_kernel_support.h"
#include "backends/cuda/kernels/simt_conv.cuh"

namespace cppnn::detail::cuda {
namespace {

struct SplitReduce {
  template <typename Run>
  static void with_kernel(const SplitReduceParams& r, Run&& run) { split_reduce::with_kernel(r, run); }
};

struct Case {
  std::string name;
  int n = 1, c = 5, h = 7, w = 9, k = 12;
  int kh = 3, kw = 3, sh = 1, sw = 1, dh = 1, dw = 1;
  int top = 1, bottom = 1, left = 1, right = 1;
  bool bias = true, residual = false, residual_in_place = false;
  int activation = kConvActNone;
  float lo = 0.0f, hi = 6.0f, alpha = 0.2f;
};

void check(const Case& cs) {
  SCOPED_TRACE(cs.name);
  const int oh = (cs.h + cs.top + cs.bottom - ((cs.kh - 1) * cs.dh + 1)) / cs.sh + 1;
  const int ow = (cs.w + cs.left + cs.right - ((cs.kw - 1) * cs.dw + 1)) / cs.sw + 1;
  const size_t xs = size_t(cs.n) * cs.c * cs.h * cs.w, ys = size_t(cs.n) * cs.k * oh * ow;
  const size_t ws = size_t(cs.k) * cs.c * cs.kh * cs.kw;
  std::mt19937 rng(uint32_t(std::hash<std::string>{}(cs.name)));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  auto values = [&](size_t count, float scale) {
    std::vector<float> v(count);
    for (float& e : v) e = dist(rng) * scale;
    return v;
  };
  std::vector<float> x = values(xs, 1.0f), w = values(ws, 0.3f), bias = values(size_t(cs.k), 0.5f),
                     res = values(ys, 1.0f);
  Buffer xb(xs, 4), wb(ws, 4), bb(size_t(cs.k), 4), rb(ys, 4), yb(ys, 4);
  auto put = [](const Buffer& b, const std::vector<float>& v) { std::memcpy(b.data, v.data(), v.size() * 4); };
  put(xb, x), put(wb, w), put(bb, bias), put(rb, res);

  SimtConvParams p{};
  p.x = static_cast<const float*>(xb.data), p.w = static_cast<const float*>(wb.data);
  p.bias = cs.bias ? static_cast<const float*>(bb.data) : nullptr;
  p.residual = cs.residual_in_place ? static_cast<const float*>(yb.data)
               : cs.residual        ? static_cast<const float*>(rb.data)
                                    : nullptr;
  p.y = static_cast<float*>(yb.data);
  p.n = cs.n, p.c = cs.c, p.in_h = cs.h, p.in_w = cs.w, p.k = cs.k, p.oh = oh, p.ow = ow;
  p.kh = cs.kh, p.kw = cs.kw, p.stride_h = cs.sh, p.stride_w = cs.sw, p.dil_h = cs.dh, p.dil_w = cs.dw;
  p.pad_top = cs.top, p.pad_left = cs.left;
  p.activation = cs.activation, p.lo = cs.lo, p.hi = cs.hi, p.alpha = cs.alpha;
  ASSERT_TRUE(simt_conv::supported(p));

  std::vector<double> want(ys);
  for (int b = 0; b < cs.n; ++b)
    for (int o = 0; o < cs.k; ++o)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double acc = 0;
          for (int ci = 0; ci < cs.c; ++ci)
            for (int ky = 0; ky < cs.kh; ++ky)
              for (int kx = 0; kx < cs.kw; ++kx) {
                int iy = oy * cs.sh - cs.top + ky * cs.dh, ix = ox * cs.sw - cs.left + kx * cs.dw;
                if (iy < 0 || iy >= cs.h || ix < 0 || ix >= cs.w) continue;
                acc += double(x[((size_t(b) * cs.c + ci) * cs.h + iy) * cs.w + ix]) *
                       w[((size_t(o) * cs.c + ci) * cs.kh + ky) * cs.kw + kx];
              }
          size_t at = ((size_t(b) * cs.k + o) * oh + oy) * ow + ox;
          if (cs.bias) acc += bias[size_t(o)];
          if (cs.residual || cs.residual_in_place) acc += res[at];
          want[at] = host_activate64(acc, cs.activation, cs.lo, cs.hi, cs.alpha);
        }

  // Split-K in 3 parts: uneven when the reduction has no multiple of 3 steps, and a last
  // part with no step at all when it has 2.
  Buffer partial(3 * ys, 4);
  for (int splits : {1, 3})
  for (int tile = 0; tile < simt_conv::kTileCount; ++tile) {
    SCOPED_TRACE("tile " + std::to_string(simt_conv::kTiles[tile].bm) + "x" +
                 std::to_string(simt_conv::kTiles[tile].bn) + " splits " + std::to_string(splits));
    p.splits = splits, p.partial = splits > 1 ? static_cast<float*>(partial.data) : nullptr;
    ASSERT_TRUE(simt_conv::supported(p));
    std::memset(yb.data, 0xA5, ys * 4);  // an element the kernel misses shows
    std::memset(partial.data, 0xA5, 3 * ys * 4);
    if (cs.residual_in_place) put(yb, res);
    simt_conv::with_kernel(p, tile, [&](auto kernel) {
      host_run_grid_sync(simt_conv::blocks(p, tile), simt_conv::kThreads, [&] { kernel(p); });
    });
    if (splits > 1) host_split_reduce<SplitReduce>(simt_conv::reduce_params(p));
    size_t bad = 0;
    for (size_t at = 0; at < ys; ++at) {
      double got = static_cast<const float*>(yb.data)[at];
      // float32 products and sums in another order: a few ulps of the largest terms.
      if (!(std::abs(got - want[at]) <= 1e-5 + 1e-5 * std::abs(want[at]))) {
        if (++bad <= 5) ADD_FAILURE() << "element " << at << " got " << got << " want " << want[at];
      }
    }
    EXPECT_EQ(bad, 0u) << bad << " of " << ys << " elements off";
  }
}

TEST(SimtConvHost, WindowsPaddingStridesDilations) {
  Case c;
  c.name = "3x3 pad 1, 5 channels, bias relu";
  c.activation = kConvActRelu;
  check(c);
  c = Case{};
  c.name = "first conv of MobileNetV2: 3 channels, stride 2, clamp";
  c.c = 3, c.k = 32, c.h = c.w = 16, c.sh = c.sw = 2, c.top = 0, c.left = 0, c.activation = kConvActClamp;
  check(c);
  c = Case{};
  c.name = "1x1, several images, residual in place";
  c.kh = c.kw = 1, c.top = c.bottom = c.left = c.right = 0, c.n = 3, c.c = 24, c.k = 40;
  c.residual_in_place = true;
  check(c);
  c = Case{};
  c.name = "5x3 dilated, asymmetric padding, stride 2x1, residual, gelu";
  c.kh = 5, c.kw = 3, c.dh = 2, c.dw = 2, c.sh = 2, c.sw = 1, c.top = 3, c.bottom = 0, c.left = 2,
  c.right = 1, c.h = 13, c.w = 8, c.residual = true, c.activation = kConvActGelu;
  check(c);
  c = Case{};
  c.name = "7x7 stride 2 pad 3, 2 images, 70 channels out, no bias, sigmoid";
  c.n = 2, c.c = 3, c.k = 70, c.kh = c.kw = 7, c.sh = c.sw = 2, c.top = c.bottom = c.left = c.right = 3;
  c.h = c.w = 15, c.bias = false, c.activation = kConvActSigmoid;
  check(c);
  c = Case{};
  c.name = "long reduction: 64 channels 3x3, 130 pixels";
  c.c = 64, c.k = 20, c.h = 10, c.w = 13, c.activation = kConvActLeakyRelu;
  check(c);
}

// A row-major matmul D[b] = A[b] B[b] + bias (per column) as the kernel's 1x1 case: A as the
// filter, B as a [1, k, 1, n] input, batches on the grid's second dimension, B shared by
// all of them or not.
void check_matmul(int batches, int m, int k, int n, bool shared_b, int activation) {
  std::string what = "matmul " + std::to_string(batches) + "x" + std::to_string(m) + "x" +
                     std::to_string(k) + "x" + std::to_string(n) + (shared_b ? " shared b" : "");
  SCOPED_TRACE(what);
  std::mt19937 rng(uint32_t(m * 131 + k * 7 + n));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const size_t as = size_t(batches) * m * k, bs = size_t(shared_b ? 1 : batches) * k * n,
               ds = size_t(batches) * m * n;
  Buffer ab(as, 4), bb(bs, 4), biasb(size_t(n), 4), db(ds, 4);
  float* a = static_cast<float*>(ab.data);
  float* b = static_cast<float*>(bb.data);
  float* bias = static_cast<float*>(biasb.data);
  for (size_t i = 0; i < as; ++i) a[i] = dist(rng);
  for (size_t i = 0; i < bs; ++i) b[i] = dist(rng) * 0.3f;
  for (int i = 0; i < n; ++i) bias[i] = dist(rng);
  SimtConvParams p{};
  p.x = b, p.w = a, p.bias = bias, p.y = static_cast<float*>(db.data);
  p.n = 1, p.c = k, p.in_h = 1, p.in_w = n, p.k = m, p.oh = 1, p.ow = n, p.kh = p.kw = 1;
  p.stride_h = p.stride_w = p.dil_h = p.dil_w = 1;
  p.activation = activation, p.bias_per_pixel = 1;
  p.batches = batches, p.x_batch = shared_b ? 0 : int64_t(k) * n, p.w_batch = int64_t(m) * k;
  p.y_batch = int64_t(m) * n;
  ASSERT_TRUE(simt_conv::supported(p));
  Buffer partial(4 * ds, 4);
  for (int splits : {1, 4})
  for (int tile = 0; tile < simt_conv::kTileCount; ++tile) {
    if (splits > 1 && batches > 1) continue;  // split-K takes one problem
    p.splits = splits, p.partial = splits > 1 ? static_cast<float*>(partial.data) : nullptr;
    ASSERT_TRUE(simt_conv::supported(p));
    std::memset(db.data, 0xA5, ds * 4);
    simt_conv::with_kernel(p, tile, [&](auto kernel) {
      host_run_grid_sync(simt_conv::blocks(p, tile), simt_conv::kThreads, [&] { kernel(p); });
    });
    if (splits > 1) host_split_reduce<SplitReduce>(simt_conv::reduce_params(p));
    size_t bad = 0;
    for (int q = 0; q < batches; ++q)
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
          double acc = bias[j];
          const float* bq = b + (shared_b ? 0 : size_t(q) * k * n);
          for (int e = 0; e < k; ++e) acc += double(a[(size_t(q) * m + i) * k + e]) * bq[size_t(e) * n + j];
          double want = host_activate64(acc, activation, 0, 0, 0);
          double got = p.y[(size_t(q) * m + i) * n + j];
          if (!(std::abs(got - want) <= 1e-5 + 1e-5 * std::abs(want)) && ++bad <= 5)
            ADD_FAILURE() << "tile " << tile << " (" << q << "," << i << "," << j << ") got " << got
                          << " want " << want;
        }
    EXPECT_EQ(bad, 0u) << "tile " << tile;
  }
}

TEST(SimtConvHost, MatmulAsTheOneByOneCase) {
  check_matmul(1, 1, 96, 70, true, kConvActNone);   // a classifier's row vector
  check_matmul(3, 20, 33, 65, false, kConvActRelu);  // attention-like: every batch its own b
  check_matmul(2, 67, 16, 40, true, kConvActNone);   // b shared by the batch
}

TEST(SimtConvHost, RefusesWhatItCannotTake) {
  SimtConvParams p{};
  p.n = 1, p.c = 3, p.in_h = p.in_w = 4, p.k = 8, p.oh = p.ow = 4, p.kh = p.kw = 1;
  p.stride_h = p.stride_w = p.dil_h = p.dil_w = 1;
  EXPECT_TRUE(simt_conv::supported(p));
  SimtConvParams q = p;
  q.oh = 0;  // an empty output
  EXPECT_FALSE(simt_conv::supported(q));
  q = p, q.n = 1 << 16, q.in_h = q.in_w = 1 << 8;  // past 32-bit indices
  EXPECT_FALSE(simt_conv::supported(q));
  q = p, q.splits = 2;  // split-K with nowhere to put the partial sums
  EXPECT_FALSE(simt_conv::supported(q));
  float partial[256];
  q.partial = partial;
  EXPECT_TRUE(simt_conv::supported(q));
  q.batches = 2;  // split-K takes one problem
  EXPECT_FALSE(simt_conv::supported(q));
}

}  // namespace
}  // namespace cppnn::detail::cuda
