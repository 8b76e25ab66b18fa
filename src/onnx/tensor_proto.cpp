// ONNX element types and TensorProto decoding (initializers and tensor attributes).
#include <cstring>

#include "core/dispatch.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

std::string onnx_type_name(int32_t elem_type) {
  if (onnx::TensorProto_DataType_IsValid(elem_type))
    return onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(elem_type));
  return "type " + std::to_string(elem_type);
}

DataType data_type_from_onnx(int32_t elem_type, const std::string& what, bool* is_bool) {
  if (is_bool) *is_bool = false;
  switch (elem_type) {
    case onnx::TensorProto::FLOAT:
      return DataType::float32;
    case onnx::TensorProto::FLOAT16:
      return DataType::float16;
    case onnx::TensorProto::INT32:
      return DataType::int32;
    case onnx::TensorProto::UINT32:
      return DataType::uint32;
    case onnx::TensorProto::INT64:
      return DataType::int64;
    case onnx::TensorProto::UINT64:
      return DataType::uint64;
    case onnx::TensorProto::INT8:
      return DataType::int8;
    case onnx::TensorProto::UINT8:
      return DataType::uint8;
    case onnx::TensorProto::BOOL:
      if (is_bool) *is_bool = true;
      return DataType::uint8;
    default:
      break;
  }
  fail(ErrorKind::NotSupportedError,
       what + " has data type " + onnx_type_name(elem_type) + ", which WebNN does not have");
}

namespace {

// The typed repeated field that holds `elem_type` when raw_data is not used (onnx.proto's
// comments on TensorProto): small integer types and float16 bits live in int32_data.
// How many values the typed repeated field that holds `elem_type` has (onnx.proto's comments
// on TensorProto: small integer types and float16 bits live in int32_data).
int typed_count(const onnx::TensorProto& p) {
  switch (p.data_type()) {
    case onnx::TensorProto::FLOAT:
      return p.float_data_size();
    case onnx::TensorProto::INT64:
      return p.int64_data_size();
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
      return p.uint64_data_size();
    default:
      return p.int32_data_size();
  }
}

template <typename T>
void copy_typed(const onnx::TensorProto& p, T* dst, size_t n) {
  switch (p.data_type()) {
    case onnx::TensorProto::FLOAT:
      for (size_t i = 0; i < n; ++i) dst[i] = T(p.float_data(int(i)));
      return;
    case onnx::TensorProto::INT64:
      for (size_t i = 0; i < n; ++i) dst[i] = T(p.int64_data(int(i)));
      return;
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
      for (size_t i = 0; i < n; ++i) dst[i] = T(p.uint64_data(int(i)));
      return;
    default:
      for (size_t i = 0; i < n; ++i) {
        if constexpr (std::is_same_v<T, half>) {
          dst[i].bits = uint16_t(p.int32_data(int(i)));
        } else {
          dst[i] = T(p.int32_data(int(i)));
        }
      }
      return;
  }
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& p, const std::string& what, bool* is_bool) {
  if (p.data_location() == onnx::TensorProto::EXTERNAL || p.external_data_size() > 0)
    fail(ErrorKind::NotSupportedError,
         what + " stores its data in an external file, which this importer does not read");
  if (p.has_segment()) fail(ErrorKind::NotSupportedError, what + " is a segmented tensor");
  DataType type = data_type_from_onnx(p.data_type(), what, is_bool);
  Dims shape;
  for (int64_t d : p.dims()) {
    if (d < 0) fail(ErrorKind::DataError, what + " has a negative dimension " + std::to_string(d));
    shape.push_back(d);
  }
  // Sizes are checked before allocating, so a corrupt header cannot ask for gigabytes.
  size_t n = element_count(shape);
  size_t bytes = byte_size(type, n);
  if (p.has_raw_data()) {
    if (p.raw_data().size() != bytes)
      fail(ErrorKind::DataError, what + ": raw_data has " + std::to_string(p.raw_data().size()) +
                                     " bytes, its shape " + to_string(shape) + " of " +
                                     std::string(to_string(type)) + " needs " +
                                     std::to_string(bytes));
  } else if (size_t(typed_count(p)) != n) {
    fail(ErrorKind::DataError, what + ": holds " + std::to_string(typed_count(p)) +
                                   " values, its shape " + to_string(shape) + " needs " +
                                   std::to_string(n));
  }
  Tensor t(type, shape);
  if (p.has_raw_data()) {
    // raw_data is little-endian, as is every machine this library targets.
    if (n) std::memcpy(t.data(), p.raw_data().data(), bytes);
  } else {
    visit_type(type, [&]<typename T>() { copy_typed(p, t.data_as<T>(), n); });
  }
  if (is_bool && *is_bool) {
    // Anything nonzero is true; keep the 0/1 that WebNN's logical ops produce.
    for (size_t i = 0; i < n; ++i) t.data_as<uint8_t>()[i] = t.data_as<uint8_t>()[i] ? 1 : 0;
  }
  return t;
}

}  // namespace cppnn::onnx_import
