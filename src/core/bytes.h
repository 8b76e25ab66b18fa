#pragma once
// The one little-endian byte reader and writer of cppnn's file formats: the engine file
// (src/engine/engine_format.cpp) and the runtime cache (src/runtime/runtime_cache_format.cpp).
// Integers are fixed-width and written byte by byte, so a file reads the same on any host;
// a string or list carries its length as a u32 first.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace cppnn::detail {

// Fixed-width little-endian integers at a pointer (headers patched in place).
inline void put_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline void put_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline uint32_t get_le32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(p[i]) << (8 * i);
  return v;
}
inline uint64_t get_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

// Appends to a byte string.
class ByteWriter {
 public:
  // `format` names the file format in errors, e.g. "engine".
  explicit ByteWriter(std::string format) : format_(std::move(format)) {}

  void u8(uint8_t v) { out_.push_back(char(v)); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void i32(int32_t v) { u32(uint32_t(v)); }
  void i64(int64_t v) { u64(uint64_t(v)); }
  void f64(double v);  // the IEEE bits
  // A length or count as a u32; NotSupportedError past 2^32 - 1.
  void count(size_t n);
  // count(size) and the bytes.
  void str(std::string_view s);
  void raw(const void* data, size_t size);

  void reserve(size_t n) { out_.reserve(n); }
  size_t size() const { return out_.size(); }
  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void put(uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) out_.push_back(char(uint8_t(v >> (8 * i))));
  }
  std::string format_;
  std::string out_;
};

// Reads a byte range front to back, never past its end. Two ways to fail:
//  - with a `prefix` (e.g. "engine file is corrupt"), a read that cannot be done throws
//    DataError saying where ("<prefix>: <name>, <item>") and what it was reading;
//  - without one, it never throws: the first failed read fails the reader (ok() turns
//    false), and that read and every later one yield zero or empty, so that a parser can
//    read a whole step and check ok() once.
class ByteReader {
 public:
  ByteReader(const void* data, size_t size, std::string prefix = {}, std::string name = {})
      : p_(static_cast<const uint8_t*>(data)),
        size_(size),
        prefix_(std::move(prefix)),
        name_(std::move(name)) {}

  // The item being read (e.g. "operand 3"), named in errors after the range's name.
  void at(std::string item) { item_ = std::move(item); }
  // "<prefix>: <name>, <item>": the start of every error message.
  std::string where() const;
  size_t remaining() const { return size_ - pos_; }
  bool ok() const { return ok_; }

  uint8_t u8(const char* what);
  uint16_t u16(const char* what);
  uint32_t u32(const char* what);
  uint64_t u64(const char* what);
  int32_t i32(const char* what) { return int32_t(u32(what)); }
  int64_t i64(const char* what) { return int64_t(u64(what)); }
  double f64(const char* what);
  // A u32 count of items of at least `item_bytes` bytes each, capped by the bytes left.
  size_t count(const char* what, size_t item_bytes);
  // A u32 length and that many bytes; a length over `max` fails too.
  std::string str(const char* what, size_t max = SIZE_MAX);
  std::string bytes(size_t n, const char* what);
  void skip(size_t n, const char* what) { take(n, what); }
  // Fails unless every byte was read.
  void expect_end();

 private:
  // The next n bytes, or nullptr once the reader has failed.
  const uint8_t* take(size_t n, const char* what);
  // Whether a failed read throws (there is a prefix) or fails the reader.
  bool throws() const { return !prefix_.empty(); }

  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
  bool ok_ = true;
  std::string prefix_, name_, item_;
};

}  // namespace cppnn::detail
