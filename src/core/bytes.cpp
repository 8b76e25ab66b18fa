#include "core/bytes.h"

#include <bit>
#include <cstring>
#include <limits>

#include "cppnn/error.h"

namespace cppnn::detail {

void ByteWriter::f64(double v) { u64(std::bit_cast<uint64_t>(v)); }

void ByteWriter::count(size_t n) {
  if (n > std::numeric_limits<uint32_t>::max())
    fail(ErrorKind::NotSupportedError, format_ + ": a list of " + std::to_string(n) +
                                           " items does not fit the format's 32-bit counts");
  u32(uint32_t(n));
}

void ByteWriter::str(std::string_view s) {
  count(s.size());
  raw(s.data(), s.size());
}

void ByteWriter::raw(const void* data, size_t size) {
  if (size) out_.append(static_cast<const char*>(data), size);
}

std::string ByteReader::where() const {
  return prefix_ + ": " + name_ + (item_.empty() ? "" : ", " + item_);
}

const uint8_t* ByteReader::take(size_t n, const char* what) {
  if (!ok_) return nullptr;
  if (n > remaining()) {
    if (throws())
      fail(ErrorKind::DataError, where() + ": truncated while reading " + what + " (" + std::to_string(n) +
             " bytes wanted, " + std::to_string(remaining()) + " left)");
    ok_ = false;
    return nullptr;
  }
  const uint8_t* p = p_ + pos_;
  pos_ += n;
  return p;
}

uint8_t ByteReader::u8(const char* what) {
  const uint8_t* p = take(1, what);
  return p ? *p : 0;
}

uint16_t ByteReader::u16(const char* what) {
  const uint8_t* p = take(2, what);
  return p ? uint16_t(p[0] | p[1] << 8) : 0;
}

uint32_t ByteReader::u32(const char* what) {
  const uint8_t* p = take(4, what);
  return p ? get_le32(p) : 0;
}

uint64_t ByteReader::u64(const char* what) {
  const uint8_t* p = take(8, what);
  return p ? get_le64(p) : 0;
}

double ByteReader::f64(const char* what) { return std::bit_cast<double>(u64(what)); }

size_t ByteReader::count(const char* what, size_t item_bytes) {
  size_t n = u32(what);
  if (item_bytes && n > remaining() / item_bytes) {
    if (throws())
      fail(ErrorKind::DataError, where() + ": " + what + " " + std::to_string(n) +
             " needs more bytes than the section has left (" + std::to_string(remaining()) + ")");
    ok_ = false;
    return 0;
  }
  return n;
}

std::string ByteReader::str(const char* what, size_t max) {
  size_t n = count(what, 1);
  if (n > max) {
    if (throws())
      fail(ErrorKind::DataError, where() + ": " + what + " of " + std::to_string(n) + " bytes is longer than " +
             std::to_string(max));
    ok_ = false;
    return {};
  }
  return bytes(n, what);
}

std::string ByteReader::bytes(size_t n, const char* what) {
  const uint8_t* p = take(n, what);
  return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

void ByteReader::expect_end() {
  if (!ok_ || !remaining()) return;
  if (throws())
    fail(ErrorKind::DataError, prefix_ + ": " + std::to_string(remaining()) + " unexpected bytes at the end of the " +
           name_);
  ok_ = false;
}

}  // namespace cppnn::detail
