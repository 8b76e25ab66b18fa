// The scatter kernels of the CUDA backend (launchers in scatter_kernels.h). Grid-stride
// loops over the positions each thread owns (a column for scatterElements, a slice element
// for scatterND), walking the updates in order, so repeated indices resolve as on the CPU.
#include <cstdint>

#include "scatter_kernels.h"
#include "grid_loop.cuh"

namespace cppnn::detail::cuda::scatter {

namespace {

using grid_loop::clamp_index;
using grid_loop::grid_for;
using grid_loop::kBlock;
using grid_loop::Tag;
using grid_loop::visit_size;



template <typename E, typename Idx>
__global__ void __launch_bounds__(kBlock)
    scatter_elements_kernel(const Idx* __restrict__ indices, const E* __restrict__ updates,
                            E* __restrict__ out, int64_t dim, int64_t n, int64_t inner,
                            int64_t columns) {
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < columns;
       c += int64_t(gridDim.x) * blockDim.x) {
    int64_t o = c / inner, k = c % inner;
    E* plane = out + o * dim * inner + k;
    int64_t at = o * n * inner + k;
    for (int64_t j = 0; j < n; ++j, at += inner)
      plane[clamp_index(int64_t(indices[at]), dim) * inner] = updates[at];
  }
}

template <typename E, typename Idx>
__global__ void __launch_bounds__(kBlock)
    scatter_nd_kernel(const Idx* __restrict__ indices, const E* __restrict__ updates,
                      E* __restrict__ out, const ScatterNDParams p) {
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < p.slice;
       k += int64_t(gridDim.x) * blockDim.x) {
    for (int64_t r = 0; r < p.m; ++r) {
      int64_t offset = 0;
      for (int d = 0; d < p.coords; ++d)
        offset += clamp_index(int64_t(indices[r * p.coords + d]), p.dims[d]) * p.strides[d];
      out[offset + k] = updates[r * p.slice + k];
    }
  }
}


template <typename F>
bool visit_index(ElemType index_type, const void* indices, F&& f) {
  switch (index_type) {
    case ElemType::i32: f(static_cast<const int32_t*>(indices)); return true;
    case ElemType::u32: f(static_cast<const uint32_t*>(indices)); return true;
    case ElemType::i64: f(static_cast<const long long*>(indices)); return true;
    default: return false;
  }
}

}  // namespace

cudaError_t launch_scatter_elements(const void* indices, ElemType index_type, const void* updates,
                                    void* out, int64_t outer, int64_t dim, int64_t n,
                                    int64_t inner, int elem_size, int max_blocks,
                                    cudaStream_t stream) {
  int64_t columns = outer * inner;
  if (columns <= 0 || n <= 0) return cudaSuccess;
  if (dim <= 0) return cudaErrorInvalidValue;  // nowhere to write
  int grid = grid_for(columns, max_blocks);
  bool launched = false;
  visit_size(elem_size, [&](auto tag) {
    using E = typename decltype(tag)::type;
    launched = visit_index(index_type, indices, [&](auto idx) {
      scatter_elements_kernel<<<grid, kBlock, 0, stream>>>(
          idx, static_cast<const E*>(updates), static_cast<E*>(out), dim, n, inner, columns);
    });
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

cudaError_t launch_scatter_nd(const void* indices, ElemType index_type, const void* updates,
                              void* out, const ScatterNDParams& p, int elem_size, int max_blocks,
                              cudaStream_t stream) {
  if (p.coords < 0 || p.coords > kMaxRank || p.slice <= 0) return cudaErrorInvalidValue;
  for (int d = 0; d < p.coords; ++d)
    if (p.dims[d] <= 0) return cudaErrorInvalidValue;
  if (p.m <= 0) return cudaSuccess;
  int grid = grid_for(p.slice, max_blocks);
  bool launched = false;
  visit_size(elem_size, [&](auto tag) {
    using E = typename decltype(tag)::type;
    launched = visit_index(index_type, indices, [&](auto idx) {
      scatter_nd_kernel<<<grid, kBlock, 0, stream>>>(idx, static_cast<const E*>(updates),
                                                     static_cast<E*>(out), p);
    });
  });
  return launched ? cudaGetLastError() : cudaErrorInvalidValue;
}

}  // namespace cppnn::detail::cuda::scatter
