#pragma once
// Where a GPU backend keeps what its JIT learned about one engine on one device (compiled
// kernels, library algorithm choices), so that the next start compiles nothing.
// docs/runtime-cache.md describes the keying, the files and what happens to bad ones.
#include <string>

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

}  // namespace cppnn
