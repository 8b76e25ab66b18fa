// Normalization (batch, instance, layer) against float64 references written here with
// naive loops, plus the spec's validation rules. Pooling: test_ops_pooling.cpp.
#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>

#include "test_support.h"

namespace cppnn {
namespace {

using testing::default_tolerance;
using testing::expect_close;
using testing::expect_error;
using testing::random_tensor;
using testing::run_cpu;

constexpr DataType kF32 = DataType::float32;
constexpr DataType kF16 = DataType::float16;

// The spec casts epsilon to the input's type; the reference does the same.
double cast_epsilon(DataType type, double eps) {
  return type == kF16 ? double(half_to_float(float_to_half(float(eps)))) : double(float(eps));
}

std::vector<double> doubles_or(const Tensor* t, size_t n, double fill) {
  return t ? t->to_doubles() : std::vector<double>(n, fill);
}

size_t count_of(const Dims& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= size_t(d);
  return n;
}

std::vector<size_t> strides(const Dims& shape) {
  std::vector<size_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * size_t(shape[i]);
  return s;
}

// ---- references

std::vector<double> ref_batch_norm(const Tensor& x, size_t axis, const Tensor& mean,
                                   const Tensor& var, const Tensor* scale, const Tensor* bias,
                                   double eps) {
  std::vector<double> v = x.to_doubles(), m = mean.to_doubles(), s2 = var.to_doubles();
  size_t c_size = size_t(x.shape()[axis]);
  std::vector<double> sc = doubles_or(scale, c_size, 1), bi = doubles_or(bias, c_size, 0);
  size_t stride = strides(x.shape())[axis];
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    size_t c = (i / stride) % c_size;
    out[i] = (v[i] - m[c]) / std::sqrt(s2[c] + eps) * sc[c] + bi[c];
  }
  return out;
}

// Layer normalization over any axes; scale/bias are indexed in the order of `axes`.
std::vector<double> ref_layer_norm(const Tensor& x, const std::vector<uint32_t>& axes,
                                   const Tensor* scale, const Tensor* bias, double eps) {
  const Dims& shape = x.shape();
  std::vector<double> v = x.to_doubles();
  size_t rank = shape.size();
  std::vector<size_t> st = strides(shape);
  Dims pshape;
  for (uint32_t a : axes) pshape.push_back(shape[a]);
  std::vector<size_t> pst = strides(pshape);
  size_t plen = count_of(pshape);
  std::vector<double> sc = doubles_or(scale, plen, 1), bi = doubles_or(bias, plen, 0);
  auto is_axis = [&](size_t d) { return std::find(axes.begin(), axes.end(), d) != axes.end(); };
  // Group of an element: its flat index with the reduced coordinates zeroed.
  std::vector<size_t> group(v.size()), param(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    size_t g = 0, p = 0;
    for (size_t d = 0; d < rank; ++d) {
      size_t idx = (i / st[d]) % size_t(shape[d]);
      if (is_axis(d)) {
        size_t k = size_t(std::find(axes.begin(), axes.end(), d) - axes.begin());
        p += idx * pst[k];
      } else {
        g += idx * st[d];
      }
    }
    group[i] = g;
    param[i] = p;
  }
  std::vector<double> sum(v.size(), 0), sq(v.size(), 0), cnt(v.size(), 0);
  for (size_t i = 0; i < v.size(); ++i) sum[group[i]] += v[i], cnt[group[i]] += 1;
  for (size_t i = 0; i < v.size(); ++i) {
    double d = v[i] - sum[group[i]] / cnt[group[i]];
    sq[group[i]] += d * d;
  }
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    size_t g = group[i];
    double mean = sum[g] / cnt[g], var = sq[g] / cnt[g];
    out[i] = (v[i] - mean) / std::sqrt(var + eps) * sc[param[i]] + bi[param[i]];
  }
  return out;
}

std::vector<double> ref_instance_norm(const Tensor& x, bool nchw, const Tensor* scale,
                                      const Tensor* bias, double eps) {
  // Instance normalization is layer normalization over the spatial axes with per-channel
  // parameters; computed directly here rather than through ref_layer_norm.
  const Dims& s = x.shape();
  size_t n_ = size_t(s[0]), c_ = size_t(nchw ? s[1] : s[3]);
  size_t h_ = size_t(nchw ? s[2] : s[1]), w_ = size_t(nchw ? s[3] : s[2]);
  std::vector<double> v = x.to_doubles(), out(v.size());
  std::vector<double> sc = doubles_or(scale, c_, 1), bi = doubles_or(bias, c_, 0);
  auto at = [&](size_t n, size_t c, size_t h, size_t w) {
    return nchw ? ((n * c_ + c) * h_ + h) * w_ + w : ((n * h_ + h) * w_ + w) * c_ + c;
  };
  for (size_t n = 0; n < n_; ++n)
    for (size_t c = 0; c < c_; ++c) {
      double sum = 0, sq = 0, cnt = double(h_ * w_);
      for (size_t h = 0; h < h_; ++h)
        for (size_t w = 0; w < w_; ++w) sum += v[at(n, c, h, w)];
      double mean = sum / cnt;
      for (size_t h = 0; h < h_; ++h)
        for (size_t w = 0; w < w_; ++w)
          sq += (v[at(n, c, h, w)] - mean) * (v[at(n, c, h, w)] - mean);
      double rstd = 1 / std::sqrt(sq / cnt + eps);
      for (size_t h = 0; h < h_; ++h)
        for (size_t w = 0; w < w_; ++w)
          out[at(n, c, h, w)] = (v[at(n, c, h, w)] - mean) * rstd * sc[c] + bi[c];
    }
  return out;
}

// ---- graph helpers

Tensor run_one(const Tensor& x, const std::function<Operand(GraphBuilder&, Operand)>& make) {
  GraphBuilder b;
  Operand in = b.input("x", x.data_type(), x.shape());
  Graph g = b.build({{"y", make(b, in)}});
  return run_cpu(g, {{"x", x}}).at("y");
}

// ---- batchNormalization

TEST(NormPoolBatchNorm, NchwWithConstantWeights) {
  for (DataType t : {kF32, kF16}) {
    Tensor x = random_tensor(t, {2, 3, 4, 5}, -2, 2, 1);
    Tensor mean = random_tensor(t, {3}, -1, 1, 2), var = random_tensor(t, {3}, 0.1, 2, 3);
    Tensor scale = random_tensor(t, {3}, 0.5, 2, 4), bias = random_tensor(t, {3}, -1, 1, 5);
    Tensor y = run_one(x, [&](GraphBuilder& b, Operand in) {
      BatchNormalizationOptions o;
      o.scale = b.constant(scale);
      o.bias = b.constant(bias);
      o.epsilon = 1e-3;
      return b.batch_normalization(in, b.constant(mean), b.constant(var), o);
    });
    EXPECT_EQ(y.shape(), x.shape());
    expect_close(y, ref_batch_norm(x, 1, mean, var, &scale, &bias, cast_epsilon(t, 1e-3)),
                 default_tolerance(t), std::string(to_string(t)));
  }
}

TEST(NormPoolBatchNorm, LastAndFirstAxisWithRuntimeWeights) {
  for (DataType t : {kF32, kF16}) {
    for (uint32_t axis : {0u, 2u}) {
      Dims shape{4, 5, 37};
      int64_t c = shape[axis];
      Tensor x = random_tensor(t, shape, -3, 3, 10 + axis);
      Tensor mean = random_tensor(t, {c}, -1, 1, 11), var = random_tensor(t, {c}, 0.2, 3, 12);
      Tensor scale = random_tensor(t, {c}, -2, 2, 13);
      GraphBuilder b;
      Operand in = b.input("x", t, shape);
      BatchNormalizationOptions o;
      o.axis = axis;
      o.scale = b.input("scale", t, {c});  // no bias: it defaults to 0
      Operand y = b.batch_normalization(in, b.input("mean", t, {c}), b.input("var", t, {c}), o);
      Graph g = b.build({{"y", y}});
      Tensor out = run_cpu(g, {{"x", x}, {"mean", mean}, {"var", var}, {"scale", scale}}).at("y");
      expect_close(out, ref_batch_norm(x, axis, mean, var, &scale, nullptr, cast_epsilon(t, 1e-5)),
                   default_tolerance(t), "axis " + std::to_string(axis));
    }
  }
}

TEST(NormPoolBatchNorm, OneDimensionalInput) {
  Tensor x = random_tensor(kF32, {6}, -2, 2, 20);
  Tensor mean = random_tensor(kF32, {6}, -1, 1, 21), var = random_tensor(kF32, {6}, 0.5, 1, 22);
  Tensor bias = random_tensor(kF32, {6}, -1, 1, 23);
  Tensor y = run_one(x, [&](GraphBuilder& b, Operand in) {
    BatchNormalizationOptions o;
    o.axis = 0;
    o.bias = b.constant(bias);
    return b.batch_normalization(in, b.constant(mean), b.constant(var), o);
  });
  expect_close(y, ref_batch_norm(x, 0, mean, var, nullptr, &bias, cast_epsilon(kF32, 1e-5)),
               default_tolerance(kF32));
}

TEST(NormPoolBatchNorm, ValidationErrors) {
  GraphBuilder b;
  Operand x = b.input("x", kF32, {2, 3, 4});
  Operand m3 = b.input("m3", kF32, {3}), m4 = b.input("m4", kF32, {4});
  expect_error([&] { b.batch_normalization(x, m4, m3); }, ErrorKind::TypeError,
               "operand 'mean' must have shape [3]");
  expect_error([&] { b.batch_normalization(x, m3, m4); }, ErrorKind::TypeError,
               "operand 'variance' must have shape [3]");
  BatchNormalizationOptions bad_axis;
  bad_axis.axis = 3;
  expect_error([&] { b.batch_normalization(x, m3, m3, bad_axis); }, ErrorKind::TypeError,
               "axis 3 is out of range");
  BatchNormalizationOptions bad_scale;
  bad_scale.scale = m4;
  expect_error([&] { b.batch_normalization(x, m3, m3, bad_scale); }, ErrorKind::TypeError,
               "operand 'scale' must have shape [3]");
  BatchNormalizationOptions bad_bias;
  bad_bias.bias = b.input("b16", kF16, {3});
  expect_error([&] { b.batch_normalization(x, m3, m3, bad_bias); }, ErrorKind::TypeError,
               "operand 'bias' has data type float16");
  Operand xi = b.input("xi", DataType::int32, {2, 3});
  Operand mi = b.input("mi", DataType::int32, {3});
  expect_error([&] { b.batch_normalization(xi, mi, mi); }, ErrorKind::TypeError,
               "operand 'input' has data type int32");
  BatchNormalizationOptions labelled;
  labelled.label = "bn1";
  expect_error([&] { b.batch_normalization(x, m4, m3, labelled); }, ErrorKind::TypeError,
               "batchNormalization 'bn1'");
  // The builder keeps working after the errors.
  Operand y = b.batch_normalization(x, m3, m3);
  Graph g = b.build({{"y", y}});
  Tensor xt = random_tensor(kF32, {2, 3, 4}, -1, 1, 30);
  Tensor mt = random_tensor(kF32, {3}, 0.5, 1, 31);
  Tensor out = run_cpu(g, {{"x", xt}, {"m3", mt}}).at("y");
  expect_close(out, ref_batch_norm(xt, 1, mt, mt, nullptr, nullptr, cast_epsilon(kF32, 1e-5)),
               default_tolerance(kF32));
}

// ---- instanceNormalization

TEST(NormPoolInstanceNorm, NchwAndNhwc) {
  for (DataType t : {kF32, kF16})
    for (bool nchw : {true, false})
      for (bool with_params : {true, false}) {
        // 70 channels: more than one channel block in the nhwc kernel.
        Dims shape = nchw ? Dims{2, 70, 5, 3} : Dims{2, 5, 3, 70};
        Tensor x = random_tensor(t, shape, -2, 3, 40);
        Tensor scale = random_tensor(t, {70}, 0.5, 2, 41), bias = random_tensor(t, {70}, -1, 1, 42);
        Tensor y = run_one(x, [&](GraphBuilder& b, Operand in) {
          InstanceNormalizationOptions o;
          o.layout = nchw ? InputLayout::nchw : InputLayout::nhwc;
          if (with_params) {
            o.scale = b.constant(scale);
            o.bias = b.constant(bias);
          }
          o.epsilon = 1e-2;
          return b.instance_normalization(in, o);
        });
        expect_close(y,
                     ref_instance_norm(x, nchw, with_params ? &scale : nullptr,
                                       with_params ? &bias : nullptr, cast_epsilon(t, 1e-2)),
                     default_tolerance(t),
                     std::string(to_string(t)) + (nchw ? " nchw" : " nhwc") +
                         (with_params ? " with params" : ""));
      }
}

TEST(NormPoolInstanceNorm, RuntimeScaleAndLargeMean) {
  // A mean of 1000 against a spread of 1 must not cancel the variance away.
  Tensor x = random_tensor(kF32, {1, 3, 16, 16}, 999, 1001, 50);
  Tensor scale = random_tensor(kF32, {3}, 0.5, 2, 51);
  GraphBuilder b;
  Operand in = b.input("x", kF32, x.shape());
  InstanceNormalizationOptions o;
  o.scale = b.input("scale", kF32, {3});
  Graph g = b.build({{"y", b.instance_normalization(in, o)}});
  Tensor y = run_cpu(g, {{"x", x}, {"scale", scale}}).at("y");
  expect_close(y, ref_instance_norm(x, true, &scale, nullptr, cast_epsilon(kF32, 1e-5)),
               {1e-4, 1e-4});
}

TEST(NormPoolInstanceNorm, OutlierFirstElementKeepsPrecision) {
  for (bool nchw : {true, false}) {
    Dims shape = nchw ? Dims{2, 5, 20, 20} : Dims{2, 20, 20, 5};
    Tensor x = random_tensor(kF32, shape, -1, 1, 55);
    float* p = x.data_as<float>();
    // The first spatial element of channel 2 of each batch.
    for (size_t n = 0; n < 2; ++n) p[nchw ? (n * 5 + 2) * 400 : n * 400 * 5 + 2] = -300.0f;
    Tensor y = run_one(x, [&](GraphBuilder& b, Operand in) {
      InstanceNormalizationOptions o;
      o.layout = nchw ? InputLayout::nchw : InputLayout::nhwc;
      return b.instance_normalization(in, o);
    });
    expect_close(y, ref_instance_norm(x, nchw, nullptr, nullptr, cast_epsilon(kF32, 1e-5)),
                 default_tolerance(kF32), nchw ? "nchw" : "nhwc");
  }
}

TEST(NormPoolInstanceNorm, ValidationErrors) {
  GraphBuilder b;
  Operand x3 = b.input("x3", kF32, {2, 3, 4});
  expect_error([&] { b.instance_normalization(x3); }, ErrorKind::TypeError, "must be 4-D");
  Operand x = b.input("x", kF32, {2, 3, 4, 5});
  InstanceNormalizationOptions nhwc;
  nhwc.layout = InputLayout::nhwc;
  nhwc.scale = b.input("s3", kF32, {3});  // nhwc channels are 5
  expect_error([&] { b.instance_normalization(x, nhwc); }, ErrorKind::TypeError,
               "operand 'scale' must have shape [5]");
  InstanceNormalizationOptions bad_bias;
  bad_bias.bias = b.input("b2", kF32, {3, 1});
  expect_error([&] { b.instance_normalization(x, bad_bias); }, ErrorKind::TypeError,
               "operand 'bias' must have shape [3]");
  Operand xi = b.input("xi", DataType::uint8, {2, 3, 4, 5});
  expect_error([&] { b.instance_normalization(xi); }, ErrorKind::TypeError, "data type uint8");
  EXPECT_EQ(b.instance_normalization(x).shape(), x.shape());
}

// ---- layerNormalization

struct LayerCase {
  Dims shape;
  std::optional<std::vector<uint32_t>> axes;
  bool with_params;
};

void check_layer_norm(DataType t, const LayerCase& lc, bool constant_params, uint32_t seed) {
  Tensor x = random_tensor(t, lc.shape, -2, 3, seed);
  std::vector<uint32_t> axes;
  if (lc.axes)
    axes = *lc.axes;
  else
    for (uint32_t a = 1; a < lc.shape.size(); ++a) axes.push_back(a);
  Dims pshape;
  for (uint32_t a : axes) pshape.push_back(lc.shape[a]);
  Tensor scale = random_tensor(t, pshape, 0.5, 2, seed + 1);
  Tensor bias = random_tensor(t, pshape, -1, 1, seed + 2);
  GraphBuilder b;
  Operand in = b.input("x", t, lc.shape);
  LayerNormalizationOptions o;
  o.axes = lc.axes;
  NamedTensors inputs{{"x", x}};
  if (lc.with_params) {
    o.scale = constant_params ? b.constant(scale) : b.input("scale", t, pshape);
    o.bias = constant_params ? b.constant(bias) : b.input("bias", t, pshape);
    if (!constant_params) inputs["scale"] = scale, inputs["bias"] = bias;
  }
  Graph g = b.build({{"y", b.layer_normalization(in, o)}});
  Tensor y = run_cpu(g, inputs).at("y");
  EXPECT_EQ(y.shape(), lc.shape);
  std::string what = std::string(to_string(t)) + " shape " + to_string(lc.shape) + " axes " +
                     to_string(Dims(axes.begin(), axes.end()));
  expect_close(y,
               ref_layer_norm(x, axes, lc.with_params ? &scale : nullptr,
                              lc.with_params ? &bias : nullptr, cast_epsilon(t, 1e-5)),
               default_tolerance(t), what);
}

TEST(NormPoolLayerNorm, BertShapeLastAxis) {
  for (DataType t : {kF32, kF16}) {
    check_layer_norm(t, {{1, 128, 768}, std::vector<uint32_t>{2}, true}, true, 60);
    check_layer_norm(t, {{3, 7, 33}, std::vector<uint32_t>{2}, true}, false, 61);
  }
}

TEST(NormPoolLayerNorm, DefaultAxesWithoutParams) {
  for (DataType t : {kF32, kF16}) {
    check_layer_norm(t, {{2, 3, 4, 5}, std::nullopt, false}, true, 70);
    check_layer_norm(t, {{2, 3, 4, 5}, std::nullopt, true}, true, 71);
  }
}

TEST(NormPoolLayerNorm, MiddleAndUnsortedAxes) {
  for (DataType t : {kF32, kF16}) {
    check_layer_norm(t, {{2, 3, 4, 5}, std::vector<uint32_t>{1, 2}, true}, false, 80);
    check_layer_norm(t, {{2, 3, 4, 5}, std::vector<uint32_t>{3, 1}, true}, true, 81);
    check_layer_norm(t, {{2, 3, 4, 5}, std::vector<uint32_t>{3, 2}, true}, false, 82);
    check_layer_norm(t, {{2, 3, 4, 5}, std::vector<uint32_t>{0}, true}, true, 83);
    check_layer_norm(t, {{6, 5}, std::vector<uint32_t>{1, 0}, true}, true, 84);
  }
}

TEST(NormPoolLayerNorm, EmptyAxesAndScalar) {
  // No reduced axis: every element is its own group, so the output is the bias.
  check_layer_norm(kF32, {{2, 3}, std::vector<uint32_t>{}, true}, true, 90);
  check_layer_norm(kF32, {{}, std::nullopt, true}, true, 91);
  check_layer_norm(kF16, {{5}, std::nullopt, false}, true, 92);
}

// The CPU plan reads a residual add before a layer norm in the norm's kernel (input 3,
// fuse_norm_residual): BERT's post-norm blocks. One step left, values of the sum's norm
// against float64, trailing and middle axes, float32 and float16, runtime and constant
// parameters.
TEST(NormPoolLayerNorm, ResidualAddGoesIntoTheKernel) {
  struct Case {
    Dims shape;
    std::vector<uint32_t> axes;
  };
  const Case cases[] = {{{2, 128, 768}, {2}}, {{3, 7, 33}, {2}}, {{2, 3, 4, 5}, {1, 2}}, {{2, 3, 4, 5}, {3, 1}}};
  uint32_t seed = 100;
  for (DataType t : {kF32, kF16})
    for (const Case& c : cases) {
      Tensor x = random_tensor(t, c.shape, -2, 3, ++seed), r = random_tensor(t, c.shape, -1, 1, ++seed);
      Dims pshape;
      for (uint32_t a : c.axes) pshape.push_back(c.shape[a]);
      Tensor scale = random_tensor(t, pshape, 0.5, 2, ++seed), bias = random_tensor(t, pshape, -1, 1, ++seed);
      GraphBuilder b;
      Operand xi = b.input("x", t, c.shape), ri = b.input("r", t, c.shape);
      LayerNormalizationOptions o;
      o.axes = c.axes;
      o.scale = b.constant(scale);
      o.bias = b.input("bias", t, pshape);
      Graph g = b.build({{"y", b.layer_normalization(b.add(xi, ri), o)}});
      std::vector<double> xv = x.to_doubles(), rv = r.to_doubles();
      for (size_t i = 0; i < xv.size(); ++i) xv[i] += rv[i];
      Tensor sum = testing::tensor_from_doubles(DataType::float32, c.shape, xv);  // exact in float32
      std::string what = std::string(to_string(t)) + " " + to_string(c.shape);
      Context cpu = Context::create();
      expect_close(cpu.compute(g, {{"x", x}, {"r", r}, {"bias", bias}}).at("y"),
                   ref_layer_norm(sum, c.axes, &scale, &bias, cast_epsilon(t, 1e-5)), default_tolerance(t), what);
      std::string report = cpu.report(g);
      EXPECT_EQ(report.find(" add "), std::string::npos) << report;
      EXPECT_NE(report.find("layerNormalization"), std::string::npos) << report;
    }
}

TEST(NormPoolLayerNorm, LargeMeanKeepsPrecision) {
  Tensor x = random_tensor(kF32, {4, 768}, 999, 1001, 95);
  std::vector<uint32_t> axes{1};
  Tensor y = run_one(x, [&](GraphBuilder& b, Operand in) {
    LayerNormalizationOptions o;
    o.axes = axes;
    return b.layer_normalization(in, o);
  });
  expect_close(y, ref_layer_norm(x, axes, nullptr, nullptr, cast_epsilon(kF32, 1e-5)),
               {1e-4, 1e-4});
}

TEST(NormPoolLayerNorm, OutlierFirstElementKeepsPrecision) {
  // The kernel's one-pass sums are shifted by the row's first element; an outlier there
  // must not cost the variance its digits.
  Tensor x = random_tensor(kF32, {3, 768}, -1, 1, 96);
  for (size_t r = 0; r < 3; ++r) x.data_as<float>()[r * 768] = 300.0f;
  std::vector<uint32_t> axes{1};
  Tensor y = run_one(x, [&](GraphBuilder& b, Operand in) {
    LayerNormalizationOptions o;
    o.axes = axes;
    return b.layer_normalization(in, o);
  });
  expect_close(y, ref_layer_norm(x, axes, nullptr, nullptr, cast_epsilon(kF32, 1e-5)),
               default_tolerance(kF32));
}

// Float32 accuracy against float64 in ULP: the error of each output counted in float
// spacings of the largest term it is made of (|y|, |normalized * scale|, |bias|), so that an
// output where the scaled value and the bias cancel is not charged for the cancellation.
// Only the rounding of the final float operations is left (~2.6 ULP on these data); the
// one-pass moments this kernel had were up to ~70 ULP off on 24-element rows.
double max_term_ulp(const Tensor& y, const Tensor& x, size_t len, const std::vector<float>& scale,
                    const std::vector<float>& bias, size_t channels_or_zero, size_t inner) {
  std::vector<double> v = x.to_doubles();
  const float* got = y.data_as<float>();
  double worst = 0;
  size_t rows = v.size() / len;
  for (size_t r = 0; r < rows; ++r) {
    // Row r's elements: contiguous (layer norm), or channel c of an NHWC image (inner > 1).
    auto at = [&](size_t i) {
      return inner == 1 ? r * len + i : (r / inner) * len * inner + i * inner + r % inner;
    };
    double mean = 0, var = 0;
    for (size_t i = 0; i < len; ++i) mean += v[at(i)];
    mean /= double(len);
    for (size_t i = 0; i < len; ++i) var += (v[at(i)] - mean) * (v[at(i)] - mean);
    var /= double(len);
    double rstd = 1 / std::sqrt(var + double(1e-5f));
    for (size_t i = 0; i < len; ++i) {
      size_t p = channels_or_zero ? r % channels_or_zero : i;
      double scaled = (v[at(i)] - mean) * rstd * scale[p], want = scaled + bias[p];
      double mag = std::max({std::abs(want), std::abs(scaled), double(std::abs(bias[p]))});
      float m = float(mag);
      double ulp = double(std::nextafter(m, INFINITY)) - double(m);
      worst = std::max(worst, std::abs(double(got[at(i)]) - want) / ulp);
    }
  }
  return worst;
}

TEST(NormPoolLayerNorm, Float32WithinFourUlpOfFloat64) {
  // Rows of 24 around 0.777 (a mean large against the spread), of 24 and 768 around 0.
  struct Case { size_t rows, len; double lo, hi; uint32_t seed; };
  for (Case c : {Case{500, 24, 0.727, 0.827, 1}, Case{500, 24, -2, 2, 2}, Case{32, 768, -3, 4, 3}}) {
    Tensor x = random_tensor(kF32, {int64_t(c.rows), int64_t(c.len)}, c.lo, c.hi, c.seed);
    Tensor scale = random_tensor(kF32, {int64_t(c.len)}, 0.5, 1.5, c.seed + 10);
    Tensor bias = random_tensor(kF32, {int64_t(c.len)}, -0.5, 0.5, c.seed + 20);
    Tensor y = run_one(x, [&](GraphBuilder& b, Operand in) {
      LayerNormalizationOptions o;
      o.axes = std::vector<uint32_t>{1};
      o.scale = b.constant(scale);
      o.bias = b.constant(bias);
      return b.layer_normalization(in, o);
    });
    std::vector<float> sc(scale.data_as<float>(), scale.data_as<float>() + c.len);
    std::vector<float> bi(bias.data_as<float>(), bias.data_as<float>() + c.len);
    double ulp = max_term_ulp(y, x, c.len, sc, bi, 0, 1);
    EXPECT_LE(ulp, 4.0) << "rows of " << c.len << " in [" << c.lo << ", " << c.hi << "]";
  }
}

TEST(NormPoolInstanceNorm, Float32WithinFourUlpOfFloat64) {
  // 24 positions per channel around 0.777, both layouts.
  for (bool nchw : {true, false}) {
    Dims shape = nchw ? Dims{3, 40, 4, 6} : Dims{3, 4, 6, 40};
    Tensor x = random_tensor(kF32, shape, 0.727, 0.827, nchw ? 5 : 6);
    Tensor scale = random_tensor(kF32, {40}, 0.5, 1.5, 7);
    Tensor bias = random_tensor(kF32, {40}, -0.5, 0.5, 8);
    Tensor y = run_one(x, [&](GraphBuilder& b, Operand in) {
      InstanceNormalizationOptions o;
      o.scale = b.constant(scale);
      o.bias = b.constant(bias);
      o.layout = nchw ? InputLayout::nchw : InputLayout::nhwc;
      return b.instance_normalization(in, o);
    });
    std::vector<float> sc(scale.data_as<float>(), scale.data_as<float>() + 40);
    std::vector<float> bi(bias.data_as<float>(), bias.data_as<float>() + 40);
    double ulp = max_term_ulp(y, x, 24, sc, bi, 40, nchw ? 1 : 40);
    EXPECT_LE(ulp, 4.0) << (nchw ? "nchw" : "nhwc");
  }
}

TEST(NormPoolLayerNorm, ValidationErrors) {
  GraphBuilder b;
  Operand x = b.input("x", kF32, {2, 3, 4});
  LayerNormalizationOptions dup;
  dup.axes = std::vector<uint32_t>{1, 1};
  expect_error([&] { b.layer_normalization(x, dup); }, ErrorKind::TypeError, "repeats");
  LayerNormalizationOptions range;
  range.axes = std::vector<uint32_t>{3};
  expect_error([&] { b.layer_normalization(x, range); }, ErrorKind::TypeError, "out of range");
  LayerNormalizationOptions rank;
  rank.axes = std::vector<uint32_t>{2};
  rank.scale = b.input("s", kF32, {3, 4});
  expect_error([&] { b.layer_normalization(x, rank); }, ErrorKind::TypeError,
               "operand 'scale' must have rank 1");
  LayerNormalizationOptions order;
  order.axes = std::vector<uint32_t>{2, 1};
  order.bias = b.input("bias", kF32, {3, 4});
  expect_error([&] { b.layer_normalization(x, order); }, ErrorKind::TypeError,
               "operand 'bias' must have shape [4, 3]");
  LayerNormalizationOptions type;
  type.scale = b.input("s16", kF16, {3, 4});
  expect_error([&] { b.layer_normalization(x, type); }, ErrorKind::TypeError, "data type float16");
  Operand xi = b.input("xi", DataType::int64, {2, 3});
  expect_error([&] { b.layer_normalization(xi); }, ErrorKind::TypeError, "data type int64");
  order.bias = b.input("bias2", kF32, {4, 3});
  EXPECT_EQ(b.layer_normalization(x, order).shape(), x.shape());
}

}  // namespace
}  // namespace cppnn
