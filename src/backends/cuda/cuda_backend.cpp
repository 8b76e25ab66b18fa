// The CUDA backend and the plugin entry point that the core's loader
// (api/backend_loader.cpp) looks for: the C function table of runtime/backend_plugin.h,
// made from this Backend by runtime/backend_plugin_export.h. Only that one extern "C"
// function leaves this library (exports.map); the core's code it uses is libcppnn.so's.
#include <string>

#include "backends/cpu/threads.h"
#include "backends/cuda/cuda_plan.h"
#include "backends/cuda/device_ops.h"
#include "backends/cuda/library_preload.h"
#include "runtime/backend_plugin_export.h"

namespace cppnn::detail::cuda {

namespace {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(std::shared_ptr<Device> device) : device_(std::move(device)) {
    // The CPU fallback's threads, as the CPU backend would use them, in the core's OpenMP.
    set_cpu_threads(device_->options.cpu_threads);
  }
  std::string name() const override { return "cuda"; }
  size_t peak_memory(bool reset) override { return DeviceBuffer::peak_bytes(device_->ordinal, reset); }
  std::string detail() const override {
    return device_->name + " (sm_" + std::to_string(device_->sm) + "), " + device_->manners;
  }
  std::unique_ptr<Plan> compile(std::shared_ptr<const GraphIR> graph) override {
    return make_cuda_plan(device_, std::move(graph));
  }
  NodeSupport supports_op(const GraphIR& g, size_t node) override {
    return supports_node(g, node, *device_, true);
  }

  // Device tensors: device memory, copies ordered on the plans' stream.
  std::shared_ptr<BackendTensor> create_tensor(size_t bytes) override {
    device_->bind();
    auto buffer = std::make_shared<DeviceBuffer>(bytes, "a device tensor");
    if (bytes) {
      CPPNN_CUDA_CHECK(cudaMemsetAsync(buffer->data(), 0, bytes, device_->stream));
      CPPNN_CUDA_CHECK(cudaStreamSynchronize(device_->stream));
    }
    auto t = std::make_shared<BackendTensor>();
    t->data = buffer->data();
    t->bytes = bytes;
    t->on_device = true;
    // Freed after the work that may still use it: cudaFree waits for the device.
    t->owner = std::move(buffer);
    return t;
  }

  std::shared_ptr<BackendTensor> wrap_tensor(void* data, size_t bytes,
                                             std::shared_ptr<void> owner) override {
    device_->bind();
    cudaPointerAttributes attrs{};
    if (cudaPointerGetAttributes(&attrs, data) != cudaSuccess) (void)cudaGetLastError();
    if (attrs.type != cudaMemoryTypeDevice && attrs.type != cudaMemoryTypeManaged)
      fail(ErrorKind::TypeError, "wrap_tensor: the memory is not device memory of the context's GPU");
    if (attrs.device != device_->ordinal)
      fail(ErrorKind::TypeError, "wrap_tensor: the memory is on GPU " + std::to_string(attrs.device) +
                                     ", the context computes on GPU " + std::to_string(device_->ordinal));
    auto t = std::make_shared<BackendTensor>();
    t->data = data;
    t->bytes = bytes;
    t->on_device = true;
    t->owner = std::move(owner);
    return t;
  }

  void write_tensor(BackendTensor& tensor, const void* src, size_t bytes) override {
    device_->bind();
    CPPNN_CUDA_CHECK(cudaMemcpyAsync(tensor.data, src, bytes, cudaMemcpyHostToDevice, device_->stream));
    // The caller may free `src` on return.
    CPPNN_CUDA_CHECK(cudaStreamSynchronize(device_->stream));
  }

  void read_tensor(const BackendTensor& tensor, void* dst, size_t bytes) override {
    device_->bind();
    CPPNN_CUDA_CHECK(cudaMemcpyAsync(dst, tensor.data, bytes, cudaMemcpyDeviceToHost, device_->stream));
    CPPNN_CUDA_CHECK(cudaStreamSynchronize(device_->stream));
  }

  void synchronize() override {
    device_->bind();
    CPPNN_CUDA_CHECK(cudaStreamSynchronize(device_->stream));
  }

  // Memory of other libraries (DLPack): its GPU as the driver says, else this context's.
  int device_of(const void* data) override {
    int ordinal = -1;
    if (cuPointerGetAttribute(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL,
                              static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(data))) ==
            CUDA_SUCCESS &&
        ordinal >= 0)
      return ordinal;
    return device_->ordinal;
  }

  // Waits for all the work queued in the primary context of the GPU that holds `data`,
  // where PyTorch, CuPy and the CUDA runtime put theirs (whatever stream they used, and
  // whether or not they honoured the stream DLPack asked them for).
  void synchronize_external(const void* data) override {
    CUdevice device = 0;
    CPPNN_CUDA_CHECK(cuDeviceGet(&device, device_of(data)));
    CUcontext primary = nullptr;
    CPPNN_CUDA_CHECK(cuDevicePrimaryCtxRetain(&primary, device));
    CUresult r = cuCtxPushCurrent(primary);
    if (r == CUDA_SUCCESS) {
      r = cuCtxSynchronize();
      CUcontext popped = nullptr;
      cuCtxPopCurrent(&popped);
    }
    cuDevicePrimaryCtxRelease(device);
    CPPNN_CUDA_CHECK(r);
  }

 private:
  std::shared_ptr<Device> device_;
};

std::string driver_error(CUresult r) {
  const char* name = nullptr;
  const char* text = nullptr;
  cuGetErrorName(r, &name);
  cuGetErrorString(r, &text);
  return std::string(name ? name : "unknown") + ": " + (text ? text : "");
}

// The device to use: CPPNN_CUDA_DEVICE (CudaOptions::device), else 0. Throws with the reason
// for the loader.
int choose_device(const CudaOptions& options) {
  CUresult r = cuInit(0);
  if (r == CUDA_ERROR_NO_DEVICE) throw std::runtime_error("no NVIDIA GPU found");
  if (r != CUDA_SUCCESS) throw std::runtime_error("cuInit failed (" + driver_error(r) + ")");
  int count = 0;
  r = cuDeviceGetCount(&count);
  if (r != CUDA_SUCCESS)
    throw std::runtime_error("cuDeviceGetCount failed (" + driver_error(r) + ")");
  if (count == 0) throw std::runtime_error("no NVIDIA GPU found");
  return options.device_ordinal(count);
}

// The backend of one context. Throws with the reason the loader reports when there is no
// usable GPU.
std::unique_ptr<Backend> make_cuda_backend(const ContextOptions& options) {
  // The context's switches, read once: every plan of this context follows them.
  const CudaOptions switches = CudaOptions::read(options);
  // cuDNN's libraries open on a thread while this one creates the CUDA context.
  LibraryPreload preload(switches.preload);
  auto device = std::make_shared<Device>(choose_device(switches), switches);
  preload.wait();
  device->startup = preload.summary();
  return std::make_unique<CudaBackend>(std::move(device));
}

}  // namespace

}  // namespace cppnn::detail::cuda

extern "C" __attribute__((visibility("default"))) const CppnnBackendPluginV1* cppnn_backend_plugin(
    uint32_t host_version) {
  return cppnn::detail::plugin::table<&cppnn::detail::cuda::make_cuda_backend>(host_version);
}

