// RuntimeCache: one file per key, written atomically, trusted only after parse_cache_file
// (runtime_cache_format.cpp) has checked all of it.
#include "runtime/runtime_cache.h"

#include "core/file_io.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>
#include <utility>

#include "core/hash.h"

namespace cppnn {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

std::string default_runtime_cache_folder() {
  if (std::string dir = env("CPPNN_CACHE_DIR"); !dir.empty()) return dir;
  if (std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty() && xdg.front() == '/')
    return (std::filesystem::path(xdg) / "cppnn").string();
  if (std::string home = env("HOME"); !home.empty())
    return (std::filesystem::path(home) / ".cache" / "cppnn").string();
  return "";
}

}  // namespace cppnn

namespace cppnn::detail {

namespace fs = std::filesystem;

namespace {

// Which temporary files a crashed writer may have left; younger ones may be in progress.
constexpr auto kStaleTemporaryAge = std::chrono::hours(1);
constexpr const char* kTemporaryMarker = ".cache.tmp-";

// The ELF build id (a hash the linker computes over the binary) of the object that holds
// this code: it changes whenever the code does, which a version number does not.
struct BuildIdSearch {
  uintptr_t address;
  std::string id;
};

int find_build_id(dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<BuildIdSearch*>(data);
  bool holds_address = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD && search->address >= start && search->address - start < ph.p_memsz)
      holds_address = true;
  }
  if (!holds_address) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const size_t align = ph.p_align == 8 ? 8 : 4;
    auto pad = [&](size_t n) { return (n + align - 1) / align * align; };
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (size_t(end - p) >= sizeof(ElfW(Nhdr))) {
      ElfW(Nhdr) note;
      std::memcpy(&note, p, sizeof(note));
      const size_t desc_at = sizeof(note) + pad(note.n_namesz);
      const size_t next_at = desc_at + pad(note.n_descsz);
      if (next_at > size_t(end - p)) break;
      const char* desc = p + desc_at;
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
          std::memcmp(p + sizeof(note), "GNU", 4) == 0) {
        static const char digits[] = "0123456789abcdef";
        for (size_t b = 0; b < note.n_descsz; ++b) {
          search->id += digits[uint8_t(desc[b]) >> 4];
          search->id += digits[uint8_t(desc[b]) & 15];
        }
        return 1;
      }
      p += next_at;
    }
  }
  return 1;
}


// Unique across processes (pid), threads and calls; O_EXCL settles what is left.
std::string temporary_suffix() {
  static std::atomic<uint64_t> counter{0};
  const uint64_t seed[4] = {
      uint64_t(::getpid()), uint64_t(std::hash<std::thread::id>{}(std::this_thread::get_id())),
      uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()), counter.fetch_add(1)};
  return std::to_string(::getpid()) + "-" + hash_hex(hash64(seed, sizeof(seed)));
}

void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().find(kTemporaryMarker) == std::string::npos) continue;
    std::error_code time_ec;
    auto written = fs::last_write_time(it->path(), time_ec);
    if (!time_ec && now - written > kStaleTemporaryAge) fs::remove(it->path(), time_ec);
  }
}

}  // namespace

std::string CacheKey::current_cppnn_build() {
  static const std::string build = [] {
    BuildIdSearch search{reinterpret_cast<uintptr_t>(&find_build_id), ""};
    dl_iterate_phdr(find_build_id, &search);
    std::string v = CPPNN_VERSION_STRING;
    return search.id.empty() ? v : v + "+" + search.id;
  }();
  return build;
}

RuntimeCache::RuntimeCache(RuntimeCacheOptions options)
    : folder_(options.folder.empty() ? default_runtime_cache_folder() : options.folder),
      enabled_(options.enabled && !folder_.empty()) {
  if (options.enabled && folder_.empty())
    last_problem_ = "runtime cache: no folder (set CPPNN_CACHE_DIR or HOME); caching is off";
}

std::string RuntimeCache::path_for(const CacheKey& key) const {
  if (folder_.empty() || !invalid_key_reason(key).empty()) return "";
  // The empty entry's file holds exactly the format version and the whole key.
  const std::string identity = serialize_cache_file(key, {});
  const std::string name = hash_hex(hash64(identity.data(), identity.size()));
  return (fs::path(folder_) / key.engine_hash / (name + ".cache")).string();
}

void RuntimeCache::note_problem(const std::string& why) const {
  std::lock_guard lock(problem_mutex_);
  last_problem_ = why;
}

std::optional<CacheEntry> RuntimeCache::reject(const std::string& path, const std::string& why,
                                               uint64_t dev, uint64_t ino) const {
  ++rejected_;
  // Only the file that was judged: a writer may have renamed a good one over it since.
  struct stat now {};
  bool removed = ::lstat(path.c_str(), &now) == 0 && uint64_t(now.st_dev) == dev &&
                 uint64_t(now.st_ino) == ino && ::unlink(path.c_str()) == 0;
  note_problem("runtime cache: rejected '" + path + "': " + why +
               (removed ? " (removed)" : " (not removed)"));
  return std::nullopt;
}

std::optional<CacheEntry> RuntimeCache::load(const CacheKey& key) const {
  if (!enabled_) {
    ++misses_;
    return std::nullopt;
  }
  if (std::string bad = invalid_key_reason(key); !bad.empty()) {
    note_problem("runtime cache: cannot load an invalid key: " + bad);
    ++misses_;
    return std::nullopt;
  }
  const std::string path = path_for(key);
  // O_NONBLOCK: a FIFO planted at the path must not hang the caller.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    struct stat symlink_stat {};
    if (err == ELOOP && ::lstat(path.c_str(), &symlink_stat) == 0)
      return reject(path, "is a symbolic link", symlink_stat.st_dev, symlink_stat.st_ino);
    if (err != ENOENT && err != ENOTDIR)
      note_problem("runtime cache: cannot open '" + path + "': " + std::strerror(err));
    ++misses_;
    return std::nullopt;
  }
  struct stat st {};
  std::string bytes;
  std::string problem;
  try {
    if (::fstat(fd, &st) != 0) {
      problem = "cannot stat: " + os_error();
    } else if (!S_ISREG(st.st_mode)) {
      problem = "not a regular file";
    } else if (uint64_t(st.st_size) > kMaxRuntimeCacheFileBytes) {
      problem = "larger than " + std::to_string(kMaxRuntimeCacheFileBytes) + " bytes";
    } else {
      bytes.resize(size_t(st.st_size));
      size_t done = 0;
      while (done < bytes.size()) {
        ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // an I/O error or a shorter file: the parse calls it truncated
        done += size_t(n);
      }
      bytes.resize(done);
    }
  } catch (const std::exception& e) {  // bad_alloc for a file that fits the cap but not memory
    ::close(fd);
    note_problem(std::string("runtime cache: cannot read '") + path + "': " + e.what());
    ++misses_;
    return std::nullopt;
  }
  ::close(fd);
  if (!problem.empty()) return reject(path, problem, st.st_dev, st.st_ino);
  std::optional<CacheEntry> entry;
  try {
    entry = parse_cache_file(bytes, key, problem);
  } catch (const std::exception& e) {
    problem = std::string("cannot parse: ") + e.what();
  }
  if (!entry) return reject(path, problem, st.st_dev, st.st_ino);
  ++hits_;
  return entry;
}

StoreResult RuntimeCache::store_failed(const std::string& why) const {
  ++store_failures_;
  note_problem("runtime cache: " + why);
  return {false, why};
}

StoreResult RuntimeCache::store(const CacheKey& key, const CacheEntry& entry) const {
  if (!enabled_) return {false, "the runtime cache is disabled"};
  if (std::string bad = invalid_key_reason(key); !bad.empty())
    return store_failed("cannot store an invalid key: " + bad);
  std::string path, tmp;
  int fd = -1;
  // Every way out of a failed store removes the temporary file, so no partial file stays.
  auto abandon = [&](const std::string& why) {
    if (fd >= 0) ::close(fd);
    if (!tmp.empty()) ::unlink(tmp.c_str());
    return store_failed(why);
  };
  try {
    std::string bytes = serialize_cache_file(key, entry);
    if (bytes.size() > kMaxRuntimeCacheFileBytes)
      return store_failed("an entry of " + std::to_string(bytes.size()) + " bytes is too large");
    path = path_for(key);
    const fs::path dir = fs::path(path).parent_path();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return store_failed("cannot create '" + dir.string() + "': " + ec.message());
    remove_stale_temporaries(dir);

    for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
      tmp = path + ".tmp-" + temporary_suffix();
      fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd < 0 && errno != EEXIST) {
        std::string why = "cannot create '" + tmp + "': " + os_error();
        tmp.clear();  // not ours to remove
        return abandon(why);
      }
    }
    if (fd < 0) {
      tmp.clear();
      return abandon("cannot create a temporary file in '" + dir.string() + "'");
    }
    if (!write_all(fd, bytes.data(), bytes.size()))
      return abandon("writing '" + tmp + "': " + os_error());
    if (::fsync(fd) != 0) return abandon("syncing '" + tmp + "': " + os_error());
    int closed = ::close(std::exchange(fd, -1));
    if (closed != 0) return abandon("closing '" + tmp + "': " + os_error());
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      return abandon("renaming '" + tmp + "' to '" + path + "': " + os_error());
    tmp.clear();
    // Makes the rename durable; the file is whole either way, so this is best effort.
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      (void)::fsync(dir_fd);
      ::close(dir_fd);
    }
  } catch (const std::exception& e) {
    return abandon(std::string("cannot store: ") + e.what());
  }
  ++stores_;
  return {true, ""};
}

bool RuntimeCache::remove(const CacheKey& key) const {
  std::string path = path_for(key);
  return enabled_ && !path.empty() && ::unlink(path.c_str()) == 0;
}

CacheStats RuntimeCache::stats() const {
  CacheStats s;
  s.hits = hits_;
  s.misses = misses_;
  s.rejected = rejected_;
  s.stores = stores_;
  s.store_failures = store_failures_;
  std::lock_guard lock(problem_mutex_);
  s.last_problem = last_problem_;
  return s;
}

}  // namespace cppnn::detail

namespace cppnn {

namespace {

namespace fs = std::filesystem;

bool is_hex16(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// The names the cache writes in an engine-hash folder: "<16 hex>.cache" (an entry) and
// "<16 hex>.cache.tmp-<pid>-<16 hex>" (a writer's temporary file, see temporary_suffix).
enum class CacheName { other, entry, temporary };
CacheName cache_name(const std::string& name) {
  if (name.size() < 22 || !is_hex16(name.substr(0, 16)) || name.compare(16, 6, ".cache") != 0)
    return CacheName::other;
  if (name.size() == 22) return CacheName::entry;
  const std::string rest = name.substr(22);
  const std::string marker = ".tmp-";
  if (rest.compare(0, marker.size(), marker) != 0) return CacheName::other;
  size_t dash = rest.find('-', marker.size());
  if (dash == std::string::npos || dash == marker.size()) return CacheName::other;
  for (size_t i = marker.size(); i < dash; ++i)
    if (rest[i] < '0' || rest[i] > '9') return CacheName::other;
  return is_hex16(rest.substr(dash + 1)) ? CacheName::temporary : CacheName::other;
}

// The first bytes of a regular file (never through a link, never blocking on a FIFO);
// nullopt when it is not one or cannot be read.
std::optional<std::string> read_head(const fs::path& path, size_t limit, struct stat& st) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  std::string bytes;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    bytes.resize(std::min<size_t>(limit, size_t(st.st_size)));
    ssize_t got = ::pread(fd, bytes.data(), bytes.size(), 0);
    bytes.resize(got > 0 ? size_t(got) : 0);
    ::close(fd);
    return bytes;
  }
  ::close(fd);
  return std::nullopt;
}

}  // namespace

std::vector<RuntimeCacheFile> list_runtime_cache(const std::string& folder) {
  std::vector<RuntimeCacheFile> files;
  if (folder.empty()) return files;
  std::error_code ec;
  for (fs::directory_iterator dir(folder, ec), end; !ec && dir != end; dir.increment(ec)) {
    std::error_code st_ec;
    // symlink_status: a link named like an engine hash is not followed.
    if (!is_hex16(dir->path().filename().string()) || !fs::is_directory(dir->symlink_status(st_ec)))
      continue;
    std::error_code inner_ec;
    for (fs::directory_iterator it(dir->path(), inner_ec); !inner_ec && it != end;
         it.increment(inner_ec)) {
      CacheName kind = cache_name(it->path().filename().string());
      if (kind == CacheName::other) continue;
      struct stat st {};
      // Magic, version, reserved and five key strings of at most 4096 bytes each.
      std::optional<std::string> head = read_head(it->path(), 16 + 5 * (4 + 4096), st);
      if (!head) continue;
      if (kind == CacheName::entry && !detail::is_cache_file_header(*head)) continue;
      RuntimeCacheFile f;
      f.path = it->path().string();
      f.bytes = uint64_t(st.st_size);
      f.modified = int64_t(st.st_mtime);
      f.temporary = kind == CacheName::temporary;
      if (std::optional<detail::CacheKey> key = detail::read_cache_file_key(*head)) {
        f.engine_hash = key->engine_hash;
        f.device_arch = key->device_arch;
        f.driver_version = key->driver_version;
        f.library_versions = key->library_versions;
        f.cppnn_build = key->cppnn_version;
      }
      files.push_back(std::move(f));
    }
  }
  std::sort(files.begin(), files.end(),
            [](const RuntimeCacheFile& a, const RuntimeCacheFile& b) { return a.path < b.path; });
  return files;
}

RuntimeCacheClearResult clear_runtime_cache(const std::string& folder) {
  RuntimeCacheClearResult result;
  std::vector<RuntimeCacheFile> files = list_runtime_cache(folder);
  std::vector<std::string> dirs;
  for (const RuntimeCacheFile& f : files) {
    if (::unlink(f.path.c_str()) == 0) {
      ++result.files;
      result.bytes += f.bytes;
    } else if (errno != ENOENT) {
      result.failures.push_back(f.path + ": " + std::strerror(errno));
    }
    std::string dir = fs::path(f.path).parent_path().string();
    if (dirs.empty() || dirs.back() != dir) dirs.push_back(dir);
  }
  // rmdir refuses a folder that still holds anything: another program's files stay.
  for (const std::string& dir : dirs) ::rmdir(dir.c_str());
  return result;
}

}  // namespace cppnn
