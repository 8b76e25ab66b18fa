#pragma once
// The one backend interface: a backend compiles a graph into a Plan for its device. The CPU
// backend implements it in the core (backends/cpu/cpu_backend.h); a plugin implements it
// on its side of a C function table (runtime/backend_plugin.h, backend_plugin_export.h),
// which the core's loader turns back into a Backend (api/plugin_backend.h). Which backend
// a context gets is api's choice (api/backend_loader.h).
#include <map>
#include <memory>
#include <string>

#include "cppnn/context.h"
#include "graph/ir.h"
#include "runtime/partition.h"

namespace cppnn::detail {

// The memory of one DeviceTensor (WebNN's MLTensor): device memory for a GPU backend,
// host memory for the CPU. `owner` keeps wrapped external memory alive.
struct BackendTensor {
  void* data = nullptr;
  size_t bytes = 0;
  bool on_device = false;  // GPU memory (not dereferenceable on the host)
  std::shared_ptr<void> owner;
};

using BackendTensors = std::map<std::string, BackendTensor*>;

class Plan {
 public:
  virtual ~Plan() = default;
  // Inputs are already checked against the graph by the Context.
  virtual NamedTensors compute(const NamedTensors& inputs) = 0;
  // Runs with inputs and outputs in backend tensors (checked by the Context: every input,
  // every output, right sizes, no tensor both read and written). It may return before the
  // work is done: the backend orders later writes, reads and dispatches after it. The
  // default, for host-memory backends, computes on the tensors' bytes in place.
  virtual void dispatch(const GraphIR& graph, const BackendTensors& inputs,
                        const BackendTensors& outputs);
  // What runs where (for a GPU plan: which ops run on the device and which fall back to
  // the CPU); Context::report shows it. Empty when a backend has nothing to say.
  virtual std::string report() const { return {}; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Appended to Context::backend_reason(): e.g. the device and how much of it is used.
  virtual std::string detail() const { return {}; }
  virtual std::unique_ptr<Plan> compile(std::shared_ptr<const GraphIR> graph) = 0;
  // Whether the backend's device runs g.nodes[node] itself; a node it does not run, its plan
  // runs on the host with the CPU backend's kernel (runtime/partition.h). The default: every
  // node (the CPU backend, a backend without fallback).
  virtual NodeSupport supports_op(const GraphIR& g, size_t node) { return {}; }

  // DeviceTensor memory. The defaults are host memory (64-byte aligned, zeroed) and plain
  // copies; a GPU backend allocates on its device and orders copies after earlier work.
  virtual std::shared_ptr<BackendTensor> create_tensor(size_t bytes);
  // External memory on this backend's device (DLPack import), used in place.
  virtual std::shared_ptr<BackendTensor> wrap_tensor(void* data, size_t bytes,
                                                     std::shared_ptr<void> owner);
  virtual void write_tensor(BackendTensor& tensor, const void* src, size_t bytes);
  // Waits for the dispatches that write the tensor.
  virtual void read_tensor(const BackendTensor& tensor, void* dst, size_t bytes);
  // Waits for all queued work.
  virtual void synchronize() {}

  // Memory other libraries made (DLPack imports and exports; Context::device_of and
  // synchronize_external). The ordinal of the device that holds `data`: for a GPU backend
  // the driver's answer, else the device the backend computes on; 0 for host memory (the
  // default).
  virtual int device_of(const void* data) { return 0; }
  // Waits on the host for the work other libraries (PyTorch, CuPy, ...) queued on the
  // device that holds `data`, so that cppnn's work after it sees what they wrote there.
  // Nothing to wait for with host memory (the default).
  virtual void synchronize_external(const void* data) {}

  // The most device memory the backend's allocations held at once on its device, in bytes
  // (Context::peak_memory); 0 when it keeps no count (the CPU backend, whose memory is the
  // process's). `reset`: after reading, the count starts again from what is held now.
  virtual size_t peak_memory(bool reset) { return 0; }
};

}  // namespace cppnn::detail
