#pragma once
// A 64-bit non-cryptographic content hash for engine files: it detects corruption (a
// flipped bit, a truncated copy) and keys the runtime cache. It is not a defence against
// someone who crafts a file on purpose; the engine loader validates everything anyway.
#include <cstddef>
#include <cstdint>
#include <string>

namespace cppnn::detail {

// XXH64 of `size` bytes (the published xxHash64 algorithm, written here so the file format
// does not depend on a library being present): about 10 GB/s, so hashing the weights of a
// large model costs milliseconds.
uint64_t hash64(const void* data, size_t size, uint64_t seed = 0);

// 16 lowercase hex digits, most significant first.
std::string hash_hex(uint64_t hash);

}  // namespace cppnn::detail
