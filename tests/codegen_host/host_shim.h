#pragma once
// Just enough of CUDA for generated kernel sources to compile as host C++: the emulation
// test runs every thread of every block in turn, so the kernels' index math, broadcasting,
// vector loads, integer semantics, casts and float16 rounding are checked without a GPU.
// (Only CUDA's math library and the device itself are left to tests/gpu.)
#include <cmath>
#include <cstddef>
#include <cstring>

#include "codegen_host/host_grid.h"
#include "cppnn/types.h"

#define __device__
#define __global__
#define __forceinline__ inline
#define __restrict__
#define __launch_bounds__(threads)
#define __constant__ static

// What cvt.f32.f16 and cvt.rn.f16.f32 do; the emitter puts these in place of the asm.
inline float host_h2f(unsigned short h) { return cppnn::half_to_float(h); }
inline unsigned short host_f2h(float f) { return cppnn::float_to_half(f); }
inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}
inline float __uint_as_float(unsigned i) {
  float f;
  std::memcpy(&f, &i, sizeof f);
  return f;
}
// The high 32 bits of the 64-bit product: the generated index math divides with it.
inline unsigned __umulhi(unsigned a, unsigned b) {
  return unsigned((static_cast<unsigned long long>(a) * b) >> 32);
}
inline unsigned __float_as_uint(float f) {
  unsigned i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}

// One emulated kernel: runs it on `grid` blocks of kCudaBlockSize threads, with the
// kernel's parameters in order in `params` (the pointers, then its sizes argument).
struct HostKernel {
  const char* case_name;
  size_t index;  // in generate_cuda_kernels' order
  void (*launch)(void* const* params, unsigned grid);
};
extern const HostKernel kHostKernels[];
extern const size_t kHostKernelCount;
