#pragma once
// Shape arithmetic shared by the compiler and the backends.
#include <cstddef>
#include <cstdint>

#include "cppnn/types.h"

namespace cppnn::detail {

// The number of elements of dims[begin, end): the "outer" or "inner" extent around an axis.
inline int64_t dims_product(const Dims& dims, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= dims[i];
  return p;
}

}  // namespace cppnn::detail
