#include "backends/cuda/step_profile.h"

#include "backends/cuda/kernels/conv_epilogue.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>

namespace cppnn::detail::cuda {

StepProfile::StepProfile(size_t steps)
    : start_(steps, nullptr), stop_(steps, nullptr), ran_on_device_(steps, false),
      total_ms_(steps, 0.0), host_ms_(steps, -1.0) {}

StepProfile::~StepProfile() {
  for (cudaEvent_t e : start_)
    if (e) (void)cudaEventDestroy(e);
  for (cudaEvent_t e : stop_)
    if (e) (void)cudaEventDestroy(e);
}

void StepProfile::before_device_segment(size_t steps, cudaStream_t stream) {
  unsigned us = unsigned(std::min<size_t>(20000, 200 + 30 * steps));
  CPPNN_CUDA_CHECK(launch_gpu_spin(us, stream));
}

void StepProfile::before_device_step(size_t i, cudaStream_t stream, bool capturing) {
  if (!start_[i]) CPPNN_CUDA_CHECK(cudaEventCreate(&start_[i]));
  if (!stop_[i]) CPPNN_CUDA_CHECK(cudaEventCreate(&stop_[i]));
  CPPNN_CUDA_CHECK(cudaEventRecordWithFlags(start_[i], stream,
                                            capturing ? cudaEventRecordExternal : cudaEventRecordDefault));
}

void StepProfile::after_device_step(size_t i, cudaStream_t stream, bool capturing) {
  CPPNN_CUDA_CHECK(cudaEventRecordWithFlags(stop_[i], stream,
                                            capturing ? cudaEventRecordExternal : cudaEventRecordDefault));
  if (!capturing) ran_on_device_[i] = true;
}

void StepProfile::graph_ran(size_t begin, size_t end) {
  for (size_t i = begin; i < end && i < ran_on_device_.size(); ++i)
    if (start_[i]) ran_on_device_[i] = true;
}

void StepProfile::before_host_step() { host_start_ = std::chrono::steady_clock::now(); }

void StepProfile::after_host_step(size_t i) {
  host_ms_[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                          host_start_).count();
}

void StepProfile::collect() {
  bool count = first_seen_;
  first_seen_ = true;
  for (size_t i = 0; i < total_ms_.size(); ++i) {
    if (ran_on_device_[i]) {
      float ms = 0;
      CPPNN_CUDA_CHECK(cudaEventElapsedTime(&ms, start_[i], stop_[i]));
      if (count) total_ms_[i] += ms;
      ran_on_device_[i] = false;
    } else if (host_ms_[i] >= 0) {
      if (count) total_ms_[i] += host_ms_[i];
      host_ms_[i] = -1.0;
    }
  }
  computes_ += count;
}

std::string StepProfile::text(const std::vector<std::unique_ptr<Step>>& steps) const {
  std::string out = "profile (CPPNN_CUDA_PROFILE=1, GPU time per step): ";
  if (computes_ == 0) return out + "no compute after the first yet\n";
  double n = computes_;
  double total = std::accumulate(total_ms_.begin(), total_ms_.end(), 0.0) / n;
  char line[256];
  std::snprintf(line, sizeof line,
                "%.3f ms per compute summed over steps, mean of %d computes after the first\n",
                total, computes_);
  out += line;
  // By op, largest first (keyed by the name shown, "[cpu] " before a fallback's).
  std::map<std::string, std::pair<double, int>> by_op;
  for (size_t i = 0; i < steps.size() && i < total_ms_.size(); ++i) {
    auto& [ms, count] =
        by_op[std::string(steps[i]->on_device() ? "" : "[cpu] ") + op_name(steps[i]->node().op)];
    ms += total_ms_[i] / n;
    ++count;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> ops(by_op.begin(), by_op.end());
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  out += "  by op:";
  for (const auto& [op, v] : ops) {
    std::snprintf(line, sizeof line, " %s x%d %.3f ms (%.0f%%);", op.c_str(), v.second, v.first,
                  total > 0 ? 100.0 * v.first / total : 0.0);
    out += line;
  }
  out += "\n  slowest steps:\n";
  std::vector<size_t> order(std::min(steps.size(), total_ms_.size()));
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return total_ms_[a] > total_ms_[b]; });
  if (order.size() > 15) order.resize(15);
  for (size_t i : order) {
    std::snprintf(line, sizeof line, "    %8.3f ms  ", total_ms_[i] / n);
    out += line + steps[i]->describe() + "\n";
  }
  return out;
}

}  // namespace cppnn::detail::cuda
