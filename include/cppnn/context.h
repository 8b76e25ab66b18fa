#pragma once
// A context runs graphs on one backend ("cpu" or, when present, "cuda").
#include <memory>
#include <string>

#include "cppnn/graph.h"
#include "cppnn/tensor.h"

namespace cppnn {

enum class PowerPreference { default_, high_performance, low_power };

struct ContextOptions {
  PowerPreference power_preference = PowerPreference::default_;
  bool accelerated = true;  // false: the CPU, whatever else is there
  int num_threads = 0;      // CPU threads; 0: all cores
};

namespace detail {
struct ContextState;
}

class Context {
 public:
  // Picks the best backend for the options; never fails for lack of a GPU.
  static Context create(const ContextOptions& options = {});

  // The backend it really got: "cpu" or "cuda".
  std::string backend() const;
  // Why it got that backend, e.g. "CUDA device found" or why the GPU was not usable.
  std::string backend_reason() const;

  // Compiles `graph` for this context's backend ahead of the first compute (optional:
  // compute compiles on first use and keeps the plan while the graph lives).
  void compile(const Graph& graph);

  // What the backend's plan of `graph` runs where, compiling it first if needed; the CUDA
  // backend names the ops that run on the GPU and those that fall back to the CPU. Empty
  // for the CPU backend.
  std::string report(const Graph& graph);

  // Checks inputs against the graph (names, data types, shapes, byte sizes) and runs it.
  NamedTensors compute(const Graph& graph, const NamedTensors& inputs);

  // Releases plans and backend resources; later calls throw InvalidStateError.
  void destroy();
  bool destroyed() const;

 private:
  std::shared_ptr<detail::ContextState> state_;
};

}  // namespace cppnn
