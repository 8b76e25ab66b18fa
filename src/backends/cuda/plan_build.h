#pragma once
// The parts of a CUDA plan's build that run on threads of their own: the constants' upload
// and the library steps (cuDNN, cuBLASLt) made on build workers.
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "backends/cuda/step.h"

namespace cppnn::detail::cuda {

// One copy the plan enqueues (cudaMemcpyAsync's arguments).
struct Transfer {
  void* dst;
  const void* src;
  size_t bytes;
  cudaMemcpyKind kind;
};

// Host-to-device copies run on a thread of their own, on a stream of their own. wait()
// joins and rethrows what the copies threw; the destructor joins too, so that an exception
// leaving the build never abandons a running thread.
class ConstantUpload {
 public:
  ConstantUpload(std::shared_ptr<Device> device, std::vector<Transfer> copies);
  ~ConstantUpload();
  ConstantUpload(const ConstantUpload&) = delete;
  ConstantUpload& operator=(const ConstantUpload&) = delete;

  void wait();
  double ms() const { return ms_; }

 private:
  void run();

  std::shared_ptr<Device> device_;
  std::vector<Transfer> copies_;
  std::thread thread_;
  std::exception_ptr error_;
  double ms_ = 0;
};

// A step made ahead of the plan's in-order pass (or the error making it threw), and its time.
struct Prebuilt {
  std::unique_ptr<Step> step;
  std::exception_ptr error;
  double ms = 0;
};

struct LibrarySteps {
  std::vector<Prebuilt> steps;  // per node; empty where not made here
  int workers = 1;              // 1: none made here, the plan makes them in order
};

// Makes the steps of the nodes marked in `parallel` (ops whose factories may run
// concurrently) on up to 4 build workers, fewer when the context has fewer CPU threads
// (CudaOptions::cpu_threads; CudaOptions::build_threads, CPPNN_CUDA_BUILD_THREADS, overrides,
// 1: none). Each worker binds the device, has its own cuDNN handle, and adds its build
// phases to the calling thread's.
LibrarySteps build_library_steps(const std::shared_ptr<Device>& device, const GraphIR& g,
                                 const std::vector<bool>& parallel,
                                 const std::vector<Placement>& places);

}  // namespace cppnn::detail::cuda
