#include "npy.h"

#include <fstream>
#include <sstream>

namespace cppnn::tools {

namespace {
const char* descr_of(DataType t) {
  switch (t) {
    case DataType::float32: return "<f4";
    case DataType::float16: return "<f2";
    case DataType::int32: return "<i4";
    case DataType::uint32: return "<u4";
    case DataType::int64: return "<i8";
    case DataType::uint64: return "<u8";
    case DataType::int8: return "|i1";
    case DataType::uint8: return "|u1";
  }
  return "";
}

std::string header_value(const std::string& header, const std::string& key) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) fail(ErrorKind::DataError, "npy header lacks '" + key + "'");
  size_t colon = header.find(':', k);
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (header[start] == '(') return header.substr(start, header.find(')', start) - start + 1);
  if (header[start] == '\'') return header.substr(start + 1, header.find('\'', start + 1) - start - 1);
  return header.substr(start, header.find_first_of(",}", start) - start);
}
}  // namespace

Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::DataError, "cannot open '" + path + "'");
  char magic[8];
  if (!in.read(magic, 8) || std::string(magic, 6) != "\x93NUMPY")
    fail(ErrorKind::DataError, "'" + path + "' is not a .npy file");
  size_t header_len;
  if (magic[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (size_t(b[1]) << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (size_t(b[1]) << 8) | (size_t(b[2]) << 16) | (size_t(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  if (!in.read(header.data(), std::streamsize(header_len)))
    fail(ErrorKind::DataError, "'" + path + "' has a truncated header");
  std::string descr = header_value(header, "descr");
  if (header_value(header, "fortran_order") != "False")
    fail(ErrorKind::DataError, "'" + path + "' is in Fortran order; save it C-contiguous");
  DataType type = DataType::float32;
  bool found = false;
  for (DataType t : kAllDataTypes)
    if (descr == descr_of(t) || (descr.size() == 3 && descr.substr(1) == std::string(descr_of(t)).substr(1) && descr[0] == '='))
      type = t, found = true;
  if (!found) fail(ErrorKind::DataError, "'" + path + "' has unsupported dtype " + descr);
  Dims shape;
  std::string tuple = header_value(header, "shape");
  std::stringstream ss(tuple.substr(1, tuple.size() - 2));
  for (std::string item; std::getline(ss, item, ',');)
    if (item.find_first_not_of(' ') != std::string::npos) shape.push_back(std::stoll(item));
  Tensor t = Tensor::uninitialized(type, shape);
  if (!in.read(static_cast<char*>(t.data()), std::streamsize(t.byte_size())))
    fail(ErrorKind::DataError, "'" + path + "' is truncated");
  return t;
}

void write_npy(const std::string& path, const Tensor& t) {
  std::string shape = "(";
  for (int64_t d : t.shape()) shape += std::to_string(d) + ", ";
  if (t.shape().size() > 1) shape.resize(shape.size() - 2);
  shape += ")";
  std::string header = "{'descr': '" + std::string(descr_of(t.data_type())) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::ofstream out(path, std::ios::binary);
  if (!out) fail(ErrorKind::DataError, "cannot write '" + path + "'");
  out.write("\x93NUMPY\x01\x00", 8);
  unsigned char len[2] = {uint8_t(header.size() & 0xff), uint8_t(header.size() >> 8)};
  out.write(reinterpret_cast<const char*>(len), 2);
  out << header;
  out.write(static_cast<const char*>(t.data()), std::streamsize(t.byte_size()));
}

}  // namespace cppnn::tools
