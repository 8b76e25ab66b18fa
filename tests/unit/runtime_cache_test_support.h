#pragma once
// Shared by the runtime cache's test files: a scratch folder per test, keys and entries,
// raw file access, and a way to run a step in a child process (another uid, another
// rlimit, or simply another process writing the same cache).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/hash.h"
#include "runtime/runtime_cache.h"

namespace cppnn::testing {

namespace fs = std::filesystem;
using detail::CacheEntry;
using detail::CacheKey;
using detail::RuntimeCache;

inline CacheKey cache_key(const std::string& arch = "sm_90") {
  CacheKey k;
  k.engine_hash = "0123456789abcdef";
  k.device_arch = arch;
  k.driver_version = "580.65.06";
  k.library_versions = "cuda13.0;cudnn9.19;cublasLt13.0";
  return k;
}

// Binary blobs (NULs, every byte value), an empty blob and an empty name: the names and
// bytes are opaque to the cache.
inline CacheEntry cache_entry(uint32_t seed = 1, size_t payload = 300) {
  std::mt19937 gen(seed);
  std::string cubin(payload, '\0');
  for (char& c : cubin) c = char(gen() & 0xff);
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(char(b));
  return {{"cubin:gemm_bias_relu_0", cubin},
          {"algo:conv_3", "cudnn engine 7, knobs 1,0,4 " + std::to_string(seed)},
          {"bytes", all_bytes},
          {"empty", ""},
          {"", "unnamed"},
          {std::string("name\0with nul", 13), "x"}};
}

inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// Every file under `dir` whose name marks it as a store's temporary file.
inline std::vector<fs::path> temporary_files(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().find(".tmp-") != std::string::npos)
      found.push_back(it->path());
  return found;
}

inline bool is_lower_hex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

inline std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[size_t(i)] = char((v >> (8 * i)) & 0xff);
  return s;
}
inline std::string le64(uint64_t v) { return le32(uint32_t(v)) + le32(uint32_t(v >> 32)); }

// Rewrites the trailing checksum to match the rest, as a careful forger would, so that a
// test reaches the checks behind the checksum.
inline std::string with_cache_checksum(std::string bytes) {
  uint64_t h = detail::hash64(bytes.data(), bytes.size() - 8, 0);
  bytes.replace(bytes.size() - 8, 8, le64(h));
  return bytes;
}

// Starts `step` in a forked child, which leaves with _exit: it runs no gtest or static
// teardown of the parent's. Fork only from the test's main thread: a child forked while
// another thread holds a lock (the allocator's, under a sanitizer) can deadlock.
inline pid_t start_child(const std::function<int()>& step) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = 99;
    try {
      code = step();
    } catch (...) {
      code = 98;
    }
    ::_exit(code);
  }
  return pid;
}

// The child's exit status, or -1 if it did not exit normally.
inline int wait_child(pid_t pid) {
  if (pid < 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline int run_in_child(const std::function<int()>& step) { return wait_child(start_child(step)); }

// Permissions do not stop root, so a child process that tests them first drops to `nobody`
// when it is root. Returns 0, or a nonzero exit code for the child when that fails.
inline int drop_root() {
  if (::geteuid() != 0) return 0;
  return ::setgid(65534) == 0 && ::setuid(65534) == 0 ? 0 : 90;
}

// A scratch folder per test under gtest's temp dir, removed afterwards.
class RuntimeCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("cppnn_rtcache_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Children that drop root privileges must still reach their folders.
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  }
  void TearDown() override {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_directory(ec))
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  RuntimeCacheOptions options(const std::string& sub = "cache") const {
    RuntimeCacheOptions o;
    o.folder = (dir_ / sub).string();
    return o;
  }
  fs::path dir_;
};

}  // namespace cppnn::testing
