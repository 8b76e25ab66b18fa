#include "npy.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
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
    case DataType::bfloat16: break;  // numpy has no bfloat16 (and engines' interfaces are float32)
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
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail(ErrorKind::DataError, "cannot open '" + path + "'");
  const auto file_bytes = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  char magic[8];
  if (!in.read(magic, 8) || std::string(magic, 6) != "\x93NUMPY")
    fail(ErrorKind::DataError, "'" + path + "' is not a .npy file");
  size_t header_len;
  if (magic[6] == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) fail(ErrorKind::DataError, "'" + path + "' has a truncated header");
    header_len = b[0] | (size_t(b[1]) << 8);
  } else {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) fail(ErrorKind::DataError, "'" + path + "' has a truncated header");
    header_len = b[0] | (size_t(b[1]) << 8) | (size_t(b[2]) << 16) | (size_t(b[3]) << 24);
  }
  if (header_len > (size_t(64) << 10) || header_len > file_bytes)
    fail(ErrorKind::DataError, "'" + path + "' has a header of " + std::to_string(header_len) + " bytes");
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
  if (tuple.size() < 2 || tuple.front() != '(' || tuple.back() != ')')
    fail(ErrorKind::DataError, "'" + path + "' has a malformed shape " + tuple);
  std::stringstream ss(tuple.substr(1, tuple.size() - 2));
  // Every dimension a non-negative integer, the total no more than the file's bytes.
  uint64_t elements = 1;
  for (std::string item; std::getline(ss, item, ',');) {
    size_t first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
    if (first == std::string::npos) continue;
    int64_t d = -1;
    auto [end, ec] = std::from_chars(item.data() + first, item.data() + last + 1, d);
    if (ec != std::errc() || end != item.data() + last + 1 || d < 0 || uint64_t(d) > file_bytes)
      fail(ErrorKind::DataError, "'" + path + "' has a malformed shape " + tuple);
    elements = d == 0 ? 0 : (elements > file_bytes / uint64_t(d) ? file_bytes + 1 : elements * uint64_t(d));
    shape.push_back(d);
  }
  if (elements > file_bytes || shape.size() > 8)
    fail(ErrorKind::DataError, "'" + path + "' claims more data than it holds (shape " + tuple + ")");
  Tensor t = Tensor::uninitialized(type, shape);
  if (!in.read(static_cast<char*>(t.data()), std::streamsize(t.byte_size())))
    fail(ErrorKind::DataError, "'" + path + "' is truncated");
  return t;
}

std::string safe_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '-' || c == '_';
    out += keep ? c : '_';
  }
  if (!out.empty() && out[0] == '.') out[0] = '_';  // no ".", "..", hidden files
  if (out.size() > 120) out.resize(120);
  return out.empty() ? "output" : out;
}

std::vector<std::string> unique_file_names(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  std::set<std::string> taken;  // lower case
  auto lower = [](std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const std::string& name : names) {
    std::string base = safe_file_name(name), candidate = base;
    for (int k = 2; taken.count(lower(candidate)); ++k) candidate = base + "_" + std::to_string(k);
    taken.insert(lower(candidate));
    out.push_back(candidate);
  }
  return out;
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
  unsigned char len[2] = {uint8_t(header.size() & 0xff), uint8_t(header.size() >> 8)};
  std::string head = std::string("\x93NUMPY\x01\x00", 8) + std::string(reinterpret_cast<const char*>(len), 2) + header;
  // Never through a symbolic link: a link planted where an output goes would send the
  // bytes elsewhere.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) fail(ErrorKind::DataError, "cannot write '" + path + "': " + std::strerror(errno));
  auto write_all = [&](const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w, n -= size_t(w);
    }
    return true;
  };
  bool ok = write_all(head.data(), head.size()) &&
            write_all(static_cast<const char*>(t.data()), t.byte_size());
  if (::close(fd) != 0) ok = false;
  if (!ok) fail(ErrorKind::DataError, "cannot write '" + path + "': " + std::strerror(errno));
}

}  // namespace cppnn::tools
