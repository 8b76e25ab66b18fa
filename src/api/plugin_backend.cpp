// A backend plugin's C function table (runtime/backend_plugin.h) as the C++ Backend and Plan
// interfaces: every call goes through the table with C types and handles, and a failing
// status is thrown again as cppnn::Error with the plugin's kind and message.
#include "api/plugin_backend.h"

#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "runtime/core_abi.h"

namespace cppnn::detail {

namespace {

using Table = CppnnBackendPluginV1;

// Collects a string the plugin writes (cppnn_string_out).
class StringSink {
 public:
  cppnn_string_out out() { return {&StringSink::append, this}; }
  std::string text;

 private:
  static void append(void* user, const char* data, size_t size) noexcept {
    try {
      static_cast<StringSink*>(user)->text.append(data, size);
    } catch (...) {
      // Out of memory while copying a message: the message is cut short, nothing throws.
    }
  }
};

// Throws what the plugin caught, with its kind and message.
void check(cppnn_status status, const StringSink& error) {
  if (status == CPPNN_STATUS_OK) return;
  if (status == CPPNN_STATUS_OUT_OF_HOST_MEMORY) throw std::bad_alloc();
  ErrorKind kind = ErrorKind::OperationError;
  switch (status) {
    case CPPNN_STATUS_TYPE_ERROR:
      kind = ErrorKind::TypeError;
      break;
    case CPPNN_STATUS_DATA_ERROR:
      kind = ErrorKind::DataError;
      break;
    case CPPNN_STATUS_NOT_SUPPORTED_ERROR:
      kind = ErrorKind::NotSupportedError;
      break;
    case CPPNN_STATUS_INVALID_STATE_ERROR:
      kind = ErrorKind::InvalidStateError;
      break;
    case CPPNN_STATUS_OPERATION_ERROR:
      break;
    default:
      fail(ErrorKind::OperationError, "the backend plugin returned the unknown status " +
                                          std::to_string(status) + ": " + error.text);
  }
  fail(kind, error.text);
}

// Calls fn(error sink) and throws on a failing status.
template <typename Fn>
void call(Fn&& fn) {
  StringSink error;
  check(fn(error.out()), error);
}

// A string the plugin writes through fn(out, error).
template <typename Fn>
std::string text_of(Fn&& fn) {
  StringSink out;
  call([&](cppnn_string_out error) { return fn(out.out(), error); });
  return std::move(out.text);
}

// Device tensor memory the plugin made: the handle goes back to it with the tensor.
struct PluginTensor final : BackendTensor {
  PluginTensor(const Table& table, const cppnn_memory_info& info, size_t size)
      : table(table), memory(info.memory) {
    data = info.data;
    bytes = size;
    on_device = info.on_device != 0;
  }
  ~PluginTensor() { table.release_memory(memory); }
  PluginTensor(const PluginTensor&) = delete;
  PluginTensor& operator=(const PluginTensor&) = delete;

  const Table& table;
  cppnn_memory* memory;
};

// Every tensor a plugin backend's context holds was made by that backend
// (Context::own_tensor checks it), hence is a PluginTensor.
cppnn_memory* memory_of(const BackendTensor& tensor) {
  return static_cast<const PluginTensor&>(tensor).memory;
}

const cppnn_graph* graph_handle(const GraphIR& graph) {
  return reinterpret_cast<const cppnn_graph*>(&graph);
}

class PluginPlan final : public Plan {
 public:
  PluginPlan(const Table& table, std::shared_ptr<const GraphIR> graph)
      : table_(table), graph_(std::move(graph)) {}
  // Set once the plugin made it (a constructor that threw would leak it otherwise).
  void adopt(cppnn_plan* plan) { plan_ = plan; }
  ~PluginPlan() override {
    if (plan_) table_.plan_destroy(plan_);  // before graph_ goes: the plan uses it
  }

  NamedTensors compute(const NamedTensors& inputs) override {
    NamedTensors outputs;
    call([&](cppnn_string_out error) {
      return table_.plan_compute(plan_, reinterpret_cast<const cppnn_tensors*>(&inputs),
                                 reinterpret_cast<cppnn_tensors*>(&outputs), error);
    });
    return outputs;
  }

  void dispatch(const GraphIR& graph, const BackendTensors& inputs,
                const BackendTensors& outputs) override {
    struct Bound {
      std::vector<const char*> names;
      std::vector<cppnn_memory*> memory;
    };
    auto bind = [](const BackendTensors& tensors) {
      Bound b;
      for (const auto& [name, tensor] : tensors) {
        b.names.push_back(name.c_str());
        b.memory.push_back(memory_of(*tensor));
      }
      return b;
    };
    Bound in = bind(inputs), out = bind(outputs);
    call([&](cppnn_string_out error) {
      return table_.plan_dispatch(plan_, graph_handle(graph), in.names.size(), in.names.data(),
                                  in.memory.data(), out.names.size(), out.names.data(),
                                  out.memory.data(), error);
    });
  }

  std::string report() const override {
    return text_of([&](cppnn_string_out out, cppnn_string_out error) {
      return table_.plan_report(plan_, out, error);
    });
  }

 private:
  const Table& table_;
  std::shared_ptr<const GraphIR> graph_;  // alive while the plugin's plan is
  cppnn_plan* plan_ = nullptr;
};

class PluginBackend final : public Backend {
 public:
  PluginBackend(const Table& table, cppnn_backend* backend) : table_(table), backend_(backend) {
    // Asked once: Context::backend() is called often (Python asks it on every import).
    name_ = text_of([&](cppnn_string_out out, cppnn_string_out error) {
      return table_.name(backend_, out, error);
    });
  }
  ~PluginBackend() override { table_.destroy(backend_); }
  PluginBackend(const PluginBackend&) = delete;
  PluginBackend& operator=(const PluginBackend&) = delete;

  std::string name() const override { return name_; }
  std::string detail() const override {
    return text_of([&](cppnn_string_out out, cppnn_string_out error) {
      return table_.detail(backend_, out, error);
    });
  }

  std::unique_ptr<Plan> compile(std::shared_ptr<const GraphIR> graph) override {
    auto plan = std::make_unique<PluginPlan>(table_, graph);
    cppnn_plan* handle = nullptr;
    call([&](cppnn_string_out error) {
      return table_.compile(backend_, graph_handle(*graph), &handle, error);
    });
    plan->adopt(handle);
    return plan;
  }

  NodeSupport supports_op(const GraphIR& g, size_t node) override {
    int32_t supported = 1;
    StringSink why;
    call([&](cppnn_string_out error) {
      return table_.supports_node(backend_, graph_handle(g), node, &supported, why.out(), error);
    });
    return NodeSupport{supported != 0, supported ? std::string() : why.text};
  }

  void synchronize() override {
    call([&](cppnn_string_out error) { return table_.synchronize(backend_, error); });
  }

  size_t peak_memory(bool reset) override {
    uint64_t bytes = 0;
    call([&](cppnn_string_out error) { return table_.peak_memory(backend_, reset ? 1 : 0, &bytes, error); });
    return size_t(bytes);
  }

  std::shared_ptr<BackendTensor> create_tensor(size_t bytes) override {
    cppnn_memory_info info{};
    call([&](cppnn_string_out error) {
      return table_.create_memory(backend_, bytes, &info, error);
    });
    return adopt(info, bytes);
  }

  std::shared_ptr<BackendTensor> wrap_tensor(void* data, size_t bytes,
                                             std::shared_ptr<void> owner) override {
    cppnn_memory_info info{};
    call([&](cppnn_string_out error) {
      return table_.wrap_memory(backend_, data, bytes, &info, error);
    });
    auto tensor = adopt(info, bytes);
    // Released after the plugin's handle (~PluginTensor runs before the members go).
    tensor->owner = std::move(owner);
    return tensor;
  }

  void write_tensor(BackendTensor& tensor, const void* src, size_t bytes) override {
    call([&](cppnn_string_out error) {
      return table_.write_memory(backend_, memory_of(tensor), src, bytes, error);
    });
  }

  void read_tensor(const BackendTensor& tensor, void* dst, size_t bytes) override {
    call([&](cppnn_string_out error) {
      return table_.read_memory(backend_, memory_of(tensor), dst, bytes, error);
    });
  }

  int device_of(const void* data) override {
    int32_t ordinal = 0;
    call([&](cppnn_string_out error) {
      return table_.device_of(backend_, data, &ordinal, error);
    });
    return ordinal;
  }

  void synchronize_external(const void* data) override {
    call([&](cppnn_string_out error) {
      return table_.synchronize_external(backend_, data, error);
    });
  }

 private:
  // The plugin's memory as a tensor; released again if that fails.
  std::shared_ptr<BackendTensor> adopt(const cppnn_memory_info& info, size_t bytes) {
    try {
      return std::make_shared<PluginTensor>(table_, info, bytes);
    } catch (...) {
      table_.release_memory(info.memory);
      throw;
    }
  }

  const Table& table_;
  cppnn_backend* backend_;
  std::string name_;
};

}  // namespace

std::string plugin_table_problem(const Table& table, const std::string& where) {
  const std::string ours = std::to_string(CPPNN_BACKEND_PLUGIN_VERSION);
  if (table.version != CPPNN_BACKEND_PLUGIN_VERSION)
    return where + " is backend plugin version " + std::to_string(table.version) +
           ", this cppnn has version " + ours;
  if (table.struct_size < sizeof(Table))
    return where + " has a backend plugin table of " + std::to_string(table.struct_size) +
           " bytes, version " + ours + " has " + std::to_string(sizeof(Table));
  if (!table.core_abi || std::strcmp(table.core_abi, CPPNN_CORE_ABI) != 0)
    return where + " was built from other cppnn sources (core ABI " +
           (table.core_abi ? table.core_abi : "none") + ", this cppnn's is " CPPNN_CORE_ABI
           "): rebuild it with this cppnn";
  return {};
}

std::unique_ptr<Backend> make_plugin_backend(const Table& table, const ContextOptions& options) {
  cppnn_backend* handle = nullptr;
  call([&](cppnn_string_out error) {
    return table.create(reinterpret_cast<const cppnn_options*>(&options), &handle, error);
  });
  try {
    return std::make_unique<PluginBackend>(table, handle);
  } catch (...) {
    // PluginBackend's constructor threw (asking the name): its destructor did not run.
    table.destroy(handle);
    throw;
  }
}

}  // namespace cppnn::detail
