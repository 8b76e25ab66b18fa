#pragma once
// A host tensor: data type, shape and a 64-byte aligned buffer shared between copies.
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cppnn/error.h"
#include "cppnn/types.h"

namespace cppnn {

class Tensor {
 public:
  Tensor() = default;
  // Allocates zero-filled storage.
  Tensor(DataType type, Dims shape);
  // Copies `bytes` bytes from `data`; throws DataError if `bytes` is not the size of the shape.
  Tensor(DataType type, Dims shape, const void* data, size_t bytes);

  // A tensor over memory owned by someone else (no copy); `owner` keeps it alive.
  // `data` must be aligned for the element type and hold the shape's byte size.
  static Tensor wrap(DataType type, Dims shape, void* data, std::shared_ptr<void> owner);
  // Allocated but not zero-filled, for results about to be overwritten.
  static Tensor uninitialized(DataType type, Dims shape);

  template <typename T>
  static Tensor from(DataType type, Dims shape, const std::vector<T>& values) {
    return Tensor(type, std::move(shape), values.data(), values.size() * sizeof(T));
  }

  DataType data_type() const { return type_; }
  const Dims& shape() const { return shape_; }
  size_t element_count() const { return elements_; }
  size_t byte_size() const { return bytes_; }
  bool empty() const { return data_ == nullptr; }

  void* data() { return data_.get(); }
  const void* data() const { return data_.get(); }
  template <typename T>
  T* data_as() { return reinterpret_cast<T*>(data_.get()); }
  template <typename T>
  const T* data_as() const { return reinterpret_cast<const T*>(data_.get()); }

  // Copies out as float64 (for tests and reports).
  std::vector<double> to_doubles() const;
  // Same storage, new shape with the same element count.
  Tensor reshaped(Dims shape) const;
  Tensor clone() const;

 private:
  DataType type_ = DataType::float32;
  Dims shape_;
  size_t elements_ = 0;
  size_t bytes_ = 0;
  std::shared_ptr<uint8_t> data_;
};

using NamedTensors = std::map<std::string, Tensor>;

}  // namespace cppnn
