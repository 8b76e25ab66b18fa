#pragma once
// One node of a CUDA plan, bound at compile time to fixed buffers: a device step enqueues
// work on the stream, a host step (the per-op CPU fallback) runs a CPU kernel in place.
#include <chrono>
#include <map>
#include <string>

#include "backends/cuda/device.h"
#include "graph/ir.h"

namespace cppnn::detail::cuda {

// Where an operand's bytes live. A plan fixes them at compile time: intermediates in the
// arena (a host mirror of it exists for the CPU fallback), inputs and outputs in an I/O
// block, constants uploaded once.
struct Placement {
  void* device = nullptr;  // nullptr: no device copy
  void* host = nullptr;    // nullptr: no host copy
  size_t bytes = 0;
};

class Step {
 public:
  explicit Step(const Node& node) : node_(&node) {}
  virtual ~Step() = default;
  virtual bool on_device() const = 0;
  // Device steps enqueue on `stream`; host steps run now (the plan has synchronized).
  virtual void run(cudaStream_t stream) = 0;
  // One line for the plan's report: the op, its label, where it runs and how.
  virtual std::string describe() const = 0;
  const Node& node() const { return *node_; }

 private:
  const Node* node_;
};

// Where a plan's build time goes, by phase ("conv: check run"), for the report's "build
// time" line: a plan is built on one thread, so each thread keeps its own tally, which the
// plan clears before it builds and reads after.
inline std::map<std::string, double>& build_phases() {
  thread_local std::map<std::string, double> phases;
  return phases;
}

// Adds the time from its construction to its destruction to a build phase.
class BuildPhase {
 public:
  explicit BuildPhase(const char* phase) : phase_(phase), start_(std::chrono::steady_clock::now()) {}
  ~BuildPhase() {
    build_phases()[phase_] +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }
  BuildPhase(const BuildPhase&) = delete;
  BuildPhase& operator=(const BuildPhase&) = delete;

 private:
  const char* phase_;
  std::chrono::steady_clock::time_point start_;
};

// "matmul 'fc1'" or "matmul" when unlabelled.
inline std::string node_name(const Node& n) {
  const std::string& op = op_name(n.op);
  return n.label.empty() ? op : op + " '" + n.label + "'";
}

}  // namespace cppnn::detail::cuda
