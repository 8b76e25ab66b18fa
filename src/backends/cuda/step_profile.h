#pragma once
// CPPNN_CUDA_PROFILE=1 (CudaOptions::profile): where a plan's compute time goes, per step.
// The plan brackets each device step with CUDA events, recorded inside its captured CUDA
// graphs (so the replay is timed as it runs, without the host's launch work), and each host
// (CPU fallback) step with the host clock; its report gains a "profile" section: the mean
// time per compute by op and the slowest steps. Off by default: the events cost a little
// time themselves.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/step.h"

namespace cppnn::detail::cuda {

class StepProfile {
 public:
  explicit StepProfile(size_t steps);
  ~StepProfile();
  StepProfile(const StepProfile&) = delete;
  StepProfile& operator=(const StepProfile&) = delete;

  // A segment run step by step (not captured): the GPU spins while the host enqueues its
  // steps, so that the events bracket GPU time rather than the host's launch gaps.
  void before_device_segment(size_t steps, cudaStream_t stream);
  // `capturing`: the events become nodes of the CUDA graph being captured.
  void before_device_step(size_t i, cudaStream_t stream, bool capturing);
  void after_device_step(size_t i, cudaStream_t stream, bool capturing);
  // A captured segment [begin, end) was replayed: its steps' events were recorded.
  void graph_ran(size_t begin, size_t end);
  void before_host_step();
  void after_host_step(size_t i);
  // After the compute's work is done (the stream synchronized): adds this compute's times.
  // The first compute is left out: it pays the libraries' lazy loading of their kernels.
  void collect();

  // The report's section; `steps` are the plan's, in the order the indices refer to.
  std::string text(const std::vector<std::unique_ptr<Step>>& steps) const;

 private:
  std::vector<cudaEvent_t> start_, stop_;
  std::vector<bool> ran_on_device_;
  std::vector<double> total_ms_;
  std::chrono::steady_clock::time_point host_start_;  // of the host step running now
  std::vector<double> host_ms_;  // this compute's host step times
  int computes_ = 0;  // counted, after the first
  bool first_seen_ = false;
};

}  // namespace cppnn::detail::cuda
