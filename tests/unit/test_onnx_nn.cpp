// ONNX import of convolutions, pooling, matrix products, normalizations, softmax and
// reductions, run on the CPU against float64 references written here.
// They need the op families of the other branches; move this file to tests/unit/ once
// they are merged.
#include <cmath>
#include <numeric>

#include "unit/onnx_test_model.h"
#include "unit/test_support.h"

namespace cppnn {
namespace {

using testing::attr;
using testing::expect_close;
using testing::OnnxTestModel;
using testing::random_tensor;
using testing::raw_tensor;
using testing::run_model;
using testing::tensor_from_doubles;
using testing::weight;
using P = onnx::TensorProto;

constexpr testing::Tolerance kF32{1e-5, 1e-4};

size_t offset4(const Dims& s, int64_t a, int64_t b, int64_t c, int64_t d) {
  return size_t(((a * s[1] + b) * s[2] + c) * s[3] + d);
}

// ----- convolution and pooling ----------------------------------------------------------------

struct ConvParams {
  int64_t group = 1;
  std::vector<int64_t> pads = {0, 0, 0, 0};  // ONNX order: [h_begin, w_begin, h_end, w_end]
  std::vector<int64_t> strides = {1, 1}, dilations = {1, 1};
};

std::vector<double> conv_reference(const Tensor& x, const Tensor& w, const Tensor* bias,
                                   const ConvParams& p, Dims* out_shape) {
  const Dims& xs = x.shape();
  const Dims& ws = w.shape();
  int64_t n = xs[0], h = xs[2], wd = xs[3], m = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
  int64_t oh = (h + p.pads[0] + p.pads[2] - ((kh - 1) * p.dilations[0] + 1)) / p.strides[0] + 1;
  int64_t ow = (wd + p.pads[1] + p.pads[3] - ((kw - 1) * p.dilations[1] + 1)) / p.strides[1] + 1;
  *out_shape = {n, m, oh, ow};
  std::vector<double> xv = x.to_doubles(), wv = w.to_doubles(), out;
  std::vector<double> bv = bias ? bias->to_doubles() : std::vector<double>(size_t(m), 0.0);
  int64_t mg = m / p.group;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < m; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t z = 0; z < ow; ++z) {
          double s = bv[size_t(o)];
          int64_t g = o / mg;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t i = 0; i < kh; ++i)
              for (int64_t j = 0; j < kw; ++j) {
                int64_t iy = y * p.strides[0] - p.pads[0] + i * p.dilations[0];
                int64_t ix = z * p.strides[1] - p.pads[1] + j * p.dilations[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                s += xv[offset4(xs, b, g * cg + c, iy, ix)] * wv[offset4(ws, o, c, i, j)];
              }
          out.push_back(s);
        }
  return out;
}

void add_conv_attrs(onnx::NodeProto& n, const ConvParams& p) {
  attr(n, "group", p.group);
  attr(n, "pads", p.pads);
  attr(n, "strides", p.strides);
  attr(n, "dilations", p.dilations);
}

TEST(OnnxOps, ConvPadsStridesDilationsGroupsBias) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(4), int64_t(7), int64_t(6)});
  Tensor w = weight(m, "w", {6, 2, 3, 3}, 11);
  Tensor b = weight(m, "b", {6}, 12);
  ConvParams p;
  p.group = 2;
  p.pads = {1, 0, 2, 1};
  p.strides = {2, 1};
  p.dilations = {1, 2};
  add_conv_attrs(m.node("Conv", {"x", "w", "b"}, {"y"}), p);
  m.output("y");
  Tensor x = random_tensor(DataType::float32, {2, 4, 7, 6}, -1, 1, 13);
  NamedTensors out = run_model(m, {{"x", x}});
  Dims shape;
  std::vector<double> want = conv_reference(x, w, &b, p, &shape);
  EXPECT_EQ(out["y"].shape(), shape);
  expect_close(out["y"], want, kF32);
}

TEST(OnnxOps, ConvAutoPadModes) {
  // Input 6x5, kernel 4x2, stride 2: SAME needs 2 rows and 1 column of padding in total,
  // so UPPER and LOWER differ in the columns.
  struct Case {
    const char* auto_pad;
    std::vector<int64_t> pads;
  };
  for (const Case& c : {Case{"SAME_UPPER", {1, 0, 1, 1}}, Case{"SAME_LOWER", {1, 1, 1, 0}},
                        Case{"VALID", {0, 0, 0, 0}}}) {
    SCOPED_TRACE(c.auto_pad);
    OnnxTestModel m;
    m.input("x", P::FLOAT, {int64_t(1), int64_t(3), int64_t(6), int64_t(5)});
    Tensor w = weight(m, "w", {2, 3, 4, 2}, 21);
    auto& n = m.node("Conv", {"x", "w"}, {"y"});
    attr(n, "auto_pad", c.auto_pad);
    attr(n, "strides", std::vector<int64_t>{2, 2});
    attr(n, "kernel_shape", std::vector<int64_t>{4, 2});
    m.output("y");
    Tensor x = random_tensor(DataType::float32, {1, 3, 6, 5}, -1, 1, 22);
    NamedTensors out = run_model(m, {{"x", x}});
    ConvParams p;
    p.pads = c.pads;
    p.strides = {2, 2};
    Dims shape;
    std::vector<double> want = conv_reference(x, w, nullptr, p, &shape);
    EXPECT_EQ(out["y"].shape(), shape);
    expect_close(out["y"], want, kF32);
  }
}

TEST(OnnxOps, Conv1dRunsAs2d) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(2), int64_t(9)});
  Tensor w = weight(m, "w", {3, 2, 3}, 31);
  auto& n = m.node("Conv", {"x", "w"}, {"y"});
  attr(n, "pads", std::vector<int64_t>{1, 2});
  attr(n, "strides", std::vector<int64_t>{2});
  m.output("y");
  Tensor x = random_tensor(DataType::float32, {2, 2, 9}, -1, 1, 32);
  NamedTensors out = run_model(m, {{"x", x}});
  ConvParams p;
  p.pads = {0, 1, 0, 2};
  p.strides = {1, 2};
  Dims shape;
  std::vector<double> want =
      conv_reference(x.reshaped({2, 2, 1, 9}), w.reshaped({3, 2, 1, 3}), nullptr, p, &shape);
  EXPECT_EQ(out["y"].shape(), (Dims{2, 3, shape[3]}));
  expect_close(out["y"], want, kF32);
}

struct PoolParams {
  std::vector<int64_t> kernel, pads = {0, 0, 0, 0}, strides = {1, 1}, dilations = {1, 1};
  bool ceil_mode = false, count_include_pad = false;
};

std::vector<double> pool_reference(bool max, const Tensor& x, const PoolParams& p,
                                   Dims* out_shape) {
  const Dims& s = x.shape();
  int64_t out[2];
  for (int d = 0; d < 2; ++d) {
    int64_t room = s[size_t(2 + d)] + p.pads[size_t(d)] + p.pads[size_t(2 + d)] -
                   ((p.kernel[size_t(d)] - 1) * p.dilations[size_t(d)] + 1);
    int64_t st = p.strides[size_t(d)];
    out[d] = (p.ceil_mode ? (room + st - 1) / st : room / st) + 1;
    // ONNX drops a last window that starts in the end padding.
    if (p.ceil_mode && (out[d] - 1) * st >= s[size_t(2 + d)] + p.pads[size_t(d)]) --out[d];
  }
  *out_shape = {s[0], s[1], out[0], out[1]};
  std::vector<double> xv = x.to_doubles(), result;
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t y = 0; y < out[0]; ++y)
        for (int64_t z = 0; z < out[1]; ++z) {
          double acc = max ? -INFINITY : 0;
          int64_t count = 0;
          for (int64_t i = 0; i < p.kernel[0]; ++i)
            for (int64_t j = 0; j < p.kernel[1]; ++j) {
              int64_t iy = y * p.strides[0] - p.pads[0] + i * p.dilations[0];
              int64_t ix = z * p.strides[1] - p.pads[1] + j * p.dilations[1];
              bool inside = iy >= 0 && iy < s[2] && ix >= 0 && ix < s[3];
              bool in_padding = iy >= -p.pads[0] && iy < s[2] + p.pads[2] && ix >= -p.pads[1] &&
                                ix < s[3] + p.pads[3];
              if (inside) {
                double v = xv[offset4(s, n, c, iy, ix)];
                acc = max ? std::max(acc, v) : acc + v;
                ++count;
              } else if (in_padding && p.count_include_pad) {
                ++count;
              }
            }
          result.push_back(max ? acc : acc / double(count));
        }
  return result;
}

void add_pool_attrs(onnx::NodeProto& n, const PoolParams& p, bool with_dilations) {
  attr(n, "kernel_shape", p.kernel);
  attr(n, "pads", p.pads);
  attr(n, "strides", p.strides);
  if (with_dilations) attr(n, "dilations", p.dilations);
  attr(n, "ceil_mode", int64_t(p.ceil_mode));
}

TEST(OnnxOps, MaxPoolCeilModeDilationsPads) {
  std::vector<PoolParams> cases(3);
  cases[0].kernel = {3, 3}, cases[0].pads = {1, 1, 1, 1}, cases[0].strides = {2, 2};
  cases[0].ceil_mode = true;  // 7 -> ceil gives 4, but the 4th window would start in padding
  cases[1].kernel = {2, 3}, cases[1].strides = {2, 2}, cases[1].ceil_mode = true;  // partial
  cases[2].kernel = {2, 2}, cases[2].dilations = {2, 1}, cases[2].pads = {0, 1, 1, 0};
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    OnnxTestModel m;
    m.input("x", P::FLOAT, {int64_t(1), int64_t(2), int64_t(7), int64_t(8)});
    add_pool_attrs(m.node("MaxPool", {"x"}, {"y"}), cases[i], true);
    m.output("y");
    Tensor x = random_tensor(DataType::float32, {1, 2, 7, 8}, -1, 1, uint32_t(40 + i));
    NamedTensors out = run_model(m, {{"x", x}});
    Dims shape;
    std::vector<double> want = pool_reference(true, x, cases[i], &shape);
    EXPECT_EQ(out["y"].shape(), shape);
    expect_close(out["y"], want, kF32);
  }
}

TEST(OnnxOps, AveragePoolWithAndWithoutPadCounting) {
  for (bool include : {false, true}) {
    SCOPED_TRACE(include);
    PoolParams p;
    p.kernel = {3, 2};
    p.pads = {1, 0, 1, 1};
    p.strides = {2, 1};
    p.count_include_pad = include;
    OnnxTestModel m;
    m.input("x", P::FLOAT, {int64_t(2), int64_t(3), int64_t(6), int64_t(5)});
    auto& n = m.node("AveragePool", {"x"}, {"y"});
    add_pool_attrs(n, p, false);
    attr(n, "count_include_pad", int64_t(include));
    m.output("y");
    Tensor x = random_tensor(DataType::float32, {2, 3, 6, 5}, -1, 1, 50);
    NamedTensors out = run_model(m, {{"x", x}});
    Dims shape;
    std::vector<double> want = pool_reference(false, x, p, &shape);
    EXPECT_EQ(out["y"].shape(), shape);
    expect_close(out["y"], want, kF32);
  }
}

TEST(OnnxOps, GlobalPoolsAndFlatten) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(3), int64_t(4), int64_t(5)});
  m.node("GlobalAveragePool", {"x"}, {"avg"});
  m.node("GlobalMaxPool", {"x"}, {"max"});
  m.node("Flatten", {"avg"}, {"avg_flat"});
  attr(m.node("Flatten", {"x"}, {"x_flat"}), "axis", int64_t(-2));  // [6, 20]
  for (const char* o : {"avg_flat", "max", "x_flat"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {2, 3, 4, 5}, -1, 1, 60);
  NamedTensors out = run_model(m, {{"x", x}});
  std::vector<double> xv = x.to_doubles(), avg, mx;
  for (size_t nc = 0; nc < 6; ++nc) {
    double s = 0, best = -INFINITY;
    for (size_t i = 0; i < 20; ++i) s += xv[nc * 20 + i], best = std::max(best, xv[nc * 20 + i]);
    avg.push_back(s / 20);
    mx.push_back(best);
  }
  EXPECT_EQ(out["avg_flat"].shape(), (Dims{2, 3}));
  expect_close(out["avg_flat"], avg, kF32);
  EXPECT_EQ(out["max"].shape(), (Dims{2, 3, 1, 1}));
  expect_close(out["max"], mx, kF32);
  EXPECT_EQ(out["x_flat"].shape(), (Dims{6, 20}));
  expect_close(out["x_flat"], xv, {0, 0});
}

// ----- matrix products -----------------------------------------------------------------------

TEST(OnnxOps, GemmTransposesAlphaBeta) {
  OnnxTestModel m;
  m.input("a", P::FLOAT, {int64_t(5), int64_t(3)});  // transA: A is [3, 5]
  Tensor b = weight(m, "b", {4, 5}, 70);             // transB: B is [5, 4]
  Tensor c = weight(m, "c", {4}, 71);
  auto& n = m.node("Gemm", {"a", "b", "c"}, {"y"});
  attr(n, "transA", int64_t(1));
  attr(n, "transB", int64_t(1));
  attr(n, "alpha", 0.5);
  attr(n, "beta", 2.0);
  m.output("y");
  Tensor a = random_tensor(DataType::float32, {5, 3}, -1, 1, 72);
  NamedTensors out = run_model(m, {{"a", a}});
  std::vector<double> av = a.to_doubles(), bv = b.to_doubles(), cv = c.to_doubles(), want;
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 4; ++j) {
      double s = 0;
      for (size_t k = 0; k < 5; ++k) s += av[k * 3 + i] * bv[j * 5 + k];
      want.push_back(0.5 * s + 2.0 * cv[j]);
    }
  expect_close(out["y"], want, kF32);
}

TEST(OnnxOps, MatMulBatchedAndVectors) {
  OnnxTestModel m;
  m.input("a", P::FLOAT, {int64_t(2), int64_t(3), int64_t(5)});
  Tensor w = weight(m, "w", {5, 4}, 80);
  Tensor v = weight(m, "v", {5}, 81);
  Tensor u = weight(m, "u", {3}, 82);
  m.node("MatMul", {"a", "w"}, {"aw"});  // [2, 3, 4]
  m.node("MatMul", {"a", "v"}, {"av"});  // [2, 3]
  m.node("MatMul", {"u", "a"}, {"ua"});  // [2, 5]
  for (const char* o : {"aw", "av", "ua"}) m.output(o);
  Tensor a = random_tensor(DataType::float32, {2, 3, 5}, -1, 1, 83);
  NamedTensors out = run_model(m, {{"a", a}});
  std::vector<double> A = a.to_doubles(), W = w.to_doubles(), V = v.to_doubles(),
                      U = u.to_doubles(), aw, av, ua;
  for (size_t b = 0; b < 2; ++b)
    for (size_t i = 0; i < 3; ++i) {
      double s = 0;
      for (size_t k = 0; k < 5; ++k) s += A[(b * 3 + i) * 5 + k] * V[k];
      av.push_back(s);
      for (size_t j = 0; j < 4; ++j) {
        double t = 0;
        for (size_t k = 0; k < 5; ++k) t += A[(b * 3 + i) * 5 + k] * W[k * 4 + j];
        aw.push_back(t);
      }
    }
  for (size_t b = 0; b < 2; ++b)
    for (size_t j = 0; j < 5; ++j) {
      double s = 0;
      for (size_t i = 0; i < 3; ++i) s += U[i] * A[(b * 3 + i) * 5 + j];
      ua.push_back(s);
    }
  EXPECT_EQ(out["av"].shape(), (Dims{2, 3}));
  EXPECT_EQ(out["ua"].shape(), (Dims{2, 5}));
  expect_close(out["aw"], aw, kF32);
  expect_close(out["av"], av, kF32);
  expect_close(out["ua"], ua, kF32);
}

// ----- normalization and softmax -------------------------------------------------------------

// Softmax over one axis of a row-major shape.
std::vector<double> softmax_reference(const std::vector<double>& x, const Dims& s, size_t axis) {
  size_t inner = 1, outer = 1, n = size_t(s[axis]);
  for (size_t d = axis + 1; d < s.size(); ++d) inner *= size_t(s[d]);
  for (size_t d = 0; d < axis; ++d) outer *= size_t(s[d]);
  std::vector<double> y(x.size());
  for (size_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < inner; ++i) {
      double mx = -INFINITY, sum = 0;
      for (size_t k = 0; k < n; ++k) mx = std::max(mx, x[(o * n + k) * inner + i]);
      for (size_t k = 0; k < n; ++k) sum += std::exp(x[(o * n + k) * inner + i] - mx);
      for (size_t k = 0; k < n; ++k)
        y[(o * n + k) * inner + i] = std::exp(x[(o * n + k) * inner + i] - mx) / sum;
    }
  return y;
}

TEST(OnnxOps, SoftmaxAxesAndOpset11Coercion) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(3), int64_t(4)});
  attr(m.node("Softmax", {"x"}, {"s1"}), "axis", int64_t(1));
  m.node("Softmax", {"x"}, {"s_last"});
  attr(m.node("LogSoftmax", {"x"}, {"log_s"}), "axis", int64_t(-2));
  for (const char* o : {"s1", "s_last", "log_s"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {2, 3, 4}, -3, 3, 120);
  NamedTensors out = run_model(m, {{"x", x}});
  std::vector<double> xv = x.to_doubles();
  expect_close(out["s1"], softmax_reference(xv, {2, 3, 4}, 1), kF32);
  expect_close(out["s_last"], softmax_reference(xv, {2, 3, 4}, 2), kF32);
  std::vector<double> log_s = softmax_reference(xv, {2, 3, 4}, 1);
  for (double& v : log_s) v = std::log(v);
  expect_close(out["log_s"], log_s, kF32);

  OnnxTestModel old(11);  // axis 1 means "flatten to [2, 12], softmax over the 12"
  old.input("x", P::FLOAT, {int64_t(2), int64_t(3), int64_t(4)});
  attr(old.node("Softmax", {"x"}, {"s"}), "axis", int64_t(1));
  old.output("s");
  NamedTensors out11 = run_model(old, {{"x", x}});
  expect_close(out11["s"], softmax_reference(xv, {2, 12}, 1), kF32);
}

TEST(OnnxOps, LayerNormalizationOverTrailingAxes) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(3), int64_t(4)});
  Tensor g1 = weight(m, "g1", {4}, 130), b1 = weight(m, "b1", {4}, 131);
  Tensor g2 = weight(m, "g2", {3, 4}, 132);
  auto& n1 = m.node("LayerNormalization", {"x", "g1", "b1"}, {"ln_last"});
  attr(n1, "axis", int64_t(-1));
  attr(n1, "epsilon", 1e-3);
  attr(m.node("LayerNormalization", {"x", "g2"}, {"ln_1"}), "axis", int64_t(1));
  for (const char* o : {"ln_last", "ln_1"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {2, 3, 4}, -2, 2, 133);
  NamedTensors out = run_model(m, {{"x", x}});
  std::vector<double> xv = x.to_doubles();
  auto reference = [&](size_t group, double eps, const std::vector<double>& g,
                       const std::vector<double>& b) {
    std::vector<double> y;
    for (size_t o = 0; o < xv.size() / group; ++o) {
      double mean = 0, var = 0;
      for (size_t k = 0; k < group; ++k) mean += xv[o * group + k] / double(group);
      for (size_t k = 0; k < group; ++k)
        var += (xv[o * group + k] - mean) * (xv[o * group + k] - mean) / double(group);
      for (size_t k = 0; k < group; ++k)
        y.push_back((xv[o * group + k] - mean) / std::sqrt(var + eps) * g[k] +
                    (b.empty() ? 0 : b[k]));
    }
    return y;
  };
  expect_close(out["ln_last"], reference(4, 1e-3, g1.to_doubles(), b1.to_doubles()), kF32);
  expect_close(out["ln_1"], reference(12, 1e-5, g2.to_doubles(), {}), kF32);
}

TEST(OnnxOps, BatchNormalizationInference) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(3), int64_t(2), int64_t(2)});
  Tensor s = weight(m, "s", {3}, 140), b = weight(m, "b", {3}, 141);
  Tensor mean = weight(m, "mean", {3}, 142), var = weight(m, "var", {3}, 143, 0.5, 2);
  attr(m.node("BatchNormalization", {"x", "s", "b", "mean", "var"}, {"y"}), "epsilon", 0.01);
  m.output("y");
  Tensor x = random_tensor(DataType::float32, {2, 3, 2, 2}, -2, 2, 144);
  NamedTensors out = run_model(m, {{"x", x}});
  std::vector<double> xv = x.to_doubles(), sv = s.to_doubles(), bv = b.to_doubles(),
                      mv = mean.to_doubles(), vv = var.to_doubles(), want;
  for (size_t i = 0; i < xv.size(); ++i) {
    size_t c = (i / 4) % 3;
    want.push_back((xv[i] - mv[c]) / std::sqrt(vv[c] + 0.01) * sv[c] + bv[c]);
  }
  expect_close(out["y"], want, kF32);
}

// ----- reductions ----------------------------------------------------------------------------

TEST(OnnxOps, ReduceMeanAttributeAxesAndReduceSumInputAxes) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(3), int64_t(4)});
  attr(m.node("ReduceMean", {"x"}, {"mean_1"}), "axes", std::vector<int64_t>{1});
  auto& n = m.node("ReduceMean", {"x"}, {"mean_last"});
  attr(n, "axes", std::vector<int64_t>{-1});
  attr(n, "keepdims", int64_t(0));
  m.int64s("axes02", {2}, {0, 2});
  attr(m.node("ReduceSum", {"x", "axes02"}, {"sum_02"}), "keepdims", int64_t(0));
  m.node("ReduceSum", {"x"}, {"sum_all"});
  for (const char* o : {"mean_1", "mean_last", "sum_02", "sum_all"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {2, 3, 4}, -2, 2, 150);
  NamedTensors out = run_model(m, {{"x", x}});
  std::vector<double> xv = x.to_doubles();
  auto at = [&](size_t a, size_t b, size_t c) { return xv[(a * 3 + b) * 4 + c]; };
  std::vector<double> mean_1, mean_last, sum_02;
  double total = 0;
  for (size_t a = 0; a < 2; ++a)
    for (size_t c = 0; c < 4; ++c) mean_1.push_back((at(a, 0, c) + at(a, 1, c) + at(a, 2, c)) / 3);
  for (size_t a = 0; a < 2; ++a)
    for (size_t b = 0; b < 3; ++b)
      mean_last.push_back((at(a, b, 0) + at(a, b, 1) + at(a, b, 2) + at(a, b, 3)) / 4);
  for (size_t b = 0; b < 3; ++b) {
    double s = 0;
    for (size_t a = 0; a < 2; ++a)
      for (size_t c = 0; c < 4; ++c) s += at(a, b, c);
    sum_02.push_back(s);
  }
  for (double v : xv) total += v;
  EXPECT_EQ(out["mean_1"].shape(), (Dims{2, 1, 4}));
  EXPECT_EQ(out["mean_last"].shape(), (Dims{2, 3}));
  EXPECT_EQ(out["sum_02"].shape(), (Dims{3}));
  EXPECT_EQ(out["sum_all"].shape(), (Dims{1, 1, 1}));
  expect_close(out["mean_1"], mean_1, kF32);
  expect_close(out["mean_last"], mean_last, kF32);
  expect_close(out["sum_02"], sum_02, kF32);
  expect_close(out["sum_all"], {total}, kF32);
}

}  // namespace
}  // namespace cppnn
