#pragma once
// The graph the engine tests save and load, and its float64 reference. It covers what the
// format must carry: several op families, a multi-output split, an absent optional operand
// (batchNormalization's scale), every attribute kind (int, float, string, int list, float
// list), a constant the optimizer folds, float32 and float16 outputs.
#include <cmath>

#include "test_support.h"

namespace cppnn::testing {

struct EngineTestModel {
  Graph graph;
  // Weights as float64, for the reference.
  std::vector<double> mean, variance, bias, shift, ln_bias;
};

// N=2, C=3, H=4, W=5. `seed` changes every weight.
inline EngineTestModel make_engine_test_model(uint32_t seed = 7) {
  constexpr DataType f32 = DataType::float32;
  EngineTestModel m;
  Tensor mean = random_tensor(f32, {3}, -0.5, 0.5, seed);
  Tensor variance = random_tensor(f32, {3}, 0.5, 2.0, seed + 1);
  Tensor bias = random_tensor(f32, {3}, -1.0, 1.0, seed + 2);
  Tensor shift = random_tensor(f32, {4}, -1.0, 1.0, seed + 3);
  Tensor ln_bias = random_tensor(f32, {4, 5}, -1.0, 1.0, seed + 4);
  m.mean = mean.to_doubles();
  m.variance = variance.to_doubles();
  m.bias = bias.to_doubles();
  m.shift = shift.to_doubles();
  m.ln_bias = ln_bias.to_doubles();

  GraphBuilder b;
  Operand x = b.input("x", f32, {2, 3, 4, 5});
  BatchNormalizationOptions bn_options;
  bn_options.bias = b.constant(bias);  // scale stays absent
  bn_options.epsilon = 1e-3;
  Operand bn = b.batch_normalization(x, b.constant(mean), b.constant(variance), bn_options);
  LeakyReluOptions lr_options;
  lr_options.alpha = 0.2;
  Operand lr = b.leaky_relu(bn, lr_options);
  Pool2dOptions pool_options;
  pool_options.window_dimensions = {2, 2};
  pool_options.strides = {1, 1};
  pool_options.label = "pool";
  Operand pool = b.average_pool2d(lr, pool_options);  // [2, 3, 3, 4]
  SplitOptions split_options;
  split_options.axis = 1;
  std::vector<Operand> parts = b.split(pool, std::vector<uint32_t>{1, 2}, split_options);
  ReduceOptions reduce_options;
  reduce_options.axes = std::vector<uint32_t>{1};
  reduce_options.keep_dimensions = true;
  Operand rm = b.reduce_mean(parts[1], reduce_options);  // [2, 1, 3, 4]
  // neg of a constant: folded into a constant by the optimizer.
  Operand sum = b.add(b.add(parts[0], rm), b.neg(b.constant(shift)));
  Resample2dOptions resample_options;
  resample_options.scales = {2.0f, 2.0f};
  Operand up = b.resample2d(sum, resample_options);  // [2, 1, 6, 8]
  Operand soft = b.softmax(up, 3);
  LayerNormalizationOptions ln_options;
  ln_options.bias = b.constant(ln_bias);
  ln_options.axes = std::vector<uint32_t>{2, 3};
  ln_options.epsilon = 1e-4;
  Operand ln = b.cast(b.layer_normalization(x, ln_options), DataType::float16);
  m.graph = b.build({{"soft", soft}, {"part", parts[1]}, {"ln16", ln}});
  return m;
}

// The model's outputs in float64, by naive loops over the spec's formulas.
inline std::map<std::string, std::vector<double>> engine_test_reference(
    const EngineTestModel& m, const std::vector<double>& x) {
  auto X = [&](size_t n, size_t c, size_t h, size_t w) { return x[((n * 3 + c) * 4 + h) * 5 + w]; };
  const double bn_eps = double(float(1e-3)), ln_eps = double(float(1e-4));
  std::vector<double> lr(2 * 3 * 4 * 5);
  for (size_t n = 0; n < 2; ++n)
    for (size_t c = 0; c < 3; ++c)
      for (size_t h = 0; h < 4; ++h)
        for (size_t w = 0; w < 5; ++w) {
          double v = (X(n, c, h, w) - m.mean[c]) / std::sqrt(m.variance[c] + bn_eps) + m.bias[c];
          lr[((n * 3 + c) * 4 + h) * 5 + w] = v >= 0 ? v : 0.2 * v;
        }
  std::vector<double> pool(2 * 3 * 3 * 4);
  for (size_t n = 0; n < 2; ++n)
    for (size_t c = 0; c < 3; ++c)
      for (size_t i = 0; i < 3; ++i)
        for (size_t j = 0; j < 4; ++j) {
          double s = 0;
          for (size_t di = 0; di < 2; ++di)
            for (size_t dj = 0; dj < 2; ++dj) s += lr[((n * 3 + c) * 4 + i + di) * 5 + j + dj];
          pool[((n * 3 + c) * 3 + i) * 4 + j] = s / 4;
        }
  auto P = [&](size_t n, size_t c, size_t i, size_t j) {
    return pool[((n * 3 + c) * 3 + i) * 4 + j];
  };
  std::map<std::string, std::vector<double>> out;
  std::vector<double>& part = out["part"];
  for (size_t n = 0; n < 2; ++n)
    for (size_t c = 1; c < 3; ++c)
      for (size_t i = 0; i < 3; ++i)
        for (size_t j = 0; j < 4; ++j) part.push_back(P(n, c, i, j));
  std::vector<double>& soft = out["soft"];
  for (size_t n = 0; n < 2; ++n)
    for (size_t y = 0; y < 6; ++y) {
      // Nearest neighbour at scale 2 with half-pixel centres reads source pixel y / 2.
      std::vector<double> row(8);
      for (size_t xx = 0; xx < 8; ++xx) {
        size_t i = y / 2, j = xx / 2;
        row[xx] = P(n, 0, i, j) + (P(n, 1, i, j) + P(n, 2, i, j)) / 2 - m.shift[j];
      }
      double mx = row[0], total = 0;
      for (double v : row) mx = std::max(mx, v);
      for (double v : row) total += std::exp(v - mx);
      for (double v : row) soft.push_back(std::exp(v - mx) / total);
    }
  std::vector<double>& ln = out["ln16"];
  for (size_t n = 0; n < 2; ++n)
    for (size_t c = 0; c < 3; ++c) {
      double mu = 0, var = 0;
      for (size_t k = 0; k < 20; ++k) mu += X(n, c, k / 5, k % 5);
      mu /= 20;
      for (size_t k = 0; k < 20; ++k)
        var += (X(n, c, k / 5, k % 5) - mu) * (X(n, c, k / 5, k % 5) - mu);
      var /= 20;
      for (size_t k = 0; k < 20; ++k)
        ln.push_back((X(n, c, k / 5, k % 5) - mu) / std::sqrt(var + ln_eps) + m.ln_bias[k]);
    }
  return out;
}

}  // namespace cppnn::testing
