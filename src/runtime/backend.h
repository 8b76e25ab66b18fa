#pragma once
// The one backend interface: a backend compiles a graph into a Plan for its device.
#include <memory>
#include <string>

#include "cppnn/context.h"
#include "graph/ir.h"

namespace cppnn::detail {

class Plan {
 public:
  virtual ~Plan() = default;
  // Inputs are already checked against the graph by the Context.
  virtual NamedTensors compute(const NamedTensors& inputs) = 0;
  // What runs where (for a GPU plan: which ops run on the device and which fall back to
  // the CPU); Context::report shows it. Empty when a backend has nothing to say.
  virtual std::string report() const { return {}; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual std::unique_ptr<Plan> compile(std::shared_ptr<const GraphIR> graph) = 0;
};

std::unique_ptr<Backend> make_cpu_backend(const ContextOptions& options);

// The plugin ABI: a backend plugin exports
//   uint32_t cppnn_backend_abi_version();   // must equal kBackendAbiVersion
//   int cppnn_cuda_backend_create(const ContextOptions*, Backend** out, char* message,
//                                 size_t message_size);  // 0 on success
// Bump the version whenever Backend, Plan, GraphIR or ContextOptions change layout.
inline constexpr uint32_t kBackendAbiVersion = 2;  // 2: Plan::report

struct BackendChoice {
  std::unique_ptr<Backend> backend;
  std::string reason;  // why this backend: shown by Context::backend_reason()
};

// The best backend for the options: CUDA when asked for and usable, else the CPU.
BackendChoice choose_backend(const ContextOptions& options);

}  // namespace cppnn::detail
