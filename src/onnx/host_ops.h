#pragma once
// Host computation of small tensors known at import time, so that PyTorch's shape arithmetic
// (Shape -> Gather -> Concat -> Reshape ...) folds away before the graph is built. These
// follow ONNX semantics (numpy broadcasting, integer division truncating toward zero).
#include <cstdint>
#include <vector>

#include "cppnn/tensor.h"

namespace cppnn::onnx_import {

// Integer values of any tensor (floats truncate toward zero).
std::vector<int64_t> int64_values(const Tensor& t);
Tensor int64_tensor(const Dims& shape, const std::vector<int64_t>& values);

enum class HostBinary {
  add,
  sub,
  mul,
  div,
  mod,   // ONNX Mod with fmod=0: the remainder takes the divisor's sign (Python's %)
  fmod,  // ONNX Mod with fmod=1: the dividend's sign (C's fmod)
  max,
  min,
  equal,
  greater,
  less,
  greater_or_equal,
  less_or_equal,  // -> uint8 0/1
  logical_and,
  logical_or,
  logical_xor,  // -> uint8 0/1
};
bool is_comparison(HostBinary op);
// Broadcasting binary op; TypeError if the shapes do not broadcast, DataError on an integer
// division by zero.
Tensor host_binary(HostBinary op, const Tensor& a, const Tensor& b);
Tensor host_logical_not(const Tensor& t);
// `to_bool`: nonzero -> 1 (ONNX's cast to bool), stored as uint8.
Tensor host_cast(const Tensor& t, DataType to, bool to_bool);
Tensor host_where(const Tensor& condition, const Tensor& a, const Tensor& b);

// Data movement; element types are copied bytewise.
Tensor host_gather(const Tensor& data, const Tensor& indices, size_t axis);
// out[i] = data[starts + i * steps] per axis (steps may be negative).
Tensor host_slice(const Tensor& data, const std::vector<int64_t>& starts,
                  const std::vector<int64_t>& steps, const Dims& out_shape);
Tensor host_concat(const std::vector<const Tensor*>& parts, size_t axis);
Tensor host_expand(const Tensor& t, const Dims& out_shape);
Tensor host_transpose(const Tensor& t, const std::vector<int64_t>& perm);

}  // namespace cppnn::onnx_import
