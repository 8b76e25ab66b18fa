// CPU kernels of averagePool2d, l2Pool2d and maxPool2d.
// Padding never contributes: average pooling divides by the number of window taps that
// fall inside the input (ONNX count_include_pad=0; the spec is silent), max pooling ignores
// padded taps. A window with no tap inside the input (possible with "ceil" rounding or
// large padding) gives 0 for average and l2, and for max -infinity (floats) or the type's
// lowest value (integers), the maximum of nothing.
//
// float32 average and max pooling go to oneDNN (pooling_dnnl.cpp) unless global; these
// loops serve float16, the integer types of max pooling, l2 pooling and global pooling.
// "nhwc" accumulates whole blocks of channels per window tap (contiguous, vectorized).
// "nchw" is separable: each input row is reduced along the window's width into a row
// buffer, then the buffered rows are combined along the window's height, both loops running
// over contiguous output columns. Global pooling of a plane is one contiguous reduction.
#include <algorithm>
#include <cmath>
#include <limits>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/normalization_rows.h"
#include "backends/cpu/pooling_dnnl.h"
#include "graph/op_math/window_attrs.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN
// At the AVX-512 level the window loops stay 256 bits wide: their shifted, unaligned loads
// of 512 bits split across cache lines far more often, and a float16 3x3 averagePool2d ran
// 10% slower than at AVX2 (0.48 against 0.43 ms on one Zen 4 core). GCC only; the
// conversions of half_runs.h keep their 16 lanes.
#if CPPNN_ISA_AVX512 && defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("prefer-vector-width=256")
#endif

namespace {

using op_math::kPoolAverage;
using op_math::kPoolL2;
using op_math::kPoolMax;
using op_math::PoolKind;
using op_math::pool_combine;
using op_math::pool_identity;

// Window taps [first, end) that land inside the input, for one output position.
using Taps = op_math::WindowTaps<int64_t>;

struct Geometry {
  size_t batches, channels, height, width, out_h, out_w;
  int64_t window_h, window_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  std::vector<Taps> taps_h, taps_w;             // per output row / column
  std::vector<float> inv_count_h, inv_count_w;  // 1 / taps inside the input; 0 for none
  bool nchw;
  bool global;  // one window covering the whole unpadded plane
};

Geometry make_geometry(const op_math::PoolWindow& w) {
  Geometry g;
  g.nchw = !w.nhwc;
  g.batches = size_t(w.batches);
  g.channels = size_t(w.channels);
  g.height = size_t(w.height);
  g.width = size_t(w.width);
  g.out_h = size_t(w.out_h);
  g.out_w = size_t(w.out_w);
  g.window_h = w.window_h;
  g.window_w = w.window_w;
  g.stride_h = w.stride_h;
  g.stride_w = w.stride_w;
  g.dilation_h = w.dilation_h;
  g.dilation_w = w.dilation_w;
  g.pad_top = w.pad_top;
  g.pad_left = w.pad_left;
  for (size_t o = 0; o < g.out_h; ++o)
    g.taps_h.push_back(op_math::window_taps<int64_t>(int64_t(o), g.stride_h, g.pad_top,
                                                     g.dilation_h, g.window_h, int64_t(g.height)));
  for (size_t o = 0; o < g.out_w; ++o)
    g.taps_w.push_back(op_math::window_taps<int64_t>(int64_t(o), g.stride_w, g.pad_left,
                                                     g.dilation_w, g.window_w, int64_t(g.width)));
  for (const Taps& t : g.taps_h) g.inv_count_h.push_back(op_math::inverse_count(t.count()));
  for (const Taps& t : g.taps_w) g.inv_count_w.push_back(op_math::inverse_count(t.count()));
  g.global = op_math::pool_covers_plane(w);
  return g;
}

// The accumulator type: float for float16 and for sums, the element type for max otherwise.
template <PoolKind K, typename T>
using acc_t = std::conditional_t<K == kPoolMax && !std::is_same_v<T, half>, T, float>;

// Vertical passes and finalization combine already-reduced values: squares are summed as is.
template <PoolKind K, typename A>
inline A merge(A acc, A v) {
  if constexpr (K == kPoolMax)
    return v > acc ? v : acc;
  else
    return acc + v;
}

// In-place square roots: std::sqrt stays scalar because of errno, the instruction does not.
inline void sqrt_floats(float* v, size_t n) {
#if CPPNN_ISA_AVX2
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(v + i, _mm256_sqrt_ps(_mm256_loadu_ps(v + i)));
  for (; i < n; ++i) _mm_store_ss(v + i, _mm_sqrt_ss(_mm_load_ss(v + i)));
#else
  for (size_t i = 0; i < n; ++i) v[i] = std::sqrt(v[i]);  // correctly rounded: the same values
#endif
}

// Turns n accumulators into results: averages (scaled by inv_count[i] * factor), l2 norms
// or maxima, then stores them as T.
template <PoolKind K, typename T, typename A>
void finish_run(A* acc, T* out, size_t n, const float* inv_count, float factor) {
  if constexpr (K == kPoolAverage)
    for (size_t i = 0; i < n; ++i) acc[i] *= (inv_count ? inv_count[i] : 1.0f) * factor;
  if constexpr (K == kPoolL2) sqrt_floats(acc, n);
  if constexpr (std::is_same_v<T, half>)
    store_floats(acc, out, n);
  else
    for (size_t i = 0; i < n; ++i) out[i] = T(acc[i]);
}

template <PoolKind K, typename T>
void pool_nhwc(const T* x, T* y, const Geometry& g) {
  using A = acc_t<K, T>;
  constexpr size_t kBlock = 256;
  size_t channels = g.channels;
  size_t blocks = (channels + kBlock - 1) / kBlock;
  size_t positions = g.batches * g.out_h * g.out_w;
  size_t work = size_t(g.window_h * g.window_w) * std::min(channels, kBlock);
  parallel_for(
      positions * blocks, std::max<size_t>(1, 16384 / std::max<size_t>(work, 1)),
      [&](size_t b, size_t e) {
        A acc[kBlock];
        float converted[kBlock];
        for (size_t task = b; task < e; ++task) {
          size_t pos = task / blocks, c0 = (task % blocks) * kBlock;
          size_t nc = std::min(kBlock, channels - c0);
          size_t ow = pos % g.out_w, oh = (pos / g.out_w) % g.out_h, n = pos / (g.out_w * g.out_h);
          std::fill_n(acc, nc, pool_identity<K, A>());
          const Taps& th = g.taps_h[oh];
          const Taps& tw = g.taps_w[ow];
          for (int64_t kh = th.first; kh < th.end; ++kh) {
            size_t ih = size_t(int64_t(oh) * g.stride_h - g.pad_top + kh * g.dilation_h);
            for (int64_t kw = tw.first; kw < tw.end; ++kw) {
              size_t iw = size_t(int64_t(ow) * g.stride_w - g.pad_left + kw * g.dilation_w);
              const T* row = x + ((n * g.height + ih) * g.width + iw) * channels + c0;
              if constexpr (std::is_same_v<T, half>) {
                load_floats(row, converted, nc);
                for (size_t c = 0; c < nc; ++c) acc[c] = pool_combine<K>(acc[c], converted[c]);
              } else {
                for (size_t c = 0; c < nc; ++c) acc[c] = pool_combine<K>(acc[c], A(row[c]));
              }
            }
          }
          finish_run<K>(acc, y + pos * channels + c0, nc, nullptr,
                        g.inv_count_h[oh] * g.inv_count_w[ow]);
        }
      });
}

// Reduces n contiguous values (already in the accumulator's type) into acc.
template <PoolKind K, typename A, typename V>
A reduce_run(A acc, const V* v, size_t n) {
  A r = pool_identity<K, A>();
  if constexpr (K == kPoolMax) {
#pragma omp simd reduction(max : r)
    for (size_t i = 0; i < n; ++i) r = A(v[i]) > r ? A(v[i]) : r;
  } else if constexpr (K == kPoolL2) {
#pragma omp simd reduction(+ : r)
    for (size_t i = 0; i < n; ++i) r += A(v[i]) * A(v[i]);
  } else {
#pragma omp simd reduction(+ : r)
    for (size_t i = 0; i < n; ++i) r += A(v[i]);
  }
  return merge<K>(acc, r);
}

// Reduces one contiguous plane of n elements.
template <PoolKind K, typename T>
acc_t<K, T> reduce_plane(const T* p, size_t n) {
  using A = acc_t<K, T>;
  A acc = pool_identity<K, A>();
  if constexpr (std::is_same_v<T, half>) {
    float block[256];
    for (size_t base = 0; base < n; base += 256) {
      size_t count = std::min<size_t>(256, n - base);
      load_floats(p + base, block, count);
      acc = reduce_run<K>(acc, block, count);
    }
  } else {
    acc = reduce_run<K>(acc, p, n);
  }
  return acc;
}

template <PoolKind K, typename T>
void pool_nchw(const T* x, T* y, const Geometry& g) {
  using A = acc_t<K, T>;
  size_t planes = g.batches * g.channels;
  size_t plane = g.height * g.width, out_plane = g.out_h * g.out_w;
  if (g.global) {
    float inv = 1.0f / float(plane);
    parallel_for(planes, std::max<size_t>(1, 16384 / plane), [&](size_t b, size_t e) {
      for (size_t p = b; p < e; ++p) {
        A acc = reduce_plane<K>(x + p * plane, plane);
        finish_run<K>(&acc, y + p, 1, nullptr, inv);
      }
    });
    return;
  }
  size_t work = plane * size_t(g.window_w) + out_plane * size_t(g.window_h);
  parallel_for(planes, std::max<size_t>(1, 16384 / work), [&](size_t b, size_t e) {
    std::vector<A> rows(g.height * g.out_w);  // each input row reduced along the window width
    std::vector<A> out_row(g.out_w);
    std::vector<float> converted(std::is_same_v<T, half> ? g.width : 0);
    for (size_t p = b; p < e; ++p) {
      const T* in = x + p * plane;
      for (size_t ih = 0; ih < g.height; ++ih) {
        A* r = rows.data() + ih * g.out_w;
        std::fill_n(r, g.out_w, pool_identity<K, A>());
        auto sweep = [&](const auto* src) {
          // For each tap column, the output columns whose tap lands inside the row.
          for (int64_t kw = 0; kw < g.window_w; ++kw) {
            int64_t offset = kw * g.dilation_w - g.pad_left;  // iw = ow * stride + offset
            int64_t lo = offset >= 0 ? 0 : (-offset + g.stride_w - 1) / g.stride_w;
            int64_t last = int64_t(g.width) - 1 - offset;
            if (last < 0) continue;
            int64_t hi = std::min<int64_t>(int64_t(g.out_w), last / g.stride_w + 1);
            const auto* s = src + (lo * g.stride_w + offset);
            A* d = r + lo;
            int64_t n = hi - lo;
            // Constant strides 1 and 2 let the compiler vectorize the strided loads.
            if (g.stride_w == 1)
              for (int64_t j = 0; j < n; ++j) d[j] = pool_combine<K>(d[j], A(s[j]));
            else if (g.stride_w == 2)
              for (int64_t j = 0; j < n; ++j) d[j] = pool_combine<K>(d[j], A(s[2 * j]));
            else
              for (int64_t j = 0; j < n; ++j) d[j] = pool_combine<K>(d[j], A(s[j * g.stride_w]));
          }
        };
        if constexpr (std::is_same_v<T, half>) {
          load_floats(in + ih * g.width, converted.data(), g.width);
          sweep(static_cast<const float*>(converted.data()));
        } else {
          sweep(in + ih * g.width);
        }
      }
      T* out = y + p * out_plane;
      for (size_t oh = 0; oh < g.out_h; ++oh) {
        const Taps& th = g.taps_h[oh];
        std::fill(out_row.begin(), out_row.end(), pool_identity<K, A>());
        for (int64_t kh = th.first; kh < th.end; ++kh) {
          size_t ih = size_t(int64_t(oh) * g.stride_h - g.pad_top + kh * g.dilation_h);
          const A* r = rows.data() + ih * g.out_w;
          for (size_t ow = 0; ow < g.out_w; ++ow) out_row[ow] = merge<K>(out_row[ow], r[ow]);
        }
        finish_run<K>(out_row.data(), out + oh * g.out_w, g.out_w, g.inv_count_w.data(),
                      g.inv_count_h[oh]);
      }
    }
  });
}

template <PoolKind K>
KernelFactory pool_kernel() {
  return [](const KernelContext& cx) -> std::unique_ptr<CpuKernel> {
    op_math::PoolWindow window =
        op_math::pool_window(cx.inputs[0]->shape, cx.outputs[0]->shape, cx.node.attrs);
    Geometry g = make_geometry(window);
    if constexpr (K != kPoolL2) {
      // oneDNN wins over these loops except for global pooling, which is a plain reduction.
      auto nonempty = [](const Taps& t) { return t.count() > 0; };
      if (!g.global && std::all_of(g.taps_h.begin(), g.taps_h.end(), nonempty) &&
          std::all_of(g.taps_w.begin(), g.taps_w.end(), nonempty))
        if (auto kernel = make_dnnl_pool_kernel(cx, window, K == kPoolMax)) return kernel;
    }
    return make_kernel([g](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
      visit_type(in[0]->data_type(), [&]<typename T>() {
        if constexpr (K != kPoolMax && !std::is_same_v<T, float> && !std::is_same_v<T, half>) {
          return;  // infer admits only float types for average and l2 pooling
        } else {
          const T* x = in[0]->data_as<T>();
          T* y = out[0]->data_as<T>();
          if (g.nchw)
            pool_nchw<K>(x, y, g);
          else
            pool_nhwc<K>(x, y, g);
        }
      });
    });
  };
}

}  // namespace

void register_pooling_kernels(CpuKernelRegistry& r) {
  r.add(OpId::averagePool2d, pool_kernel<kPoolAverage>());
  r.add(OpId::l2Pool2d, pool_kernel<kPoolL2>());
  r.add(OpId::maxPool2d, pool_kernel<kPoolMax>());
}

CPPNN_ISA_END
}  // namespace cppnn::detail
