// Context: backend selection, the plan cache, and the input checks every backend shares.
#include <mutex>
#include <unordered_map>

#include "runtime/backend.h"

namespace cppnn {

namespace detail {

struct CachedPlan {
  std::weak_ptr<const GraphIR> graph;
  std::unique_ptr<Plan> plan;
};

struct ContextState {
  std::mutex mutex;
  std::unique_ptr<Backend> backend;
  std::string backend_reason;
  std::unordered_map<const GraphIR*, CachedPlan> plans;
  bool destroyed = false;

  Plan& plan_for(const Graph& graph) {
    auto it = plans.find(&graph.ir());
    if (it != plans.end() && !it->second.graph.expired()) return *it->second.plan;
    // Drop plans of graphs that are gone before adding one.
    for (auto p = plans.begin(); p != plans.end();)
      p = p->second.graph.expired() ? plans.erase(p) : std::next(p);
    auto plan = backend->compile(graph.ir_ptr());
    Plan& ref = *plan;
    plans[&graph.ir()] = CachedPlan{graph.ir_ptr(), std::move(plan)};
    return ref;
  }
};

void check_inputs(const GraphIR& ir, const NamedTensors& inputs) {
  for (const auto& [name, tensor] : inputs)
    if (!ir.inputs.count(name))
      fail(ErrorKind::TypeError, "compute: the graph has no input named '" + name + "'");
  for (const auto& [name, id] : ir.inputs) {
    auto it = inputs.find(name);
    if (it == inputs.end())
      fail(ErrorKind::TypeError, "compute: input '" + name + "' is missing");
    const OperandDescriptor& want = ir.desc(id);
    const Tensor& got = it->second;
    if (got.empty() && element_count(want.shape) != 0)
      fail(ErrorKind::TypeError, "compute: input '" + name + "' has no data");
    if (got.data_type() != want.data_type)
      fail(ErrorKind::TypeError, "compute: input '" + name + "' has data type " +
                                     std::string(to_string(got.data_type())) + ", the graph expects " +
                                     std::string(to_string(want.data_type)));
    if (got.shape() != want.shape)
      fail(ErrorKind::TypeError, "compute: input '" + name + "' has shape " +
                                     to_string(got.shape()) + ", the graph expects " +
                                     to_string(want.shape));
  }
}

}  // namespace detail

using namespace detail;

Context Context::create(const ContextOptions& options) {
  Context c;
  c.state_ = std::make_shared<ContextState>();
  BackendChoice choice = choose_backend(options);
  c.state_->backend = std::move(choice.backend);
  c.state_->backend_reason = std::move(choice.reason);
  return c;
}

namespace {
ContextState& live(const std::shared_ptr<ContextState>& state, const char* what) {
  if (!state) fail(ErrorKind::InvalidStateError, std::string(what) + ": the context is not valid");
  if (state->destroyed)
    fail(ErrorKind::InvalidStateError, std::string(what) + ": the context has been destroyed");
  return *state;
}
}  // namespace

std::string Context::backend() const { return live(state_, "backend").backend->name(); }

std::string Context::backend_reason() const {
  return live(state_, "backend_reason").backend_reason;
}

void Context::compile(const Graph& graph) {
  ContextState& s = live(state_, "compile");
  std::lock_guard lock(s.mutex);
  s.plan_for(graph);
}

std::string Context::report(const Graph& graph) {
  ContextState& s = live(state_, "report");
  if (!graph.valid()) fail(ErrorKind::DataError, "report: the graph is not valid");
  std::lock_guard lock(s.mutex);
  return s.plan_for(graph).report();
}

NamedTensors Context::compute(const Graph& graph, const NamedTensors& inputs) {
  ContextState& s = live(state_, "compute");
  if (!graph.valid()) fail(ErrorKind::DataError, "compute: the graph is not valid");
  check_inputs(graph.ir(), inputs);
  std::lock_guard lock(s.mutex);
  return s.plan_for(graph).compute(inputs);
}

void Context::destroy() {
  if (!state_) return;
  std::lock_guard lock(state_->mutex);
  state_->plans.clear();
  state_->destroyed = true;
}

bool Context::destroyed() const { return !state_ || state_->destroyed; }

}  // namespace cppnn
