// Context: backend selection, the plan cache, and the input checks every backend shares.
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "api/backend_loader.h"
#include "engine/portable_graph.h"
#include "graph/symbolic.h"

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
  Precision precision = Precision::float32;  // resolved: float32, float16 or bfloat16
  std::unordered_map<const GraphIR*, CachedPlan> plans;
  // Dynamic-shape graphs: the graphs specialized at the shapes they were run at, most
  // recently used first, at most kSpecializedPerGraph per graph; each keeps its plan (and
  // the CUDA graphs the plan captured) alive in `plans` while it is here.
  static constexpr size_t kSpecializedPerGraph = 8;
  struct Specializations {
    std::weak_ptr<const GraphIR> graph;
    std::vector<std::pair<std::vector<int64_t>, Graph>> recent;
  };
  std::unordered_map<const GraphIR*, Specializations> specialized;
  // Written only under `mutex`; atomic so that Context::destroyed() can read it without
  // waiting for a compute to finish.
  std::atomic<bool> destroyed = false;

  Plan& plan_for(const Graph& graph) {
    auto it = plans.find(&graph.ir());
    if (it != plans.end() && !it->second.graph.expired()) return *it->second.plan;
    // Drop plans of graphs that are gone before adding one.
    for (auto p = plans.begin(); p != plans.end();)
      p = p->second.graph.expired() ? plans.erase(p) : std::next(p);
    // A float16 context lowers the graph as Engine::build does (the same function), and its
    // backend then lays it out as it lays out an engine's graph.
    auto plan = backend->compile(precision == Precision::float32
                                     ? graph.ir_ptr()
                                     : portable_graph(graph.ir_ptr(), precision, "compile"));
    Plan& ref = *plan;
    plans[&graph.ir()] = CachedPlan{graph.ir_ptr(), std::move(plan)};
    return ref;
  }

  // The graph with fixed shapes that runs `graph` at these input shapes: `graph` itself
  // unless it is dynamic and the shapes are not its opt shapes.
  Graph concrete(const Graph& graph, const std::map<std::string, Dims>& shapes, const char* what) {
    if (!graph.dynamic()) return graph;
    const SymbolicShapes& sym = *graph.symbolic();
    std::vector<int64_t> values = symbol_values_for(graph.ir(), sym, shapes, what);
    if (values == sym.opt_values()) return Graph(graph.ir_ptr());
    for (auto it = specialized.begin(); it != specialized.end();)
      it = it->second.graph.expired() ? specialized.erase(it) : std::next(it);
    Specializations& s = specialized[&graph.ir()];
    if (s.graph.expired()) s = Specializations{graph.ir_ptr(), {}};
    for (size_t i = 0; i < s.recent.size(); ++i)
      if (s.recent[i].first == values) {
        std::rotate(s.recent.begin(), s.recent.begin() + ptrdiff_t(i), s.recent.begin() + ptrdiff_t(i) + 1);
        return s.recent.front().second;
      }
    Graph g(specialize(graph.ir(), sym, values, /*run_time_shape=*/true));
    s.recent.insert(s.recent.begin(), {values, g});
    if (s.recent.size() > kSpecializedPerGraph) s.recent.pop_back();
    return g;
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

struct DeviceTensorState {
  OperandDescriptor desc;
  std::shared_ptr<BackendTensor> memory;
  std::weak_ptr<ContextState> context;
};

}  // namespace detail

using namespace detail;

Context Context::create(const ContextOptions& options) {
  if (!(options.gpu_sm_share > 0 && options.gpu_sm_share <= 1))
    fail(ErrorKind::TypeError, "context options: gpu_sm_share must be in (0, 1], got " +
                                   std::to_string(options.gpu_sm_share));
  if (options.num_threads < 0)
    fail(ErrorKind::TypeError, "context options: num_threads must be >= 0, got " +
                                   std::to_string(options.num_threads));
  if (options.precision != Precision::float32 && options.precision != Precision::float16 &&
      options.precision != Precision::bfloat16 && options.precision != Precision::auto_)
    fail(ErrorKind::TypeError, "context options: unknown precision " +
                                   std::to_string(uint32_t(options.precision)));
  Context c;
  c.state_ = std::make_shared<ContextState>();
  BackendChoice choice = choose_backend(options);
  c.state_->backend = std::move(choice.backend);
  c.state_->backend_reason = std::move(choice.reason);
  Precision precision = options.precision;
  // auto: float16 where tensor cores make it pay and the app asked for speed over power
  // (a GPU backend, high-performance); the CPU computes float16 no faster, so float32.
  if (precision == Precision::auto_)
    precision = c.state_->backend->name() != "cpu" &&
                        options.power_preference == PowerPreference::high_performance
                    ? Precision::float16
                    : Precision::float32;
  c.state_->precision = precision;
  return c;
}

namespace {
// The context's lock, held by every method for its whole work: `destroyed` is checked under
// the same mutex destroy() takes, so a call either finishes before destroy() begins or sees
// the context destroyed. (Checked before locking, a compute could pass the check, wait for
// the lock while destroy() ran, and then rebuild plans in a destroyed context.)
std::unique_lock<std::mutex> lock_live(const std::shared_ptr<ContextState>& state,
                                       const char* what) {
  if (!state) fail(ErrorKind::InvalidStateError, std::string(what) + ": the context is not valid");
  std::unique_lock lock(state->mutex);
  if (state->destroyed)
    fail(ErrorKind::InvalidStateError, std::string(what) + ": the context has been destroyed");
  return lock;
}
}  // namespace

std::string Context::backend() const {
  auto lock = lock_live(state_, "backend");
  return state_->backend->name();
}

std::string Context::backend_reason() const {
  auto lock = lock_live(state_, "backend_reason");
  return state_->backend_reason;
}

size_t Context::peak_memory() const {
  auto lock = lock_live(state_, "peak_memory");
  return state_->backend->peak_memory(false);
}

void Context::reset_peak_memory() {
  auto lock = lock_live(state_, "reset_peak_memory");
  (void)state_->backend->peak_memory(true);
}

Precision Context::precision() const {
  auto lock = lock_live(state_, "precision");
  return state_->precision;
}

void Context::compile(const Graph& graph) {
  auto lock = lock_live(state_, "compile");
  if (!graph.valid()) fail(ErrorKind::DataError, "compile: the graph is not valid");
  state_->plan_for(graph);
}

std::string Context::placement(const Graph& graph) {
  auto lock = lock_live(state_, "placement");
  if (!graph.valid()) fail(ErrorKind::DataError, "placement: the graph is not valid");
  detail::Backend& backend = *state_->backend;
  const detail::GraphIR& ir = graph.ir();
  return detail::partition_graph(ir, [&](const detail::GraphIR& g, size_t node) {
           return backend.supports_op(g, node);
         }).summary(ir);
}

std::string Context::report(const Graph& graph) {
  auto lock = lock_live(state_, "report");
  if (!graph.valid()) fail(ErrorKind::DataError, "report: the graph is not valid");
  return state_->plan_for(graph).report();
}

NamedTensors Context::compute(const Graph& graph, const NamedTensors& inputs) {
  auto lock = lock_live(state_, "compute");
  if (!graph.valid()) fail(ErrorKind::DataError, "compute: the graph is not valid");
  std::map<std::string, Dims> shapes;
  for (const auto& [name, t] : inputs) shapes[name] = t.shape();
  Graph run = state_->concrete(graph, shapes, "compute");
  check_inputs(run.ir(), inputs);
  return state_->plan_for(run).compute(inputs);
}

// ---- device tensors

namespace {

DeviceTensorState& live_tensor(const std::shared_ptr<DeviceTensorState>& t, const char* what) {
  if (!t) fail(ErrorKind::InvalidStateError, std::string(what) + ": the tensor is not valid");
  if (!t->memory)
    fail(ErrorKind::InvalidStateError, std::string(what) + ": the tensor has been destroyed");
  return *t;
}

size_t checked_bytes(DataType type, const Dims& shape, const char* what) {
  for (int64_t d : shape)
    if (d < 0) fail(ErrorKind::TypeError, std::string(what) + ": negative dimension in " + to_string(shape));
  size_t n = element_count(shape);
  if (n > (size_t(1) << 40))
    fail(ErrorKind::TypeError, std::string(what) + ": shape " + to_string(shape) + " is too large");
  return byte_size(type, n);
}

}  // namespace

DataType DeviceTensor::data_type() const { return live_tensor(state_, "data_type").desc.data_type; }
const Dims& DeviceTensor::shape() const { return live_tensor(state_, "shape").desc.shape; }
size_t DeviceTensor::byte_size() const { return live_tensor(state_, "byte_size").memory->bytes; }
bool DeviceTensor::on_device() const { return live_tensor(state_, "on_device").memory->on_device; }
void* DeviceTensor::data() const { return live_tensor(state_, "data").memory->data; }
bool DeviceTensor::valid() const { return state_ && state_->memory; }

void DeviceTensor::destroy() {
  if (!state_ || !state_->memory) return;
  // Work queued on the tensor must finish before its memory goes, and the memory goes under
  // the context's lock, so that no context call that checked the tensor uses it after.
  if (auto context = state_->context.lock()) {
    std::lock_guard lock(context->mutex);
    if (!context->destroyed) context->backend->synchronize();
    state_->memory.reset();
    return;
  }
  state_->memory.reset();
}

DeviceTensor Context::create_tensor(DataType type, const Dims& shape) {
  auto lock = lock_live(state_, "create_tensor");
  ContextState& s = *state_;
  size_t bytes = checked_bytes(type, shape, "create_tensor");
  DeviceTensor t;
  t.state_ = std::make_shared<DeviceTensorState>(
      DeviceTensorState{{type, shape}, s.backend->create_tensor(bytes), state_});
  return t;
}

DeviceTensor Context::wrap_tensor(DataType type, const Dims& shape, void* data,
                                  std::shared_ptr<void> owner) {
  auto lock = lock_live(state_, "wrap_tensor");
  ContextState& s = *state_;
  size_t bytes = checked_bytes(type, shape, "wrap_tensor");
  if (!data && bytes) fail(ErrorKind::TypeError, "wrap_tensor: null data for " + to_string(shape));
  DeviceTensor t;
  t.state_ = std::make_shared<DeviceTensorState>(
      DeviceTensorState{{type, shape}, s.backend->wrap_tensor(data, bytes, std::move(owner)), state_});
  return t;
}

namespace {

// The tensor's state, checked to belong to this live context.
DeviceTensorState& own_tensor(const std::shared_ptr<DeviceTensorState>& t,
                              const std::shared_ptr<ContextState>& context, const std::string& what) {
  DeviceTensorState& state = live_tensor(t, what.c_str());
  if (state.context.lock() != context)
    fail(ErrorKind::TypeError, what + ": the tensor belongs to another context");
  return state;
}

}  // namespace

void Context::write_tensor(DeviceTensor& tensor, const Tensor& data) {
  auto lock = lock_live(state_, "write_tensor");
  ContextState& s = *state_;
  DeviceTensorState& t = own_tensor(tensor.state_, state_, "write_tensor");
  if (data.data_type() != t.desc.data_type || data.shape() != t.desc.shape)
    fail(ErrorKind::TypeError, "write_tensor: data is " + std::string(to_string(data.data_type())) +
                                   " " + to_string(data.shape()) + ", the tensor is " +
                                   std::string(to_string(t.desc.data_type)) + " " +
                                   to_string(t.desc.shape));
  if (t.memory->bytes) s.backend->write_tensor(*t.memory, data.data(), t.memory->bytes);
}

Tensor Context::read_tensor(const DeviceTensor& tensor) {
  auto lock = lock_live(state_, "read_tensor");
  ContextState& s = *state_;
  DeviceTensorState& t = own_tensor(tensor.state_, state_, "read_tensor");
  Tensor out = Tensor::uninitialized(t.desc.data_type, t.desc.shape);
  if (t.memory->bytes) s.backend->read_tensor(*t.memory, out.data(), t.memory->bytes);
  return out;
}

void Context::dispatch(const Graph& graph, const NamedDeviceTensors& inputs,
                       const NamedDeviceTensors& outputs) {
  auto lock = lock_live(state_, "dispatch");
  ContextState& s = *state_;
  if (!graph.valid()) fail(ErrorKind::DataError, "dispatch: the graph is not valid");
  std::map<std::string, Dims> shapes;
  for (const auto& [name, t] : inputs)
    shapes[name] = live_tensor(t.state_, "dispatch").desc.shape;
  Graph run = s.concrete(graph, shapes, "dispatch");
  const GraphIR& ir = run.ir();
  auto bind = [&](const NamedDeviceTensors& given, const std::map<std::string, OperandId>& want,
                  const char* kind) {
    BackendTensors bound;
    for (const auto& [name, _] : given)
      if (!want.count(name))
        fail(ErrorKind::TypeError, "dispatch: the graph has no " + std::string(kind) + " named '" + name + "'");
    for (const auto& [name, id] : want) {
      auto it = given.find(name);
      if (it == given.end())
        fail(ErrorKind::TypeError, "dispatch: " + std::string(kind) + " '" + name + "' is missing");
      DeviceTensorState& t = own_tensor(it->second.state_, state_,
                                        "dispatch: " + std::string(kind) + " '" + name + "'");
      const OperandDescriptor& d = ir.desc(id);
      if (!(t.desc == d))
        fail(ErrorKind::TypeError, "dispatch: " + std::string(kind) + " '" + name + "' is " +
                                       std::string(to_string(t.desc.data_type)) + " " +
                                       to_string(t.desc.shape) + ", the graph expects " +
                                       std::string(to_string(d.data_type)) + " " + to_string(d.shape));
      bound[name] = t.memory.get();
    }
    return bound;
  };
  BackendTensors in = bind(inputs, ir.inputs, "input");
  BackendTensors out = bind(outputs, ir.outputs, "output");
  for (const auto& [oname, o] : out) {
    for (const auto& [iname, i] : in)
      if (i == o || (i->data == o->data && i->bytes && o->bytes))
        fail(ErrorKind::TypeError, "dispatch: tensor of input '" + iname +
                                       "' is also given as output '" + oname + "'");
    for (const auto& [other, p] : out)
      if (other != oname && p == o)
        fail(ErrorKind::TypeError, "dispatch: outputs '" + oname + "' and '" + other +
                                       "' are the same tensor");
  }
  s.plan_for(run).dispatch(ir, in, out);
}

void Context::synchronize() {
  auto lock = lock_live(state_, "synchronize");
  state_->backend->synchronize();
}

// Without the context's lock: the backend lives as long as the state (destroy() keeps it),
// and these calls touch only the driver's state, not the context's.
int Context::device_of(const void* data) const {
  if (!state_) fail(ErrorKind::InvalidStateError, "device_of: the context is not valid");
  return state_->backend->device_of(data);
}

void Context::synchronize_external(const void* data) {
  if (!state_) fail(ErrorKind::InvalidStateError, "synchronize_external: the context is not valid");
  state_->backend->synchronize_external(data);
}

void Context::destroy() {
  if (!state_) return;
  std::lock_guard lock(state_->mutex);
  if (!state_->destroyed) state_->backend->synchronize();
  state_->specialized.clear();
  state_->plans.clear();
  state_->destroyed = true;
}

bool Context::destroyed() const { return !state_ || state_->destroyed; }

}  // namespace cppnn
