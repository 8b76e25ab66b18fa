// A runtime-cache file from hostile bytes, with its trailing checksum recomputed (it guards
// against accidents only) so that mutations reach the parser behind it. The file is parsed
// directly and through RuntimeCache::load from a cache folder; both must agree, an accepted
// file must serialize back to the same bytes (the format has one spelling of each entry),
// and nothing may throw: a cache answers "no entry" for anything a file holds.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/hash.h"
#include "fuzz/fuzz_support.h"
#include "runtime/runtime_cache.h"

namespace {

using cppnn::detail::CacheEntry;
using cppnn::detail::CacheKey;

// The key tests/fuzz/make_seeds.py writes its runtime-cache seeds for. A fixed build string
// instead of this binary's build id keeps the seeds valid across builds.
CacheKey fuzz_key() {
  CacheKey k;
  k.engine_hash = "0123456789abcdef";
  k.device_arch = "sm_90";
  k.driver_version = "580.65.06";
  k.library_versions = "cuda13.0;cudnn9.19;cublasLt13.0";
  k.cppnn_version = "0.1.0 fuzz";
  return k;
}

// A scratch cache folder for the process, removed at exit.
struct ScratchFolder {
  std::string path;
  ScratchFolder() {
    const char* tmp = std::getenv("TMPDIR");
    path = std::string(tmp && *tmp ? tmp : "/tmp") + "/cppnn_fuzz_rtc_XXXXXX";
    if (!::mkdtemp(path.data())) cppnn::fuzz::finding("cannot make a scratch folder");
  }
  ~ScratchFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

const std::string& cache_folder() {
  static const ScratchFolder folder;
  return folder.path;
}

std::string with_checksum(std::string bytes) {
  if (bytes.size() < 8) return bytes;
  uint64_t h = cppnn::detail::hash64(bytes.data(), bytes.size() - 8, 0);
  for (int i = 0; i < 8; ++i) bytes[bytes.size() - 8 + size_t(i)] = char((h >> (8 * i)) & 0xff);
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cppnn;
  const std::string bytes = with_checksum(std::string(reinterpret_cast<const char*>(data), size));
  const CacheKey key = fuzz_key();
  std::optional<CacheEntry> parsed;
  std::string why;
  try {
    parsed = detail::parse_cache_file(bytes, key, why);
  } catch (const std::exception& e) {
    fuzz::finding(std::string("parse_cache_file threw ") + typeid(e).name() + ": " + e.what());
  }
  if (parsed) {
    std::string again = detail::serialize_cache_file(key, *parsed);
    if (again != bytes) fuzz::finding("an accepted cache file serializes to other bytes");
  } else if (why.empty()) {
    fuzz::finding("parse_cache_file refused a file without saying why");
  }

  // The same bytes as a file in a cache folder.
  RuntimeCacheOptions options;
  options.folder = cache_folder();
  detail::RuntimeCache cache(options);
  std::string path = cache.path_for(key);
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
  }
  std::optional<CacheEntry> loaded;
  try {
    loaded = cache.load(key);
  } catch (const std::exception& e) {
    fuzz::finding(std::string("RuntimeCache::load threw ") + typeid(e).name() + ": " + e.what());
  }
  if (loaded != parsed) fuzz::finding("RuntimeCache::load and parse_cache_file disagree");
  if (!loaded && std::filesystem::exists(path))
    fuzz::finding("a refused cache file was left in place");
  ::unlink(path.c_str());
  return 0;
}
