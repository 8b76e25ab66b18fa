#pragma once
// The runtime cache: named byte strings (cubins, algorithm choices) that a backend's JIT
// learned for one engine on one device, stored one file per key under
//   <folder>/<engine hash>/<hash of the rest of the key>.cache
// A cache is an optimization, so nothing here throws for anything a file holds or for a
// failure to write: load() answers "no entry" and store() answers false, and both count
// what happened in stats(). Every method is safe to call from many threads, and many
// processes may share one folder. docs/runtime-cache.md describes the file format.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "cppnn/runtime_cache.h"

namespace cppnn::detail {

// The file format this build writes and the only one it reads: an entry is cheap to
// rebuild, so files of any other version are rejected rather than converted.
inline constexpr uint32_t kRuntimeCacheFormatVersion = 1;
// A larger file is not stored, and one found on disk is rejected unread: cubins and
// algorithm choices for even a large model are megabytes, so this is corruption or abuse.
inline constexpr uint64_t kMaxRuntimeCacheFileBytes = uint64_t(1) << 30;

struct CacheKey {
  // Engine::hash(): 16 lowercase hex digits. It names a folder, so nothing else is allowed.
  std::string engine_hash;
  // e.g. "sm_90"
  std::string device_arch;
  // The NVIDIA driver version, e.g. "580.65.06".
  std::string driver_version;
  // Every library whose output or choices are cached, e.g. "cuda13.0;cudnn9.19;cublasLt13.0".
  std::string library_versions;
  // Which cppnn build learned the entry: its version and the ELF build id of the binary that
  // holds this code, so that a rebuilt cppnn (whose code generator may have changed) never
  // trusts what another build wrote, even under the same version number.
  std::string cppnn_version = current_cppnn_build();

  static std::string current_cppnn_build();
  bool operator==(const CacheKey&) const = default;
};

// Blob name -> bytes. The names are the backend's business (e.g. "cubin:fused_gelu_3").
using CacheEntry = std::map<std::string, std::string>;

struct StoreResult {
  bool ok = false;
  std::string problem;  // why not, when !ok
  explicit operator bool() const { return ok; }
};

// Every load() ends in exactly one of hits, misses or rejected.
struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;          // no entry (or the cache is disabled, or the key is invalid)
  uint64_t rejected = 0;        // a file was there but corrupt, truncated, or for another key
  uint64_t stores = 0;          // store() calls that wrote an entry
  uint64_t store_failures = 0;  // store() calls that could not (a disabled cache is no failure)
  std::string last_problem;     // the latest rejection or failure, for a warning in a log
};

class RuntimeCache {
 public:
  explicit RuntimeCache(RuntimeCacheOptions options = {});
  RuntimeCache(const RuntimeCache&) = delete;
  RuntimeCache& operator=(const RuntimeCache&) = delete;

  // nullopt when there is no usable entry. A file that is there but cannot be trusted is
  // removed, so that the next store() writes a good one.
  std::optional<CacheEntry> load(const CacheKey& key) const;
  // Atomic: other readers see the previous file or the complete new one, never a mix;
  // among concurrent stores of one key, the last to finish wins.
  StoreResult store(const CacheKey& key, const CacheEntry& entry) const;
  // For a backend that found a loaded entry unusable (e.g. the driver refused a cubin).
  bool remove(const CacheKey& key) const;

  // The file a key lives in; "" when the cache has no folder or the key is invalid.
  std::string path_for(const CacheKey& key) const;
  bool enabled() const { return enabled_; }
  const std::string& folder() const { return folder_; }
  CacheStats stats() const;

 private:
  std::optional<CacheEntry> reject(const std::string& path, const std::string& why, uint64_t dev,
                                   uint64_t ino) const;
  StoreResult store_failed(const std::string& why) const;
  void note_problem(const std::string& why) const;

  std::string folder_;
  bool enabled_;
  mutable std::atomic<uint64_t> hits_{0}, misses_{0}, rejected_{0}, stores_{0}, store_failures_{0};
  mutable std::mutex problem_mutex_;
  mutable std::string last_problem_;
};

// "" when the key can name a file, else what is wrong with it.
std::string invalid_key_reason(const CacheKey& key);

// The file's bytes for an entry, and the reverse; parse_cache_file checks everything and
// says why it refuses in `why`. Exposed for the tests, which craft files with them.
std::string serialize_cache_file(const CacheKey& key, const CacheEntry& entry);
std::optional<CacheEntry> parse_cache_file(const std::string& bytes, const CacheKey& expected,
                                           std::string& why);
// True if `bytes` start with the file's magic; then the key its header names, when the
// header is complete and of this format version (no checksum: for listing, not trusting).
bool is_cache_file_header(const std::string& bytes);
std::optional<CacheKey> read_cache_file_key(const std::string& bytes);

}  // namespace cppnn::detail
