// ONNX element types and TensorProto decoding (initializers and tensor attributes).
#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>

#include "core/dispatch.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

std::string onnx_type_name(int32_t elem_type) {
  // Types newer than the linked onnx headers may know (onnx.proto's numbering).
  switch (elem_type) {
    case 17: return "FLOAT8E4M3FN";
    case 18: return "FLOAT8E4M3FNUZ";
    case 19: return "FLOAT8E5M2";
    case 20: return "FLOAT8E5M2FNUZ";
    case 21: return "UINT4";
    case 22: return "INT4";
    case 23: return "FLOAT4E2M1";
    default: break;
  }
  if (onnx::TensorProto_DataType_IsValid(elem_type))
    return onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(elem_type));
  return "type " + std::to_string(elem_type);
}

DataType data_type_from_onnx(int32_t elem_type, const std::string& what, bool* is_bool,
                             bool float64_as_float32) {
  if (is_bool) *is_bool = false;
  switch (elem_type) {
    case onnx::TensorProto::DOUBLE:
      if (float64_as_float32) return DataType::float32;
      fail(ErrorKind::NotSupportedError,
           what + " has data type DOUBLE: WebNN has no float64. To compute it in float32, "
                  "import with --float64-as-float32 (cppnn CLI) or float64_as_float32=True "
                  "(load_onnx)");
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
    case onnx::TensorProto::DOUBLE:
      return p.double_data_size();
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

namespace {

uint64_t external_number(const std::string& text, const std::string& what,
                         const std::string& key) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    fail(ErrorKind::DataError,
         what + ": external data '" + key + "' is '" + text + "', not a non-negative integer");
  return v;
}

// Where a tensor stored outside the model lies, checked before anything is allocated for it.
struct ExternalRange {
  std::filesystem::path file;
  std::string what;  // names the tensor and the file, for errors
  uint64_t offset = 0, length = 0;
};

// Locates `bytes` bytes of a tensor stored outside the model (onnx.proto's external_data keys:
// location, offset, length). The file must lie in the model's folder: no absolute location, no
// "..", and no symbolic link leading out of it.
ExternalRange locate_external(const onnx::TensorProto& p, const std::string& what,
                              const TensorReading& reading, size_t bytes) {
  namespace fs = std::filesystem;
  if (!reading.model_dir)
    fail(ErrorKind::DataError,
         what + " stores its data in an external file, and a model loaded from memory has no "
                "folder to read it from: load the model from its file path");
  std::string location;
  std::optional<uint64_t> offset, length;
  for (const auto& e : p.external_data()) {
    if (e.key() == "location")
      location = e.value();
    else if (e.key() == "offset")
      offset = external_number(e.value(), what, "offset");
    else if (e.key() == "length")
      length = external_number(e.value(), what, "length");
  }
  if (location.empty()) fail(ErrorKind::DataError, what + ": external data has no location");
  const std::string file_what = what + ": external data file '" + location + "'";
  fs::path loc(location);
  if (loc.is_absolute() || loc.has_root_name() || loc.has_root_directory())
    fail(ErrorKind::DataError,
         file_what + " is an absolute path; external data must lie in the model's folder");
  for (const fs::path& part : loc)
    if (part == "..")
      fail(ErrorKind::DataError,
           file_what + " leaves the model's folder ('..'); external data must lie in it");
  std::error_code ec;
  fs::path dir = fs::canonical(*reading.model_dir, ec);
  if (ec) fail(ErrorKind::DataError, what + ": cannot resolve the model's folder");
  fs::path file = fs::canonical(dir / loc, ec);
  if (ec) fail(ErrorKind::DataError, file_what + " cannot be opened: " + ec.message());
  // The resolved path (symbolic links followed) must still be under the folder.
  auto [dir_end, file_it] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
  if (dir_end != dir.end())
    fail(ErrorKind::DataError,
         file_what + " resolves to '" + file.string() +
             "', outside the model's folder (a symbolic link pointing out)");
  if (!fs::is_regular_file(file, ec))
    fail(ErrorKind::DataError, file_what + " is not a regular file");
  uint64_t size = fs::file_size(file, ec);
  if (ec) fail(ErrorKind::DataError, file_what + " cannot be read: " + ec.message());
  uint64_t off = offset.value_or(0);
  if (off > size)
    fail(ErrorKind::DataError, file_what + ": offset " + std::to_string(off) +
                                   " is past the end of the file (" + std::to_string(size) +
                                   " bytes)");
  uint64_t len = length.value_or(size - off);
  if (len > size - off)
    fail(ErrorKind::DataError, file_what + ": offset " + std::to_string(off) + " + length " +
                                   std::to_string(len) + " is past the end of the file (" +
                                   std::to_string(size) + " bytes)");
  if (len != bytes)
    fail(ErrorKind::DataError, file_what + " holds " + std::to_string(len) +
                                   " bytes for the tensor; its shape and type need " +
                                   std::to_string(bytes));
  reading.external_files.emplace(file, size);
  uint64_t total = 0;
  for (const auto& [f, s] : reading.external_files) total += s;
  if (reading.external_read + len > total)
    fail(ErrorKind::DataError, what + ": the model's tensors read more external bytes than its " +
                                   "external files hold (the same bytes more than once)");
  reading.external_read += len;
  return {file, file_what, off, len};
}

void read_external(const ExternalRange& r, char* dst) {
  std::ifstream in(r.file, std::ios::binary);
  if (!in) fail(ErrorKind::DataError, r.what + " cannot be opened");
  in.seekg(std::streamoff(r.offset));
  if (r.length && !in.read(dst, std::streamsize(r.length)))
    fail(ErrorKind::DataError, r.what + ": reading " + std::to_string(r.length) +
                                   " bytes at offset " + std::to_string(r.offset) + " failed");
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& p, const std::string& what, bool* is_bool,
                         const TensorReading& reading) {
  bool external = p.data_location() == onnx::TensorProto::EXTERNAL;
  if (!external && p.external_data_size() > 0)
    fail(ErrorKind::DataError, what + " has external_data keys but its data_location is not "
                                      "EXTERNAL");
  if (p.has_segment()) fail(ErrorKind::NotSupportedError, what + " is a segmented tensor");
  DataType type = data_type_from_onnx(p.data_type(), what, is_bool, reading.float64_as_float32);
  // float64 (only with float64_as_float32) is stored as 8-byte values and rounded here.
  bool f64 = p.data_type() == onnx::TensorProto::DOUBLE;
  Dims shape;
  for (int64_t d : p.dims()) {
    if (d < 0) fail(ErrorKind::DataError, what + " has a negative dimension " + std::to_string(d));
    shape.push_back(d);
  }
  // Sizes are checked before allocating, so a corrupt header cannot ask for gigabytes.
  size_t n = element_count(shape);
  size_t bytes = byte_size(f64 ? DataType::int64 : type, n);
  std::optional<ExternalRange> range;
  if (external) {
    if (p.has_raw_data() || typed_count(p) > 0)
      fail(ErrorKind::DataError, what + " is EXTERNAL but also holds data in the model");
    range = locate_external(p, what, reading, bytes);
  } else if (p.has_raw_data()) {
    if (p.raw_data().size() != bytes)
      fail(ErrorKind::DataError, what + ": raw_data has " + std::to_string(p.raw_data().size()) +
                                     " bytes, its shape " + to_string(shape) + " of " +
                                     (f64 ? std::string("float64")
                                          : std::string(to_string(type))) +
                                     " needs " + std::to_string(bytes));
  } else if (size_t(typed_count(p)) != n) {
    fail(ErrorKind::DataError, what + ": holds " + std::to_string(typed_count(p)) +
                                   " values, its shape " + to_string(shape) + " needs " +
                                   std::to_string(n));
  }
  Tensor t(type, shape);
  if (f64) {
    std::vector<double> d(n);
    if (external)
      read_external(*range, reinterpret_cast<char*>(d.data()));
    else if (p.has_raw_data())
      std::memcpy(d.data(), p.raw_data().data(), bytes);
    else
      for (size_t i = 0; i < n; ++i) d[i] = p.double_data(int(i));
    for (size_t i = 0; i < n; ++i) t.data_as<float>()[i] = float(d[i]);
  } else if (external) {
    read_external(*range, reinterpret_cast<char*>(t.data()));
  } else if (p.has_raw_data()) {
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
