#pragma once
// Conversions between Python values and cppnn values, shared by every binding file.
// Errors are thrown as cppnn::Error so that the module's one translator maps them.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cppnn/cppnn.h"

namespace webnn_py {

namespace nb = nanobind;

// A data type from "float32", numpy.float32 or numpy.dtype("float32").
cppnn::DataType to_data_type(nb::handle value, const std::string& what);

// DLPack data types: cppnn's, the cppnn type of a DLPack one (none if WebNN lacks it), and
// a DLPack type's name ("float64", "bool") for messages.
nb::dlpack::dtype dlpack_dtype(cppnn::DataType type);
std::optional<cppnn::DataType> data_type_from_dlpack(nb::dlpack::dtype type);
std::string dlpack_type_name(nb::dlpack::dtype type);

// A numpy array or any object with __dlpack__ on the CPU as a tensor. Without `copy`, a
// contiguous aligned array is wrapped (it must outlive the tensor's use); otherwise, and
// for strided arrays, the data is copied.
cppnn::Tensor to_tensor(nb::handle value, const std::string& what, bool copy);

// Takes the tensor's buffer into a numpy array (no copy; the tensor must not be shared).
nb::object to_numpy(cppnn::Tensor tensor);

// uint32 option lists: Python ints are checked here so that a negative value gets a
// message naming the option rather than nanobind's generic overload error.
std::vector<uint32_t> to_u32s(const std::vector<int64_t>& values, const char* op,
                              const char* option);
uint32_t to_u32(int64_t value, const char* op, const char* option);
std::vector<uint32_t> to_u32s_or_empty(const std::optional<std::vector<int64_t>>& values,
                                       const char* op, const char* option);
std::optional<std::vector<uint32_t>> to_u32s_opt(const std::optional<std::vector<int64_t>>& values,
                                                 const char* op, const char* option);

// The 2-D padding of conv2d, conv_transpose2d and the pools: the spec's `padding`
// [begin_h, end_h, begin_w, end_w], or rustnn's (ONNX's) `pads` [begin_h, begin_w, end_h,
// end_w]; giving both is a TypeError.
std::vector<uint32_t> padding_or_pads(const std::optional<std::vector<int64_t>>& padding,
                                      const std::optional<std::vector<int64_t>>& pads,
                                      const char* op);

// WebNN enums are strings in Python, as in the spec's IDL; an unknown value is a TypeError
// listing the allowed ones.
template <typename E>
E parse_enum(const std::string& value, std::initializer_list<std::pair<const char*, E>> table,
             const char* op, const char* option) {
  std::string allowed;
  for (const auto& [name, e] : table) {
    if (value == name) return e;
    allowed += (allowed.empty() ? "'" : ", '") + std::string(name) + "'";
  }
  cppnn::fail(cppnn::ErrorKind::TypeError, std::string(op) + ": " + option + " must be one of " +
                                               allowed + ", got '" + value + "'");
}

cppnn::InputLayout parse_layout(const std::string& value, const char* op, const char* option);

}  // namespace webnn_py
