#include "backends/cuda/cuda_status.h"

#include <string>

#include "cppnn/error.h"

namespace cppnn::detail::cuda {

void check(cudaError_t status, const char* call) {
  if (status == cudaSuccess) return;
  // Clears the runtime's last-error slot so that a recoverable error (an allocation that
  // did not fit, a bad argument) does not resurface at the next unrelated call.
  (void)cudaGetLastError();
  std::string what = std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
  if (status == cudaErrorMemoryAllocation)
    fail(ErrorKind::OperationError, std::string("out of device memory: ") + call + " failed (" +
                                        what + ")");
  fail(ErrorKind::OperationError, std::string("CUDA call ") + call + " failed: " + what);
}

void check(CUresult status, const char* call) {
  if (status == CUDA_SUCCESS) return;
  const char* name = nullptr;
  const char* text = nullptr;
  cuGetErrorName(status, &name);
  cuGetErrorString(status, &text);
  std::string what = std::string(name ? name : "unknown CUresult") + ": " + (text ? text : "");
  if (status == CUDA_ERROR_OUT_OF_MEMORY)
    fail(ErrorKind::OperationError, std::string("out of device memory: ") + call + " failed (" +
                                        what + ")");
  fail(ErrorKind::OperationError, std::string("CUDA driver call ") + call + " failed: " + what);
}

void check(cublasStatus_t status, const char* call) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  std::string what =
      std::string(cublasLtGetStatusName(status)) + ": " + cublasLtGetStatusString(status);
  if (status == CUBLAS_STATUS_ALLOC_FAILED)
    fail(ErrorKind::OperationError, std::string("out of device memory: ") + call + " failed (" +
                                        what + ")");
  fail(ErrorKind::OperationError, std::string("cuBLASLt call ") + call + " failed: " + what);
}

}  // namespace cppnn::detail::cuda
