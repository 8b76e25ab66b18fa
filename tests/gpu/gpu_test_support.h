#pragma once
// Shared by the GPU suite: the CUDA context (tests skip when the context got no CUDA
// backend), the CPU context used as reference, and comparisons with relative tolerances.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <string>

#include "unit/test_support.h"

namespace cppnn::gpu_testing {

// One CUDA context for the suite: its device setup is paid once.
inline Context& cuda_context() {
  static Context c = [] {
    ContextOptions o;
    o.power_preference = PowerPreference::high_performance;
    return Context::create(o);
  }();
  return c;
}

// The CUDA backend reads its switches once, when a context is created (its CudaOptions), so
// a test that sets one of `switches` (CPPNN_CUDA_OWN_KERNELS, ...) computes on a context
// made under that setting: one per setting, kept for the suite and destroyed before static
// destruction, while CUDA is still up. With none of them set, the suite's context.
struct SwitchedContexts : ::testing::Environment {
  std::map<std::string, Context> by_setting;
  void TearDown() override {
    for (auto& [_, c] : by_setting) c.destroy();
  }
};
inline SwitchedContexts& switched_contexts() {
  static SwitchedContexts* contexts = new SwitchedContexts;  // gtest deletes it at exit
  return *contexts;
}
inline ::testing::Environment* const kSwitchedContextsTeardown =
    ::testing::AddGlobalTestEnvironment(&switched_contexts());

inline Context& switched_cuda_context(std::initializer_list<const char*> switches) {
  std::string key;
  for (const char* name : switches)
    if (const char* v = std::getenv(name)) key += std::string(name) + "=" + v + " ";
  if (key.empty()) return cuda_context();
  auto& by_setting = switched_contexts().by_setting;
  auto it = by_setting.find(key);
  if (it == by_setting.end()) {
    ContextOptions o;
    o.power_preference = PowerPreference::high_performance;
    it = by_setting.emplace(key, Context::create(o)).first;
  }
  return it->second;
}

// A fresh context that takes our kernels untimed (ContextOptions::gpu_kernels =
// fastest_start), for tests that need a kernel to run where it applies; the caller destroys it.
inline Context fastest_start_context() {
  ContextOptions o;
  o.power_preference = PowerPreference::high_performance;
  o.gpu_kernels = GpuKernels::fastest_start;
  return Context::create(o);
}

inline Context& cpu_context() {
  static Context c = [] {
    ContextOptions o;
    o.accelerated = false;
    return Context::create(o);
  }();
  return c;
}

#define REQUIRE_CUDA()                                                                  \
  do {                                                                                  \
    if (::cppnn::gpu_testing::cuda_context().backend() != "cuda")                       \
      GTEST_SKIP() << "no CUDA backend: " << ::cppnn::gpu_testing::cuda_context().backend_reason(); \
  } while (0)

// |got - want| <= rtol * max(|want|, rms(want)) element by element: relative, with the
// tensor's RMS as the floor so that sums cancelling to near zero do not demand more digits
// than fp32 carries.
inline void expect_rel_close(const Tensor& got, const Tensor& want, double rtol,
                             const std::string& what = "") {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.data_type(), want.data_type()) << what;
  std::vector<double> g = got.to_doubles(), w = want.to_doubles();
  double sq = 0;
  for (double v : w) sq += v * v;
  double rms = w.empty() ? 0 : std::sqrt(sq / double(w.size()));
  size_t bad = 0;
  double worst = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    double err = std::abs(g[i] - w[i]) / std::max({std::abs(w[i]), rms, 1e-30});
    worst = std::max(worst, std::isnan(err) ? INFINITY : err);
    if (!(err <= rtol) && bad++ < 5)
      ADD_FAILURE() << what << " element " << i << ": got " << g[i] << ", want " << w[i];
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << w.size()
                     << " elements differ; worst relative error " << worst;
}

inline double rel_l2(const Tensor& got, const Tensor& want) {
  std::vector<double> g = got.to_doubles(), w = want.to_doubles();
  double num = 0, den = 0;
  for (size_t i = 0; i < w.size(); ++i) num += (g[i] - w[i]) * (g[i] - w[i]), den += w[i] * w[i];
  return std::sqrt(num / std::max(den, 1e-300));
}

// Median wall time of `fn` in milliseconds, after `warmup` calls.
template <typename F>
double median_ms(F&& fn, int warmup, int repeats) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Sets an environment variable for one scope (the CUDA backend reads its switches when a
// context is created).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

inline std::string models_dir() {
  const char* env = std::getenv("CPPNN_MODELS_DIR");
  return env && *env ? env : CPPNN_MODELS_DEFAULT_DIR;
}

}  // namespace cppnn::gpu_testing
