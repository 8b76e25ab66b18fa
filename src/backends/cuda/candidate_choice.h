#pragma once
// Choosing among candidate implementations of one step (cuDNN's algorithms and our own
// kernels for a convolution, cuBLASLt and our own kernels for a matmul): each candidate is
// an enqueue function, timed as the plan runs it, and the winner is remembered under a
// signature (everything that decides which one wins) for the rest of the process and in the
// runtime cache, as a short name the step can turn back into its choice.
#include <cuda_runtime.h>

#include <functional>
#include <optional>
#include <string>

namespace cppnn::detail::cuda {

using Enqueue = std::function<void(cudaStream_t)>;

// One run of `enqueue` on `stream`, waited for: false when it throws cppnn::Error (a library
// refusing the problem) or the stream reports an error; the stream is usable afterwards.
bool run_once(cudaStream_t stream, const Enqueue& enqueue);

// The mean GPU time in ms of a few runs, after a warm-up run: captured in a CUDA graph and
// replayed behind a GPU spin (so the host's launch work, which graph replay does not pay at
// run time, is not counted), or enqueued behind the spin when capture fails. nullopt when
// a run fails. The caller holds Device::gpu_timing.
std::optional<float> time_enqueue(cudaStream_t stream, const Enqueue& enqueue);

// The choice remembered for `signature`: this process's, else the runtime cache's entry
// keyed by the signature, `sm` and `libraries` (versions). nullopt when neither has one or
// the cache is unreadable; `from_cache` says which answered.
std::optional<std::string> recall_choice(const std::string& signature, int sm,
                                         const std::string& libraries, bool* from_cache = nullptr);
// Remembers `choice` in this process and, when `persist`, in the runtime cache (whose
// failures only mean the next process chooses again).
void remember_choice(const std::string& signature, int sm, const std::string& libraries,
                     const std::string& choice, bool persist = true);

// The key under which a choice is also remembered for its problem's family: the signature
// without the dimensions a dynamic graph varies (a matmul's rows, a convolution's batch), so
// that a plan for a new run-time shape takes what was timed at another shape of the same
// problem (Device::untimed_choices) instead of timing again.
inline std::string family_signature(const std::string& shape_free_signature) {
  return "family " + shape_free_signature;
}

}  // namespace cppnn::detail::cuda
