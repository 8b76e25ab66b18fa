#pragma once
// Launchers of the scatter kernels (kernels/scatter.cu), for gather_ops.cpp: scatterElements
// and scatterND write their updates into an output that already holds a copy of the input
// (the step copies it first). Indices are clamped as the gathers' (movement_kernels.h): a
// negative one counts from the end, what is still out of range is clamped, so no write leaves
// the output. Where indices repeat, the last update in row-major order wins, as on the CPU:
// each thread owns its output positions and walks the updates in order.
#include <cstdint>

#include <cuda_runtime.h>

#include "backends/cuda/kernels/movement_kernels.h"

namespace cppnn::detail::cuda::scatter {

using movement::ElemType;
using movement::kMaxRank;

// scatterElements: output [outer, dim, inner], indices and updates [outer, n, inner];
// out[o, clamp(idx[o, j, k]), k] = updates[o, j, k], one thread per column (o, k).
cudaError_t launch_scatter_elements(const void* indices, ElemType index_type, const void* updates,
                                    void* out, int64_t outer, int64_t dim, int64_t n,
                                    int64_t inner, int elem_size, int max_blocks,
                                    cudaStream_t stream);

// scatterND: indices [m, coords]; tuple r's slice of `slice` elements goes to
// sum_d clamp(idx[r, d], dims[d]) * strides[d]; one thread per slice element, over every tuple.
// The same geometry as gatherND's (movement_kernels.h), which reads where this writes.
using ScatterNDParams = movement::GatherNDParams;
cudaError_t launch_scatter_nd(const void* indices, ElemType index_type, const void* updates,
                              void* out, const ScatterNDParams& p, int elem_size, int max_blocks,
                              cudaStream_t stream);

}  // namespace cppnn::detail::cuda::scatter
