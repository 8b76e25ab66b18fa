#pragma once
// Owned device and pinned host memory, and the per-device objects the plans of one backend
// share: the stream they run on, the cuBLASLt handle and its workspace, the cuDNN handle.
#include <cstddef>
#include <cstdint>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backends/cuda/cuda_options.h"
#include "backends/cuda/cuda_status.h"
#include "cppnn/tensor.h"

// cudnn.h's own handle type, declared here so that users of Device need not see cuDNN.
typedef struct cudnnContext* cudnnHandle_t;

namespace cppnn::detail::cuda {

// Device memory from cudaMalloc (never managed memory: see tests/gpu/README.md).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // `what` names the buffer in the out-of-memory message.
  DeviceBuffer(size_t bytes, const std::string& what);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_), ordinal_(o.ordinal_) {
    o.data_ = nullptr;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  uint8_t* data() const { return static_cast<uint8_t*>(data_); }
  size_t bytes() const { return bytes_; }

  // The most device memory DeviceBuffers held at once on GPU `ordinal` in this process (every
  // device allocation of cppnn's CUDA backend is one: plans' arenas and constants, library
  // workspaces, device tensors); not the CUDA context's or the libraries' own. `reset`:
  // after reading, the peak starts again from what is held now.
  static size_t peak_bytes(int ordinal, bool reset = false);

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  int ordinal_ = 0;
};

// Page-locked host memory: copies from and to it run asynchronously on the stream.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  PinnedBuffer(size_t bytes, const std::string& what);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_) { o.data_ = nullptr; }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  uint8_t* data() const { return static_cast<uint8_t*>(data_); }
  size_t bytes() const { return bytes_; }

  // The most device memory DeviceBuffers held at once on GPU `ordinal` in this process (every
  // device allocation of cppnn's CUDA backend is one: plans' arenas and constants, library
  // workspaces, device tensors); not the CUDA context's or the libraries' own. `reset`:
  // after reading, the peak starts again from what is held now.
  static size_t peak_bytes(int ordinal, bool reset = false);

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  int ordinal_ = 0;
};

struct Device;
// Our own kernels' mode (CudaOptions::own_kernels: CPPNN_CUDA_OWN_KERNELS, else
// ContextOptions::gpu_kernels), read when the context was created.
OwnKernels own_kernels(const Device& device);
// CudaOptions::own_margin (CPPNN_CUDA_OWN_MARGIN), read when the context was created.
double own_kernel_margin(const Device& device);

struct Device {
  int ordinal = 0;
  std::string name;
  int sm = 0;  // compute capability, major * 10 + minor
  size_t total_memory = 0;
  cudaStream_t stream = nullptr;
  cublasLtHandle_t lt = nullptr;
  DeviceBuffer workspace;  // cuBLASLt's, shared by the plans: one compute runs at a time
  cudnnHandle_t cudnn = nullptr;  // bound to `stream`
  // The context's switches, read once when its backend was created.
  const CudaOptions options;

  // Desktop manners (ContextOptions): the stream's priority and the share of the SMs.
  int stream_priority = 0;
  int sm_count = 0;       // multiprocessors the work may use
  int sm_total = 0;       // multiprocessors of the GPU
  // The grid of a grid-stride kernel over `items` in blocks of `block` threads: one block per
  // `block` items, at most 32 per multiprocessor of the GPU, at least one.
  unsigned grid_blocks(int64_t items, unsigned block) const {
    int64_t cap = int64_t(sm_total > 0 ? sm_total : 1) * 32;
    int64_t blocks = (items + int64_t(block) - 1) / int64_t(block);
    return unsigned(blocks < 1 ? 1 : blocks < cap ? blocks : cap);
  }
  unsigned max_grid_blocks() const { return grid_blocks(INT64_MAX, 1); }
  CUgreenCtx green = nullptr;  // set when the work is confined to a green context
  CUcontext context = nullptr;  // the green context's CUcontext, current while bound
  std::string manners;    // what the options got, for the backend's reason
  std::string startup;    // what was done beside context creation (LibraryPreload), for reports

  // Makes the device's stream and library handles on GPU `ordinal`, with the manners of
  // `options` (low_priority, sm_share).
  Device(int ordinal, const CudaOptions& options);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // Makes this device current for the calling thread (plans may be used from any thread).
  void bind() const;

  // Plans create library steps on build workers (threads) in parallel. A cuDNN handle must
  // not be used by two threads at once, so each worker has its own, and a stream of its
  // own for the work it does while building (uploads, checking and timing runs); worker 0
  // (any thread that is not a build worker) has `cudnn` and `stream`. A step keeps the
  // handle it was made with (cuDNN's per-problem setup then serves its runs too) and runs
  // on whatever stream the plan runs it on.
  cudnnHandle_t cudnn_for_this_thread();
  cudaStream_t stream_for_this_thread();
  // Held while a step times candidates on the GPU, so that workers do not skew each
  // other's timings.
  std::mutex gpu_timing;
  // True while a plan for a run-time shape of a dynamic graph (GraphIR::run_time_shape) is
  // built: its steps take the choice remembered for their problem, else the one made for
  // the same problem at another shape (the opt shape's: remember_family_choice), else the
  // library's heuristic or our kernel's untimed variant, and time nothing. Set by the plan
  // being built (one at a time per context, under the context's lock) and read by its
  // steps on the build workers.
  std::atomic<bool> untimed_choices{false};

  // Constants on the device that the plans of this context share: the shapes of a dynamic
  // graph (and graphs built on the same weights) read the same host tensors, whose device
  // copies then exist once and go up once. Keyed by the host tensor, which an entry holds
  // (its address is not reused while the entry lives), with a weak reference to the device
  // copy, alive while a plan that uses it is. A copy is registered once its upload was
  // waited for (plans are built one at a time per context).
  std::shared_ptr<void> find_constant(const std::shared_ptr<const Tensor>& host, size_t bytes);
  void share_constant(const std::shared_ptr<const Tensor>& host, size_t bytes, std::shared_ptr<void> device);

 private:
  void confine_to_sm_share(double share);

  struct Worker {
    cudnnHandle_t cudnn = nullptr;
    cudaStream_t stream = nullptr;
  };
  Worker& worker(int w);  // worker w >= 1, made on first use
  std::mutex workers_mutex_;
  std::vector<std::unique_ptr<Worker>> workers_;  // index w - 1 for worker w

  struct SharedConstant {
    std::shared_ptr<const Tensor> host;
    size_t bytes = 0;
    std::weak_ptr<void> device;
  };
  std::mutex constants_mutex_;
  std::map<const Tensor*, SharedConstant> constants_;
};

// The calling thread's build-worker index (0: not a build worker).
int& build_worker_index();

// The largest power of two (up to 256) dividing the address: what cuBLASLt may assume.
inline uint32_t alignment_of(const void* p) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  uint32_t align = 256;
  while (align > 1 && a % align != 0) align /= 2;
  return align;
}

}  // namespace cppnn::detail::cuda
