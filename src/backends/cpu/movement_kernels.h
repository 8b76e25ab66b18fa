#pragma once
// Shared by the kernel files that move bytes: the movement family (movement.cpp,
// movement_strided.cpp, movement_resample.cpp) and the gathers (gather.cpp).
#include <cstddef>
#include <cstdint>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/kernel.h"
#include "core/dims.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

// Calls f with an unsigned integer type of the element size: data movement copies bits, so
// one instantiation per size serves every data type.
template <typename F>
void visit_element_size(size_t size, F&& f) {
  switch (size) {
    case 1: f.template operator()<uint8_t>(); break;
    case 2: f.template operator()<uint16_t>(); break;
    case 4: f.template operator()<uint32_t>(); break;
    default: f.template operator()<uint64_t>(); break;
  }
}

// Bytes worth giving a thread of their own when copying.
inline constexpr size_t kCopyGrain = 64 << 10;

// The number of elements of shape[begin, end).
inline size_t product(const Dims& shape, size_t begin, size_t end) {
  return size_t(dims_product(shape, begin, end));
}

// transpose, slice, expand, tile, reverse (movement_strided.cpp).
void register_strided_movement_kernels(CpuKernelRegistry& registry);
// resample2d (movement_resample.cpp).
void register_resample_kernels(CpuKernelRegistry& registry);

CPPNN_ISA_END
}  // namespace cppnn::detail
