#pragma once
// The plugin side of the backend plugin boundary (runtime/backend_plugin.h): the C function
// table of a backend written against the C++ interface (runtime/backend.h). A plugin
// includes this in one file and exports the table:
//
//   std::unique_ptr<cppnn::detail::Backend> make_my_backend(const cppnn::ContextOptions&);
//   extern "C" __attribute__((visibility("default"))) const CppnnBackendPluginV1*
//   cppnn_backend_plugin(uint32_t host_version) {
//     return cppnn::detail::plugin::table<&make_my_backend>(host_version);
//   }
//
// Each function of the table runs the C++ call inside a catch-all: an exception becomes
// its status (cppnn::ErrorKind + 1) and message, so none crosses into the core. The handles
// are the plugin's own heap objects. Header only: it is compiled into each plugin, so the
// C++ vtables of Backend and Plan are used inside the plugin only.
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "runtime/backend.h"
#include "runtime/backend_plugin.h"
#include "runtime/core_abi.h"

struct cppnn_backend {
  std::unique_ptr<cppnn::detail::Backend> backend;
};
struct cppnn_plan {
  std::unique_ptr<cppnn::detail::Plan> plan;
};
struct cppnn_memory {
  std::shared_ptr<cppnn::detail::BackendTensor> tensor;
};

namespace cppnn::detail::plugin {

inline void write(cppnn_string_out out, const std::string& text) noexcept {
  if (out.write) out.write(out.user, text.data(), text.size());
}

inline cppnn_status status_of(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::TypeError:
      return CPPNN_STATUS_TYPE_ERROR;
    case ErrorKind::DataError:
      return CPPNN_STATUS_DATA_ERROR;
    case ErrorKind::NotSupportedError:
      return CPPNN_STATUS_NOT_SUPPORTED_ERROR;
    case ErrorKind::OperationError:
      return CPPNN_STATUS_OPERATION_ERROR;
    case ErrorKind::InvalidStateError:
      return CPPNN_STATUS_INVALID_STATE_ERROR;
  }
  return CPPNN_STATUS_OPERATION_ERROR;
}

// Runs fn; an exception becomes the status and the message written to `error`.
template <typename Fn>
cppnn_status guarded(cppnn_string_out error, Fn&& fn) noexcept {
  try {
    fn();
    return CPPNN_STATUS_OK;
  } catch (const Error& e) {
    write(error, e.what());
    return status_of(e.kind());
  } catch (const std::bad_alloc&) {
    write(error, "out of host memory");
    return CPPNN_STATUS_OUT_OF_HOST_MEMORY;
  } catch (const std::exception& e) {
    write(error, e.what());
    return CPPNN_STATUS_OPERATION_ERROR;
  } catch (...) {
    write(error, "unknown exception in the backend plugin");
    return CPPNN_STATUS_OPERATION_ERROR;
  }
}

inline const GraphIR& graph_of(const cppnn_graph* graph) {
  return *reinterpret_cast<const GraphIR*>(graph);
}

inline cppnn_memory_info info_of(std::unique_ptr<cppnn_memory> memory) {
  cppnn_memory_info info{};
  info.data = memory->tensor->data;
  info.on_device = memory->tensor->on_device ? 1 : 0;
  info.memory = memory.release();
  return info;
}

inline BackendTensors bind(size_t count, const char* const* names, cppnn_memory* const* memory) {
  BackendTensors out;
  for (size_t i = 0; i < count; ++i) out[names[i]] = memory[i]->tensor.get();
  return out;
}

using Factory = std::unique_ptr<Backend> (*)(const ContextOptions&);

template <Factory make>
const CppnnBackendPluginV1* table(uint32_t host_version) noexcept {
  static const CppnnBackendPluginV1 t = {
      CPPNN_BACKEND_PLUGIN_VERSION,
      sizeof(CppnnBackendPluginV1),
      CPPNN_CORE_ABI,
      // create
      [](const cppnn_options* options, cppnn_backend** out, cppnn_string_out error) noexcept {
        return guarded(error, [&] {
          auto handle = std::make_unique<cppnn_backend>();
          handle->backend = make(*reinterpret_cast<const ContextOptions*>(options));
          if (!handle->backend) fail(ErrorKind::OperationError, "the plugin made no backend");
          *out = handle.release();
        });
      },
      // destroy
      [](cppnn_backend* backend) noexcept {
        delete backend;
      },
      // name
      [](const cppnn_backend* backend, cppnn_string_out out, cppnn_string_out error) noexcept {
        return guarded(error, [&] { write(out, backend->backend->name()); });
      },
      // detail
      [](const cppnn_backend* backend, cppnn_string_out out, cppnn_string_out error) noexcept {
        return guarded(error, [&] { write(out, backend->backend->detail()); });
      },
      // compile: the core keeps the graph alive while the plan lives, so the plan gets a
      // pointer that owns nothing.
      [](cppnn_backend* backend, const cppnn_graph* graph, cppnn_plan** out,
         cppnn_string_out error) noexcept {
        return guarded(error, [&] {
          auto handle = std::make_unique<cppnn_plan>();
          handle->plan = backend->backend->compile(
              std::shared_ptr<const GraphIR>(std::shared_ptr<void>(), &graph_of(graph)));
          *out = handle.release();
        });
      },
      // synchronize
      [](cppnn_backend* backend, cppnn_string_out error) noexcept {
        return guarded(error, [&] { backend->backend->synchronize(); });
      },
      // create_memory
      [](cppnn_backend* backend, size_t bytes, cppnn_memory_info* out,
         cppnn_string_out error) noexcept {
        return guarded(error, [&] {
          auto memory = std::make_unique<cppnn_memory>();
          memory->tensor = backend->backend->create_tensor(bytes);
          *out = info_of(std::move(memory));
        });
      },
      // wrap_memory: the caller keeps the memory alive, so the tensor owns nothing of it.
      [](cppnn_backend* backend, void* data, size_t bytes, cppnn_memory_info* out,
         cppnn_string_out error) noexcept {
        return guarded(error, [&] {
          auto memory = std::make_unique<cppnn_memory>();
          memory->tensor = backend->backend->wrap_tensor(data, bytes, nullptr);
          *out = info_of(std::move(memory));
        });
      },
      // release_memory
      [](cppnn_memory* memory) noexcept {
        delete memory;
      },
      // write_memory
      [](cppnn_backend* backend, cppnn_memory* memory, const void* src, size_t bytes,
         cppnn_string_out error) noexcept {
        return guarded(error, [&] { backend->backend->write_tensor(*memory->tensor, src, bytes); });
      },
      // read_memory
      [](cppnn_backend* backend, const cppnn_memory* memory, void* dst, size_t bytes,
         cppnn_string_out error) noexcept {
        return guarded(error, [&] { backend->backend->read_tensor(*memory->tensor, dst, bytes); });
      },
      // device_of
      [](cppnn_backend* backend, const void* data, int32_t* ordinal,
         cppnn_string_out error) noexcept {
        return guarded(error, [&] { *ordinal = backend->backend->device_of(data); });
      },
      // synchronize_external
      [](cppnn_backend* backend, const void* data, cppnn_string_out error) noexcept {
        return guarded(error, [&] { backend->backend->synchronize_external(data); });
      },
      // plan_compute
      [](cppnn_plan* plan, const cppnn_tensors* inputs, cppnn_tensors* outputs,
         cppnn_string_out error) noexcept {
        return guarded(error, [&] {
          *reinterpret_cast<NamedTensors*>(outputs) =
              plan->plan->compute(*reinterpret_cast<const NamedTensors*>(inputs));
        });
      },
      // plan_dispatch
      [](cppnn_plan* plan, const cppnn_graph* graph, size_t input_count,
         const char* const* input_names, cppnn_memory* const* input_memory, size_t output_count,
         const char* const* output_names, cppnn_memory* const* output_memory,
         cppnn_string_out error) noexcept {
        return guarded(error, [&] {
          plan->plan->dispatch(graph_of(graph), bind(input_count, input_names, input_memory),
                               bind(output_count, output_names, output_memory));
        });
      },
      // plan_report
      [](const cppnn_plan* plan, cppnn_string_out out, cppnn_string_out error) noexcept {
        return guarded(error, [&] { write(out, plan->plan->report()); });
      },
      // plan_destroy
      [](cppnn_plan* plan) noexcept {
        delete plan;
      },
      // supports_node
      [](cppnn_backend* backend, const cppnn_graph* graph, size_t node, int32_t* supported,
         cppnn_string_out why, cppnn_string_out error) noexcept {
        return guarded(error, [&] {
          const GraphIR& g = graph_of(graph);
          if (node >= g.nodes.size()) fail(ErrorKind::DataError, "supports_node: no such node");
          NodeSupport s = backend->backend->supports_op(g, node);
          *supported = s.supported ? 1 : 0;
          if (!s.supported) write(why, s.why_not);
        });
      },
      // peak_memory
      [](cppnn_backend* backend, int32_t reset, uint64_t* bytes, cppnn_string_out error) noexcept {
        return guarded(error, [&] { *bytes = uint64_t(backend->backend->peak_memory(reset != 0)); });
      },
  };
  return host_version == CPPNN_BACKEND_PLUGIN_VERSION ? &t : nullptr;
}

}  // namespace cppnn::detail::plugin
