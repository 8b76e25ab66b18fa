// Kernels around cuDNN's convolutions: the bias + activation epilogue, the explicit input
// padding, the filter reorder. Grid-stride loops.
#include <cuda_fp16.h>

#include <climits>
#include <cstdint>

#include "conv_epilogue.h"
#include "conv_math.cuh"

namespace cppnn::detail::cuda {

namespace {

constexpr unsigned kBlock = 256;

// I: int32_t whenever the tensor fits (64-bit division is many instructions on the GPU).
template <typename T, typename I>
__global__ void epilogue_kernel(ConvEpilogueParams p) {
  T* y = static_cast<T*>(p.y);
  const T* bias = static_cast<const T*>(p.bias);
  const I total = I(p.total), channels = I(p.channels), spatial = I(p.spatial);
  I stride = I(gridDim.x) * I(blockDim.x);
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < total; i += stride) {
    float v = load(y, i);
    if (bias) {
      I c = p.nhwc ? i % channels : (i / spatial) % channels;
      v += load(bias, c);
    }
    store(y, i, activate(v, p.activation, p.lo, p.hi, p.alpha));
  }
}

template <typename T>
__global__ void pad_kernel(ConvPadParams p) {
  const T* x = static_cast<const T*>(p.x);
  T* dst = static_cast<T*>(p.dst);
  int64_t total = p.n * p.c * p.hp * p.wp;
  int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    int64_t n, c, yy, xx, rest = i;
    if (p.nhwc) {
      c = rest % p.c, rest /= p.c;
      xx = rest % p.wp, rest /= p.wp;
      yy = rest % p.hp, n = rest / p.hp;
    } else {
      xx = rest % p.wp, rest /= p.wp;
      yy = rest % p.hp, rest /= p.hp;
      c = rest % p.c, n = rest / p.c;
    }
    int64_t sy = yy - p.top, sx = xx - p.left;
    T v = T(0);
    if (sy >= 0 && sy < p.h && sx >= 0 && sx < p.w) {
      int64_t src = p.nhwc ? ((n * p.h + sy) * p.w + sx) * p.c + c
                           : ((n * p.c + c) * p.h + sy) * p.w + sx;
      v = x[src];
    }
    dst[i] = v;
  }
}

template <typename T>
__global__ void filter_kernel(ConvFilterParams p) {
  const T* src = static_cast<const T*>(p.src);
  T* dst = static_cast<T*>(p.dst);
  int64_t total = p.a * p.b * p.kh * p.kw;
  int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    int64_t a, b, yy, xx, rest = i;
    if (p.dst_nhwc) {
      b = rest % p.b, rest /= p.b;
      xx = rest % p.kw, rest /= p.kw;
      yy = rest % p.kh, a = rest / p.kh;
    } else {
      xx = rest % p.kw, rest /= p.kw;
      yy = rest % p.kh, rest /= p.kh;
      b = rest % p.b, a = rest / p.b;
    }
    dst[i] = src[a * p.sa + b * p.sb + yy * p.sh + xx * p.sw];
  }
}

}  // namespace

cudaError_t launch_conv_epilogue(const ConvEpilogueParams& p, unsigned grid, cudaStream_t stream) {
  if (p.total == 0) return cudaSuccess;
  // 32-bit indices when the last grid-stride step past the end still fits.
  bool small = p.total < int64_t(INT32_MAX) - int64_t(grid) * kBlock;
  if (p.half == 2 && small)
    epilogue_kernel<__nv_bfloat16, int32_t><<<grid, kBlock, 0, stream>>>(p);
  else if (p.half == 2)
    epilogue_kernel<__nv_bfloat16, int64_t><<<grid, kBlock, 0, stream>>>(p);
  else if (p.half && small)
    epilogue_kernel<__half, int32_t><<<grid, kBlock, 0, stream>>>(p);
  else if (p.half)
    epilogue_kernel<__half, int64_t><<<grid, kBlock, 0, stream>>>(p);
  else if (small)
    epilogue_kernel<float, int32_t><<<grid, kBlock, 0, stream>>>(p);
  else
    epilogue_kernel<float, int64_t><<<grid, kBlock, 0, stream>>>(p);
  return cudaGetLastError();
}

cudaError_t launch_conv_pad_input(const ConvPadParams& p, unsigned grid, cudaStream_t stream) {
  if (p.elem_size == 2)
    pad_kernel<uint16_t><<<grid, kBlock, 0, stream>>>(p);
  else
    pad_kernel<uint32_t><<<grid, kBlock, 0, stream>>>(p);
  return cudaGetLastError();
}

cudaError_t launch_conv_filter_reorder(const ConvFilterParams& p, unsigned grid,
                                       cudaStream_t stream) {
  if (p.elem_size == 2)
    filter_kernel<uint16_t><<<grid, kBlock, 0, stream>>>(p);
  else
    filter_kernel<uint32_t><<<grid, kBlock, 0, stream>>>(p);
  return cudaGetLastError();
}

namespace {

__global__ void gpu_spin_kernel(unsigned long long nanoseconds) {
  unsigned long long start = 0, now = 0;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
  do {
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
  } while (now - start < nanoseconds);
}

}  // namespace

cudaError_t launch_gpu_spin(unsigned microseconds, cudaStream_t stream) {
  gpu_spin_kernel<<<1, 1, 0, stream>>>(1000ull * microseconds);
  return cudaGetLastError();
}

}  // namespace cppnn::detail::cuda
