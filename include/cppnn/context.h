#pragma once
// A context runs graphs on one backend ("cpu" or, when present, "cuda").
#include <map>
#include <memory>
#include <string>

#include "cppnn/graph.h"
#include "cppnn/tensor.h"

namespace cppnn {

enum class PowerPreference { default_, high_performance, low_power };

// How the GPU backend picks each convolution's and product's kernel.
enum class GpuKernels {
  // cppnn's own kernels timed against cuDNN's and cuBLASLt's, the fastest kept (and
  // cached): the fastest compute.
  fastest_run,
  // cppnn's own kernels wherever one applies, untimed: a start with a warm runtime cache
  // loads no library code (13-89 ms to compile MobileNetV2, ResNet-50 and BERT-base on an
  // H100, against 140-230 ms), at up to 2-4x the compute time of large float32 models.
  fastest_start,
};

struct ContextOptions {
  PowerPreference power_preference = PowerPreference::default_;
  bool accelerated = true;  // false: the CPU, whatever else is there
  int num_threads = 0;      // CPU threads; 0: all cores
  // GPU manners for desktop apps (ignored by the CPU backend):
  // run on the lowest-priority CUDA stream, so that a game's or a creative app's work on
  // the same GPU is scheduled first;
  bool gpu_low_priority = false;
  // use at most this share (0 < share <= 1) of the GPU's multiprocessors, through a CUDA
  // green context (driver 550+); 1: the whole GPU. Where the driver has no green contexts
  // the whole GPU is used and Context::backend_reason() says so.
  double gpu_sm_share = 1.0;
  // The kernels' choice (the environment's CPPNN_CUDA_OWN_KERNELS, when set, overrides it).
  GpuKernels gpu_kernels = GpuKernels::fastest_run;
  // The most host memory one compiled graph may hold for its intermediates and outputs
  // (the CPU backend); 0: the machine's physical memory. A graph that needs more fails when
  // it is compiled (on first compute), with an OperationError naming its largest tensor,
  // instead of exhausting memory while it runs.
  size_t max_graph_bytes = 0;
  // What a graph's float32 operands are computed in when it is compiled on this context
  // (rustnn's TensorRT backend does the same): float32 (exact: the graph as built); float16
  // (the lowering Engine::build does for float16: float16 inside, float32 inputs and
  // outputs; a float16 engine's graph is not lowered again); auto_: float16 where the
  // context got a GPU backend and power_preference is high_performance, float32 otherwise;
  // bfloat16 (the same lowering in bfloat16, as Engine::build's bfloat16).
  // Context::precision() says what it resolved to; the plan report says it per graph.
  Precision precision = Precision::float32;
};

namespace detail {
struct ContextState;
struct DeviceTensorState;
}

class Context;

// WebNN's MLTensor: a tensor that lives where the context computes (GPU memory for the
// CUDA backend, host memory for the CPU), so that graphs chained with dispatch() pass
// their data without host copies. Made by Context::create_tensor or wrap_tensor; cheap to
// copy (copies share the memory). Its memory is freed when the last copy goes, or by
// destroy().
class DeviceTensor {
 public:
  DeviceTensor() = default;
  DataType data_type() const;
  const Dims& shape() const;
  size_t byte_size() const;
  // true: GPU memory (data() is a device pointer); false: host memory.
  bool on_device() const;
  // The bytes' address, for interop (DLPack): valid until destroy() or the last copy goes.
  void* data() const;
  bool valid() const;
  // Frees the memory now; later use of any copy is an InvalidStateError.
  void destroy();

 private:
  friend class Context;
  std::shared_ptr<detail::DeviceTensorState> state_;
};

using NamedDeviceTensors = std::map<std::string, DeviceTensor>;

class Context {
 public:
  // Picks the best backend for the options; never fails for lack of a GPU.
  static Context create(const ContextOptions& options = {});

  // The backend it really got: "cpu" or "cuda".
  std::string backend() const;
  // Why it got that backend, e.g. "CUDA device found" or why the GPU was not usable.
  std::string backend_reason() const;
  // The precision graphs compiled on it compute in: ContextOptions::precision with auto_
  // resolved (float32 or float16).
  Precision precision() const;
  // The most device memory cppnn's allocations held at once on this context's GPU in this
  // process, in bytes: plans' arenas and constants, library workspaces, device tensors (not
  // the CUDA context's own memory or what the libraries allocate inside). 0 on the CPU
  // backend, which counts none (its memory is the process's). reset_peak_memory starts the
  // count again from what is held now (PyTorch's reset_peak_memory_stats).
  size_t peak_memory() const;
  void reset_peak_memory();

  // Compiles `graph` for this context's backend ahead of the first compute (optional:
  // compute compiles on first use and keeps the plan while the graph lives).
  void compile(const Graph& graph);

  // What the backend's plan of `graph` runs, compiling it first if needed: its first lines
  // name the precision and the layout the plan chose; the CUDA backend names the ops that
  // run on the GPU and those that fall back to the CPU, the CPU backend lists its steps.
  std::string report(const Graph& graph);

  // Which nodes of `graph`, as built, this context's device runs itself and which its plan
  // runs on the CPU fallback, without compiling: one line, "12 of 14 nodes on the device;
  // on the host: gelu x2 (why)". The CPU backend runs every node. (A plan may move more
  // nodes: its passes rewrite the graph, and a library may turn a node down when compiling;
  // report() tells what the plan does.)
  std::string placement(const Graph& graph);

  // Checks inputs against the graph (names, data types, shapes, byte sizes) and runs it.
  NamedTensors compute(const Graph& graph, const NamedTensors& inputs);

  // Device tensors (WebNN's MLTensor). create_tensor allocates zeroed memory on the
  // context's device; wrap_tensor uses existing memory of that device in place (a device
  // pointer for the CUDA backend, host memory for the CPU), kept alive by `owner`.
  DeviceTensor create_tensor(DataType type, const Dims& shape);
  DeviceTensor wrap_tensor(DataType type, const Dims& shape, void* data,
                           std::shared_ptr<void> owner);
  // Copies host data in (its type and shape must match) / out (waits for the work
  // that writes the tensor).
  void write_tensor(DeviceTensor& tensor, const Tensor& data);
  Tensor read_tensor(const DeviceTensor& tensor);
  // Runs `graph` on device tensors: every graph input and output must be given, with its
  // data type and shape, and no tensor may be both read and written. May return before the
  // GPU is done: later writes, reads and dispatches on this context are ordered after it.
  void dispatch(const Graph& graph, const NamedDeviceTensors& inputs,
                const NamedDeviceTensors& outputs);
  // Waits for every dispatch queued on this context.
  void synchronize();

  // Memory of other libraries (DLPack interop), for bindings such as Python's:
  // device_of is the ordinal of the GPU that holds device memory `data` (DLPack's
  // device_id: the CUDA driver's answer, else the context's GPU), 0 for a CPU context;
  // synchronize_external waits on the host for the work that other libraries (PyTorch,
  // CuPy, ...) queued on the GPU that holds `data`, so that a dispatch, write or read
  // after it sees what they wrote; it does nothing for a CPU context. Neither takes the
  // context's lock (they wait for no compute of another thread), and both still work
  // after destroy(), as the tensors of a destroyed context do.
  int device_of(const void* data) const;
  void synchronize_external(const void* data);

  // Releases plans and backend resources; later calls throw InvalidStateError.
  void destroy();
  bool destroyed() const;

 private:
  std::shared_ptr<detail::ContextState> state_;
};

}  // namespace cppnn
