#pragma once
// What the grid-stride kernels of movement.cu, scatter.cu and quantization.cu share: the
// grid for n work items, the element type of a byte size (copies move elements by size,
// whatever their data type), and the clamped index of the gathers and scatters.
#include <cstdint>

#include <cuda_runtime.h>

namespace cppnn::detail::cuda::grid_loop {

constexpr int kBlock = 256;

// Blocks of kBlock threads for n items, at most max_blocks (the loops stride over the rest).
inline int grid_for(int64_t n, int max_blocks) {
  int64_t blocks = (n + kBlock - 1) / kBlock;
  if (blocks > max_blocks) blocks = max_blocks;
  if (blocks < 1) blocks = 1;
  return int(blocks);
}

// A type carried by value into a generic lambda (nvcc compiles C++17 here).
template <typename T>
struct Tag {
  using type = T;
};

// Calls f(Tag<E>) with an element type E of `size` bytes; false if none.
template <typename F>
bool visit_size(int size, F&& f) {
  switch (size) {
    case 1: f(Tag<uint8_t>{}); return true;
    case 2: f(Tag<uint16_t>{}); return true;
    case 4: f(Tag<uint32_t>{}); return true;
    case 8: f(Tag<unsigned long long>{}); return true;
    case 16: f(Tag<uint4>{}); return true;
    default: return false;
  }
}

// An index into an axis of `dim` elements as the gathers and scatters take it: a negative
// one counts from the end, and what is still out of range is clamped (no access leaves the
// tensor, whatever the indices hold).
__device__ __forceinline__ int64_t clamp_index(int64_t v, int64_t dim) {
  if (v < 0) v += dim;
  return v < 0 ? 0 : v >= dim ? dim - 1 : v;
}

}  // namespace cppnn::detail::cuda::grid_loop
