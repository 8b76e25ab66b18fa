// The float16 tensor-core convolution (src/backends/cuda/kernels/tensor_conv.cuh), compiled
// as host C++ and run with each block's threads as fibers (host_grid.h), mma emulated over
// the warp from the PTX ISA's fragment layouts, against a float64 convolution written here.
// This checks without a GPU the tiling, both shared-memory buffers and the barriers between
// them, the implicit-GEMM addressing (padding, strides, dilations, taps), partial tiles, the
// fragment layouts, and the epilogue. A fragment layout read wrongly here and on the GPU
// alike would pass: tests/gpu checks the kernel on a device against the CPU backend.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda_host/host_kernel_support.h"
#include "backends/cuda/kernels/tensor_conv.cuh"

namespace cppnn::detail::cuda {

namespace {

struct SplitReduce {
  template <typename Run>
  static void with_kernel(const SplitReduceParams& r, Run&& run) { split_reduce::with_kernel(r, run); }
};

}  // namespace

namespace {

struct Case {
  std::string name;
  int n = 1, c = 16, h = 7, w = 9, k = 24;
  int kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int top = 0, bottom = 0, left = 0, right = 0;
  bool bias = true, residual = false, residual_in_place = false;
  int activation = kConvActNone;
  float lo = 0.0f, hi = 6.0f, alpha = 0.2f;
};

void check(const Case& cs) {
  SCOPED_TRACE(cs.name);
  const int oh = (cs.h + cs.top + cs.bottom - ((cs.kh - 1) * cs.dh + 1)) / cs.sh + 1;
  const int ow = (cs.w + cs.left + cs.right - ((cs.kw - 1) * cs.dw + 1)) / cs.sw + 1;
  const size_t xs = size_t(cs.n) * cs.h * cs.w * cs.c, ys = size_t(cs.n) * oh * ow * cs.k;
  const size_t ws = size_t(cs.k) * cs.kh * cs.kw * cs.c;
  std::mt19937 rng(uint32_t(std::hash<std::string>{}(cs.name)));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  auto values = [&](size_t count, float scale) {
    std::vector<float> v(count);
    for (float& e : v) e = representable(dist(rng) * scale, true);
    return v;
  };
  std::vector<float> x = values(xs, 1.0f), w = values(ws, 0.25f), bias = values(size_t(cs.k), 0.5f),
                     res = values(ys, 1.0f);
  Buffer xb(xs, 2), wb(ws, 2), bb(size_t(cs.k), 2), rb(ys, 2), yb(ys, 2);
  auto put = [](const Buffer& b, const std::vector<float>& v) {
    for (size_t i = 0; i < v.size(); ++i) static_cast<__half*>(b.data)[i] = __float2half_rn(v[i]);
  };
  put(xb, x), put(wb, w), put(bb, bias), put(rb, res);
  TensorConvParams p{};
  p.x = xb.data, p.w = wb.data, p.bias = cs.bias ? bb.data : nullptr;
  p.residual = cs.residual_in_place ? yb.data : cs.residual ? rb.data : nullptr;
  p.y = yb.data;
  p.n = cs.n, p.c = cs.c, p.in_h = cs.h, p.in_w = cs.w, p.k = cs.k, p.oh = oh, p.ow = ow;
  p.kh = cs.kh, p.kw = cs.kw, p.stride_h = cs.sh, p.stride_w = cs.sw, p.dil_h = cs.dh, p.dil_w = cs.dw;
  p.pad_top = cs.top, p.pad_left = cs.left;
  p.activation = cs.activation, p.lo = cs.lo, p.hi = cs.hi, p.alpha = cs.alpha;
  ASSERT_TRUE(tensor_conv::supported(p));

  std::vector<double> want(ys);
  for (int b = 0; b < cs.n; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int o = 0; o < cs.k; ++o) {
          double acc = 0;
          for (int ky = 0; ky < cs.kh; ++ky)
            for (int kx = 0; kx < cs.kw; ++kx) {
              int iy = oy * cs.sh - cs.top + ky * cs.dh, ix = ox * cs.sw - cs.left + kx * cs.dw;
              if (iy < 0 || iy >= cs.h || ix < 0 || ix >= cs.w) continue;
              for (int ci = 0; ci < cs.c; ++ci)
                acc += double(x[((size_t(b) * cs.h + iy) * cs.w + ix) * cs.c + ci]) *
                       w[((size_t(o) * cs.kh + ky) * cs.kw + kx) * cs.c + ci];
            }
          size_t at = ((size_t(b) * oh + oy) * ow + ox) * cs.k + o;
          if (cs.bias) acc += bias[size_t(o)];
          if (cs.residual || cs.residual_in_place) acc += res[at];
          want[at] = host_activate64(acc, cs.activation, cs.lo, cs.hi, cs.alpha);
        }

  // Split-K in 3 parts: uneven when the reduction has no multiple of 3 steps, and a last
  // part with no step at all when it has 2.
  Buffer partial(3 * ys, 4);
  for (int splits : {1, 3})
  for (int tile = 0; tile < tensor_conv::kTileCount; ++tile) {
    SCOPED_TRACE("tile " + std::to_string(tensor_conv::kTiles[tile].bm) + "x" +
                 std::to_string(tensor_conv::kTiles[tile].bn) + " splits " + std::to_string(splits));
    p.splits = splits, p.partial = splits > 1 ? static_cast<float*>(partial.data) : nullptr;
    ASSERT_TRUE(tensor_conv::supported(p));
    std::memset(yb.data, 0xA5, ys * 2);  // an element the kernel misses shows
    std::memset(partial.data, 0xA5, 3 * ys * 4);
    if (cs.residual_in_place) put(yb, res);
    tensor_conv::with_kernel(p, tile, [&](auto kernel) {
      host_run_grid_sync(tensor_conv::blocks(p, tile), tensor_conv::kThreads, [&] { kernel(p); });
    });
    if (splits > 1) host_split_reduce<SplitReduce>(tensor_conv::reduce_params(p));
    size_t bad = 0;
    for (size_t at = 0; at < ys; ++at) {
      double got = __half2float(static_cast<const __half*>(yb.data)[at]);
      // float accumulation, then one float16 rounding (2^-11 relative).
      if (!(std::abs(got - want[at]) <= 2e-3 + std::abs(want[at]) / 1024)) {
        if (++bad <= 5) ADD_FAILURE() << "element " << at << " got " << got << " want " << want[at];
      }
    }
    EXPECT_EQ(bad, 0u) << bad << " of " << ys << " elements off";
  }
}

TEST(TensorConvHost, OneByOneIsAPlainGemm) {
  Case c;
  c.name = "1x1 partial tiles bias relu";  // 63 rows, 24 columns: one partial tile each way
  c.activation = kConvActRelu;
  check(c);
  c.name = "1x1 several tiles, long reduction";  // 2 x 81 rows, 72 columns, 96 channels
  c.n = 2, c.h = c.w = 9, c.k = 72, c.c = 96, c.activation = kConvActClamp;
  check(c);
}

TEST(TensorConvHost, WindowsPaddingStridesDilations) {
  Case c;
  c.name = "3x3 pad 1 residual in place clamp";
  c.kh = c.kw = 3, c.top = c.bottom = c.left = c.right = 1, c.residual_in_place = true;
  c.activation = kConvActClamp, c.k = 16;
  check(c);
  c = Case{};
  c.name = "3x3 stride 2 asymmetric pad dilation 2 gelu";
  c.c = 8, c.k = 10, c.kh = c.kw = 3, c.sh = c.sw = 2, c.dh = 2, c.dw = 3, c.top = 2, c.bottom = 1, c.left = 0,
  c.right = 3, c.activation = kConvActGelu, c.h = 11, c.w = 10;
  check(c);
  c = Case{};
  c.name = "1x1 stride 2 downsample residual no bias";
  c.sh = c.sw = 2, c.bias = false, c.residual = true, c.h = 10, c.w = 8, c.k = 32;
  check(c);
  c = Case{};
  c.name = "7x7 stride 2 pad 3 two images hardswish";
  c.n = 2, c.c = 8, c.k = 64, c.kh = c.kw = 7, c.sh = c.sw = 2, c.top = c.bottom = c.left = c.right = 3;
  c.h = c.w = 12, c.activation = kConvActHardSwish;
  check(c);
  c = Case{};
  c.name = "3x3 64 channels (18 reduction steps) 130 columns sigmoid";
  c.c = 64, c.k = 130, c.kh = c.kw = 3, c.top = c.bottom = c.left = c.right = 1, c.h = 5, c.w = 6;
  c.activation = kConvActSigmoid;
  check(c);
}

TEST(TensorConvHost, ChannelsNotAMultipleOf8Gather) {
  Case c;
  c.name = "stem: 3 channels 7x7 stride 2 pad 3 relu";  // ResNet-50's first conv
  c.n = 2, c.c = 3, c.k = 64, c.kh = c.kw = 7, c.sh = c.sw = 2, c.top = c.bottom = c.left = c.right = 3;
  c.h = c.w = 13, c.activation = kConvActRelu;
  check(c);
  c = Case{};
  c.name = "3 channels 3x3 stride 2 clamp";  // MobileNetV2's first conv
  c.c = 3, c.k = 32, c.kh = c.kw = 3, c.sh = c.sw = 2, c.bottom = c.right = 1, c.h = c.w = 12;
  c.activation = kConvActClamp;
  check(c);
  c = Case{};
  c.name = "12 channels 1x1 residual";  // pointwise, gathered
  c.c = 12, c.k = 20, c.residual = true;
  check(c);
}

// Products as the kernel's 1x1 case (own_gemm.h): D[q] = A[q] B[q] + bias, B given as B^T
// [n, k] or as it is [k, n] (filter_kn, gathered), batches on the grid's y, A or B shared.
void check_product(int batches, int m, int k, int n, bool b_as_is, bool shared_a, bool shared_b) {
  std::string what = "product " + std::to_string(batches) + "x" + std::to_string(m) + "x" + std::to_string(k) +
                     "x" + std::to_string(n) + (b_as_is ? " b[k,n]" : " b^T[n,k]") +
                     (shared_a ? " shared a" : "") + (shared_b ? " shared b" : "");
  SCOPED_TRACE(what);
  std::mt19937 rng(uint32_t(m * 7 + k * 131 + n * 3 + batches));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int qa = shared_a ? 1 : batches, qb = shared_b ? 1 : batches;
  std::vector<float> a(size_t(qa) * m * k), b(size_t(qb) * k * n), bias(static_cast<size_t>(n));  // b: [q][k][n]
  for (float& v : a) v = representable(dist(rng), true);
  for (float& v : b) v = representable(dist(rng) * 0.3f, true);
  for (float& v : bias) v = representable(dist(rng), true);
  Buffer ab(a.size(), 2), bb(b.size(), 2), biasb(bias.size(), 2), db(size_t(batches) * m * n, 2);
  __half* ah = static_cast<__half*>(ab.data);
  __half* bh = static_cast<__half*>(bb.data);
  for (size_t i = 0; i < a.size(); ++i) ah[i] = __float2half_rn(a[i]);
  for (int q = 0; q < qb; ++q)
    for (int e = 0; e < k; ++e)
      for (int j = 0; j < n; ++j) {
        float v = b[(size_t(q) * k + e) * n + j];
        bh[b_as_is ? (size_t(q) * k + e) * n + j : (size_t(q) * n + j) * k + e] = __float2half_rn(v);
      }
  for (int j = 0; j < n; ++j) static_cast<__half*>(biasb.data)[j] = __float2half_rn(bias[size_t(j)]);
  TensorConvParams p{};
  p.x = ab.data, p.w = bb.data, p.bias = biasb.data, p.y = db.data;
  p.n = 1, p.c = k, p.in_h = m, p.in_w = 1, p.k = n, p.oh = m, p.ow = 1, p.kh = p.kw = 1;
  p.stride_h = p.stride_w = p.dil_h = p.dil_w = 1;
  p.filter_kn = b_as_is ? 1 : 0, p.batches = batches;
  p.x_batch = shared_a ? 0 : int64_t(m) * k, p.w_batch = shared_b ? 0 : int64_t(k) * n;
  p.y_batch = int64_t(m) * n;
  ASSERT_TRUE(tensor_conv::supported(p));
  // b [k, n] is copied 8 columns at a time (and read with ldmatrix.trans) unless n % 8.
  EXPECT_EQ(tensor_conv::gathers(p), b_as_is && n % 8 != 0);
  for (int tile = 0; tile < tensor_conv::kTileCount; ++tile) {
    std::memset(db.data, 0xA5, size_t(batches) * m * n * 2);
    tensor_conv::with_kernel(p, tile, [&](auto kernel) {
      host_run_grid_sync(tensor_conv::blocks(p, tile), tensor_conv::kThreads, [&] { kernel(p); });
    });
    size_t bad = 0;
    for (int q = 0; q < batches; ++q)
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
          double acc = bias[size_t(j)];
          for (int e = 0; e < k; ++e)
            acc += double(a[(size_t(shared_a ? 0 : q) * m + i) * k + e]) * b[(size_t(shared_b ? 0 : q) * k + e) * n + j];
          double got = __half2float(static_cast<const __half*>(db.data)[(size_t(q) * m + i) * n + j]);
          if (!(std::abs(got - acc) <= 2e-3 + std::abs(acc) / 1024) && ++bad <= 5)
            ADD_FAILURE() << "tile " << tile << " (" << q << "," << i << "," << j << ") got " << got << " want " << acc;
        }
    EXPECT_EQ(bad, 0u) << "tile " << tile;
  }
}

TEST(TensorConvHost, ProductsAsTheOneByOneCase) {
  check_product(1, 37, 64, 24, false, false, false);  // b^T given: 16-byte copies
  check_product(3, 20, 32, 18, true, false, false);   // b [k, n], n % 8: gathered
  check_product(3, 20, 32, 24, true, false, false);   // attention-like, b [k, n]: ldmatrix.trans
  check_product(1, 70, 96, 136, true, false, false);  // one product, b [k, n], partial tiles
  check_product(2, 33, 40, 16, true, true, false);    // a shared, b [k, n]
  check_product(2, 33, 24, 10, true, true, false);    // a shared
  check_product(2, 40, 16, 8, false, false, true);    // b^T shared
}

TEST(TensorConvHost, RefusesWhatItCannotTake) {
  std::vector<uint16_t> buf(1 << 12);
  TensorConvParams p{};
  p.x = p.w = p.y = buf.data();
  p.n = 1, p.c = 16, p.in_h = p.in_w = 4, p.k = 8, p.oh = p.ow = 4, p.kh = p.kw = 1;
  p.stride_h = p.stride_w = p.dil_h = p.dil_w = 1;
  auto aligned16 = reinterpret_cast<uintptr_t>(buf.data()) % 16 == 0;
  if (aligned16) {
    EXPECT_TRUE(tensor_conv::supported(p));
  }
  TensorConvParams q = p;
  q.c = 12;  // channels not a multiple of 8: no 16-byte chunks, the gathering form
  EXPECT_TRUE(tensor_conv::supported(q));
  EXPECT_TRUE(tensor_conv::gathers(q));
  q = p, q.k = 7;  // an odd channel count: no paired stores
  EXPECT_FALSE(tensor_conv::supported(q));
  q = p, q.x = buf.data() + 1;  // an input not 16-byte aligned: the gathering form
  EXPECT_TRUE(tensor_conv::supported(q));
  EXPECT_TRUE(tensor_conv::gathers(q));
  q = p, q.y = reinterpret_cast<uint8_t*>(buf.data()) + 1;  // an output not 2-byte aligned
  EXPECT_FALSE(tensor_conv::supported(q));
  q = p, q.oh = 0;
  EXPECT_FALSE(tensor_conv::supported(q));
  q = p, q.n = 1 << 16, q.in_h = q.in_w = 1 << 8;  // past 32-bit indices
  EXPECT_FALSE(tensor_conv::supported(q));
  q = p, q.splits = 2;  // split-K with nowhere to put the partial sums
  EXPECT_FALSE(tensor_conv::supported(q));
}

}  // namespace
}  // namespace cppnn::detail::cuda
