#pragma once
// Every status of the CUDA driver, the runtime and cuBLASLt goes through check(): a failure
// becomes cppnn::Error (OperationError) naming the call and the status, and an allocation
// failure says "out of device memory", so no CUDA error is ever ignored or printed.
#include <cublasLt.h>
#include <cuda.h>
#include <cuda_runtime.h>

namespace cppnn::detail::cuda {

void check(cudaError_t status, const char* call);
void check(CUresult status, const char* call);
void check(cublasStatus_t status, const char* call);

}  // namespace cppnn::detail::cuda

// The call's text is the message: "cudaMalloc(&p, bytes) failed: ...".
#define CPPNN_CUDA_CHECK(call) ::cppnn::detail::cuda::check((call), #call)
