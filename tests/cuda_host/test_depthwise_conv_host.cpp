// The depthwise convolution kernels (src/backends/cuda/kernels/depthwise_conv.cuh), compiled
// as host C++ and run thread by thread (host_grid.h), against a float64 convolution written
// here. This checks on machines without a GPU what the kernels compute: the index math of
// both layouts, the vector paths and when they are taken, padding, strides, dilations, the
// channel multiplier, bias, residual (also in place) and the activations, float16 rounding,
// and the grid-stride loop. Speed and CUDA's own math library are left to tests/gpu.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cuda_host/host_kernel_support.h"
#include "backends/cuda/kernels/depthwise_conv.cuh"

namespace cppnn::detail::cuda {
namespace {

struct Case {
  std::string name;
  bool nhwc = true, half = false;
  int n = 1, c = 8, h = 7, w = 9, multiplier = 1;
  int kh = 3, kw = 3, sh = 1, sw = 1, dh = 1, dw = 1;
  int top = 1, bottom = 1, left = 1, right = 1;
  bool tap_major = true;  // the filter as [tap][k] (w_k = 1) or [k][tap]
  bool bias = true, residual = false, residual_in_place = false;
  int activation = kConvActNone;
  float lo = -0.5f, hi = 0.75f, alpha = 0.2f;
  int expect_vector = 0;  // the vector width the kernel choice must take; 0: not checked
  int expect_row_form = -1;  // 1: the nchw row kernel must take it, 0: must not; -1: not checked
};

struct Outcome {
  std::vector<double> want;
  std::vector<float> got;
  int vector_width = 0;
  bool row_form = false;  // nchw, 4 outputs of a row per thread
};

double activate64(double x, const Case& c) {
  return host_activate64(x, c.activation, c.lo, c.hi, c.alpha);
}

Outcome run_case(const Case& cs, unsigned grid, size_t misalign = 0) {
  const int k = cs.c * cs.multiplier, taps = cs.kh * cs.kw;
  const int oh = (cs.h + cs.top + cs.bottom - ((cs.kh - 1) * cs.dh + 1)) / cs.sh + 1;
  const int ow = (cs.w + cs.left + cs.right - ((cs.kw - 1) * cs.dw + 1)) / cs.sw + 1;
  const size_t xs = size_t(cs.n) * cs.c * cs.h * cs.w, ys = size_t(cs.n) * k * oh * ow;
  const size_t elem = cs.half ? 2 : 4;
  std::mt19937 rng(uint32_t(std::hash<std::string>{}(cs.name)));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  auto values = [&](size_t count, float scale) {
    std::vector<float> v(count);
    for (float& e : v) e = representable(dist(rng) * scale, cs.half);
    return v;
  };
  std::vector<float> x = values(xs, 1.0f), w = values(size_t(k) * taps, 0.4f),
                     bias = values(size_t(k), 0.5f), res = values(ys, 1.0f);
  Buffer xb(xs, elem, misalign), wb(w.size(), elem), bb(bias.size(), elem), rb(ys, elem), yb(ys, elem);
  auto put = [&](const Buffer& b, size_t i, float v) {
    if (cs.half) static_cast<__half*>(b.data)[i] = __float2half_rn(v);
    else static_cast<float*>(b.data)[i] = v;
  };
  auto xi = [&](int b, int ch, int y, int xx) {
    return cs.nhwc ? ((size_t(b) * cs.h + y) * cs.w + xx) * cs.c + ch
                   : ((size_t(b) * cs.c + ch) * cs.h + y) * cs.w + xx;
  };
  auto yi = [&](int b, int o, int y, int xx) {
    return cs.nhwc ? ((size_t(b) * oh + y) * ow + xx) * k + o : ((size_t(b) * k + o) * oh + y) * ow + xx;
  };
  const int w_k = cs.tap_major ? 1 : taps, w_tap = cs.tap_major ? k : 1;
  for (size_t i = 0; i < xs; ++i) put(xb, i, x[i]);
  for (int o = 0; o < k; ++o)
    for (int t = 0; t < taps; ++t) put(wb, size_t(o) * w_k + size_t(t) * w_tap, w[size_t(o) * taps + t]);
  for (int o = 0; o < k; ++o) put(bb, size_t(o), bias[size_t(o)]);
  // The output starts as garbage, or as the residual when the residual is the output's bytes.
  std::memset(yb.data, 0xA5, ys * elem);
  for (size_t i = 0; i < ys; ++i) {
    put(rb, i, res[i]);
    if (cs.residual_in_place) put(yb, i, res[i]);
  }

  Outcome r;
  r.want.resize(ys);
  for (int b = 0; b < cs.n; ++b)
    for (int o = 0; o < k; ++o)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double acc = 0;
          for (int ky = 0; ky < cs.kh; ++ky)
            for (int kx = 0; kx < cs.kw; ++kx) {
              int iy = oy * cs.sh - cs.top + ky * cs.dh, ix = ox * cs.sw - cs.left + kx * cs.dw;
              if (iy < 0 || iy >= cs.h || ix < 0 || ix >= cs.w) continue;
              acc += double(x[xi(b, o / cs.multiplier, iy, ix)]) * w[size_t(o) * taps + ky * cs.kw + kx];
            }
          if (cs.bias) acc += bias[size_t(o)];
          if (cs.residual || cs.residual_in_place) acc += res[yi(b, o, oy, ox)];
          r.want[yi(b, o, oy, ox)] = activate64(acc, cs);
        }

  DepthwiseConvParams p{};
  p.x = xb.data;
  p.w = wb.data;
  p.bias = cs.bias ? bb.data : nullptr;
  p.residual = cs.residual_in_place ? yb.data : cs.residual ? rb.data : nullptr;
  p.y = yb.data;
  p.n = cs.n, p.c = cs.c, p.in_h = cs.h, p.in_w = cs.w;
  p.k = k, p.oh = oh, p.ow = ow, p.kh = cs.kh, p.kw = cs.kw;
  p.stride_h = cs.sh, p.stride_w = cs.sw, p.dil_h = cs.dh, p.dil_w = cs.dw;
  p.pad_top = cs.top, p.pad_left = cs.left;
  p.w_k = w_k, p.w_tap = w_tap;
  p.nhwc = cs.nhwc, p.half = cs.half, p.activation = cs.activation;
  p.lo = cs.lo, p.hi = cs.hi, p.alpha = cs.alpha;
  r.vector_width = depthwise::vector_width(p);
  r.row_form = depthwise::row_form(p);
  int64_t items = r.row_form ? int64_t(cs.n) * k * oh * ((ow + depthwise::kRowOutputs - 1) / depthwise::kRowOutputs)
                             : int64_t(ys) / r.vector_width;
  EXPECT_EQ(depthwise::work_items(p), items) << cs.name;
  bool ran = depthwise::with_kernel(
      p, [&](auto kernel) { host_run_grid(grid, kDepthwiseBlock, [&] { kernel(p); }); });
  EXPECT_TRUE(ran) << cs.name;
  r.got.resize(ys);
  for (size_t i = 0; i < ys; ++i)
    r.got[i] = cs.half ? __half2float(static_cast<const __half*>(yb.data)[i])
                       : static_cast<const float*>(yb.data)[i];
  return r;
}

void expect_close(const Case& cs, const Outcome& r, const std::string& what) {
  // float32: summation order only. float16: one rounding of the result (2^-11 relative) on
  // top of float accumulation.
  double rtol = cs.half ? 1.0 / 1024 : 1e-5, atol = cs.half ? 1e-3 : 1e-5;
  size_t bad = 0;
  for (size_t i = 0; i < r.want.size(); ++i) {
    double d = std::abs(double(r.got[i]) - r.want[i]);
    if (!(d <= atol + rtol * std::abs(r.want[i]))) {
      if (++bad <= 5)
        ADD_FAILURE() << what << ": element " << i << " got " << r.got[i] << " want " << r.want[i];
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << r.want.size() << " elements off";
}

std::vector<Case> cases() {
  std::vector<Case> v;
  auto add = [&](Case c) { v.push_back(c); };
  // MobileNetV2's shapes: 3x3, stride 1 and 2, pad 1, relu6 as clamp, both types and layouts.
  for (bool half : {false, true})
    for (bool nhwc : {true, false})
      for (int s : {1, 2}) {
        Case c;
        c.name = std::string(half ? "fp16" : "fp32") + (nhwc ? "_nhwc" : "_nchw") + "_3x3_s" + std::to_string(s);
        c.half = half, c.nhwc = nhwc, c.sh = c.sw = s, c.c = 16, c.h = 9, c.w = 11;
        c.activation = kConvActClamp, c.lo = 0, c.hi = 6;
        c.expect_vector = nhwc ? (half ? 8 : 4) : 1;
        c.expect_row_form = !nhwc && s == 1 ? 1 : 0;
        add(c);
      }
  {
    Case c;
    c.name = "fp16_nhwc_5x5_asymmetric_pad_dilated_gelu";
    c.half = true, c.kh = c.kw = 5, c.dh = 2, c.dw = 2, c.top = 3, c.bottom = 1, c.left = 0, c.right = 2;
    c.activation = kConvActGelu, c.c = 24, c.expect_vector = 8;
    add(c);
  }
  {
    Case c;
    c.name = "fp32_nchw_5x5_stride2x1_residual_sigmoid";
    c.nhwc = false, c.kh = c.kw = 5, c.sh = 2, c.sw = 1, c.top = c.bottom = c.left = c.right = 2;
    c.residual = true, c.activation = kConvActSigmoid, c.n = 2;
    add(c);
  }
  {
    Case c;  // a window the kernels do not unroll, taller than wide
    c.name = "fp32_nhwc_3x1_no_bias_tanh";
    c.kh = 3, c.kw = 1, c.left = c.right = 0, c.bias = false, c.activation = kConvActTanh;
    c.expect_vector = 4;
    add(c);
  }
  {
    Case c;  // channels that allow 2-wide float16 loads only
    c.name = "fp16_nhwc_c6_v2_hardswish";
    c.half = true, c.c = 6, c.activation = kConvActHardSwish, c.expect_vector = 2;
    add(c);
  }
  {
    Case c;  // an odd channel count: scalar
    c.name = "fp16_nhwc_c3_scalar_elu";
    c.half = true, c.c = 3, c.activation = kConvActElu, c.expect_vector = 1;
    add(c);
  }
  {
    Case c;  // the filter as [k][tap] (a computed filter, in cuDNN's order): scalar
    c.name = "fp32_nhwc_k_major_filter_leakyrelu";
    c.tap_major = false, c.activation = kConvActLeakyRelu, c.expect_vector = 1;
    add(c);
  }
  {
    Case c;  // channel multiplier 2: output channel o reads input channel o / 2
    c.name = "fp32_nchw_multiplier2";
    c.nhwc = false, c.multiplier = 2, c.c = 5, c.tap_major = false;
    add(c);
  }
  {
    Case c;
    c.name = "fp16_nhwc_multiplier3_relu";
    c.half = true, c.multiplier = 3, c.c = 4, c.activation = kConvActRelu, c.expect_vector = 1;
    add(c);
  }
  {
    Case c;  // the residual in the output's own bytes (the memory plan's usual choice)
    c.name = "fp16_nhwc_residual_in_place";
    c.half = true, c.residual_in_place = true, c.c = 32, c.n = 2, c.expect_vector = 8;
    add(c);
  }
  {
    Case c;
    c.name = "fp32_nchw_residual_in_place_padding_past_window";
    c.nhwc = false, c.residual_in_place = true, c.top = 2, c.bottom = 3, c.left = 3, c.right = 2;
    add(c);
  }
  {
    Case c;  // the nchw row kernel with a dilated height, a row not a multiple of 4 wide
    c.name = "fp16_nchw_3x3_dilated_height_row_kernel";
    c.half = true, c.nhwc = false, c.dh = 2, c.top = c.bottom = 2, c.w = 11, c.expect_row_form = 1;
    c.activation = kConvActHardSwish, c.residual = true;
    add(c);
  }
  {
    Case c;  // a 1x1 input, a window bigger than the input: every tap but one is padding
    c.name = "fp16_nchw_1x1_input_big_window";
    c.half = true, c.nhwc = false, c.h = c.w = 1, c.kh = c.kw = 3, c.c = 7;
    add(c);
  }
  return v;
}

TEST(DepthwiseConvHost, KernelsMatchFloat64) {
  for (const Case& c : cases()) {
    // One block (the grid-stride loop goes round many times) and enough blocks for all.
    for (unsigned grid : {1u, 64u}) {
      Outcome r = run_case(c, grid);
      if (c.expect_vector) {
        EXPECT_EQ(r.vector_width, c.expect_vector) << c.name;
      }
      if (c.expect_row_form >= 0) {
        EXPECT_EQ(r.row_form, c.expect_row_form == 1) << c.name;
      }
      expect_close(c, r, c.name + " grid " + std::to_string(grid));
    }
  }
}

TEST(DepthwiseConvHost, MisalignedInputTakesTheScalarPath) {
  Case c;
  c.name = "fp16_nhwc_misaligned";
  c.half = true, c.c = 16, c.activation = kConvActRelu;
  Outcome r = run_case(c, 8, /*misalign=*/1);
  EXPECT_EQ(r.vector_width, 1);
  expect_close(c, r, c.name);
}

TEST(DepthwiseConvHost, NoKernelForInconsistentShapes) {
  DepthwiseConvParams p{};
  p.n = 1, p.c = 4, p.in_h = p.in_w = 5, p.k = 6, p.oh = p.ow = 5, p.kh = p.kw = 3;
  p.w_k = 9, p.w_tap = 1;
  bool called = false;
  // k not a multiple of c: not a depthwise convolution.
  EXPECT_EQ(depthwise::work_items(p), 0);
  EXPECT_FALSE(depthwise::with_kernel(p, [&](auto) { called = true; }));
  p.k = 8, p.oh = 0;  // an empty output
  EXPECT_EQ(depthwise::work_items(p), 0);
  EXPECT_FALSE(depthwise::with_kernel(p, [&](auto) { called = true; }));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace cppnn::detail::cuda
