#pragma once
// CUDA's launch, emulated on the host: every thread of every block runs in turn, with
// blockIdx, threadIdx, blockDim and gridDim set as the GPU would set them. Enough for kernels
// whose threads do not wait for each other (no __syncthreads, no warp shuffles); used by the
// generated kernels' host test (host_shim.h) and the hand-written kernels' (tests/cuda_host).
struct HostDim3 {
  unsigned x = 0, y = 1, z = 1;
};
inline HostDim3 blockIdx, threadIdx, blockDim, gridDim;

// Runs thread() once per thread of a one-dimensional grid of `grid` blocks of `block` threads.
template <typename Thread>
void host_run_grid(unsigned grid, unsigned block, Thread&& thread) {
  gridDim.x = grid;
  blockDim.x = block;
  for (blockIdx.x = 0; blockIdx.x < grid; ++blockIdx.x)
    for (threadIdx.x = 0; threadIdx.x < block; ++threadIdx.x) thread();
}
