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
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual std::unique_ptr<Plan> compile(std::shared_ptr<const GraphIR> graph) = 0;
};

std::unique_ptr<Backend> make_cpu_backend(const ContextOptions& options);

}  // namespace cppnn::detail
