#pragma once
// Writing engine bytes as a forger would: little-endian fields, strings, and the header's
// checksum recomputed after a patch (anyone can compute it), so that crafted payloads reach
// the reader's validation instead of stopping at the checksum.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "engine/engine_format.h"

namespace cppnn::testing {

inline constexpr size_t kEngineHeader = 64;

inline std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[size_t(i)] = char((v >> (8 * i)) & 0xff);
  return s;
}
inline std::string le64(uint64_t v) { return le32(uint32_t(v)) + le32(uint32_t(v >> 32)); }
// A string as the format writes it: its length, then its bytes.
inline std::string str(const std::string& s) { return le32(uint32_t(s.size())) + s; }

// Rewrites the header's checksum to match the payload.
inline std::string with_checksum(std::string bytes) {
  uint64_t h = detail::engine_payload_hash(
      reinterpret_cast<const uint8_t*>(bytes.data()) + kEngineHeader, bytes.size() - kEngineHeader);
  bytes.replace(24, 8, le64(h));
  return bytes;
}

// Replaces the one occurrence of `find` in the payload (the first one if `first`), then
// fixes the checksum; a missing or repeated pattern fails the test.
inline std::string patched(std::string bytes, const std::string& find, const std::string& replace,
                           bool first = false) {
  size_t at = bytes.find(find, kEngineHeader);
  if (at == std::string::npos || (!first && bytes.find(find, at + 1) != std::string::npos)) {
    ADD_FAILURE() << "the pattern to patch is missing or not unique";
    return bytes;
  }
  bytes.replace(at, find.size(), replace);
  return with_checksum(std::move(bytes));
}

}  // namespace cppnn::testing
