#pragma once
// Naive index arithmetic and random data for the data-movement tests (shape ops, gather):
// their references walk every output element by its multi-index.
#include <cstdint>
#include <vector>

#include "test_support.h"

namespace cppnn::testing {

// Every data type the data-movement ops take: they must be bit exact for each.
inline constexpr DataType kAllDataTypes[] = {DataType::float32, DataType::float16, DataType::int32,
                                             DataType::uint32,  DataType::int64,   DataType::uint64,
                                             DataType::int8,    DataType::uint8};

using Index = std::vector<int64_t>;

// The multi-index of a flat row-major position, and back.
inline Index unravel(size_t flat, const Dims& shape) {
  Index idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = int64_t(flat % size_t(shape[d]));
    flat /= size_t(shape[d]);
  }
  return idx;
}

inline size_t ravel(const Index& idx, const Dims& shape) {
  size_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * size_t(shape[d]) + size_t(idx[d]);
  return flat;
}

inline size_t count(const Dims& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= size_t(d);
  return n;
}

// Random values that every data type holds exactly.
inline Tensor random_of(DataType type, const Dims& shape, uint32_t seed = 7) {
  if (is_float(type)) return random_tensor(type, shape, -10, 10, seed);
  if (is_signed(type)) return random_tensor(type, shape, -100, 100, seed);
  return random_tensor(type, shape, 0, 200, seed);
}

}  // namespace cppnn::testing
