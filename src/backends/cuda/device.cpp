#include "backends/cuda/device.h"

#include <cudnn.h>

#include <cstdlib>
#include <string>

#include "cppnn/error.h"

namespace cppnn::detail::cuda {

namespace {
constexpr size_t kWorkspaceBytes = size_t(32) << 20;

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string(v) != "0";
}
}  // namespace

DeviceBuffer::DeviceBuffer(size_t bytes, const std::string& what) : bytes_(bytes) {
  if (bytes == 0) return;
  cudaError_t status = cudaMalloc(&data_, bytes);
  if (status != cudaSuccess) {
    data_ = nullptr;
    check(status, ("cudaMalloc of " + std::to_string(bytes) + " bytes for " + what).c_str());
  }
}

DeviceBuffer::~DeviceBuffer() {
  // A destructor cannot throw; cudaFree fails only when the process is already tearing
  // CUDA down, when there is nothing left to free.
  if (data_) (void)cudaFree(data_);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (data_) (void)cudaFree(data_);
    data_ = o.data_, bytes_ = o.bytes_;
    o.data_ = nullptr;
  }
  return *this;
}

PinnedBuffer::PinnedBuffer(size_t bytes, const std::string& what) : bytes_(bytes) {
  if (bytes == 0) return;
  cudaError_t status = cudaMallocHost(&data_, bytes);
  if (status != cudaSuccess) {
    data_ = nullptr;
    check(status, ("cudaMallocHost of " + std::to_string(bytes) + " bytes for " + what).c_str());
  }
}

PinnedBuffer::~PinnedBuffer() {
  if (data_) (void)cudaFreeHost(data_);
}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    if (data_) (void)cudaFreeHost(data_);
    data_ = o.data_, bytes_ = o.bytes_;
    o.data_ = nullptr;
  }
  return *this;
}

Device::Device(int device_ordinal) : ordinal(device_ordinal) {
  CPPNN_CUDA_CHECK(cudaSetDevice(ordinal));
  cudaDeviceProp prop{};
  CPPNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, ordinal));
  name = prop.name;
  sm = prop.major * 10 + prop.minor;
  total_memory = prop.totalGlobalMem;
  CPPNN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  try {
    CPPNN_CUDA_CHECK(cublasLtCreate(&lt));
    workspace = DeviceBuffer(kWorkspaceBytes, "the cuBLASLt workspace");
    cudnnStatus_t status = cudnnCreate(&cudnn);
    if (status != CUDNN_STATUS_SUCCESS) {
      cudnn = nullptr;
      fail(ErrorKind::OperationError,
           std::string("cudnnCreate(&cudnn) failed: ") + cudnnGetErrorString(status));
    }
    status = cudnnSetStream(cudnn, stream);
    if (status != CUDNN_STATUS_SUCCESS)
      fail(ErrorKind::OperationError,
           std::string("cudnnSetStream(cudnn, stream) failed: ") + cudnnGetErrorString(status));
  } catch (...) {
    if (cudnn) (void)cudnnDestroy(cudnn);
    workspace = DeviceBuffer();
    if (lt) (void)cublasLtDestroy(lt);
    (void)cudaStreamDestroy(stream);
    throw;
  }
  tf32 = env_flag("CPPNN_CUDA_TF32");
  gelu_epilogue = env_flag("CPPNN_CUDA_GELU_EPILOGUE");
}

Device::~Device() {
  workspace = DeviceBuffer();
  if (cudnn) (void)cudnnDestroy(cudnn);
  if (lt) (void)cublasLtDestroy(lt);
  if (stream) (void)cudaStreamDestroy(stream);
}

void Device::bind() const { CPPNN_CUDA_CHECK(cudaSetDevice(ordinal)); }

}  // namespace cppnn::detail::cuda
