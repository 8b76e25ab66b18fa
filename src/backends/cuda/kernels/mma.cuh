#pragma once
// The warp-wide building blocks of our tensor-core kernels (tensor_conv.cuh, attention.cuh):
// mma.sync, ldmatrix, cp.async and the warp shuffle. Each kernel that uses them is included
// by its .cu (nvcc) and by tests/cuda_host, which runs it on the CPU with each block's
// threads as fibers (host_grid.h): there every operation here is emulated over the warp from
// the PTX ISA's layouts (the host_* functions, defined by the tests).
#include <cuda_fp16.h>

#include <cstdint>

namespace cppnn::detail::cuda {

#if !defined(__CUDACC__)
// The host emulation's warp-wide operations (tests/cuda_host): mma, D = A * B + C over the
// warp's fragments, each thread passing its own; ldmatrix.x4, each thread passing the row
// address it supplies.
void host_mma_m16n8k16(float c[4], const uint32_t a[4], const uint32_t b[2]);
void host_ldmatrix_x4(uint32_t r[4], const void* row);
void host_ldmatrix_x4_trans(uint32_t r[4], const void* row);
// __shfl_xor_sync over the full warp: every lane passes its value, gets lane ^ mask's.
float host_shfl_xor(float v, int mask);
#endif

namespace mma_ops {

// c[4] += A (16x16, row) * B (16x8, col): the fragments of mma.m16n8k16 in the PTX ISA's
// layouts (g = lane / 4, t = lane % 4): a = {A[g][2t..], A[g+8][2t..], A[g][2t+8..],
// A[g+8][2t+8..]}, b = {B[2t..][g], B[2t+8..][g]}, c = {C[g][2t], C[g][2t+1], C[g+8][2t],
// C[g+8][2t+1]}. sm_75 has only the k8 shape: two of them.
__device__ __forceinline__ void mma(float c[4], const uint32_t a[4], const uint32_t b[2]) {
#if defined(__CUDACC__)
#if __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(b[0]));
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[2]), "r"(a[3]), "r"(b[1]));
#endif
#else
  host_mma_m16n8k16(c, a, b);
#endif
}

// ldmatrix.x4: four 8x8 matrices of halves from shared memory, rows supplied by lanes 0-7
// (matrix 0), 8-15, 16-23 and 24-31, 16 bytes each; lane l gets in r[j] row l / 4, columns
// 2 (l % 4) and + 1 of matrix j: the layout of mma's fragments.
__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], const __half* row) {
#if defined(__CUDACC__)
  const unsigned address = static_cast<unsigned>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
#else
  host_ldmatrix_x4(r, row);
#endif
}

// ldmatrix.x4.trans: as ldmatrix_x4, each matrix transposed: lane l gets in r[j] rows 2 (l % 4)
// and + 1, column l / 4, of matrix j (a B fragment from a [k][n] tile).
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t r[4], const __half* row) {
#if defined(__CUDACC__)
  const unsigned address = static_cast<unsigned>(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
#else
  host_ldmatrix_x4_trans(r, row);
#endif
}

struct alignas(16) Chunk {
  uint32_t v[4];  // 8 halves
};

// 16 bytes from global `src` (zeros when null) to shared `dst`: asynchronously on sm_80 and
// later (cp.async, completed by cp_async_wait), else, and on the host, at once.
__device__ __forceinline__ void copy_chunk(__half* dst, const __half* src, const void* any_global) {
#if defined(__CUDACC__) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  const unsigned address = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  // src-size 0 reads nothing and fills the 16 bytes with zeros (the address stays valid).
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(address),
               "l"(src ? static_cast<const void*>(src) : any_global), "r"(src ? 16 : 0));
#else
  (void)any_global;
  *reinterpret_cast<Chunk*>(dst) = src ? *reinterpret_cast<const Chunk*>(src) : Chunk{{0u, 0u, 0u, 0u}};
#endif
}

__device__ __forceinline__ void cp_async_commit() {
#if defined(__CUDACC__) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}

// Waits until at most N of this thread's committed copy groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
#if defined(__CUDACC__) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

// The value of lane (this lane ^ mask), every lane of the warp taking part.
__device__ __forceinline__ float shfl_xor(float v, int mask) {
#if defined(__CUDACC__)
  return __shfl_xor_sync(0xffffffffu, v, mask);
#else
  return host_shfl_xor(v, mask);
#endif
}

}  // namespace mma_ops

}  // namespace cppnn::detail::cuda
