#pragma once
// What the host tests of the hand-written CUDA kernels share: the emulated launch
// (host_grid.h) and CUDA's device-only names mapped onto it, aligned buffers, float16
// rounding and the fused activations in float64 (the reference side).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>

#include "codegen_host/host_grid.h"

// CUDA's headers leave these to nvcc. On the host: no meaning, block-wide shared storage
// (blocks run one at a time), and the emulated barrier.
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif
#undef __shared__
#define __shared__ static
inline void __syncthreads() { host_sync_block(); }

#include "backends/cuda/kernels/conv_epilogue.h"

namespace cppnn::detail::cuda {

// Storage of `count` elements of `bytes` each, 16-byte aligned (then shifted by `offset`
// elements: offset 1 misaligns it), ending just before an inaccessible page: a kernel that
// reads or writes a row past the end crashes the test instead of reading whatever is there.
struct Buffer {
  void* data = nullptr;
  Buffer(size_t count, size_t bytes, size_t offset = 0) {
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    const size_t used = ((count + offset) * bytes + 15) / 16 * 16;
    map_bytes_ = (used + page - 1) / page * page + page;
    void* m = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    map_ = static_cast<unsigned char*>(m);
    unsigned char* guard = map_ + map_bytes_ - page;
    mprotect(guard, page, PROT_NONE);
    data = guard - used + offset * bytes;
  }
  ~Buffer() { munmap(map_, map_bytes_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

 private:
  unsigned char* map_ = nullptr;
  size_t map_bytes_ = 0;
};

// Split-K's second pass (kernels/split_reduce.cuh), as the launchers run it after the first.
template <typename Reduce, typename Params>
void host_split_reduce(const Params& r) {
  Reduce::with_kernel(r, [&](auto kernel) {
    host_run_grid(unsigned((int64_t(r.rows) * r.cols + 255) / 256), 256, [&] { kernel(r); });
  });
}

// A float as T (float16 rounded to nearest even) and back: the element types of the
// float kernels' tests.
template <typename T>
T to_type(float v) {
  if constexpr (std::is_same_v<T, __half>) return __float2half_rn(v);
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return __float2bfloat16_rn(v);
  else return v;
}
template <typename T>
float from_type(T v) {
  if constexpr (std::is_same_v<T, __half>) return __half2float(v);
  else if constexpr (std::is_same_v<T, __nv_bfloat16>) return __bfloat162float(v);
  else return v;
}

// Rounds `v` to float16 and back when `half` (the inputs both sides see).
inline float representable(float v, bool half) { return half ? __half2float(__float2half_rn(v)) : v; }
// `v` as T holds it (float16, bfloat16 or float32).
template <typename T>
float representable_as(float v) {
  return from_type(to_type<T>(v));
}

// The fused activations of the fusion contract, in float64.
inline double host_activate64(double x, int activation, double lo, double hi, double alpha) {
  switch (activation) {
    case kConvActRelu: return x < 0 ? 0 : x;
    case kConvActClamp: return std::min(std::max(x, lo), hi);
    case kConvActSigmoid: return 1 / (1 + std::exp(-x));
    case kConvActTanh: return std::tanh(x);
    case kConvActLeakyRelu: return x < 0 ? alpha * x : x;
    case kConvActElu: return x > 0 ? x : alpha * std::expm1(x);
    case kConvActHardSwish: return x * std::min(std::max(x + 3, 0.0), 6.0) / 6;
    case kConvActGelu: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    default: return x;
  }
}

}  // namespace cppnn::detail::cuda
