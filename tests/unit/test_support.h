#pragma once
// Shared helpers for the unit tests: random data, float64 references, tolerances.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/dispatch.h"
#include "cppnn/cppnn.h"

namespace cppnn::testing {

// Deterministic random values in [lo, hi), converted to `type` (integers are rounded).
inline Tensor random_tensor(DataType type, const Dims& shape, double lo, double hi,
                            uint32_t seed = 1) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Tensor t(type, shape);
  visit_type(type, [&]<typename T>() {
    T* p = t.data_as<T>();
    for (size_t i = 0; i < t.element_count(); ++i) {
      double v = dist(gen);
      p[i] = from_double<T>(is_float(type) ? v : std::round(v));
    }
  });
  return t;
}

inline Tensor tensor_from_doubles(DataType type, const Dims& shape, const std::vector<double>& v) {
  Tensor t(type, shape);
  visit_type(type, [&]<typename T>() {
    T* p = t.data_as<T>();
    for (size_t i = 0; i < t.element_count(); ++i) p[i] = from_double<T>(v.at(i));
  });
  return t;
}

// Tolerance per data type for float64-reference comparisons: |got - want| <= atol + rtol*|want|.
struct Tolerance {
  double atol, rtol;
};
inline Tolerance default_tolerance(DataType type) {
  if (type == DataType::float32) return {1e-5, 1e-5};
  if (type == DataType::float16) return {1e-3, 2e-3};
  return {0, 0};
}

inline void expect_close(const Tensor& got, const std::vector<double>& want, Tolerance tol,
                         const std::string& what = "") {
  ASSERT_EQ(got.element_count(), want.size()) << what;
  std::vector<double> g = got.to_doubles();
  size_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    bool both_nan = std::isnan(g[i]) && std::isnan(want[i]);
    bool same_inf = std::isinf(g[i]) && g[i] == want[i];
    if (both_nan || same_inf) continue;
    if (!(std::abs(g[i] - want[i]) <= tol.atol + tol.rtol * std::abs(want[i]))) {
      if (bad++ < 5)
        ADD_FAILURE() << what << " element " << i << ": got " << g[i] << ", want " << want[i];
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << want.size() << " elements differ";
}

// Builds nothing itself: runs a graph on a fresh CPU context.
inline NamedTensors run_cpu(const Graph& graph, const NamedTensors& inputs) {
  ContextOptions options;
  options.accelerated = false;
  return Context::create(options).compute(graph, inputs);
}

// Expects `fn` to throw cppnn::Error of `kind` whose message contains `fragment`.
inline void expect_error(const std::function<void()>& fn, ErrorKind kind,
                         const std::string& fragment) {
  try {
    fn();
    ADD_FAILURE() << "expected " << to_string(kind) << " containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message '" << e.what() << "' lacks '" << fragment << "'";
  }
}

// Relative L2 distance |got - want| / |want| of two equally long value lists.
inline double rel_l2(const std::vector<double>& got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

// One value per line ('#' lines are comments): the reference outputs tests/unit keeps from
// ONNX Runtime.
inline std::vector<double> read_values(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << path;
  std::vector<double> v;
  std::string line;
  while (std::getline(f, line))
    if (!line.empty() && line[0] != '#') v.push_back(std::stod(line));
  return v;
}

}  // namespace cppnn::testing
