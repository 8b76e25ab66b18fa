// The CUDA backend and the plugin ABI that the core's loader (runtime/backend_loader.cpp)
// looks for. Only the two extern "C" functions leave this library (exports.map).
#include <omp.h>

#include <cstring>
#include <string>

#include "backends/cuda/cuda_plan.h"
#include "backends/cuda/library_preload.h"

namespace cppnn::detail::cuda {

namespace {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(std::shared_ptr<Device> device) : device_(std::move(device)) {
    // The CPU fallback's threads, as the CPU backend would use them.
    omp_set_num_threads(device_->options.cpu_threads);
  }
  std::string name() const override { return "cuda"; }
  std::string detail() const override {
    return device_->name + " (sm_" + std::to_string(device_->sm) + "), " + device_->manners;
  }
  std::unique_ptr<Plan> compile(std::shared_ptr<const GraphIR> graph) override {
    return make_cuda_plan(device_, std::move(graph));
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

}  // namespace

}  // namespace cppnn::detail::cuda

extern "C" __attribute__((visibility("default"))) uint32_t cppnn_backend_abi_version() {
  return cppnn::detail::kBackendAbiVersion;
}

extern "C" __attribute__((visibility("default"))) int cppnn_cuda_backend_create(
    const cppnn::ContextOptions* options, cppnn::detail::Backend** out, char* message,
    size_t message_size) {
  using namespace cppnn::detail::cuda;
  try {
    // The context's switches, read once: every plan of this context follows them.
    const CudaOptions switches = CudaOptions::read(*options);
    // cuDNN's libraries open on a thread while this one creates the CUDA context.
    LibraryPreload preload(switches.preload);
    auto device = std::make_shared<Device>(choose_device(switches), switches);
    preload.wait();
    device->startup = preload.summary();
    *out = new CudaBackend(std::move(device));
    return 0;
  } catch (const std::exception& e) {
    // Nothing may cross the C boundary but the status and the reason.
    if (message && message_size) {
      std::strncpy(message, e.what(), message_size - 1);
      message[message_size - 1] = '\0';
    }
    return 1;
  } catch (...) {
    if (message && message_size) std::strncpy(message, "unknown error", message_size - 1);
    return 1;
  }
}
