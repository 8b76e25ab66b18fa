#include "backends/cuda/device.h"

#include <cudnn.h>

#include <algorithm>
#include <atomic>
#include <string>

#include "cppnn/error.h"

namespace cppnn::detail::cuda {

namespace {
constexpr size_t kWorkspaceBytes = size_t(32) << 20;
}  // namespace

OwnKernels own_kernels(const Device& device) { return device.options.own_kernels; }

double own_kernel_margin(const Device& device) { return device.options.own_margin; }

std::shared_ptr<void> Device::find_constant(const std::shared_ptr<const Tensor>& host, size_t bytes) {
  std::lock_guard<std::mutex> lock(constants_mutex_);
  for (auto it = constants_.begin(); it != constants_.end();)  // copies no plan uses any more
    it = it->second.device.expired() ? constants_.erase(it) : std::next(it);
  auto it = constants_.find(host.get());
  if (it == constants_.end() || it->second.host != host || it->second.bytes != bytes) return nullptr;
  return it->second.device.lock();
}

void Device::share_constant(const std::shared_ptr<const Tensor>& host, size_t bytes, std::shared_ptr<void> device) {
  std::lock_guard<std::mutex> lock(constants_mutex_);
  constants_[host.get()] = SharedConstant{host, bytes, device};
}

namespace {

// Bytes DeviceBuffers hold now and at most, per GPU ordinal.
struct MemoryCount {
  std::atomic<size_t> now{0}, peak{0};
};
constexpr int kCountedDevices = 64;
MemoryCount& memory_count(int ordinal) {
  static MemoryCount counts[kCountedDevices];
  return counts[ordinal >= 0 && ordinal < kCountedDevices ? ordinal : 0];
}

void count_allocation(int ordinal, size_t bytes) {
  MemoryCount& c = memory_count(ordinal);
  size_t now = c.now.fetch_add(bytes) + bytes;
  size_t peak = c.peak.load();
  while (now > peak && !c.peak.compare_exchange_weak(peak, now)) {
  }
}

void count_free(int ordinal, size_t bytes) { memory_count(ordinal).now.fetch_sub(bytes); }

}  // namespace

size_t DeviceBuffer::peak_bytes(int ordinal, bool reset) {
  MemoryCount& c = memory_count(ordinal);
  size_t peak = c.peak.load();
  if (reset) c.peak.store(c.now.load());
  return peak;
}

DeviceBuffer::DeviceBuffer(size_t bytes, const std::string& what) : bytes_(bytes) {
  if (bytes == 0) return;
  cudaError_t status = cudaMalloc(&data_, bytes);
  if (status != cudaSuccess) {
    data_ = nullptr;
    check(status, ("cudaMalloc of " + std::to_string(bytes) + " bytes for " + what).c_str());
  }
  if (cudaGetDevice(&ordinal_) != cudaSuccess) ordinal_ = 0;
  count_allocation(ordinal_, bytes_);
}

DeviceBuffer::~DeviceBuffer() {
  // A destructor cannot throw; cudaFree fails only when the process is already tearing
  // CUDA down, when there is nothing left to free.
  if (data_) {
    (void)cudaFree(data_);
    count_free(ordinal_, bytes_);
  }
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (data_) {
      (void)cudaFree(data_);
      count_free(ordinal_, bytes_);
    }
    data_ = o.data_, bytes_ = o.bytes_, ordinal_ = o.ordinal_;
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

namespace {

std::string cu_error(CUresult r) {
  const char* name = nullptr;
  cuGetErrorName(r, &name);
  return name ? name : "CUresult " + std::to_string(int(r));
}

}  // namespace

// A green context holding about `share` of the SMs (rounded up to the driver's partition
// granularity), made current for everything this device does: memory, modules, library
// handles and the stream all live in it. On failure the whole GPU is used and `manners`
// says why.
void Device::confine_to_sm_share(double share) {
  CUdevice dev = 0;
  CUdevResource all{};
  CUresult r = cuDeviceGet(&dev, ordinal);
  if (r == CUDA_SUCCESS) r = cuDeviceGetDevResource(dev, &all, CU_DEV_RESOURCE_TYPE_SM);
  if (r != CUDA_SUCCESS) {
    manners = "whole GPU (no green contexts: " + cu_error(r) + ")";
    return;
  }
  unsigned total = all.sm.smCount;
  unsigned want = std::max(1u, unsigned(double(total) * share + 0.999));
  CUdevResource part{}, rest{};
  unsigned groups = 1;
  r = cuDevSmResourceSplitByCount(&part, &groups, &all, &rest, 0, want);
  CUdevResourceDesc desc = nullptr;
  if (r == CUDA_SUCCESS && groups == 1) r = cuDevResourceGenerateDesc(&desc, &part, 1);
  if (r == CUDA_SUCCESS && groups == 1) r = cuGreenCtxCreate(&green, desc, dev, CU_GREEN_CTX_DEFAULT_STREAM);
  if (r == CUDA_SUCCESS && groups == 1) r = cuCtxFromGreenCtx(&context, green);
  if (r == CUDA_SUCCESS && groups == 1) r = cuCtxSetCurrent(context);
  if (r != CUDA_SUCCESS || groups != 1) {
    if (green) (void)cuGreenCtxDestroy(green);
    green = nullptr;
    context = nullptr;
    manners = "whole GPU (green context for " + std::to_string(want) + " of " +
              std::to_string(total) + " SMs failed: " +
              (groups != 1 ? std::string("no partition") : cu_error(r)) + ")";
    return;
  }
  sm_count = int(part.sm.smCount);
  manners = std::to_string(sm_count) + " of " + std::to_string(total) + " SMs (green context)";
}

Device::Device(int device_ordinal, const CudaOptions& switches)
    : ordinal(device_ordinal), options(switches) {
  const bool low_priority = options.low_priority;
  const double sm_share = options.sm_share;
  CPPNN_CUDA_CHECK(cudaSetDevice(ordinal));
  cudaDeviceProp prop{};
  CPPNN_CUDA_CHECK(cudaGetDeviceProperties(&prop, ordinal));
  name = prop.name;
  sm = prop.major * 10 + prop.minor;
  total_memory = prop.totalGlobalMem;
  sm_total = sm_count = prop.multiProcessorCount;
  manners = "whole GPU";
  if (sm_share > 0 && sm_share < 1) confine_to_sm_share(sm_share);
  // Priorities run from `least` (the default, 0 on current GPUs) to `greatest` (negative):
  // the low-priority stream is the least one, the default the default.
  int least = 0, greatest = 0;
  CPPNN_CUDA_CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  stream_priority = low_priority ? least : 0;
  if (low_priority) manners += ", lowest stream priority";
  CPPNN_CUDA_CHECK(cudaStreamCreateWithPriority(&stream, cudaStreamNonBlocking, stream_priority));
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
}

int& build_worker_index() {
  thread_local int index = 0;
  return index;
}

Device::Worker& Device::worker(int w) {
  std::lock_guard<std::mutex> lock(workers_mutex_);
  while (workers_.size() < size_t(w)) workers_.push_back(std::make_unique<Worker>());
  Worker& k = *workers_[size_t(w - 1)];
  if (!k.stream)
    CPPNN_CUDA_CHECK(cudaStreamCreateWithPriority(&k.stream, cudaStreamNonBlocking, stream_priority));
  return k;
}

cudnnHandle_t Device::cudnn_for_this_thread() {
  int w = build_worker_index();
  if (w <= 0) return cudnn;
  Worker& k = worker(w);
  std::lock_guard<std::mutex> lock(workers_mutex_);
  if (!k.cudnn) {
    cudnnHandle_t made = nullptr;
    cudnnStatus_t status = cudnnCreate(&made);
    if (status == CUDNN_STATUS_SUCCESS) status = cudnnSetStream(made, k.stream);
    if (status != CUDNN_STATUS_SUCCESS) {
      if (made) (void)cudnnDestroy(made);
      fail(ErrorKind::OperationError,
           std::string("cudnnCreate for a build worker failed: ") + cudnnGetErrorString(status));
    }
    k.cudnn = made;
  }
  return k.cudnn;
}

cudaStream_t Device::stream_for_this_thread() {
  int w = build_worker_index();
  return w <= 0 ? stream : worker(w).stream;
}

Device::~Device() {
  workspace = DeviceBuffer();
  for (const std::unique_ptr<Worker>& k : workers_) {
    if (k->cudnn) (void)cudnnDestroy(k->cudnn);
    if (k->stream) (void)cudaStreamDestroy(k->stream);
  }
  if (cudnn) (void)cudnnDestroy(cudnn);
  if (lt) (void)cublasLtDestroy(lt);
  if (stream) (void)cudaStreamDestroy(stream);
  if (green) (void)cuGreenCtxDestroy(green);
}

void Device::bind() const {
  if (context) {
    CUresult r = cuCtxSetCurrent(context);
    if (r != CUDA_SUCCESS) fail(ErrorKind::OperationError, "cuCtxSetCurrent: " + cu_error(r));
    return;
  }
  CPPNN_CUDA_CHECK(cudaSetDevice(ordinal));
}

}  // namespace cppnn::detail::cuda
