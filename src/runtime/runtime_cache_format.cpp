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
// the bytes left, and requires the blobs to end exactly at the checksum.
#include <cstring>

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

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
}
void put_str(std::string& out, const std::string& s) {
  put_u32(out, uint32_t(s.size()));
  out += s;
}

// Every read checks the bytes left first; after a failed read the reader stays failed,
// so a parse can run to its end and check `ok` once per step.
class ByteReader {
 public:
  ByteReader(const std::string& bytes, size_t end) : p_(bytes.data()), left_(end) {}
  bool ok() const { return ok_; }
  size_t left() const { return left_; }

  uint32_t u32() {
    uint32_t v = 0;
    if (take(4))
      for (int i = 0; i < 4; ++i) v |= uint32_t(uint8_t(p_[i - 4])) << (8 * i);
    return v;
  }
  uint64_t u64() {
    uint64_t v = 0;
    if (take(8))
      for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(p_[i - 8])) << (8 * i);
    return v;
  }
  // At most `max` bytes; a longer length fails the reader instead of allocating it.
  std::string bytes(uint64_t size, uint64_t max) {
    if (size > max || !take(size)) {
      ok_ = false;
      return {};
    }
    return std::string(p_ - size, size);
  }
  std::string str(uint64_t max) { return bytes(u32(), max); }

 private:
  bool take(uint64_t n) {
    if (!ok_ || n > left_) return ok_ = false;
    p_ += n;
    left_ -= n;
    return true;
  }
  const char* p_;
  size_t left_;
  bool ok_ = true;
};

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
  std::string out;
  out.reserve(size);
  out.append(kMagic, sizeof(kMagic));
  put_u32(out, kRuntimeCacheFormatVersion);
  put_u32(out, 0);
  put_str(out, key.engine_hash);
  put_str(out, key.device_arch);
  put_str(out, key.driver_version);
  put_str(out, key.library_versions);
  put_str(out, key.cppnn_version);
  put_u32(out, uint32_t(entry.size()));
  for (const auto& [name, blob] : entry) {
    put_str(out, name);
    put_u64(out, blob.size());
    out += blob;
  }
  put_u64(out, checksum_of(out, out.size()));
  return out;
}

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
  ByteReader r(bytes, body);
  r.bytes(sizeof(kMagic), sizeof(kMagic));
  uint32_t version = r.u32();
  // A version check before the checksum: another version may checksum differently.
  if (version > kRuntimeCacheFormatVersion)
    return refuse("format version " + std::to_string(version) + " is newer than this build's " +
                  std::to_string(kRuntimeCacheFormatVersion));
  if (version != kRuntimeCacheFormatVersion)
    return refuse("format version " + std::to_string(version) + " is not " +
                  std::to_string(kRuntimeCacheFormatVersion));
  ByteReader tail(bytes, bytes.size());
  tail.bytes(body, body);
  if (tail.u64() != checksum_of(bytes, body)) return refuse("checksum mismatch");

  if (r.u32() != 0) return refuse("reserved field is not zero");
  CacheKey key;
  key.engine_hash = r.str(kMaxKeyString);
  key.device_arch = r.str(kMaxKeyString);
  key.driver_version = r.str(kMaxKeyString);
  key.library_versions = r.str(kMaxKeyString);
  key.cppnn_version = r.str(kMaxKeyString);
  if (!r.ok()) return refuse("truncated key");
  if (!(key == expected)) return refuse("the file holds the entry of another key");

  uint32_t count = r.u32();
  // Each blob takes at least its two lengths, so no honest count exceeds this.
  if (!r.ok() || count > r.left() / (4 + 8)) return refuse("blob count exceeds the file");
  CacheEntry entry;
  const std::string* previous = nullptr;
  for (uint32_t i = 0; i < count; ++i) {
    std::string name = r.str(r.left());
    uint64_t size = r.u64();
    std::string blob = r.bytes(size, r.left());
    if (!r.ok()) return refuse("blob " + std::to_string(i) + " exceeds the file");
    if (previous && !(*previous < name)) return refuse("blob names are not strictly ascending");
    previous = &entry.emplace_hint(entry.end(), std::move(name), std::move(blob))->first;
  }
  if (r.left() != 0) return refuse("stray bytes after the blobs");
  return entry;
}

}  // namespace cppnn::detail
