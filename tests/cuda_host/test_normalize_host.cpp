// The normalization kernel (src/backends/cuda/kernels/normalize.cuh), compiled as host C++ and
// run with each block's threads as fibers (host_grid.h), against float64: layerNormalization
// over contiguous rows and over axes found through strides, and instanceNormalization's
// per-channel form, in float32 and float16; rows longer and shorter than the block, and more
// rows than blocks (the grid-stride loop).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda_host/host_kernel_support.h"
#include "backends/cuda/kernels/normalize.cuh"

namespace cppnn::detail::cuda {
namespace {

using kernels::ContiguousRows;
using kernels::kThreads;
using kernels::LayerNormAxes;

// Runs the kernel over `x` with `rows` and compares with float64: element (row r, position i)
// is x[offset(r, i)], scale and bias indexed by `param_index(r, i)`.
template <typename T, typename Rows, typename Offset, typename ParamIndex>
void check(const std::string& what, const Rows& rows, size_t elements, size_t params, unsigned grid,
           Offset offset, ParamIndex param_index) {
  SCOPED_TRACE(what);
  const bool half = std::is_same_v<T, __half>, bf16 = std::is_same_v<T, __nv_bfloat16>;
  std::mt19937 rng(uint32_t(std::hash<std::string>{}(what)));
  std::normal_distribution<float> dist(0.5f, 2.0f);
  std::vector<float> x(elements), scale(params), bias(params);
  for (float& v : x) v = representable_as<T>(dist(rng));
  for (float& v : scale) v = representable_as<T>(dist(rng));
  for (float& v : bias) v = representable_as<T>(dist(rng));
  Buffer xb(elements, sizeof(T)), sb(params, sizeof(T)), bb(params, sizeof(T)), yb(elements, sizeof(T));
  for (size_t i = 0; i < elements; ++i) static_cast<T*>(xb.data)[i] = to_type<T>(x[i]);
  for (size_t i = 0; i < params; ++i) {
    static_cast<T*>(sb.data)[i] = to_type<T>(scale[i]);
    static_cast<T*>(bb.data)[i] = to_type<T>(bias[i]);
  }
  std::memset(yb.data, 0xA5, elements * sizeof(T));  // an element the kernel misses shows
  const float epsilon = 1e-5f;
  host_run_grid_sync(grid, kThreads, [&] {
    kernels::normalize_kernel<T>(static_cast<const T*>(xb.data), static_cast<const T*>(sb.data),
                                 static_cast<const T*>(bb.data), static_cast<T*>(yb.data), rows, epsilon);
  });
  size_t bad = 0;
  for (int64_t r = 0; r < rows.count; ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < rows.len; ++i) mean += x[offset(r, i)];
    mean /= double(rows.len);
    for (int64_t i = 0; i < rows.len; ++i) var += (x[offset(r, i)] - mean) * (x[offset(r, i)] - mean);
    var /= double(rows.len);
    for (int64_t i = 0; i < rows.len; ++i) {
      size_t p = param_index(r, i);
      double want = (x[offset(r, i)] - mean) / std::sqrt(var + epsilon) * scale[p] + bias[p];
      double got = from_type(static_cast<const T*>(yb.data)[offset(r, i)]);
      // bfloat16: the result's one rounding (2^-9 relative) with the float16 margin.
      double tol = bf16 ? 8e-3 * (1 + std::abs(want)) : half ? 4e-3 * (1 + std::abs(want)) : 2e-5 * (1 + std::abs(want));
      if (!(std::abs(got - want) <= tol) && ++bad <= 5)
        ADD_FAILURE() << "row " << r << " position " << i << " got " << got << " want " << want;
    }
  }
  EXPECT_EQ(bad, 0u) << bad << " elements off";
}

template <typename T>
void check_all(const std::string& type) {
  // layerNormalization over the last axis: 300 (past one block's 256 threads) and 37.
  for (int64_t len : {300, 37}) {
    ContiguousRows rows{5, len, 0};
    check<T>(type + " rows of " + std::to_string(len), rows, size_t(5 * len), size_t(len), 2,
             [&](int64_t r, int64_t i) { return size_t(r * len + i); },
             [](int64_t, int64_t i) { return size_t(i); });
  }
  // instanceNormalization, NCHW: 2 images x 3 channels, 50 positions; per-channel affine.
  ContiguousRows inst{6, 50, 3};
  check<T>(type + " instance norm", inst, 300, 3, 4, [](int64_t r, int64_t i) { return size_t(r * 50 + i); },
           [](int64_t r, int64_t) { return size_t(r % 3); });
  // layerNormalization over axes 0 and 2 of [4, 3, 5]: rows along axis 1 (stride 5), each
  // row's 20 elements at (a, c) -> a * 15 + c.
  LayerNormAxes g;
  g.outer_rank = 1, g.outer_dims[0] = 3, g.outer_strides[0] = 5;
  g.inner_rank = 2, g.inner_dims[0] = 4, g.inner_dims[1] = 5, g.inner_strides[0] = 15, g.inner_strides[1] = 1;
  g.rows = 3, g.len = 20;
  check<T>(type + " axes {0, 2} of [4, 3, 5]", kernels::strided_rows(g), 60, 20, 1,
           [](int64_t r, int64_t i) { return size_t(r * 5 + (i / 5) * 15 + i % 5); },
           [](int64_t, int64_t i) { return size_t(i); });
}

// float32 rows of 24 around 0.777 (a mean large against the spread) with scale and bias: the
// error in float spacings of the largest term (|y|, |normalized * scale|, |bias|), as the
// CPU backend's test measures it. The one-pass-mean kernel was ~900 ULP off here.
TEST(NormalizeHost, Float32UlpAgainstFloat64) {
  const int64_t count = 64, len = 24;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> near(0.727f, 0.827f), sd(0.5f, 1.5f), bd(-0.5f, 0.5f);
  std::vector<float> x(size_t(count * len)), scale(len), bias(len), y(x.size());
  for (float& v : x) v = near(rng);
  for (float& v : scale) v = sd(rng);
  for (float& v : bias) v = bd(rng);
  const float epsilon = 1e-5f;
  host_run_grid_sync(4u, kThreads, [&] {
    kernels::normalize_kernel<float>(x.data(), scale.data(), bias.data(), y.data(),
                                     ContiguousRows{count, len, 0}, epsilon);
  });
  double worst = 0;
  for (int64_t r = 0; r < count; ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < len; ++i) mean += x[size_t(r * len + i)];
    mean /= double(len);
    for (int64_t i = 0; i < len; ++i) var += (x[size_t(r * len + i)] - mean) * (x[size_t(r * len + i)] - mean);
    var /= double(len);
    for (int64_t i = 0; i < len; ++i) {
      double scaled = (x[size_t(r * len + i)] - mean) / std::sqrt(var + double(epsilon)) * scale[size_t(i)];
      double want = scaled + bias[size_t(i)];
      float mag = float(std::max({std::abs(want), std::abs(scaled), double(std::abs(bias[size_t(i)]))}));
      double ulp = double(std::nextafter(mag, INFINITY)) - double(mag);
      worst = std::max(worst, std::abs(double(y[size_t(r * len + i)]) - want) / ulp);
    }
  }
  std::printf("[ normalize ] float32 rows of 24 around 0.777: max %.1f ULP of the terms\n", worst);
  EXPECT_LE(worst, 8.0);
}

TEST(NormalizeHost, MatchesFloat64) {
  check_all<float>("fp32");
  check_all<__half>("fp16");
  check_all<__nv_bfloat16>("bf16");
}

}  // namespace
}  // namespace cppnn::detail::cuda
