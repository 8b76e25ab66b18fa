// The runtime cache's file format, version 1 (docs/runtime-cache.md says the same).
//
// Integers are little-endian and fixed-width; `str` is a u32 byte length and the bytes.
//
//   u8[8]  magic "CPPNNRTC"
//   u32    format version (1)
//   u32    reserved (0)
//   str    engine hash, device architecture, driver version, library versions,
//          cppnn build: the whole key, compared with the key asked for on load, because
//          the file name is only a 64-bit hash of most of it
//   u32    blob count
//   blobs, in strictly ascending name order (so there are no duplicates and equal entries
//   give equal files): str name, u64 size, size bytes
//   u64    checksum: XXH64 (src/core/hash.h), seed 0, of every byte before it
//
// The reader trusts nothing: it checks the size, magic and version, then the checksum
// before parsing anything, then bounds-checks every read, caps every count and length by
// the bytes left, and requires the blobs to end exactly at the checksum. Bytes are read and
// written with core/bytes.h; its reader here never throws (a bad file is refused, saying
// why, not an error).
#include <cstring>

#include "core/bytes.h"
#include "core/hash.h"
#include "runtime/runtime_cache.h"

namespace cppnn::detail {

namespace {

constexpr char kMagic[8] = {'C', 'P', 'P', 'N', 'N', 'R', 'T', 'C'};
// Key strings are short identifiers; a longer one in a file is corruption, not a key.
constexpr size_t kMaxKeyString = 4096;
constexpr size_t kChecksumBytes = 8;
// magic, version, reserved, five key lengths, blob count.
constexpr size_t kMinFileBytes = 8 + 4 + 4 + 5 * 4 + 4 + kChecksumBytes;

uint64_t checksum_of(const std::string& bytes, size_t size) {
  return hash64(bytes.data(), size, 0);
}

bool is_lower_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string invalid_key_reason(const CacheKey& key) {
  if (key.engine_hash.size() != 16 || !is_lower_hex(key.engine_hash))
    return "the engine hash must be 16 lowercase hex digits, got '" +
           key.engine_hash.substr(0, 64) + "'";
  for (const std::string* s :
       {&key.device_arch, &key.driver_version, &key.library_versions, &key.cppnn_version})
    if (s->size() > kMaxKeyString)
      return "a key string is longer than " + std::to_string(kMaxKeyString) + " bytes";
  return "";
}

std::string serialize_cache_file(const CacheKey& key, const CacheEntry& entry) {
  size_t size = kMinFileBytes + key.engine_hash.size() + key.device_arch.size() +
                key.driver_version.size() + key.library_versions.size() + key.cppnn_version.size();
  for (const auto& [name, blob] : entry) size += 4 + name.size() + 8 + blob.size();
  ByteWriter w("runtime cache");
  w.reserve(size);
  w.raw(kMagic, sizeof(kMagic));
  w.u32(kRuntimeCacheFormatVersion);
  w.u32(0);
  w.str(key.engine_hash);
  w.str(key.device_arch);
  w.str(key.driver_version);
  w.str(key.library_versions);
  w.str(key.cppnn_version);
  w.count(entry.size());
  for (const auto& [name, blob] : entry) {
    w.str(name);
    w.u64(blob.size());
    w.raw(blob.data(), blob.size());
  }
  w.u64(checksum_of(w.bytes(), w.size()));
  return w.take();
}

namespace {

// The key's five strings, in the order write_cache_file puts them (a failed read leaves
// the reader failed: callers check r.ok()).
CacheKey read_key(ByteReader& r) {
  CacheKey key;
  key.engine_hash = r.str("the engine hash", kMaxKeyString);
  key.device_arch = r.str("the device architecture", kMaxKeyString);
  key.driver_version = r.str("the driver version", kMaxKeyString);
  key.library_versions = r.str("the library versions", kMaxKeyString);
  key.cppnn_version = r.str("the cppnn build", kMaxKeyString);
  return key;
}

}  // namespace

std::optional<CacheEntry> parse_cache_file(const std::string& bytes, const CacheKey& expected,
                                           std::string& why) {
  auto refuse = [&](std::string reason) -> std::optional<CacheEntry> {
    why = std::move(reason);
    return std::nullopt;
  };
  if (bytes.size() < kMinFileBytes)
    return refuse("truncated (" + std::to_string(bytes.size()) + " bytes)");
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) return refuse("bad magic");
  const size_t body = bytes.size() - kChecksumBytes;
  ByteReader r(bytes.data(), body);
  r.skip(sizeof(kMagic), "the magic");
  uint32_t version = r.u32("the format version");
  // A version check before the checksum: another version may checksum differently.
  if (version > kRuntimeCacheFormatVersion)
    return refuse("format version " + std::to_string(version) + " is newer than this build's " +
                  std::to_string(kRuntimeCacheFormatVersion));
  if (version != kRuntimeCacheFormatVersion)
    return refuse("format version " + std::to_string(version) + " is not " +
                  std::to_string(kRuntimeCacheFormatVersion));
  if (get_le64(reinterpret_cast<const uint8_t*>(bytes.data()) + body) != checksum_of(bytes, body))
    return refuse("checksum mismatch");

  if (r.u32("the reserved field") != 0) return refuse("reserved field is not zero");
  CacheKey key = read_key(r);
  if (!r.ok()) return refuse("truncated key");
  if (!(key == expected)) return refuse("the file holds the entry of another key");

  // Each blob takes at least its two lengths, so no honest count exceeds the bytes left
  // over 12.
  size_t count = r.count("the blob count", 4 + 8);
  if (!r.ok()) return refuse("blob count exceeds the file");
  CacheEntry entry;
  const std::string* previous = nullptr;
  for (size_t i = 0; i < count; ++i) {
    std::string name = r.str("a blob name");
    uint64_t size = r.u64("a blob size");
    std::string blob = r.bytes(size_t(size), "a blob");
    if (!r.ok()) return refuse("blob " + std::to_string(i) + " exceeds the file");
    if (previous && !(*previous < name)) return refuse("blob names are not strictly ascending");
    previous = &entry.emplace_hint(entry.end(), std::move(name), std::move(blob))->first;
  }
  if (r.remaining() != 0) return refuse("stray bytes after the blobs");
  return entry;
}

bool is_cache_file_header(const std::string& bytes) {
  return bytes.size() >= sizeof(kMagic) && std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) == 0;
}

std::optional<CacheKey> read_cache_file_key(const std::string& bytes) {
  if (!is_cache_file_header(bytes)) return std::nullopt;
  ByteReader r(bytes.data(), bytes.size());
  r.skip(sizeof(kMagic), "the magic");
  if (r.u32("the format version") != kRuntimeCacheFormatVersion) return std::nullopt;
  r.u32("the reserved field");
  CacheKey key = read_key(r);
  if (!r.ok()) return std::nullopt;
  return key;
}

}  // namespace cppnn::detail
