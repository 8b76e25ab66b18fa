#pragma once
// Where a GPU backend keeps what its JIT learned about one engine on one device (compiled
// kernels, library algorithm choices), so that the next start compiles nothing.
// docs/runtime-cache.md describes the keying, the files and what happens to bad ones.
#include <cstdint>
#include <string>
#include <vector>

namespace cppnn {

struct RuntimeCacheOptions {
  // Empty: default_runtime_cache_folder().
  std::string folder;
  // false: nothing is read or written; every start compiles from scratch.
  bool enabled = true;
  bool operator==(const RuntimeCacheOptions& o) const { return folder == o.folder && enabled == o.enabled; }
  bool operator!=(const RuntimeCacheOptions& o) const { return !(*this == o); }
};

// $CPPNN_CACHE_DIR, else $XDG_CACHE_HOME/cppnn, else $HOME/.cache/cppnn. Empty variables
// count as unset, and so does a relative XDG_CACHE_HOME (the XDG specification says to
// ignore it). Returns "" when none applies; a cache with no folder stores nothing.
std::string default_runtime_cache_folder();

// One file of a runtime cache folder that cppnn wrote (cppnn cache list / clear).
struct RuntimeCacheFile {
  std::string path;
  uint64_t bytes = 0;
  int64_t modified = 0;  // seconds since the Unix epoch
  // A writer's temporary file (in progress, or left by a crashed one), not an entry.
  bool temporary = false;
  // The key the entry's header names (docs/runtime-cache.md); all empty when the header
  // cannot be read (a truncated or foreign-version file, which load() would reject).
  std::string engine_hash, device_arch, driver_version, library_versions, cppnn_build;
};

// cppnn's files in `folder`, sorted by path: only what the cache itself writes, i.e.
// <folder>/<16 hex digits>/<16 hex digits>.cache regular files that start with the cache's
// magic, and their temporary files (<...>.cache.tmp-<pid>-<16 hex digits>). Nothing else in
// the folder is listed, and neither a symbolic link nor anything under one is followed.
// A missing folder lists nothing.
std::vector<RuntimeCacheFile> list_runtime_cache(const std::string& folder);

struct RuntimeCacheClearResult {
  size_t files = 0;    // removed
  uint64_t bytes = 0;  // their sizes
  // Files list_runtime_cache found that could not be removed, with the reason.
  std::vector<std::string> failures;
};

// Removes exactly the files list_runtime_cache(folder) lists, then each engine-hash folder
// left empty (rmdir: never a folder that still holds anything). The folder itself and
// everything else in it are left alone, so a CPPNN_CACHE_DIR that points at a folder
// shared with other files loses only cppnn's.
RuntimeCacheClearResult clear_runtime_cache(const std::string& folder);

}  // namespace cppnn
