// The warp-per-row kernels (src/backends/cuda/kernels/row_warp.cuh), compiled as host C++
// and run with each block's threads as fibers (host_grid.h), the shuffles emulated
// (host_mma.cpp), against float64: layerNormalization with and without a fused residual and
// softmax, in float32, float16 and bfloat16, rows shorter than a warp, of every register count, of
// the longest length, more rows than the grid's warps (the grid-stride walk) and a last
// block only partly filled with rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda_host/host_kernel_support.h"
#include "backends/cuda/kernels/row_warp.cuh"

namespace cppnn::detail::cuda {
namespace {

namespace rw = kernels::row_warp;

template <typename T>
void check_layer_norm(int64_t rows, int len, bool residual, unsigned grid, bool vector = false) {
  const bool half = std::is_same_v<T, __half>, bf16 = std::is_same_v<T, __nv_bfloat16>;
  std::string what = std::string(half ? "float16" : bf16 ? "bfloat16" : "float32") + (vector ? " 16-byte" : "") + " layer norm " +
                     std::to_string(rows) + " x " + std::to_string(len) + (residual ? " + residual" : "") +
                     " grid " + std::to_string(grid);
  SCOPED_TRACE(what);
  std::mt19937 rng(uint32_t(std::hash<std::string>{}(what)));
  std::normal_distribution<float> dist(0.7f, 2.0f);
  const size_t n = size_t(rows) * size_t(len);
  const size_t ln = static_cast<size_t>(len);
  std::vector<float> x(n), r(n), scale(ln), bias(ln);
  for (float& v : x) v = representable_as<T>(dist(rng));
  for (float& v : r) v = representable_as<T>(dist(rng));
  for (float& v : scale) v = representable_as<T>(dist(rng));
  for (float& v : bias) v = representable_as<T>(dist(rng));
  Buffer xb(n, sizeof(T)), rb(n, sizeof(T)), sb(ln, sizeof(T)), bb(ln, sizeof(T)), yb(n, sizeof(T));
  for (size_t i = 0; i < n; ++i) {
    static_cast<T*>(xb.data)[i] = to_type<T>(x[i]);
    static_cast<T*>(rb.data)[i] = to_type<T>(r[i]);
  }
  for (size_t i = 0; i < size_t(len); ++i) {
    static_cast<T*>(sb.data)[i] = to_type<T>(scale[i]);
    static_cast<T*>(bb.data)[i] = to_type<T>(bias[i]);
  }
  std::memset(yb.data, 0xA5, n * sizeof(T));
  const float epsilon = 1e-5f;
  const T* res = residual ? static_cast<const T*>(rb.data) : nullptr;
  if (vector) {
    const void* pointers[] = {xb.data, res, sb.data, bb.data, yb.data};
    ASSERT_TRUE(rw::with_vector_length<T>(len, pointers, 5, [&](auto kernel) {
      host_run_grid_sync(grid, rw::kThreads, [&] {
        kernel(static_cast<const T*>(xb.data), res, static_cast<const T*>(sb.data), static_cast<const T*>(bb.data),
               static_cast<T*>(yb.data), rows, epsilon);
      });
    }));
  } else {
    rw::with_length<rw::LayerNorm, T>(len, [&](auto kernel) {
      host_run_grid_sync(grid, rw::kThreads, [&] {
        kernel(static_cast<const T*>(xb.data), res, static_cast<const T*>(sb.data), static_cast<const T*>(bb.data),
               static_cast<T*>(yb.data), rows, len, epsilon);
      });
    });
  }
  size_t bad = 0;
  for (int64_t row = 0; row < rows; ++row) {
    std::vector<double> v(static_cast<size_t>(len));
    double mean = 0, var = 0;
    for (int i = 0; i < len; ++i) {
      size_t at = size_t(row) * size_t(len) + size_t(i);
      v[size_t(i)] = double(x[at]) + (residual ? double(r[at]) : 0.0);
      mean += v[size_t(i)];
    }
    mean /= len;
    for (double e : v) var += (e - mean) * (e - mean);
    var /= len;
    for (int i = 0; i < len; ++i) {
      double want = (v[size_t(i)] - mean) / std::sqrt(var + epsilon) * scale[size_t(i)] + bias[size_t(i)];
      double got = from_type(static_cast<const T*>(yb.data)[size_t(row) * size_t(len) + size_t(i)]);
      // bfloat16: the result's one rounding, 2^-9 relative, with the float16 margin.
      double tol = bf16 ? 8e-3 * (1 + std::abs(want)) : half ? 4e-3 * (1 + std::abs(want)) : 2e-5 * (1 + std::abs(want));
      if (!(std::abs(got - want) <= tol) && ++bad <= 5)
        ADD_FAILURE() << "row " << row << " position " << i << " got " << got << " want " << want;
    }
  }
  EXPECT_EQ(bad, 0u);
}

template <typename T>
void check_softmax(int64_t rows, int len, unsigned grid) {
  const bool half = std::is_same_v<T, __half>, bf16 = std::is_same_v<T, __nv_bfloat16>;
  std::string what = std::string(half ? "float16" : bf16 ? "bfloat16" : "float32") + " softmax " + std::to_string(rows) + " x " +
                     std::to_string(len);
  SCOPED_TRACE(what);
  std::mt19937 rng(uint32_t(std::hash<std::string>{}(what)));
  std::normal_distribution<float> dist(0.0f, 3.0f);
  const size_t n = size_t(rows) * size_t(len);
  std::vector<float> x(n);
  for (float& v : x) v = representable_as<T>(dist(rng));
  x[1] = -INFINITY;  // a masked position
  Buffer xb(n, sizeof(T)), yb(n, sizeof(T));
  for (size_t i = 0; i < n; ++i) static_cast<T*>(xb.data)[i] = to_type<T>(x[i]);
  std::memset(yb.data, 0xA5, n * sizeof(T));
  rw::with_length<rw::Softmax, T>(len, [&](auto kernel) {
    host_run_grid_sync(grid, rw::kThreads, [&] {
      kernel(static_cast<const T*>(xb.data), static_cast<T*>(yb.data), rows, len);
    });
  });
  size_t bad = 0;
  for (int64_t row = 0; row < rows; ++row) {
    const float* xr = &x[size_t(row) * size_t(len)];
    double m = -INFINITY, s = 0;
    for (int i = 0; i < len; ++i) m = std::max(m, double(xr[i]));
    for (int i = 0; i < len; ++i) s += std::exp(double(xr[i]) - m);
    for (int i = 0; i < len; ++i) {
      double want = std::exp(double(xr[i]) - m) / s;
      double got = from_type(static_cast<const T*>(yb.data)[size_t(row) * size_t(len) + size_t(i)]);
      double tol = bf16 ? 4e-3 * want + 1e-7 : half ? 1e-3 * want + 1e-7 : 1e-6 * want + 1e-12;
      if (!(std::abs(got - want) <= tol) && ++bad <= 5)
        ADD_FAILURE() << "row " << row << " position " << i << " got " << got << " want " << want;
    }
  }
  EXPECT_EQ(bad, 0u);
}

TEST(RowWarpHost, LayerNorm) {
  for (int len : {7, 100, 256, 300, 768, 1024}) {
    check_layer_norm<float>(19, len, false, 2);  // 16 warps for 19 rows: some walk twice
    check_layer_norm<__half>(5, len, true, 1);   // a block with 3 idle warps
  }
  check_layer_norm<float>(3, 768, true, 1);
  for (int len : {7, 256, 768}) check_layer_norm<__nv_bfloat16>(5, len, true, 1);
}

TEST(RowWarpHost, LayerNormSixteenByteLoads) {
  for (int len : {256, 768, 1024}) {
    check_layer_norm<__half>(19, len, true, 2, true);
    check_layer_norm<__half>(5, len, false, 1, true);
  }
  for (int len : {128, 384, 512}) check_layer_norm<float>(11, len, true, 1, true);
  for (int len : {256, 768}) check_layer_norm<__nv_bfloat16>(7, len, false, 1, true);
  // Rows the 16-byte kernel does not take, or a misaligned pointer: not taken.
  __half* h = nullptr;
  const void* aligned[] = {h};
  EXPECT_FALSE(rw::with_vector_length<__half>(300, aligned, 1, [](auto) {}));
  EXPECT_FALSE(rw::with_vector_length<__half>(2048, aligned, 1, [](auto) {}));
  const void* odd[] = {reinterpret_cast<const void*>(uintptr_t(8))};
  EXPECT_FALSE(rw::with_vector_length<__half>(768, odd, 1, [](auto) {}));
}

TEST(RowWarpHost, Softmax) {
  for (int len : {16, 77, 128, 500, 1024}) {
    check_softmax<__half>(19, len, 2);
    check_softmax<float>(3, len, 1);
    check_softmax<__nv_bfloat16>(5, len, 1);
  }
}

}  // namespace
}  // namespace cppnn::detail::cuda
