// The fused attention kernel (src/backends/cuda/kernels/attention.cuh), compiled as host C++
// and run with each block's threads as fibers (host_grid.h), the warp operations emulated
// (host_mma.cpp), against softmax(Q K^T * scale + mask) V in float64 written here. This
// checks without a GPU the tiling over queries and keys (lengths that are not multiples of
// the tiles), the fragment layouts of both products, the online softmax across key tiles,
// the strided layouts (BSHD as exported models hold Q, K, V and the output, BHSD), the
// broadcast masks in float16 and float32, and the rows every key of which is masked.
// tests/gpu checks the kernel on a device against the CPU backend's unfused graph.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "cuda_host/host_kernel_support.h"
#include "backends/cuda/kernels/attention.cuh"

namespace cppnn::detail::cuda {
namespace {

struct Case {
  std::string name;
  int batch = 1, heads = 2, sq = 16, sk = 16, d = 64;
  bool bshd = true;  // Q, K, V and the output as [b, s, h, d]; else [b, h, s, d]
  AttentionMask mask = AttentionMask::none;
  bool mask_per_query = false;  // [b, 1, sq, sk]; else [b, 1, 1, sk] (a padding mask)
  int masked_keys = 0;          // the last keys masked with -inf (or -10000 in float16 masks)
  bool all_masked_row = false;  // query row 0 of batch 0 masked everywhere (-inf)
  bool zero_nan_rows = false;
  float scale = 0.125f;
  bool causal = false;           // a boolean [sq, sk] mask, key > query filled
  float fill = -INFINITY;
  bool fill_where_true = false;  // cond holds "masked" (masked_fill) rather than "kept" (where)
  int multiprocessors = 0;       // > 0: split the keys as for a GPU of that many
  int expect_splits = 1;
  // The kernel's own causal mask (p.causal): key k hidden from query q when k > q + offset.
  bool causal_kernel = false;
  int causal_offset = 0;
  // K and V of the keys no query sees (k > sq - 1 + offset) set to NaN: a kernel that reads
  // them (rather than skipping their tiles or zero-filling them) writes NaN.
  bool poison_unseen_keys = false;
  // Q, K and V as the column ranges of one [b, s, 3 * heads * d] tensor (a merged
  // projection, read in place: fuse_attention's "qOffset" views); sq == sk, BSHD.
  bool merged_qkv = false;
};

AttentionStrides strides_of(const Case& c, int s) {
  if (c.bshd) return {int64_t(s) * c.heads * c.d, c.d, int64_t(c.heads) * c.d};
  return {int64_t(c.heads) * s * c.d, int64_t(s) * c.d, c.d};
}

void check(const Case& c) {
  SCOPED_TRACE(c.name);
  std::mt19937 rng(uint32_t(std::hash<std::string>{}(c.name)));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const size_t nq = size_t(c.batch) * c.heads * c.sq * c.d, nk = size_t(c.batch) * c.heads * c.sk * c.d;
  Buffer qb(nq, 2), kb(nk, 2), vb(nk, 2), ob(nq, 2), qkvb(c.merged_qkv ? 3 * nq : 1, 2);
  auto fill = [&](void* b, size_t n, float scale) {
    __half* h = static_cast<__half*>(b);
    for (size_t i = 0; i < n; ++i) h[i] = __float2half_rn(dist(rng) * scale);
  };
  void* q = qb.data;
  void* kk = kb.data;
  void* vv = vb.data;
  AttentionStrides qs = strides_of(c, c.sq), ks = strides_of(c, c.sk);
  if (c.merged_qkv) {
    const int64_t cols = 3 * int64_t(c.heads) * c.d;
    q = qkvb.data, kk = static_cast<__half*>(q) + c.heads * c.d, vv = static_cast<__half*>(q) + 2 * c.heads * c.d;
    qs = ks = {int64_t(c.sq) * cols, c.d, cols};
    fill(q, 3 * nq, 1.0f);
  } else {
    fill(q, nq, 1.0f), fill(kk, nk, 1.0f), fill(vv, nk, 1.0f);
  }
  auto hidden = [&](int i, int k) { return c.causal_kernel && int64_t(k) > int64_t(i) + c.causal_offset; };
  if (c.poison_unseen_keys)
    for (int b = 0; b < c.batch; ++b)
      for (int h = 0; h < c.heads; ++h)
        for (int k = 0; k < c.sk; ++k)
          if (hidden(c.sq - 1, k))
            for (int d = 0; d < c.d; ++d) {
              static_cast<__half*>(kk)[b * ks.b + h * ks.h + k * ks.s + d] = __float2half_rn(NAN);
              static_cast<__half*>(vv)[b * ks.b + h * ks.h + k * ks.s + d] = __float2half_rn(NAN);
            }
  // The mask: [batch, 1, sq or 1, sk].
  const int mrows = c.mask_per_query ? c.sq : 1;
  const size_t nm = size_t(c.batch) * mrows * c.sk;
  std::vector<float> mask(nm, 0.0f);
  for (int b = 0; b < c.batch; ++b)
    for (int r = 0; r < mrows; ++r)
      for (int k = 0; k < c.sk; ++k) {
        float v = c.mask_per_query ? representable(dist(rng), true) : 0.0f;
        if (k >= c.sk - c.masked_keys) v = c.mask == AttentionMask::f16 ? -10000.0f : -INFINITY;
        if (c.all_masked_row && b == 0 && r == 0) v = -INFINITY;
        mask[(size_t(b) * mrows + r) * c.sk + k] = v;
      }
  Buffer mb(nm, c.mask == AttentionMask::f32 ? 4 : 2);
  for (size_t i = 0; i < nm; ++i) {
    if (c.mask == AttentionMask::f32) static_cast<float*>(mb.data)[i] = mask[i];
    else static_cast<__half*>(mb.data)[i] = __float2half_rn(mask[i]);
  }
  AttentionParams p;
  p.q = q, p.k = kk, p.v = vv, p.out = ob.data;
  p.qs = qs, p.ks = p.vs = ks, p.os = strides_of(c, c.sq);
  p.batch = c.batch, p.heads = c.heads, p.sq = c.sq, p.sk = c.sk, p.head_dim = c.d;
  p.scale = c.scale, p.zero_nan_rows = c.zero_nan_rows;
  if (c.mask != AttentionMask::none) {
    p.mask = mb.data, p.mask_type = c.mask;
    p.mask_b = int64_t(mrows) * c.sk, p.mask_h = 0, p.mask_q = c.mask_per_query ? c.sk : 0, p.mask_k = 1;
  }
  // The causal condition: kept (key <= query) or, with fill_where_true, masked.
  std::vector<uint8_t> cond(size_t(c.sq) * size_t(c.sk));
  for (int i = 0; i < c.sq; ++i)
    for (int k = 0; k < c.sk; ++k) cond[size_t(i) * size_t(c.sk) + size_t(k)] = uint8_t((k > i) == c.fill_where_true);
  if (c.causal) {
    p.cond = cond.data(), p.cond_q = c.sk, p.cond_k = 1, p.fill = c.fill, p.fill_where_true = c.fill_where_true;
  }
  p.causal = c.causal_kernel, p.causal_offset = c.causal_offset;
  std::vector<float> partial;
  if (c.multiprocessors > 0) {
    attention::choose_splits(p, c.multiprocessors, size_t(64) << 20);
    ASSERT_EQ(p.splits, c.expect_splits);
    partial.assign(attention::partial_bytes(p) / sizeof(float), NAN);
    p.partial = partial.data();
  }
  ASSERT_TRUE(attention::supported(p));
  ASSERT_TRUE(attention::with_kernel(p, [&](auto kernel) {
    host_run_grid_sync(attention::blocks(p), attention::kThreads, [&] { kernel(p); });
  }));
  if (p.splits > 1)
    host_run_grid_sync(attention::combine_blocks(p), attention::kCombineThreads,
                       [&] { attention::combine_kernel(p); });

  auto at = [](const void* b, const AttentionStrides& s, int bi, int h, int i, int d) {
    return double(__half2float(static_cast<const __half*>(b)[bi * s.b + h * s.h + i * s.s + d]));
  };
  const AttentionStrides os = strides_of(c, c.sq);
  size_t bad = 0;
  double worst = 0.0;
  for (int b = 0; b < c.batch; ++b)
    for (int h = 0; h < c.heads; ++h)
      for (int i = 0; i < c.sq; ++i) {
        std::vector<double> w(size_t(c.sk));
        double mx = -INFINITY;
        for (int k = 0; k < c.sk; ++k) {
          if (hidden(i, k)) {  // not even read: its K and V may be NaN
            w[size_t(k)] = -INFINITY;
            continue;
          }
          double s = 0.0;
          for (int d = 0; d < c.d; ++d) s += at(q, qs, b, h, i, d) * at(kk, ks, b, h, k, d);
          s *= c.scale;
          if (c.causal && k > i) s = c.fill;
          if (c.mask != AttentionMask::none) {
            float m = mask[(size_t(b) * mrows + (c.mask_per_query ? i : 0)) * c.sk + k];
            s += c.mask == AttentionMask::f16 ? double(representable(m, true)) : double(m);
          }
          w[size_t(k)] = s;
          mx = std::max(mx, s);
        }
        double sum = 0.0;
        for (double& x : w) sum += (x = std::exp(x - mx));
        const bool nan_row = !(sum > 0.0) || std::isnan(sum);
        for (int d = 0; d < c.d; ++d) {
          double ref = 0.0;
          for (int k = 0; k < c.sk; ++k)
            if (!hidden(i, k)) ref += w[size_t(k)] / sum * at(vv, ks, b, h, k, d);
          const double got = at(ob.data, os, b, h, i, d);
          if (nan_row) {
            bool ok = c.zero_nan_rows ? got == 0.0 : std::isnan(got);
            if (!ok && bad++ < 5) ADD_FAILURE() << "row " << i << " (all masked) d " << d << ": " << got;
            continue;
          }
          // P is rounded to float16 before the second product (as cuBLAS would take it):
          // ~2^-11 relative per term, V ~ N(0, 1).
          const double err = std::fabs(got - ref);
          worst = std::max(worst, err);
          if (!(err <= 4e-3 + 4e-3 * std::fabs(ref)) && bad++ < 5)
            ADD_FAILURE() << "b " << b << " h " << h << " row " << i << " d " << d << ": " << got
                          << " vs " << ref;
        }
      }
  EXPECT_EQ(bad, 0u) << "worst " << worst;
}

TEST(AttentionHost, TilesAndLayouts) {
  check({"one tile, BSHD"});
  Case c;
  c.name = "keys over two tiles and a partial third, queries over two blocks";
  c.sq = 70, c.sk = 150, c.heads = 1;
  check(c);
  c = Case{};
  c.name = "BHSD, two batches, head dim 32";
  c.bshd = false, c.batch = 2, c.sq = 9, c.sk = 65, c.d = 32;
  check(c);
  c = Case{};
  c.name = "head dim 80";
  c.d = 80, c.sq = 20, c.sk = 33, c.heads = 1;
  check(c);
  c = Case{};
  c.name = "head dim 128, large scores";
  c.d = 128, c.sq = 17, c.sk = 70, c.heads = 1, c.scale = 0.5f;
  check(c);
}

TEST(AttentionHost, Masks) {
  Case c;
  c.name = "float16 padding mask [b,1,1,sk]: the last 8 keys at -10000";
  c.batch = 2, c.sq = 24, c.sk = 72, c.mask = AttentionMask::f16, c.masked_keys = 8;
  check(c);
  c = Case{};
  c.name = "float32 mask per query, last 64 keys -inf (a whole tile)";
  c.sq = 20, c.sk = 130, c.mask = AttentionMask::f32, c.mask_per_query = true, c.masked_keys = 66;
  check(c);
  c = Case{};
  c.name = "a row masked everywhere: NaN";
  c.sq = 5, c.sk = 70, c.mask = AttentionMask::f32, c.mask_per_query = true, c.all_masked_row = true;
  check(c);
  c.name = "a row masked everywhere: zeros (zero_nan_rows)";
  c.zero_nan_rows = true;
  check(c);
}

TEST(AttentionHost, BooleanMaskFilledFirst) {
  Case c;
  c.name = "causal where(cond, s, -inf), prefill 100";
  c.sq = c.sk = 100, c.causal = true;
  check(c);
  c.name = "causal masked_fill(cond, -10000) then a float16 padding mask";
  c.fill = -10000.0f, c.fill_where_true = true, c.mask = AttentionMask::f16, c.masked_keys = 3, c.batch = 2;
  check(c);
}

// The kernel's causal mask (fuse_attention's "causal"): only the key tiles a query block
// sees are walked, the diagonal ones masked from indices; the last query blocks run first.
TEST(AttentionHost, Causal) {
  for (int d : {64, 128}) {
    Case c;
    c.d = d, c.causal_kernel = true;
    c.name = "prefill 150 (not a multiple of 64), offset 0, d " + std::to_string(d);
    c.sq = c.sk = 150, c.heads = 2;
    check(c);
    c.name = "prefill 70 after a past of 100: offset 100, 170 keys, d " + std::to_string(d);
    c.sq = 70, c.sk = 170, c.causal_offset = 100, c.bshd = false;
    check(c);
    c.name = "offset 5, keys beyond what any query sees are NaN (never read), d " + std::to_string(d);
    c.sq = 90, c.sk = 260, c.causal_offset = 5, c.poison_unseen_keys = true, c.heads = 1;
    check(c);
  }
  Case c;
  c.name = "causal with a float16 padding mask and the zeroed NaN rows flag";
  c.causal_kernel = true, c.sq = c.sk = 100, c.batch = 2, c.mask = AttentionMask::f16, c.masked_keys = 5;
  c.zero_nan_rows = true;
  check(c);
  c.name = "causal with a float32 mask per query, a row hidden everywhere by the mask: NaN";
  c.mask = AttentionMask::f32, c.mask_per_query = true, c.masked_keys = 0, c.all_masked_row = true;
  c.zero_nan_rows = false, c.batch = 1, c.sq = c.sk = 70;
  check(c);
  c = Case{};
  c.name = "causal and a boolean cond (where) together";
  c.causal_kernel = true, c.causal = true, c.fill = -10000.0f, c.sq = 40, c.sk = 80, c.causal_offset = 40;
  check(c);
}

TEST(AttentionHost, MergedProjectionReadInPlace) {
  Case c;
  c.name = "q, k, v as columns of one [b, s, 3 * h * d], causal, d 64";
  c.merged_qkv = true, c.causal_kernel = true, c.batch = 2, c.heads = 3, c.sq = c.sk = 77;
  check(c);
  c.name = "the same, d 128, a float16 padding mask";
  c.d = 128, c.causal_kernel = false, c.mask = AttentionMask::f16, c.masked_keys = 4;
  check(c);
}

TEST(AttentionHost, CausalSplitKeys) {
  Case c;
  c.name = "decode with a past of 299: one query, all 300 keys visible, 2 splits";
  c.causal_kernel = true, c.causal_offset = 299;
  c.sq = 1, c.sk = 300, c.heads = 3, c.multiprocessors = 4, c.expect_splits = 2;
  check(c);
  c.name = "the same at head dim 128, 3 splits";
  c.d = 128, c.sk = 520, c.causal_offset = 519, c.heads = 1, c.multiprocessors = 2, c.expect_splits = 3;
  check(c);
  c = Case{};
  c.name = "short prefill after a past: 20 queries, offset 180, 2 splits";
  c.causal_kernel = true, c.causal_offset = 180;
  c.sq = 20, c.sk = 200, c.heads = 2, c.multiprocessors = 3, c.expect_splits = 2, c.d = 64;
  check(c);
  c.name = "offset 0: the second split sees no key (an empty partial row), the unseen keys NaN";
  c.causal_offset = 0, c.poison_unseen_keys = true;
  check(c);
  c.name = "the same with zero_nan_rows and a float32 mask per query";
  c.zero_nan_rows = true, c.mask = AttentionMask::f32, c.mask_per_query = true;
  check(c);
}

TEST(AttentionHost, SplitKeys) {
  Case c;
  c.name = "decode: one query over 300 keys in 2 splits";
  c.sq = 1, c.sk = 300, c.heads = 3, c.multiprocessors = 4, c.expect_splits = 2;
  c.mask = AttentionMask::f32, c.mask_per_query = true, c.masked_keys = 10;
  check(c);
  c = Case{};
  c.name = "decode: 9 key tiles, 4 splits asked, 3 of 3 tiles taken (none left empty)";
  c.sq = 1, c.sk = 520, c.heads = 1, c.multiprocessors = 2, c.expect_splits = 3, c.d = 128;
  check(c);
  c = Case{};
  c.name = "short prefill split in 2, a row masked everywhere zeroed";
  c.sq = 20, c.sk = 200, c.heads = 2, c.multiprocessors = 3, c.expect_splits = 2, c.d = 32;
  c.mask = AttentionMask::f32, c.mask_per_query = true, c.all_masked_row = true, c.zero_nan_rows = true;
  check(c);
  c.name = "the same, NaN";
  c.zero_nan_rows = false;
  check(c);
  c = Case{};
  c.name = "grid already full: no split";
  c.sq = 130, c.sk = 300, c.heads = 2, c.multiprocessors = 4, c.expect_splits = 1;
  check(c);
}

TEST(AttentionHost, Unsupported) {
  AttentionParams p;
  __half data[64] = {};
  p.q = p.k = p.v = data, p.out = data;
  p.batch = p.heads = p.sq = p.sk = 1, p.head_dim = 64;
  p.qs = p.ks = p.vs = p.os = {64, 64, 64};
  EXPECT_TRUE(attention::supported(p) || reinterpret_cast<uintptr_t>(data) % 16 != 0);
  p.head_dim = 48;
  EXPECT_FALSE(attention::supported(p));
  p.head_dim = 64, p.qs.s = 68;
  EXPECT_FALSE(attention::supported(p)) << "a stride that is not a multiple of 8 halves";
  p.qs.s = 64, p.mask_type = AttentionMask::f16;
  EXPECT_FALSE(attention::supported(p)) << "a mask type without a mask";
  p.mask_type = AttentionMask::none, p.causal = true, p.causal_offset = -1;
  EXPECT_FALSE(attention::supported(p)) << "a causal offset that hides every key of row 0";
}

}  // namespace
}  // namespace cppnn::detail::cuda
