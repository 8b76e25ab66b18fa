// row_kernels_probe.cu: how fast are the row-wise kernels by themselves? The plan's step
// profile (CPPNN_CUDA_PROFILE=1) put BERT-base's layer norm over [4096, 768] float16 at
// 25 us a call with the warp-per-row kernel (row_warp.cuh), about 0.8 TB/s for the 19 MB it
// moves; this times the kernels alone with CUDA events, beside a plain copy of the same
// bytes, to tell the kernel's cost from the profile's.
//
// Build and run on the GPU machine (from the source tree):
//   nvcc -std=c++17 -O3 --expt-relaxed-constexpr -arch=native -Isrc bench/gpu/row_kernels_probe.cu -o /tmp/rkp && /tmp/rkp
#include <cuda_fp16.h>

#include <cstdio>
#include <vector>

#include "backends/cuda/kernels/normalize.cuh"
#include "backends/cuda/kernels/row_warp.cuh"

using namespace cppnn::detail::cuda::kernels;

__global__ void copy_kernel(const uint4* __restrict__ x, uint4* __restrict__ y, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) y[i] = x[i];
}

template <typename F>
float time_us(F&& launch, int reps = 200) {
  cudaEvent_t a, b;
  cudaEventCreate(&a), cudaEventCreate(&b);
  for (int i = 0; i < 10; ++i) launch();
  cudaEventRecord(a);
  for (int i = 0; i < reps; ++i) launch();
  cudaEventRecord(b);
  cudaEventSynchronize(b);
  float ms = 0;
  cudaEventElapsedTime(&ms, a, b);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) std::printf("CUDA error %s\n", cudaGetErrorString(e));
  return ms * 1000.0f / float(reps);
}

int main() {
  for (int64_t rows : {128, 4096, 12000}) {
    const int len = 768;
    const int64_t n = rows * len;
    __half *x, *r, *y, *s, *bias;
    cudaMalloc(&x, n * 2), cudaMalloc(&r, n * 2), cudaMalloc(&y, n * 2), cudaMalloc(&s, len * 2), cudaMalloc(&bias, len * 2);
    cudaMemset(x, 0, n * 2), cudaMemset(r, 0, n * 2), cudaMemset(s, 0, len * 2), cudaMemset(bias, 0, len * 2);
    const int grid = row_warp::grid_for(rows, 8192);
    float warp = time_us([&] {
      row_warp::layer_norm_kernel<__half, 32><<<grid, row_warp::kThreads>>>(x, nullptr, s, bias, y, rows, len, 1e-5f);
    });
    float warp24 = time_us([&] {
      row_warp::layer_norm_kernel<__half, 24><<<grid, row_warp::kThreads>>>(x, nullptr, s, bias, y, rows, len, 1e-5f);
    });
    float warp_res = time_us([&] {
      row_warp::layer_norm_kernel<__half, 32><<<grid, row_warp::kThreads>>>(x, r, s, bias, y, rows, len, 1e-5f);
    });
    const void* pointers[] = {x, r, s, bias, y};
    float vec = time_us([&] {
      row_warp::with_vector_length<__half>(len, pointers, 5, [&](auto kernel) {
        kernel<<<grid, row_warp::kThreads>>>(x, nullptr, s, bias, y, rows, 1e-5f);
      });
    });
    float vec_res = time_us([&] {
      row_warp::with_vector_length<__half>(len, pointers, 5, [&](auto kernel) {
        kernel<<<grid, row_warp::kThreads>>>(x, r, s, bias, y, rows, 1e-5f);
      });
    });
    float block = time_us([&] {
      normalize_kernel<__half><<<int(rows < 8192 ? rows : 8192), kThreads>>>(x, s, bias, y, ContiguousRows{rows, len, 0}, 1e-5f);
    });
    const int64_t chunks = n * 2 / 16;
    float copy = time_us([&] {
      copy_kernel<<<int((chunks + 255) / 256 < 65535 ? (chunks + 255) / 256 : 65535), 256>>>(
          reinterpret_cast<const uint4*>(x), reinterpret_cast<uint4*>(y), chunks);
    });
    float softmax = time_us([&] {
      row_warp::softmax_kernel<__half, 32><<<grid, row_warp::kThreads>>>(x, y, rows, len);
    });
    const double mb = double(n) * 2 / 1e6;
    std::printf("[%5lld x %d fp16] copy %.1f us (%.2f TB/s) | warp LN %.1f us, 24/lane %.1f us, +residual %.1f us | "
                "16-byte LN %.1f us, +residual %.1f us | block LN %.1f us | warp softmax %.1f us\n",
                (long long)rows, len, copy, 2 * mb / copy, warp, warp24, warp_res, vec, vec_res, block, softmax);
    cudaFree(x), cudaFree(r), cudaFree(y), cudaFree(s), cudaFree(bias);
  }
  return 0;
}
