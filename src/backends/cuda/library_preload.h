#pragma once
// cuDNN 9 opens its sub-libraries (graph, ops, cnn, heuristic, the engine libraries) on first
// use, and the biggest of them are hundreds of MB. Opening them is host work that needs no
// GPU, so the backend starts it on a thread of its own while the CUDA context is created
// (cudaFree(0) and friends take 250-300 ms on an H100), instead of paying it inside the
// first plan build. CPPNN_CUDA_PRELOAD=0 turns it off (CudaOptions::preload).
#include <string>
#include <thread>

namespace cppnn::detail::cuda {

class LibraryPreload {
 public:
  explicit LibraryPreload(bool enabled);  // starts the thread when enabled
  ~LibraryPreload() { wait(); }
  LibraryPreload(const LibraryPreload&) = delete;
  LibraryPreload& operator=(const LibraryPreload&) = delete;

  // Joins the thread; idempotent. The libraries stay open for the life of the process, as
  // they would had cuDNN opened them itself.
  void wait();
  // For the backend's report: what was opened and how long it took, or why nothing was.
  std::string summary() const { return summary_; }

 private:
  void run();
  std::thread thread_;
  std::string summary_;
};

}  // namespace cppnn::detail::cuda
