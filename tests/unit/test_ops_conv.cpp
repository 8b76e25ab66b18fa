// conv2d and convTranspose2d against float64 references written here with naive loops, in
// every layout, float32 and float16, with constant and graph-input filters, plus the fused
// activation / residual contract and the spec's validation errors.
#include <array>
#include <cmath>

#include "backends/cpu/evaluator.h"
#include "compiler/passes.h"
#include "graph/ir.h"
#include "test_support.h"

namespace cppnn {
namespace {

using testing::expect_close;
using testing::expect_error;
using testing::random_tensor;
using testing::run_cpu;
using testing::Tolerance;

Tolerance tolerance(DataType t) {
  return t == DataType::float16 ? Tolerance{2e-3, 3e-3} : Tolerance{5e-5, 5e-5};
}

double activate(const std::string& act, double x, double alpha = 0, double lo = 0, double hi = 0) {
  if (act == "relu") return std::max(0.0, x);
  if (act == "clamp") return std::min(std::max(x, lo), hi);
  if (act == "sigmoid") return 1 / (1 + std::exp(-x));
  if (act == "tanh") return std::tanh(x);
  if (act == "leakyRelu") return x >= 0 ? x : alpha * x;
  if (act == "elu") return x >= 0 ? x : alpha * (std::exp(x) - 1);
  if (act == "hardSwish") return x * std::min(std::max(x + 3, 0.0), 6.0) / 6;
  if (act == "gelu") return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  return x;
}

// Reference conv2d / convTranspose2d in float64. Shapes are read in the given layouts.
struct ConvRef {
  bool transposed = false;
  bool nhwc = false;
  std::string filter_layout = "oihw";
  std::vector<int64_t> pad{0, 0, 0, 0}, strides{1, 1}, dilations{1, 1}, out_pad{0, 0};
  std::vector<int64_t> out_sizes;
  int64_t groups = 1;

  int64_t N, C, H, W, O, OH, OW, KH, KW, Og, Ig;

  Dims output_shape(const Dims& xs, const Dims& fs) {
    N = xs[0], C = nhwc ? xs[3] : xs[1], H = nhwc ? xs[1] : xs[2], W = nhwc ? xs[2] : xs[3];
    const std::string& l = filter_layout;
    Ig = C / groups;
    int64_t fo;
    if (l == "oihw" || l == "iohw") KH = fs[2], KW = fs[3];
    else if (l == "hwio" || l == "hwoi") KH = fs[0], KW = fs[1];
    else KH = fs[1], KW = fs[2];
    if (!transposed) {
      fo = (l == "oihw" || l == "ohwi") ? fs[0] : fs[3];
      O = fo, Og = O / groups;
      OH = (H + pad[0] + pad[1] - (KH - 1) * dilations[0] - 1) / strides[0] + 1;
      OW = (W + pad[2] + pad[3] - (KW - 1) * dilations[1] - 1) / strides[1] + 1;
    } else {
      Og = l == "iohw" ? fs[1] : l == "hwoi" ? fs[2] : fs[0];
      O = Og * groups;
      OH = (H - 1) * strides[0] + (KH - 1) * dilations[0] + 1 - pad[0] - pad[1] + out_pad[0];
      OW = (W - 1) * strides[1] + (KW - 1) * dilations[1] + 1 - pad[2] - pad[3] + out_pad[1];
      if (!out_sizes.empty()) OH = out_sizes[0], OW = out_sizes[1];
    }
    return nhwc ? Dims{N, OH, OW, O} : Dims{N, O, OH, OW};
  }
  size_t act_index(int64_t n, int64_t c, int64_t h, int64_t w, int64_t CC, int64_t HH, int64_t WW) const {
    return size_t(nhwc ? ((n * HH + h) * WW + w) * CC + c : ((n * CC + c) * HH + h) * WW + w);
  }
  // o: output channel within the group for transposed, absolute otherwise; i likewise reversed.
  size_t filter_index(int64_t o, int64_t i, int64_t kh, int64_t kw) const {
    const std::string& l = filter_layout;
    if (!transposed) {
      if (l == "oihw") return size_t(((o * Ig + i) * KH + kh) * KW + kw);
      if (l == "hwio") return size_t(((kh * KW + kw) * Ig + i) * O + o);
      if (l == "ohwi") return size_t(((o * KH + kh) * KW + kw) * Ig + i);
      return size_t(((i * KH + kh) * KW + kw) * O + o);  // ihwo
    }
    if (l == "iohw") return size_t(((i * Og + o) * KH + kh) * KW + kw);
    if (l == "hwoi") return size_t(((kh * KW + kw) * Og + o) * C + i);
    return size_t(((o * KH + kh) * KW + kw) * C + i);  // ohwi
  }

  std::vector<double> compute(const Tensor& x, const Tensor& f, const Tensor* bias) {
    Dims os = output_shape(x.shape(), f.shape());
    std::vector<double> xv = x.to_doubles(), fv = f.to_doubles(), out(element_count(os), 0.0);
    std::vector<double> bv = bias ? bias->to_doubles() : std::vector<double>(size_t(O), 0.0);
    if (!transposed) {
      for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < O; ++o)
          for (int64_t oh = 0; oh < OH; ++oh)
            for (int64_t ow = 0; ow < OW; ++ow) {
              int64_t g = o / Og;
              double s = bv[size_t(o)];
              for (int64_t i = 0; i < Ig; ++i)
                for (int64_t kh = 0; kh < KH; ++kh)
                  for (int64_t kw = 0; kw < KW; ++kw) {
                    int64_t ih = oh * strides[0] - pad[0] + kh * dilations[0];
                    int64_t iw = ow * strides[1] - pad[2] + kw * dilations[1];
                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                    s += xv[act_index(n, g * Ig + i, ih, iw, C, H, W)] * fv[filter_index(o, i, kh, kw)];
                  }
              out[act_index(n, o, oh, ow, O, OH, OW)] = s;
            }
      return out;
    }
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) out[act_index(n, o, oh, ow, O, OH, OW)] = bv[size_t(o)];
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < C; ++i)
        for (int64_t ih = 0; ih < H; ++ih)
          for (int64_t iw = 0; iw < W; ++iw) {
            int64_t g = i / Ig;
            double v = xv[act_index(n, i, ih, iw, C, H, W)];
            for (int64_t o = 0; o < Og; ++o)
              for (int64_t kh = 0; kh < KH; ++kh)
                for (int64_t kw = 0; kw < KW; ++kw) {
                  int64_t oh = ih * strides[0] + kh * dilations[0] - pad[0];
                  int64_t ow = iw * strides[1] + kw * dilations[1] - pad[2];
                  if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                  out[act_index(n, g * Og + o, oh, ow, O, OH, OW)] += v * fv[filter_index(o, i, kh, kw)];
                }
          }
    return out;
  }
};

std::vector<uint32_t> u32(const std::vector<int64_t>& v) { return {v.begin(), v.end()}; }

Conv2dFilterLayout conv_layout(const std::string& l) {
  return l == "hwio" ? Conv2dFilterLayout::hwio
         : l == "ohwi" ? Conv2dFilterLayout::ohwi
         : l == "ihwo" ? Conv2dFilterLayout::ihwo : Conv2dFilterLayout::oihw;
}
ConvTranspose2dFilterLayout transpose_layout(const std::string& l) {
  return l == "hwoi" ? ConvTranspose2dFilterLayout::hwoi
         : l == "ohwi" ? ConvTranspose2dFilterLayout::ohwi : ConvTranspose2dFilterLayout::iohw;
}

// Builds the op through the public builder (filter and bias either constants or inputs),
// runs it and compares with the reference.
void check_conv(ConvRef ref, DataType type, const Dims& xs, const Dims& fs, bool bias,
                bool constant_weights, const std::string& what) {
  SCOPED_TRACE(what);
  Tensor x = random_tensor(type, xs, -1, 1, 11);
  Tensor f = random_tensor(type, fs, -1, 1, 12);
  Dims want_shape = ref.output_shape(xs, fs);
  Tensor b = random_tensor(type, {ref.O}, -1, 1, 13);
  GraphBuilder gb;
  Operand xi = gb.input("x", type, xs);
  Operand fi = constant_weights ? gb.constant(f) : gb.input("f", type, fs);
  Operand bi = bias ? (constant_weights ? gb.constant(b) : gb.input("b", type, {ref.O})) : Operand();
  Operand y;
  if (!ref.transposed) {
    Conv2dOptions o;
    o.padding = u32(ref.pad), o.strides = u32(ref.strides), o.dilations = u32(ref.dilations);
    o.groups = uint32_t(ref.groups);
    o.input_layout = ref.nhwc ? InputLayout::nhwc : InputLayout::nchw;
    o.filter_layout = conv_layout(ref.filter_layout);
    o.bias = bi;
    y = gb.conv2d(xi, fi, o);
  } else {
    ConvTranspose2dOptions o;
    o.padding = u32(ref.pad), o.strides = u32(ref.strides), o.dilations = u32(ref.dilations);
    o.output_padding = u32(ref.out_pad), o.output_sizes = u32(ref.out_sizes);
    o.groups = uint32_t(ref.groups);
    o.input_layout = ref.nhwc ? InputLayout::nhwc : InputLayout::nchw;
    o.filter_layout = transpose_layout(ref.filter_layout);
    o.bias = bi;
    y = gb.conv_transpose2d(xi, fi, o);
  }
  ASSERT_EQ(y.shape(), want_shape);
  ASSERT_EQ(y.data_type(), type);
  NamedTensors in{{"x", x}};
  if (!constant_weights) {
    in["f"] = f;
    if (bias) in["b"] = b;
  }
  Tensor got = run_cpu(gb.build({{"y", y}}), in).at("y");
  expect_close(got, ref.compute(x, f, bias ? &b : nullptr), tolerance(type), what);
}

TEST(ConvConv2d, DefaultOptions) {
  for (DataType t : {DataType::float32, DataType::float16})
    check_conv(ConvRef{}, t, {1, 3, 7, 6}, {4, 3, 3, 2}, false, true, "default");
}

TEST(ConvConv2d, AsymmetricPaddingStridesDilationsBias) {
  ConvRef r;
  r.pad = {1, 2, 0, 3}, r.strides = {2, 1}, r.dilations = {1, 2};
  for (DataType t : {DataType::float32, DataType::float16})
    for (bool constant : {true, false})
      check_conv(r, t, {2, 5, 11, 9}, {6, 5, 3, 3}, true, constant,
                 std::string(to_string(t)) + (constant ? " const" : " input"));
}

TEST(ConvConv2d, EveryFilterLayoutBothInputLayoutsGrouped) {
  for (bool nhwc : {false, true})
    for (const char* l : {"oihw", "hwio", "ohwi", "ihwo"}) {
      ConvRef r;
      r.nhwc = nhwc, r.filter_layout = l, r.groups = 2, r.pad = {1, 1, 0, 1}, r.strides = {1, 2};
      int64_t O = 6, Ig = 2, K = 3;
      Dims fs = r.filter_layout == "oihw"   ? Dims{O, Ig, K, 2}
                : r.filter_layout == "hwio" ? Dims{K, 2, Ig, O}
                : r.filter_layout == "ohwi" ? Dims{O, K, 2, Ig}
                                            : Dims{Ig, K, 2, O};
      Dims xs = nhwc ? Dims{2, 8, 7, 4} : Dims{2, 4, 8, 7};
      for (bool constant : {true, false})
        check_conv(r, DataType::float32, xs, fs, true, constant,
                   std::string(l) + (nhwc ? " nhwc" : " nchw") + (constant ? " const" : " input"));
    }
}

TEST(ConvConv2d, DepthwiseLikeMobileNet) {
  for (bool nhwc : {false, true})
    for (int64_t stride : {1, 2}) {
      ConvRef r;
      r.nhwc = nhwc, r.groups = 32, r.pad = {1, 1, 1, 1}, r.strides = {stride, stride};
      r.filter_layout = nhwc ? "ihwo" : "oihw";
      Dims fs = nhwc ? Dims{1, 3, 3, 32} : Dims{32, 1, 3, 3};
      Dims xs = nhwc ? Dims{1, 15, 14, 32} : Dims{1, 32, 15, 14};
      for (DataType t : {DataType::float32, DataType::float16})
        check_conv(r, t, xs, fs, true, true,
                   std::string(nhwc ? "nhwc" : "nchw") + " stride " + std::to_string(stride) +
                       " " + std::string(to_string(t)));
    }
}

TEST(ConvConv2d, PointwiseEveryLayoutSmallAndLargeImages) {
  // nchw images of 256 pixels or more run as a matmul on the graph's layout; smaller ones and
  // nhwc as convolutions. Both, with every filter layout.
  for (auto [c, o, h, w] : {std::array<int64_t, 4>{8, 4, 9, 10}, {12, 20, 17, 16}, {64, 96, 9, 10}})
    for (bool nhwc : {false, true})
      for (const char* l : {"oihw", "hwio", "ohwi", "ihwo"}) {
        ConvRef r;
        r.nhwc = nhwc, r.filter_layout = l;
        Dims xs = nhwc ? Dims{2, h, w, c} : Dims{2, c, h, w};
        Dims fs = r.filter_layout == "oihw"   ? Dims{o, c, 1, 1}
                  : r.filter_layout == "hwio" ? Dims{1, 1, c, o}
                  : r.filter_layout == "ohwi" ? Dims{o, 1, 1, c}
                                              : Dims{c, 1, 1, o};
        for (bool constant : {true, false})
          for (DataType t : {DataType::float32, DataType::float16})
            check_conv(r, t, xs, fs, true, constant,
                       std::to_string(c) + "->" + std::to_string(o) + " " + std::to_string(h) +
                           "x" + std::to_string(w) + " " + l + (nhwc ? " nhwc " : " nchw ") +
                           (constant ? "const " : "input ") + std::string(to_string(t)));
      }
}

// 3x3 stride-1 convolutions with 16-multiple channels run on oneDNN's Winograd kernels
// where the CPU has them (AVX-512; conv.cpp, winograd_allowed): still within the float32
// tolerance of the float64 reference, both input layouts, with bias, image sizes that do
// not divide into Winograd's 4x4 tiles.
TEST(ConvConv2d, WinogradShapesMatchFloat64) {
  // Every filter layout: oneDNN cannot reorder some strided ones (ohwi, ihwo) into its
  // Winograd format, and those convolutions take the direct kernel instead.
  for (bool nhwc : {false, true})
    for (int64_t c : {16, 64})
      for (const char* l : {"oihw", "hwio", "ohwi", "ihwo"}) {
        ConvRef r;
        r.nhwc = nhwc, r.pad = {1, 1, 1, 1}, r.filter_layout = l;
        Dims xs = nhwc ? Dims{2, 13, 11, c} : Dims{2, c, 13, 11};
        const std::string fl = l;
        Dims fs = fl == "oihw" ? Dims{32, c, 3, 3} : fl == "hwio" ? Dims{3, 3, c, 32}
                  : fl == "ohwi" ? Dims{32, 3, 3, c} : Dims{c, 3, 3, 32};
        check_conv(r, DataType::float32, xs, fs, true, true,
                   std::string(nhwc ? "nhwc" : "nchw") + " c" + std::to_string(c) + " " + l);
      }
}

// Two Winograd convolutions in a row hand the intermediate over in oneDNN's blocked layout
// (cpu_backend.cpp, link_native_layouts): the plan says so where the CPU has the kernels
// (AVX-512), and the values are the float64 reference's either way; a second reader of the
// intermediate (a graph output) keeps it in the graph's layout.
TEST(ConvConv2d, WinogradChainHandsOverInItsOwnLayout) {
  Tensor x = random_tensor(DataType::float32, {2, 32, 13, 14}, -1, 1, 71);
  Tensor f1 = random_tensor(DataType::float32, {32, 32, 3, 3}, -0.2, 0.2, 72);
  Tensor f2 = random_tensor(DataType::float32, {48, 32, 3, 3}, -0.2, 0.2, 73);
  Tensor b1 = random_tensor(DataType::float32, {32}, -0.5, 0.5, 74);
  ConvRef r;
  r.pad = {1, 1, 1, 1};
  std::vector<double> h = r.compute(x, f1, &b1);
  for (double& v : h) v = std::max(v, 0.0);
  Tensor ht = testing::tensor_from_doubles(DataType::float32, {2, 32, 13, 14}, h);
  ConvRef r2 = r;
  std::vector<double> want = r2.compute(ht, f2, nullptr);
  bool avx512 = false;
#if defined(__x86_64__)
  avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#endif
  for (bool both_outputs : {false, true}) {
    SCOPED_TRACE(both_outputs);
    GraphBuilder gb;
    Conv2dOptions o;
    o.padding = {1, 1, 1, 1};
    o.bias = gb.constant(b1);
    Operand mid = gb.relu(gb.conv2d(gb.input("x", DataType::float32, x.shape()), gb.constant(f1), o));
    Conv2dOptions o2;
    o2.padding = {1, 1, 1, 1};
    std::map<std::string, Operand> outs{{"y", gb.conv2d(mid, gb.constant(f2), o2)}};
    if (both_outputs) outs["mid"] = mid;
    Graph g = gb.build(outs);
    ContextOptions co;
    co.accelerated = false;
    Context c = Context::create(co);
    bool linked = c.report(g).find("1 convolution pair hand over") != std::string::npos;
    EXPECT_EQ(linked, avx512 && !both_outputs) << c.report(g);
    NamedTensors got = c.compute(g, {{"x", x}});
    expect_close(got.at("y"), want, {1e-4, 1e-4});
    if (both_outputs) expect_close(got.at("mid"), h, {1e-4, 1e-4});
  }
}

TEST(ConvConv2d, DefaultsAreFilledIntoAttrs) {
  GraphBuilder gb;
  Operand y = gb.conv2d(gb.input("x", DataType::float32, {1, 2, 5, 5}),
                        gb.input("f", DataType::float32, {3, 2, 3, 3}));
  EXPECT_EQ(y.shape(), (Dims{1, 3, 3, 3}));
  const detail::Attrs& a = gb.state().ir.nodes.back().attrs;
  EXPECT_EQ(a.ints("padding"), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(a.ints("strides"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(a.ints("dilations"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(a.i("groups"), 1);
  EXPECT_EQ(a.s("inputLayout"), "nchw");
  EXPECT_EQ(a.s("filterLayout"), "oihw");
}

TEST(ConvConvTranspose2d, DefaultOptions) {
  ConvRef r;
  r.transposed = true, r.filter_layout = "iohw";
  for (DataType t : {DataType::float32, DataType::float16})
    check_conv(r, t, {1, 3, 4, 5}, {3, 2, 3, 3}, false, true, std::string(to_string(t)));
}

TEST(ConvConvTranspose2d, StridesPaddingOutputPaddingDilationsBias) {
  ConvRef r;
  r.transposed = true, r.filter_layout = "iohw";
  r.strides = {2, 3}, r.pad = {1, 0, 2, 1}, r.out_pad = {1, 2}, r.dilations = {2, 1};
  for (DataType t : {DataType::float32, DataType::float16})
    for (bool constant : {true, false})
      check_conv(r, t, {2, 4, 5, 4}, {4, 3, 3, 4}, true, constant,
                 std::string(to_string(t)) + (constant ? " const" : " input"));
}

TEST(ConvConvTranspose2d, OutputSizes) {
  ConvRef r;
  r.transposed = true, r.filter_layout = "iohw", r.strides = {3, 2}, r.pad = {1, 1, 0, 0};
  // Computed size is (5-1)*3+3-2 = 13 by (4-1)*2+3 = 9; pick sizes inside [13,16) x [9,11).
  r.out_sizes = {15, 10};
  check_conv(r, DataType::float32, {1, 2, 5, 4}, {2, 3, 3, 3}, true, true, "outputSizes");
}

TEST(ConvConvTranspose2d, EveryFilterLayoutBothInputLayoutsGrouped) {
  for (bool nhwc : {false, true})
    for (const char* l : {"iohw", "hwoi", "ohwi"}) {
      ConvRef r;
      r.transposed = true, r.nhwc = nhwc, r.filter_layout = l, r.groups = 3;
      r.strides = {2, 2}, r.pad = {0, 1, 1, 0}, r.out_pad = {1, 0};
      int64_t C = 6, Og = 2;
      Dims fs = r.filter_layout == "iohw" ? Dims{C, Og, 3, 2}
                : r.filter_layout == "hwoi" ? Dims{3, 2, Og, C}
                                            : Dims{Og, 3, 2, C};
      Dims xs = nhwc ? Dims{2, 4, 5, C} : Dims{2, C, 4, 5};
      for (bool constant : {true, false})
        check_conv(r, DataType::float32, xs, fs, true, constant,
                   std::string(l) + (nhwc ? " nhwc" : " nchw") + (constant ? " const" : " input"));
    }
}

// The fusion contract: a conv2d node with "activation" attrs and a residual operand, as the
// compiler's fusion pass builds it.
struct Fused {
  std::string act;
  double alpha = 0, lo = 0, hi = 0;
  detail::Attrs attrs() const {
    detail::Attrs a;
    a.set("activation", act);
    if (act == "clamp") a.set("activationMin", lo), a.set("activationMax", hi);
    if (act == "leakyRelu" || act == "elu") a.set("activationAlpha", alpha);
    return a;
  }
  double apply(double x) const { return activate(act, x, alpha, lo, hi); }
};

const std::vector<Fused> kActivations = {
    {"relu"}, {"clamp", 0, 0, 6}, {"clamp", 0, -0.5, 0.25}, {"sigmoid"}, {"tanh"},
    {"leakyRelu", 0.2}, {"elu", 0.7}, {"hardSwish"}, {"gelu"}, {""}};

TEST(ConvFusion, Conv2dActivationBiasResidual) {
  for (DataType t : {DataType::float32, DataType::float16})
    for (bool nhwc : {false, true})
      for (const Fused& act : kActivations) {
        SCOPED_TRACE(act.act + " " + std::string(to_string(t)) + (nhwc ? " nhwc" : " nchw"));
        ConvRef r;
        r.nhwc = nhwc, r.pad = {1, 1, 1, 1};
        Dims xs = nhwc ? Dims{2, 6, 5, 16} : Dims{2, 16, 6, 5};
        Dims fs{16, 16, 3, 3};
        Dims os = r.output_shape(xs, fs);
        Tensor x = random_tensor(t, xs, -2, 2, 1), f = random_tensor(t, fs, -0.3, 0.3, 2);
        Tensor b = random_tensor(t, {16}, -1, 1, 3), res = random_tensor(t, os, -2, 2, 4);
        GraphBuilder gb;
        detail::Attrs a = act.attrs();
        a.set("inputLayout", std::string(nhwc ? "nhwc" : "nchw"));
        a.set("padding", std::vector<int64_t>{1, 1, 1, 1});
        Operand y = detail::add_op(gb, detail::OpId::conv2d,
                                   {gb.input("x", t, xs), gb.constant(f), gb.constant(b),
                                    gb.input("r", t, os)},
                                   a, "fused")[0];
        Tensor got = run_cpu(gb.build({{"y", y}}), {{"x", x}, {"r", res}}).at("y");
        std::vector<double> want = r.compute(x, f, &b), rv = res.to_doubles();
        for (size_t i = 0; i < want.size(); ++i) want[i] = act.apply(want[i] + rv[i]);
        expect_close(got, want, tolerance(t));
      }
}

TEST(ConvFusion, PointwiseNchwBiasResidualActivation) {
  // The matmul route of large nchw pointwise convolutions, with every fused part.
  for (DataType t : {DataType::float32, DataType::float16})
    for (bool with_bias : {true, false})
      for (const Fused& act : {Fused{"clamp", 0, 0, 6}, Fused{"gelu"}, Fused{""}}) {
        SCOPED_TRACE(act.act + " " + std::string(to_string(t)) + (with_bias ? " bias" : ""));
        ConvRef r;
        Dims xs{2, 24, 16, 20}, fs{40, 24, 1, 1};
        Dims os = r.output_shape(xs, fs);
        Tensor x = random_tensor(t, xs, -2, 2, 1), f = random_tensor(t, fs, -0.3, 0.3, 2);
        Tensor b = random_tensor(t, {40}, -1, 1, 3), res = random_tensor(t, os, -2, 2, 4);
        GraphBuilder gb;
        Operand y = detail::add_op(gb, detail::OpId::conv2d,
                                   {gb.input("x", t, xs), gb.constant(f),
                                    with_bias ? gb.input("b", t, {40}) : Operand(),
                                    gb.input("r", t, os)},
                                   act.attrs(), "")[0];
        NamedTensors in{{"x", x}, {"r", res}};
        if (with_bias) in["b"] = b;
        Tensor got = run_cpu(gb.build({{"y", y}}), in).at("y");
        std::vector<double> want = r.compute(x, f, with_bias ? &b : nullptr), rv = res.to_doubles();
        for (size_t i = 0; i < want.size(); ++i) want[i] = act.apply(want[i] + rv[i]);
        expect_close(got, want, tolerance(t));
      }
}

TEST(ConvFusion, Conv2dResidualWithoutBiasAndWithGraphInputFilter) {
  ConvRef r;
  r.groups = 4, r.strides = {2, 2};
  Dims xs_shape{1, 8, 9, 9}, fs{8, 2, 3, 3};
  Dims os = r.output_shape(xs_shape, fs);
  GraphBuilder gb;
  detail::Attrs a;
  a.set("groups", int64_t(4));
  a.set("strides", std::vector<int64_t>{2, 2});
  a.set("activation", std::string("relu"));
  Operand y = detail::add_op(gb, detail::OpId::conv2d,
                             {gb.input("x", DataType::float32, xs_shape),
                              gb.input("f", DataType::float32, fs), Operand(),
                              gb.input("r", DataType::float32, os)},
                             a, "")[0];
  Graph g = gb.build({{"y", y}});
  // One context, two computes with other data: the kernel's staging and reordered filter must
  // follow the new inputs.
  ContextOptions options;
  options.accelerated = false;
  Context context = Context::create(options);
  for (uint32_t seed : {5u, 50u}) {
    Tensor xs = random_tensor(DataType::float32, xs_shape, -1, 1, seed);
    Tensor fs_ = random_tensor(DataType::float32, fs, -1, 1, seed + 1);
    Tensor rs = random_tensor(DataType::float32, os, -1, 1, seed + 2);
    std::vector<double> want = r.compute(xs, fs_, nullptr), rv = rs.to_doubles();
    for (size_t i = 0; i < want.size(); ++i) want[i] = std::max(0.0, want[i] + rv[i]);
    expect_close(context.compute(g, {{"x", xs}, {"f", fs_}, {"r", rs}}).at("y"), want,
                 tolerance(DataType::float32));
  }
}

TEST(ConvFusion, ConvTranspose2dActivation) {
  for (const Fused& act : kActivations) {
    SCOPED_TRACE(act.act);
    ConvRef r;
    r.transposed = true, r.filter_layout = "iohw", r.strides = {2, 2};
    Dims xs{1, 4, 3, 3}, fs{4, 5, 2, 2};
    Tensor x = random_tensor(DataType::float32, xs, -1, 1, 8);
    Tensor f = random_tensor(DataType::float32, fs, -1, 1, 9);
    GraphBuilder gb;
    detail::Attrs a = act.attrs();
    a.set("strides", std::vector<int64_t>{2, 2});
    Operand y = detail::add_op(gb, detail::OpId::convTranspose2d,
                               {gb.input("x", DataType::float32, xs), gb.constant(f)}, a, "")[0];
    std::vector<double> want = r.compute(x, f, nullptr);
    for (double& v : want) v = act.apply(v);
    expect_close(run_cpu(gb.build({{"y", y}}), {{"x", x}}).at("y"), want,
                 tolerance(DataType::float32));
  }
}

// Affine layers after a conv fold into its filter and bias (what ONNX Runtime's Conv+Mul,
// Conv+Add and Conv+BatchNormalization fusions do): PP-LCNet's learnable affine block
// (conv * a + b, scalars), a per-channel scale, a batch norm, and then the hard-swish spelled
// x * clamp(x + 3, 0, 6) / 6 goes into the epilogue: one node. Every filter layout, both
// input layouts, grouped, conv2d and convTranspose2d (including one output channel, the
// detection head's), with and without the conv's own bias, against float64.
TEST(ConvFolding, ScaleBiasBatchNormAndHardSwishFoldIntoTheConv) {
  struct Case {
    bool transposed;
    const char* layout;
    bool nhwc;
    int64_t groups, og;
    bool own_bias, per_channel;
  };
  std::vector<Case> cases;
  for (const char* l : {"oihw", "hwio", "ohwi", "ihwo"})
    for (bool nhwc : {false, true}) cases.push_back({false, l, nhwc, 3, 2, nhwc, !nhwc});
  for (const char* l : {"iohw", "hwoi", "ohwi"})
    for (bool nhwc : {false, true}) cases.push_back({true, l, nhwc, 3, 2, !nhwc, nhwc});
  cases.push_back({true, "iohw", false, 1, 1, true, false});  // one output channel
  cases.push_back({false, "oihw", false, 6, 1, false, true});  // depthwise
  for (const Case& c : cases) {
    std::string what = std::string(c.transposed ? "convTranspose2d " : "conv2d ") + c.layout +
                       (c.nhwc ? " nhwc" : " nchw") + " g" + std::to_string(c.groups) + " og" +
                       std::to_string(c.og) + (c.own_bias ? " bias" : "") + (c.per_channel ? " per-channel" : "");
    SCOPED_TRACE(what);
    ConvRef r;
    r.transposed = c.transposed, r.nhwc = c.nhwc, r.filter_layout = c.layout, r.groups = c.groups;
    r.pad = c.transposed ? std::vector<int64_t>{0, 0, 0, 0} : std::vector<int64_t>{1, 1, 1, 1};
    r.strides = c.transposed ? std::vector<int64_t>{2, 2} : std::vector<int64_t>{1, 1};
    int64_t C = 6, K = 3;
    Dims fs;
    const std::string l = c.layout;
    if (!c.transposed) {
      int64_t O = c.og * c.groups, I = C / c.groups;
      fs = l == "oihw" ? Dims{O, I, K, K} : l == "hwio" ? Dims{K, K, I, O} : l == "ohwi" ? Dims{O, K, K, I} : Dims{I, K, K, O};
    } else {
      fs = l == "iohw" ? Dims{C, c.og, K, K} : l == "hwoi" ? Dims{K, K, c.og, C} : Dims{c.og, K, K, C};
    }
    Dims xs = c.nhwc ? Dims{2, 5, 4, C} : Dims{2, C, 5, 4};
    Dims os = r.output_shape(xs, fs);
    int64_t O = r.O;
    Tensor x = random_tensor(DataType::float32, xs, -1, 1, 21);
    Tensor f = random_tensor(DataType::float32, fs, -0.5, 0.5, 22);
    Tensor own = random_tensor(DataType::float32, {O}, -1, 1, 23);
    Tensor scale = random_tensor(DataType::float32, {O}, 0.5, 1.5, 24);
    Tensor shift = random_tensor(DataType::float32, {O}, -1, 1, 25);
    Tensor mean = random_tensor(DataType::float32, {O}, -0.5, 0.5, 26);
    Tensor var = random_tensor(DataType::float32, {O}, 0.5, 2, 27);
    Tensor gamma = random_tensor(DataType::float32, {O}, 0.5, 2, 28);
    Tensor beta = random_tensor(DataType::float32, {O}, -1, 1, 29);
    Dims row = c.nhwc ? Dims{1, 1, 1, O} : Dims{1, O, 1, 1};
    const double a = 1.25, b0 = -0.375;
    GraphBuilder gb;
    Operand xi = gb.input("x", DataType::float32, xs);
    Operand y;
    if (!c.transposed) {
      Conv2dOptions o;
      o.padding = u32(r.pad), o.groups = uint32_t(c.groups), o.filter_layout = conv_layout(l);
      o.input_layout = c.nhwc ? InputLayout::nhwc : InputLayout::nchw;
      if (c.own_bias) o.bias = gb.constant(own);
      y = gb.conv2d(xi, gb.constant(f), o);
    } else {
      ConvTranspose2dOptions o;
      o.strides = u32(r.strides), o.groups = uint32_t(c.groups), o.filter_layout = transpose_layout(l);
      o.input_layout = c.nhwc ? InputLayout::nhwc : InputLayout::nchw;
      if (c.own_bias) o.bias = gb.constant(own);
      y = gb.conv_transpose2d(xi, gb.constant(f), o);
    }
    // conv * s + t (s, t scalars or per channel), then a batch norm, then hard-swish.
    y = c.per_channel ? gb.add(gb.mul(y, gb.constant(scale.reshaped(row))), gb.constant(shift.reshaped(row)))
                      : gb.add(gb.mul(gb.constant(DataType::float32, a), y), gb.constant(DataType::float32, b0));
    BatchNormalizationOptions bo;
    bo.axis = c.nhwc ? 3 : 1;
    bo.scale = gb.constant(gamma), bo.bias = gb.constant(beta);
    y = gb.batch_normalization(y, gb.constant(mean), gb.constant(var), bo);
    ClampOptions co;
    co.min_value = 0.0, co.max_value = 6.0;
    Operand clipped = gb.clamp(gb.add(y, gb.constant(DataType::float32, 3.0)), co);
    y = gb.div(gb.mul(y, clipped), gb.constant(DataType::float32, 6.0));
    Graph g = gb.build({{"y", y}});

    detail::PassOptions po = detail::cpu_pass_options();
    po.channels_last = false;
    auto opt = detail::optimize(g.ir_ptr(), po);
    ASSERT_EQ(opt->nodes.size(), 1u) << Graph(opt).summary();
    EXPECT_EQ(opt->nodes[0].attrs.s_or("activation", ""), "hardSwish");

    std::vector<double> want = r.compute(x, f, c.own_bias ? &own : nullptr);
    auto sv = scale.to_doubles(), tv = shift.to_doubles(), mv = mean.to_doubles(), vv = var.to_doubles(),
         gv = gamma.to_doubles(), bv = beta.to_doubles();
    for (size_t i = 0; i < want.size(); ++i) {
      size_t ch = size_t(c.nhwc ? int64_t(i) % O : (int64_t(i) / (os[2] * os[3])) % O);
      double v = c.per_channel ? want[i] * sv[ch] + tv[ch] : a * want[i] + b0;
      v = (v - mv[ch]) / std::sqrt(vv[ch] + 1e-5) * gv[ch] + bv[ch];
      want[i] = v * std::min(std::max(v + 3, 0.0), 6.0) / 6;
    }
    expect_close(run_cpu(g, {{"x", x}}).at("y"), want, {1e-4, 1e-4}, what);
  }
}

// What must not fold: a scale that is not a constant, a conv output read twice, a batch
// norm along another axis, a conv whose filter is a graph input; values stay right.
TEST(ConvFolding, NearMissesStayAsTheyAre) {
  Tensor x = random_tensor(DataType::float32, {1, 4, 5, 5}, -1, 1, 31);
  Tensor f = random_tensor(DataType::float32, {4, 4, 3, 3}, -0.5, 0.5, 32);
  Tensor s = random_tensor(DataType::float32, {1, 4, 1, 1}, 0.5, 1.5, 33);
  detail::PassOptions po = detail::cpu_pass_options();
  po.channels_last = false;
  ConvRef r;
  r.pad = {1, 1, 1, 1};
  std::vector<double> conv = r.compute(x, f, nullptr);
  Conv2dOptions o;
  o.padding = {1, 1, 1, 1};
  for (int form = 0; form < 4; ++form) {
    SCOPED_TRACE(form);
    GraphBuilder gb;
    Operand xi = gb.input("x", DataType::float32, x.shape());
    Operand fi = form == 3 ? gb.input("f", DataType::float32, f.shape()) : gb.constant(f);
    Operand y = gb.conv2d(xi, fi, o);
    std::map<std::string, Operand> outs;
    std::vector<double> want = conv;
    if (form == 0) {  // a scale computed by the graph
      Operand si = gb.input("s", DataType::float32, s.shape());
      outs["y"] = gb.mul(y, si);
      auto sv = s.to_doubles();
      for (size_t i = 0; i < want.size(); ++i) want[i] *= sv[i / 25];
    } else if (form == 1) {  // the conv's output also an output of the graph
      outs["y"] = gb.mul(y, gb.constant(s));
      outs["conv"] = y;
      auto sv = s.to_doubles();
      for (size_t i = 0; i < want.size(); ++i) want[i] *= sv[i / 25];
    } else if (form == 2) {  // a batch norm over the height axis
      BatchNormalizationOptions bo;
      bo.axis = 2;
      Tensor m = random_tensor(DataType::float32, {5}, -0.5, 0.5, 34), v = random_tensor(DataType::float32, {5}, 0.5, 2, 35);
      outs["y"] = gb.batch_normalization(y, gb.constant(m), gb.constant(v), bo);
      auto mv = m.to_doubles(), vv = v.to_doubles();
      for (size_t i = 0; i < want.size(); ++i) {
        size_t h = (i / 5) % 5;
        want[i] = (want[i] - mv[h]) / std::sqrt(vv[h] + 1e-5);
      }
    } else {  // the filter a graph input
      outs["y"] = gb.mul(y, gb.constant(s));
      auto sv = s.to_doubles();
      for (size_t i = 0; i < want.size(); ++i) want[i] *= sv[i / 25];
    }
    Graph g = gb.build(outs);
    auto opt = detail::optimize(g.ir_ptr(), po);
    EXPECT_EQ(opt->nodes.size(), 2u) << Graph(opt).summary();
    NamedTensors in{{"x", x}};
    if (form == 0) in["s"] = s;
    if (form == 3) in["f"] = f;
    expect_close(run_cpu(g, in).at("y"), want, {1e-4, 1e-4});
  }
}

// mul and add of scalar constants after a computed value become one linear node (PP-LCNet's
// affine block after its activation); not when the product is read elsewhere.
TEST(ConvFolding, ScalarMulAddBecomesLinear) {
  Tensor x = random_tensor(DataType::float32, {2, 3, 4}, -2, 2, 41);
  for (int form = 0; form < 3; ++form) {
    SCOPED_TRACE(form);
    GraphBuilder gb;
    Operand r = gb.relu(gb.input("x", DataType::float32, x.shape()));
    Operand m = form == 1 ? gb.mul(gb.constant(DataType::float32, 0.75), r) : gb.mul(r, gb.constant(DataType::float32, 0.75));
    Operand y = form == 1 ? gb.sub(m, gb.constant(DataType::float32, 0.5)) : gb.add(gb.constant(DataType::float32, -0.5), m);
    std::map<std::string, Operand> outs{{"y", y}};
    if (form == 2) outs["m"] = m;
    Graph g = gb.build(outs);
    detail::PassOptions po = detail::cpu_pass_options();
    po.channels_last = false;
    auto opt = detail::optimize(g.ir_ptr(), po);
    bool fused = form < 2;
    size_t linear = 0;
    for (const auto& n : opt->nodes) linear += n.op == detail::OpId::linear;
    EXPECT_EQ(linear, fused ? 1u : 0u) << Graph(opt).summary();
    std::vector<double> want = x.to_doubles();
    for (double& v : want) v = std::max(v, 0.0) * 0.75 - 0.5;
    expect_close(run_cpu(g, {{"x", x}}).at("y"), want, {1e-6, 1e-6});
  }
}

TEST(ConvErrors, Conv2dValidation) {
  GraphBuilder gb;
  Operand x = gb.input("x", DataType::float32, {1, 4, 5, 5});
  Operand f = gb.input("f", DataType::float32, {6, 4, 3, 3});
  auto conv = [&](const Operand& in, const Operand& filter, Conv2dOptions o = {}) {
    return [&gb, in, filter, o] { gb.conv2d(in, filter, o); };
  };
  expect_error(conv(gb.input("x3", DataType::float32, {4, 5, 5}), f), ErrorKind::TypeError,
               "operand 'input' must be 4-D");
  expect_error(conv(x, gb.input("f2", DataType::float32, {3, 3})), ErrorKind::TypeError,
               "operand 'filter' must be 4-D, got shape [3, 3]");
  expect_error(conv(gb.input("xi", DataType::int32, {1, 4, 5, 5}), f), ErrorKind::TypeError,
               "data type int32");
  expect_error(conv(x, gb.input("fh", DataType::float16, {6, 4, 3, 3})), ErrorKind::TypeError,
               "operand 'filter' has data type float16");
  expect_error(conv(x, gb.input("fc", DataType::float32, {6, 3, 3, 3})), ErrorKind::TypeError,
               "input channels / groups is 4");
  Conv2dOptions g3;
  g3.groups = 3;
  expect_error(conv(x, f, g3), ErrorKind::TypeError, "groups (3) does not divide");
  Conv2dOptions g2;
  g2.groups = 2;
  expect_error(conv(x, gb.input("fo", DataType::float32, {5, 2, 3, 3}), g2), ErrorKind::TypeError,
               "5 output channels, which groups (2) does not divide");
  Conv2dOptions g0;
  g0.groups = 0;
  expect_error(conv(x, f, g0), ErrorKind::TypeError, "option 'groups'");
  Conv2dOptions pad;
  pad.padding = {1, 1, 1};
  expect_error(conv(x, f, pad), ErrorKind::TypeError, "option 'padding' must have 4 values");
  Conv2dOptions strides;
  strides.strides = {1, 0};
  expect_error(conv(x, f, strides), ErrorKind::TypeError, "option 'strides' must not contain 0");
  Conv2dOptions dil;
  dil.dilations = {2};
  expect_error(conv(x, f, dil), ErrorKind::TypeError, "option 'dilations' must have 2 values");
  Conv2dOptions big;
  big.dilations = {3, 1};  // effective height 7 > 5
  expect_error(conv(x, f, big), ErrorKind::TypeError, "output height -1 is not a valid dimension");
  Conv2dOptions bias;
  bias.bias = gb.input("b", DataType::float32, {4});
  expect_error(conv(x, f, bias), ErrorKind::TypeError, "operand 'bias' must have shape [6]");
  Conv2dOptions bias_type;
  bias_type.bias = gb.input("bt", DataType::float16, {6});
  expect_error(conv(x, f, bias_type), ErrorKind::TypeError, "operand 'bias' has data type float16");
  Conv2dOptions labelled;
  labelled.label = "mine";
  labelled.strides = {0, 1};
  expect_error(conv(x, f, labelled), ErrorKind::TypeError, "conv2d 'mine'");
  // The builder keeps working after errors.
  Operand y = gb.conv2d(x, f);
  EXPECT_EQ(y.shape(), (Dims{1, 6, 3, 3}));
}

TEST(ConvErrors, ConvTranspose2dValidation) {
  GraphBuilder gb;
  Operand x = gb.input("x", DataType::float32, {1, 4, 5, 5});
  Operand f = gb.input("f", DataType::float32, {4, 2, 3, 3});
  auto convt = [&](const Operand& filter, ConvTranspose2dOptions o) {
    return [&gb, x, filter, o] { gb.conv_transpose2d(x, filter, o); };
  };
  ConvTranspose2dOptions op;
  op.strides = {2, 2}, op.output_padding = {2, 0};
  expect_error(convt(f, op), ErrorKind::TypeError, "must be smaller than option 'strides'");
  ConvTranspose2dOptions sizes;
  sizes.strides = {2, 2}, sizes.output_sizes = {13, 11};  // computed 11 x 11
  expect_error(convt(f, sizes), ErrorKind::TypeError, "outputSizes' height 13 must be in [11, 13)");
  sizes.output_sizes = {11, 10};
  expect_error(convt(f, sizes), ErrorKind::TypeError, "width 10 must be in [11, 13)");
  sizes.output_sizes = {12};
  expect_error(convt(f, sizes), ErrorKind::TypeError, "option 'outputSizes' must have 2 values");
  expect_error(convt(gb.input("f3", DataType::float32, {3, 2, 3, 3}), {}), ErrorKind::TypeError,
               "has 3 input channels but operand 'input' has 4");
  ConvTranspose2dOptions groups;
  groups.groups = 3;
  expect_error(convt(gb.input("f6", DataType::float32, {4, 1, 3, 3}), groups), ErrorKind::TypeError,
               "groups (3) does not divide");
  ConvTranspose2dOptions pad;
  pad.padding = {4, 4, 0, 0};  // (5-1)+3-8 = -1
  expect_error(convt(f, pad), ErrorKind::TypeError, "output height -1 is not a valid dimension");
  ConvTranspose2dOptions bias;
  bias.groups = 2;
  bias.bias = gb.input("b", DataType::float32, {2});
  expect_error(convt(f, bias), ErrorKind::TypeError, "operand 'bias' must have shape [4]");
  expect_error(convt(gb.input("f2", DataType::float32, {4, 2, 3}), {}), ErrorKind::TypeError,
               "operand 'filter' must be 4-D");
  ConvTranspose2dOptions ok;
  ok.strides = {2, 2}, ok.output_sizes = {12, 11}, ok.groups = 2, ok.bias = gb.input("b4", DataType::float32, {4});
  EXPECT_EQ(gb.conv_transpose2d(x, f, ok).shape(), (Dims{1, 4, 12, 11}));
}

TEST(ConvErrors, FusionContractIsValidated) {
  GraphBuilder gb;
  Operand x = gb.input("x", DataType::float32, {1, 2, 4, 4});
  Operand f = gb.input("f", DataType::float32, {3, 2, 1, 1});
  auto fused = [&](std::vector<Operand> ins, detail::Attrs a) {
    return [&gb, ins, a] { detail::add_op(gb, detail::OpId::conv2d, ins, a, "c"); };
  };
  detail::Attrs bad;
  bad.set("activation", std::string("swish"));
  expect_error(fused({x, f}, bad), ErrorKind::TypeError, "unknown value 'swish'");
  detail::Attrs clamp;
  clamp.set("activation", std::string("clamp"));
  clamp.set("activationMin", 2.0);
  clamp.set("activationMax", 1.0);
  expect_error(fused({x, f}, clamp), ErrorKind::TypeError, "must not be greater than");
  expect_error(fused({x, f, Operand(), gb.input("r", DataType::float32, {1, 3, 4, 3})}, {}),
               ErrorKind::TypeError, "operand 'residual' must have the output's shape [1, 3, 4, 4]");
  expect_error(fused({x, f, Operand(), gb.input("rh", DataType::float16, {1, 3, 4, 4})}, {}),
               ErrorKind::TypeError, "operand 'residual' has data type float16");
  detail::Attrs relu;
  relu.set("activation", std::string("relu"));
  expect_error([&] { detail::add_op(gb, detail::OpId::convTranspose2d, {x, gb.input("ft", DataType::float32, {2, 3, 1, 1})}, bad, ""); },
               ErrorKind::TypeError, "convTranspose2d");
  EXPECT_EQ(detail::add_op(gb, detail::OpId::conv2d, {x, f}, relu, "")[0].shape(), (Dims{1, 3, 4, 4}));
}

}  // namespace
}  // namespace cppnn
