// Python <-> cppnn conversions: data types, tensors (numpy / DLPack), option lists.
#include "convert.h"

#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <cstring>
#include <memory>

namespace webnn_py {

using cppnn::DataType;
using cppnn::ErrorKind;
using cppnn::fail;
namespace dl = nb::dlpack;

namespace {

std::string value_type_name(nb::handle value) {
  return nb::cast<std::string>(nb::inst_name(value));
}

// Copies an array of any strides (in bytes, possibly negative) into contiguous storage.
void copy_strided(const uint8_t* src, uint8_t* dst, const std::vector<int64_t>& shape,
                  const std::vector<int64_t>& strides, size_t esize) {
  size_t ndim = shape.size();
  size_t count = 1;
  for (int64_t d : shape) count *= size_t(d);
  if (count == 0) return;
  if (ndim == 0) {
    std::memcpy(dst, src, esize);
    return;
  }
  size_t inner = size_t(shape[ndim - 1]);
  int64_t inner_stride = strides[ndim - 1];
  std::vector<int64_t> index(ndim, 0);
  for (size_t done = 0; done < count; done += inner) {
    int64_t offset = 0;
    for (size_t d = 0; d + 1 < ndim; ++d) offset += index[d] * strides[d];
    const uint8_t* row = src + offset;
    if (inner_stride == int64_t(esize)) {
      std::memcpy(dst, row, inner * esize);
      dst += inner * esize;
    } else {
      for (size_t i = 0; i < inner; ++i, dst += esize)
        std::memcpy(dst, row + int64_t(i) * inner_stride, esize);
    }
    for (size_t d = ndim - 1; d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

dl::dtype dlpack_dtype(DataType type) {
  auto make = [](dl::dtype_code code, uint8_t bits) { return dl::dtype{uint8_t(code), bits, 1}; };
  switch (type) {
    case DataType::float32:
      return make(dl::dtype_code::Float, 32);
    case DataType::float16:
      return make(dl::dtype_code::Float, 16);
    case DataType::int32:
      return make(dl::dtype_code::Int, 32);
    case DataType::uint32:
      return make(dl::dtype_code::UInt, 32);
    case DataType::int64:
      return make(dl::dtype_code::Int, 64);
    case DataType::uint64:
      return make(dl::dtype_code::UInt, 64);
    case DataType::int8:
      return make(dl::dtype_code::Int, 8);
    case DataType::uint8:
      return make(dl::dtype_code::UInt, 8);
    case DataType::bfloat16:
      break;  // internal (bfloat16 precision's storage): never at a graph's interface
  }
  fail(ErrorKind::TypeError, "unknown data type");
}

std::optional<DataType> data_type_from_dlpack(dl::dtype t) {
  if (t.lanes != 1) return std::nullopt;
  for (DataType d : cppnn::kAllDataTypes)
    if (dlpack_dtype(d) == t) return d;
  return std::nullopt;
}

std::string dlpack_type_name(dl::dtype t) {
  const char* code = "unknown";
  switch (dl::dtype_code(t.code)) {
    case dl::dtype_code::Int:
      code = "int";
      break;
    case dl::dtype_code::UInt:
      code = "uint";
      break;
    case dl::dtype_code::Float:
      code = "float";
      break;
    case dl::dtype_code::Bfloat:
      code = "bfloat";
      break;
    case dl::dtype_code::Complex:
      code = "complex";
      break;
    case dl::dtype_code::Bool:
      return "bool";
    default:
      break;
  }
  return code + std::to_string(t.bits);
}

DataType to_data_type(nb::handle value, const std::string& what) {
  if (value.is_none())
    fail(ErrorKind::TypeError, what + " must be a data type such as 'float32', got None");
  std::string name;
  if (nb::isinstance<nb::str>(value)) {
    name = nb::cast<std::string>(value);
  } else {
    try {
      nb::object dtype = nb::module_::import_("numpy").attr("dtype")(value);
      name = nb::cast<std::string>(dtype.attr("name"));
    } catch (const nb::python_error&) {
      fail(ErrorKind::TypeError, what + " must be a data type name such as 'float32' or a numpy " +
                                     "dtype, got " + nb::cast<std::string>(nb::repr(value)));
    }
  }
  try {
    return cppnn::data_type_from_string(name);
  } catch (const cppnn::Error& e) {
    fail(ErrorKind::TypeError, what + ": " + e.what() +
                                   " (WebNN has float32, float16, int32, uint32, int64, uint64, "
                                   "int8, uint8)");
  }
}

cppnn::Tensor to_tensor(nb::handle value, const std::string& what, bool copy) {
  using Array = nb::ndarray<nb::ro>;
  Array array;
  if (!nb::try_cast(value, array, false)) {
    // numpy exports neither DLPack nor a buffer for some views (negative strides, ...):
    // a contiguous copy of those is the friendly answer.
    nb::object np = nb::module_::import_("numpy");
    if (!nb::isinstance(value, np.attr("ndarray")) ||
        !nb::try_cast(np.attr("ascontiguousarray")(value), array, false))
      fail(ErrorKind::TypeError, what +
                                     " must be a numpy array or an object with __dlpack__, got " +
                                     value_type_name(value));
    copy = true;
  }
  if (array.device_type() != nb::device::cpu::value)
    fail(ErrorKind::TypeError, what + " is not in CPU memory (DLPack device type " +
                                   std::to_string(array.device_type()) +
                                   "); copy it to the CPU first");
  std::optional<DataType> type = data_type_from_dlpack(array.dtype());
  if (!type)
    fail(ErrorKind::TypeError, what + " has data type " + dlpack_type_name(array.dtype()) +
                                   ", which WebNN does not have (float32, float16, int32, uint32, "
                                   "int64, uint64, int8, uint8): convert it first, e.g. "
                                   ".astype(numpy.float32)");
  size_t esize = cppnn::element_size(*type);
  cppnn::Dims shape;
  std::vector<int64_t> strides;
  bool contiguous = true;
  int64_t expect = 1;
  for (size_t i = array.ndim(); i-- > 0;) {
    int64_t dim = int64_t(array.shape(i));
    if (dim != 1 && array.stride(i) != expect) contiguous = false;
    expect *= dim;
  }
  for (size_t i = 0; i < array.ndim(); ++i) {
    shape.push_back(int64_t(array.shape(i)));
    strides.push_back(array.stride(i) * int64_t(esize));
  }
  const void* data = array.data();
  bool aligned = reinterpret_cast<uintptr_t>(data) % esize == 0;
  if (!copy && contiguous && aligned) {
    // The tensor may be released on a thread without the GIL (after compute).
    std::shared_ptr<void> owner(new Array(array), [](Array* p) {
      nb::gil_scoped_acquire gil;
      delete p;
    });
    return cppnn::Tensor::wrap(*type, shape, const_cast<void*>(data), std::move(owner));
  }
  cppnn::Tensor out = cppnn::Tensor::uninitialized(*type, shape);
  copy_strided(static_cast<const uint8_t*>(data), out.data_as<uint8_t>(), shape, strides, esize);
  return out;
}

nb::object to_numpy(cppnn::Tensor tensor) {
  auto* held = new cppnn::Tensor(std::move(tensor));
  nb::capsule owner(held, [](void* p) noexcept { delete static_cast<cppnn::Tensor*>(p); });
  std::vector<size_t> shape(held->shape().begin(), held->shape().end());
  nb::ndarray<nb::numpy> array(held->data(), shape.size(), shape.data(), owner, nullptr,
                               dlpack_dtype(held->data_type()));
  return array.cast();
}

uint32_t to_u32(int64_t value, const char* op, const char* option) {
  if (value < 0 || value > int64_t(UINT32_MAX))
    fail(ErrorKind::TypeError, std::string(op) + ": " + option +
                                   " must be an unsigned 32-bit integer, got " +
                                   std::to_string(value));
  return uint32_t(value);
}

std::vector<uint32_t> to_u32s(const std::vector<int64_t>& values, const char* op,
                              const char* option) {
  std::vector<uint32_t> out;
  out.reserve(values.size());
  for (int64_t v : values) {
    if (v < 0 || v > int64_t(UINT32_MAX))
      fail(ErrorKind::TypeError, std::string(op) + ": " + option +
                                     " values must be unsigned 32-bit integers, got " +
                                     std::to_string(v));
    out.push_back(uint32_t(v));
  }
  return out;
}

std::vector<uint32_t> to_u32s_or_empty(const std::optional<std::vector<int64_t>>& values,
                                       const char* op, const char* option) {
  return values ? to_u32s(*values, op, option) : std::vector<uint32_t>{};
}

std::optional<std::vector<uint32_t>> to_u32s_opt(const std::optional<std::vector<int64_t>>& values,
                                                 const char* op, const char* option) {
  if (!values) return std::nullopt;
  return to_u32s(*values, op, option);
}

cppnn::InputLayout parse_layout(const std::string& value, const char* op, const char* option) {
  return parse_enum<cppnn::InputLayout>(
      value, {{"nchw", cppnn::InputLayout::nchw}, {"nhwc", cppnn::InputLayout::nhwc}}, op, option);
}

std::vector<uint32_t> padding_or_pads(const std::optional<std::vector<int64_t>>& padding,
                                      const std::optional<std::vector<int64_t>>& pads,
                                      const char* op) {
  if (!pads) return to_u32s_or_empty(padding, op, "padding");
  if (padding)
    fail(ErrorKind::TypeError, std::string(op) + ": give padding (the spec's [begin_h, end_h, "
                                                 "begin_w, end_w]) or pads (rustnn's [begin_h, "
                                                 "begin_w, end_h, end_w]), not both");
  std::vector<uint32_t> p = to_u32s(*pads, op, "pads");
  if (p.size() != 4)
    fail(ErrorKind::TypeError, std::string(op) + ": pads must have 4 values [begin_h, begin_w, "
                                                 "end_h, end_w], got " +
                                   std::to_string(p.size()));
  return {p[0], p[2], p[1], p[3]};
}

}  // namespace webnn_py
