#pragma once
// The depthwise convolution kernels and the choice among them. Included by
// depthwise_conv.cu (nvcc) and by tests/cuda_host, which runs the same kernels thread by
// thread on the CPU (so nothing here may need a GPU to compile as host C++).
//
// One thread per output element (nchw; 4 adjacent outputs of a row at unit horizontal stride
// and dilation with a 3x3 or 5x5 window), or per V adjacent output channels of one pixel
// (nhwc: V = 8 float16 or 4 float32 in one 16-byte load, when channels and pointers allow),
// grid-stride, 32-bit indices. Window sizes 3 and 5 are unrolled. Accumulation is float;
// float16 is rounded once, at the store.
#include <cstdint>

#include "conv_math.cuh"
#include "depthwise_conv.h"

namespace cppnn::detail::cuda::depthwise {

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

template <typename T, int V>
__device__ __forceinline__ Pack<T, V> load_pack(const T* p) {
  return *reinterpret_cast<const Pack<T, V>*>(p);
}

// bias + residual + activation of one output element, in float.
__device__ __forceinline__ float finish(const DepthwiseConvParams& p, float acc, float bias,
                                        float residual) {
  return activate(acc + bias + residual, p.activation, p.lo, p.hi, p.alpha);
}

// KS: the window's height and width when fixed at compile time (unrolled), 0 otherwise.
template <typename T, int KS>
__global__ void __launch_bounds__(kDepthwiseBlock) nchw_kernel(DepthwiseConvParams p) {
  const T* x = static_cast<const T*>(p.x);
  const T* w = static_cast<const T*>(p.w);
  const T* bias = static_cast<const T*>(p.bias);
  const T* residual = static_cast<const T*>(p.residual);
  T* y = static_cast<T*>(p.y);
  const int kh = KS ? KS : p.kh, kw = KS ? KS : p.kw;
  const unsigned ow = unsigned(p.ow), oh = unsigned(p.oh), k = unsigned(p.k);
  const unsigned multiplier = unsigned(p.k / p.c);
  const unsigned total = unsigned(p.n) * k * oh * ow;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    unsigned ox = i % ow, rest = i / ow;
    unsigned oy = rest % oh;
    rest /= oh;
    unsigned o = rest % k, b = rest / k;
    const T* xc = x + (size_t(b) * unsigned(p.c) + o / multiplier) * unsigned(p.in_h * p.in_w);
    const T* wo = w + size_t(o) * unsigned(p.w_k);
    const int iy0 = int(oy) * p.stride_h - p.pad_top, ix0 = int(ox) * p.stride_w - p.pad_left;
    float acc = 0.0f;
#pragma unroll
    for (int ky = 0; ky < kh; ++ky) {
      const int iy = iy0 + ky * p.dil_h;
      if (iy < 0 || iy >= p.in_h) continue;
#pragma unroll
      for (int kx = 0; kx < kw; ++kx) {
        const int ix = ix0 + kx * p.dil_w;
        if (ix < 0 || ix >= p.in_w) continue;
        acc += to_float(xc[iy * p.in_w + ix]) * to_float(wo[(ky * kw + kx) * p.w_tap]);
      }
    }
    float v = finish(p, acc, bias ? to_float(bias[o]) : 0.0f, residual ? to_float(residual[i]) : 0.0f);
    y[i] = from_float<T>(v);
  }
}

// nchw at unit horizontal stride and dilation: OX adjacent outputs of one row per thread, so
// that each input row segment (OX + KS - 1 values) is loaded once for all of them instead of
// KS times per output.
template <typename T, int KS, int OX>
__global__ void __launch_bounds__(kDepthwiseBlock) nchw_row_kernel(DepthwiseConvParams p) {
  const T* x = static_cast<const T*>(p.x);
  const T* w = static_cast<const T*>(p.w);
  const T* bias = static_cast<const T*>(p.bias);
  const T* residual = static_cast<const T*>(p.residual);
  T* y = static_cast<T*>(p.y);
  const unsigned groups = unsigned((p.ow + OX - 1) / OX), oh = unsigned(p.oh), k = unsigned(p.k);
  const unsigned multiplier = unsigned(p.k / p.c);
  const unsigned total = unsigned(p.n) * k * oh * groups;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    unsigned gx = i % groups, rest = i / groups;
    unsigned oy = rest % oh;
    rest /= oh;
    unsigned o = rest % k, b = rest / k;
    const T* xc = x + (size_t(b) * unsigned(p.c) + o / multiplier) * unsigned(p.in_h * p.in_w);
    const T* wo = w + size_t(o) * unsigned(p.w_k);
    const int ox0 = int(gx) * OX;
    const int iy0 = int(oy) * p.stride_h - p.pad_top, ix0 = ox0 - p.pad_left;
    float acc[OX];
#pragma unroll
    for (int j = 0; j < OX; ++j) acc[j] = 0.0f;
#pragma unroll
    for (int ky = 0; ky < KS; ++ky) {
      const int iy = iy0 + ky * p.dil_h;
      if (iy < 0 || iy >= p.in_h) continue;
      const T* row = xc + iy * p.in_w;
      float seg[OX + KS - 1];
#pragma unroll
      for (int e = 0; e < OX + KS - 1; ++e) {
        const int ix = ix0 + e;
        seg[e] = ix >= 0 && ix < p.in_w ? to_float(row[ix]) : 0.0f;
      }
#pragma unroll
      for (int kx = 0; kx < KS; ++kx) {
        const float wv = to_float(wo[(ky * KS + kx) * p.w_tap]);
#pragma unroll
        for (int j = 0; j < OX; ++j) acc[j] += seg[j + kx] * wv;
      }
    }
    const float bv = bias ? to_float(bias[o]) : 0.0f;
    const size_t base = ((size_t(b) * k + o) * oh + oy) * unsigned(p.ow);
#pragma unroll
    for (int j = 0; j < OX; ++j) {
      if (ox0 + j >= p.ow) break;
      const size_t at = base + unsigned(ox0 + j);
      y[at] = from_float<T>(finish(p, acc[j], bv, residual ? to_float(residual[at]) : 0.0f));
    }
  }
}

// Outputs per thread of nchw_row_kernel.
constexpr int kRowOutputs = 4;

// V adjacent channels per thread. V > 1 only when k == c (no channel multiplier), w_k == 1,
// and c, w_tap and every pointer allow V-wide aligned loads.
template <typename T, int V, int KS>
__global__ void __launch_bounds__(kDepthwiseBlock) nhwc_kernel(DepthwiseConvParams p) {
  const T* x = static_cast<const T*>(p.x);
  const T* w = static_cast<const T*>(p.w);
  const T* bias = static_cast<const T*>(p.bias);
  const T* residual = static_cast<const T*>(p.residual);
  T* y = static_cast<T*>(p.y);
  const int kh = KS ? KS : p.kh, kw = KS ? KS : p.kw;
  const unsigned groups = unsigned(p.k / V), ow = unsigned(p.ow), oh = unsigned(p.oh);
  const unsigned multiplier = unsigned(p.k / p.c);
  const unsigned total = unsigned(p.n) * oh * ow * groups;
  for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
    unsigned g = i % groups, rest = i / groups;
    unsigned ox = rest % ow;
    rest /= ow;
    unsigned oy = rest % oh, b = rest / oh;
    const unsigned o0 = g * V;
    const int iy0 = int(oy) * p.stride_h - p.pad_top, ix0 = int(ox) * p.stride_w - p.pad_left;
    float acc[V];
#pragma unroll
    for (int j = 0; j < V; ++j) acc[j] = 0.0f;
#pragma unroll
    for (int ky = 0; ky < kh; ++ky) {
      const int iy = iy0 + ky * p.dil_h;
      if (iy < 0 || iy >= p.in_h) continue;
#pragma unroll
      for (int kx = 0; kx < kw; ++kx) {
        const int ix = ix0 + kx * p.dil_w;
        if (ix < 0 || ix >= p.in_w) continue;
        const T* xp = x + ((size_t(b) * unsigned(p.in_h) + unsigned(iy)) * unsigned(p.in_w) + unsigned(ix)) *
                              unsigned(p.c);
        const int tap = ky * kw + kx;
        if constexpr (V == 1) {
          acc[0] += to_float(xp[o0 / multiplier]) * to_float(w[size_t(o0) * unsigned(p.w_k) + tap * p.w_tap]);
        } else {
          Pack<T, V> xv = load_pack<T, V>(xp + o0);
          Pack<T, V> wv = load_pack<T, V>(w + size_t(tap) * unsigned(p.w_tap) + o0);
#pragma unroll
          for (int j = 0; j < V; ++j) acc[j] += to_float(xv.v[j]) * to_float(wv.v[j]);
        }
      }
    }
    const size_t out = size_t(i) * V;  // nhwc: (b, oy, ox, o0) is element i * V
    Pack<T, V> r;
    if (residual) {
      if constexpr (V == 1) r.v[0] = residual[out];
      else r = load_pack<T, V>(residual + out);
    }
    Pack<T, V> result;
#pragma unroll
    for (int j = 0; j < V; ++j)
      result.v[j] = from_float<T>(finish(p, acc[j], bias ? to_float(bias[o0 + j]) : 0.0f,
                                         residual ? to_float(r.v[j]) : 0.0f));
    *reinterpret_cast<Pack<T, V>*>(y + out) = result;
  }
}

inline bool aligned(const void* p, unsigned bytes) {
  return p == nullptr || reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

// The widest V that nhwc_kernel can take for `p` (1 for nchw).
inline int vector_width(const DepthwiseConvParams& p) {
  if (!p.nhwc || p.k != p.c || p.w_k != 1) return 1;
  for (int v : {p.half ? 8 : 4, 2}) {
    unsigned bytes = unsigned(v) * (p.half ? 2u : 4u);
    if (p.c % v == 0 && p.w_tap % v == 0 && aligned(p.x, bytes) && aligned(p.w, bytes) &&
        aligned(p.y, bytes) && aligned(p.residual, bytes))
      return v;
  }
  return 1;
}

// nchw_row_kernel takes `p`: nchw, a 3x3 or 5x5 window, horizontal stride and dilation 1.
inline bool row_form(const DepthwiseConvParams& p) {
  return !p.nhwc && p.kh == p.kw && (p.kh == 3 || p.kh == 5) && p.stride_w == 1 && p.dil_w == 1;
}

inline int64_t work_items(const DepthwiseConvParams& p) {
  if (p.n <= 0 || p.c <= 0 || p.k <= 0 || p.k % p.c != 0 || p.oh <= 0 || p.ow <= 0 || p.kh <= 0 || p.kw <= 0)
    return 0;
  if (row_form(p)) return int64_t(p.n) * p.k * p.oh * ((p.ow + kRowOutputs - 1) / kRowOutputs);
  int64_t outputs = int64_t(p.n) * p.k * p.oh * p.ow;
  return outputs / vector_width(p);
}

template <typename T, int V, typename Run>
void run_nhwc(int ks, Run& run) {
  if (ks == 3) run(&nhwc_kernel<T, V, 3>);
  else if (ks == 5) run(&nhwc_kernel<T, V, 5>);
  else run(&nhwc_kernel<T, V, 0>);
}

template <typename T, typename Run>
void run_nchw(const DepthwiseConvParams& p, int ks, Run& run) {
  if (row_form(p)) {
    if (ks == 3) run(&nchw_row_kernel<T, 3, kRowOutputs>);
    else run(&nchw_row_kernel<T, 5, kRowOutputs>);
    return;
  }
  if (ks == 3) run(&nchw_kernel<T, 3>);
  else if (ks == 5) run(&nchw_kernel<T, 5>);
  else run(&nchw_kernel<T, 0>);
}

// Calls run(kernel) with the kernel for `p` (a pointer to a __global__ function taking
// DepthwiseConvParams); false, without calling it, when none takes `p`.
template <typename Run>
bool with_kernel(const DepthwiseConvParams& p, Run&& run) {
  if (work_items(p) == 0) return false;
  int ks = p.kh == p.kw && (p.kh == 3 || p.kh == 5) ? p.kh : 0;
  int v = vector_width(p);
  if (!p.nhwc) {
    if (p.half) run_nchw<__half>(p, ks, run);
    else run_nchw<float>(p, ks, run);
  } else if (p.half) {
    if (v == 8) run_nhwc<__half, 8>(ks, run);
    else if (v == 2) run_nhwc<__half, 2>(ks, run);
    else run_nhwc<__half, 1>(ks, run);
  } else {
    if (v == 4) run_nhwc<float, 4>(ks, run);
    else if (v == 2) run_nhwc<float, 2>(ks, run);
    else run_nhwc<float, 1>(ks, run);
  }
  return true;
}

}  // namespace cppnn::detail::cuda::depthwise
