// The runtime cache's behaviour with good files: round trips, keying, the default folder,
// a disabled cache, failures to write (which must never throw or leave a partial file),
// and concurrent writers in threads and processes. Bad files: test_runtime_cache_corrupt.cpp.
#include <signal.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "runtime_cache_test_support.h"

namespace cppnn {
namespace {

using namespace cppnn::testing;

TEST_F(RuntimeCacheTest, RoundTrip) {
  RuntimeCache cache(options());
  const CacheKey key = cache_key();
  EXPECT_EQ(cache.load(key), std::nullopt);  // nothing yet
  const CacheEntry entry = cache_entry();
  auto stored = cache.store(key, entry);
  ASSERT_TRUE(stored) << stored.problem;

  // The layout: <folder>/<engine hash>/<16 hex digits>.cache
  fs::path path = cache.path_for(key);
  EXPECT_EQ(path.parent_path(), dir_ / "cache" / key.engine_hash);
  const std::string name = path.filename().string();
  EXPECT_TRUE(name.size() == 22 && is_lower_hex(name.substr(0, 16)) && name.ends_with(".cache"))
      << path;
  EXPECT_TRUE(fs::is_regular_file(path));

  std::optional<CacheEntry> loaded = cache.load(key);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(*loaded, entry);
  // A new cache object is what the next process start sees.
  RuntimeCache later(options());
  EXPECT_EQ(later.load(key), entry);

  // A store replaces the entry as a whole; an empty entry is an entry too.
  CacheEntry smaller = {{"only", "one blob"}};
  ASSERT_TRUE(cache.store(key, smaller));
  EXPECT_EQ(cache.load(key), smaller);
  ASSERT_TRUE(cache.store(key, {}));
  EXPECT_EQ(cache.load(key), CacheEntry{});

  detail::CacheStats s = cache.stats();
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.rejected, 0u);
  EXPECT_EQ(s.stores, 3u);
  EXPECT_EQ(s.store_failures, 0u);
  EXPECT_TRUE(temporary_files(dir_).empty());
}

TEST_F(RuntimeCacheTest, EqualEntriesGiveEqualFiles) {
  RuntimeCache cache(options());
  ASSERT_TRUE(cache.store(cache_key(), cache_entry(4)));
  std::string first = read_bytes(cache.path_for(cache_key()));
  ASSERT_TRUE(cache.store(cache_key(), cache_entry(4)));
  EXPECT_EQ(read_bytes(cache.path_for(cache_key())), first);
  EXPECT_EQ(first, detail::serialize_cache_file(cache_key(), cache_entry(4)));
}

TEST_F(RuntimeCacheTest, EveryKeyFieldSeparatesEntries) {
  RuntimeCache cache(options());
  const CacheKey base = cache_key();
  std::vector<std::pair<std::string, CacheKey>> variants;
  auto vary = [&](const std::string& what, auto change) {
    CacheKey k = base;
    change(k);
    variants.emplace_back(what, k);
  };
  vary("engine hash", [](CacheKey& k) { k.engine_hash = "0123456789abcdee"; });
  vary("architecture", [](CacheKey& k) { k.device_arch = "sm_89"; });
  vary("driver", [](CacheKey& k) { k.driver_version = "580.65.07"; });
  vary("libraries", [](CacheKey& k) { k.library_versions = "cuda13.0;cudnn9.20;cublasLt13.0"; });
  vary("cppnn build", [](CacheKey& k) { k.cppnn_version += "-other"; });
  // Length-prefixed fields: moving a character from one field to the next is another key.
  vary("field boundary", [](CacheKey& k) {
    k.device_arch = "sm_905";
    k.driver_version = "80.65.06";
  });

  ASSERT_TRUE(cache.store(base, cache_entry(0)));
  std::set<std::string> paths = {cache.path_for(base)};
  for (const auto& [what, key] : variants) {
    EXPECT_EQ(cache.load(key), std::nullopt) << what;
    paths.insert(cache.path_for(key));
  }
  EXPECT_EQ(paths.size(), variants.size() + 1) << "two keys share a file";
  EXPECT_EQ(cache.stats().misses, variants.size());
  EXPECT_EQ(cache.stats().rejected, 0u);

  // They coexist: each key gets its own entry back.
  for (size_t i = 0; i < variants.size(); ++i)
    ASSERT_TRUE(cache.store(variants[i].second, cache_entry(uint32_t(i + 1))));
  EXPECT_EQ(cache.load(base), cache_entry(0));
  for (size_t i = 0; i < variants.size(); ++i)
    EXPECT_EQ(cache.load(variants[i].second), cache_entry(uint32_t(i + 1))) << variants[i].first;
  // Devices of one engine share its folder.
  EXPECT_EQ(fs::path(cache.path_for(variants[1].second)).parent_path(),
            fs::path(cache.path_for(base)).parent_path());
}

TEST_F(RuntimeCacheTest, KeyNamesThisBuild) {
  const std::string build = CacheKey::current_cppnn_build();
  EXPECT_EQ(CacheKey{}.cppnn_version, build);
  // A version, then the ELF build id of this binary (Debian's toolchain always writes one).
  const size_t plus = build.find('+');
  ASSERT_NE(plus, std::string::npos) << build;
  EXPECT_GT(plus, 0u) << build;
  EXPECT_EQ(build.find_first_not_of("0123456789."), plus) << build;
  EXPECT_GE(build.size() - plus - 1, 16u) << build;
  EXPECT_TRUE(is_lower_hex(build.substr(plus + 1))) << build;
}

TEST_F(RuntimeCacheTest, InvalidKeysNameNoFile) {
  RuntimeCache cache(options());
  for (std::string bad :
       std::vector<std::string>{"", "0123456789abcde", "0123456789ABCDEF", "../../../../etc/x",
                                "0123456789abcdef0", std::string("0123456789abcde\0", 16)}) {
    CacheKey key = cache_key();
    key.engine_hash = bad;
    EXPECT_EQ(cache.path_for(key), "") << bad;
    detail::StoreResult r;
    EXPECT_NO_THROW(r = cache.store(key, cache_entry()));
    EXPECT_FALSE(r.ok) << bad;
    EXPECT_NE(r.problem.find("engine hash"), std::string::npos) << r.problem;
    EXPECT_EQ(cache.load(key), std::nullopt);
  }
  CacheKey huge = cache_key();
  huge.library_versions.assign(5000, 'x');
  EXPECT_FALSE(cache.store(huge, cache_entry()));
  EXPECT_FALSE(fs::exists(dir_ / "cache")) << "an invalid key created something";
  EXPECT_EQ(cache.stats().store_failures, 7u);
}

TEST_F(RuntimeCacheTest, RemoveDropsTheEntry) {
  RuntimeCache cache(options());
  ASSERT_TRUE(cache.store(cache_key(), cache_entry()));
  ASSERT_TRUE(cache.store(cache_key("sm_80"), cache_entry(2)));
  EXPECT_TRUE(cache.remove(cache_key()));
  EXPECT_FALSE(cache.remove(cache_key()));
  EXPECT_EQ(cache.load(cache_key()), std::nullopt);
  EXPECT_EQ(cache.load(cache_key("sm_80")), cache_entry(2));
}

// Sets or unsets environment variables for one scope and puts them back afterwards.
class ScopedEnv {
 public:
  void set(const char* name, const char* value) {
    if (!saved_.count(name)) {
      const char* old = std::getenv(name);
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_F(RuntimeCacheTest, DefaultFolderFollowsTheEnvironment) {
  ScopedEnv env;
  env.set("CPPNN_CACHE_DIR", "/opt/cppnn-cache");
  env.set("XDG_CACHE_HOME", "/xdg");
  env.set("HOME", "/home/user");
  EXPECT_EQ(default_runtime_cache_folder(), "/opt/cppnn-cache");
  env.set("CPPNN_CACHE_DIR", "");  // empty counts as unset
  EXPECT_EQ(default_runtime_cache_folder(), "/xdg/cppnn");
  env.set("CPPNN_CACHE_DIR", nullptr);
  EXPECT_EQ(default_runtime_cache_folder(), "/xdg/cppnn");
  env.set("XDG_CACHE_HOME", "relative/dir");  // the XDG specification says to ignore it
  EXPECT_EQ(default_runtime_cache_folder(), "/home/user/.cache/cppnn");
  env.set("XDG_CACHE_HOME", nullptr);
  EXPECT_EQ(default_runtime_cache_folder(), "/home/user/.cache/cppnn");
  env.set("HOME", nullptr);
  EXPECT_EQ(default_runtime_cache_folder(), "");

  // No folder at all: the cache is off, says why, and stores nothing.
  RuntimeCache nowhere{RuntimeCacheOptions{}};
  EXPECT_FALSE(nowhere.enabled());
  EXPECT_NE(nowhere.stats().last_problem.find("CPPNN_CACHE_DIR"), std::string::npos);
  EXPECT_FALSE(nowhere.store(cache_key(), cache_entry()));
  EXPECT_EQ(nowhere.load(cache_key()), std::nullopt);

  // An empty folder option means the default one; an explicit folder wins over it.
  env.set("CPPNN_CACHE_DIR", (dir_ / "from-env").c_str());
  RuntimeCache by_env{RuntimeCacheOptions{}};
  EXPECT_EQ(by_env.folder(), (dir_ / "from-env").string());
  ASSERT_TRUE(by_env.store(cache_key(), cache_entry()));
  EXPECT_TRUE(fs::exists(dir_ / "from-env" / cache_key().engine_hash));
  RuntimeCache explicit_folder(options("explicit"));
  EXPECT_EQ(explicit_folder.folder(), (dir_ / "explicit").string());
  EXPECT_EQ(explicit_folder.load(cache_key()), std::nullopt);
}

TEST_F(RuntimeCacheTest, DisabledCacheReadsAndWritesNothing) {
  RuntimeCache enabled(options());
  ASSERT_TRUE(enabled.store(cache_key(), cache_entry()));
  RuntimeCacheOptions off = options();
  off.enabled = false;
  RuntimeCache disabled(off);
  EXPECT_FALSE(disabled.enabled());
  EXPECT_EQ(disabled.load(cache_key()), std::nullopt);  // even though an entry exists
  detail::StoreResult r = disabled.store(cache_key("sm_80"), cache_entry());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("disabled"), std::string::npos);
  EXPECT_FALSE(disabled.remove(cache_key()));
  EXPECT_EQ(enabled.load(cache_key("sm_80")), std::nullopt);
  EXPECT_EQ(enabled.load(cache_key()), cache_entry());
  EXPECT_EQ(disabled.stats().store_failures, 0u);  // switching it off is not a failure

  off.folder = (dir_ / "never").string();
  RuntimeCache elsewhere(off);
  EXPECT_FALSE(elsewhere.store(cache_key(), cache_entry()));
  EXPECT_FALSE(fs::exists(dir_ / "never"));
}

TEST_F(RuntimeCacheTest, UncreatableFolderFailsWithoutThrowing) {
  write_bytes(dir_ / "plain-file", "not a folder");
  RuntimeCacheOptions o;
  o.folder = (dir_ / "plain-file" / "cache").string();
  RuntimeCache cache(o);
  detail::StoreResult r;
  EXPECT_NO_THROW(r = cache.store(cache_key(), cache_entry()));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("cannot create"), std::string::npos) << r.problem;
  EXPECT_EQ(cache.stats().store_failures, 1u);
  EXPECT_EQ(cache.stats().last_problem, "runtime cache: " + r.problem);
  EXPECT_EQ(cache.load(cache_key()), std::nullopt);
  EXPECT_EQ(read_bytes(dir_ / "plain-file"), "not a folder");
  EXPECT_TRUE(temporary_files(dir_).empty());
}

TEST_F(RuntimeCacheTest, ReadOnlyFolderFailsWithoutThrowing) {
  RuntimeCache cache(options());
  ASSERT_TRUE(cache.store(cache_key(), cache_entry(1)));
  const fs::path engine_dir = fs::path(cache.path_for(cache_key())).parent_path();
  const auto read_only = fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                         fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec;
  fs::permissions(dir_ / "cache", read_only);  // no new engine folders
  fs::permissions(engine_dir, read_only);      // no new files beside the entry

  int status = run_in_child([&]() -> int {
    if (int dropped = drop_root()) return dropped;
    RuntimeCache child(options());
    // The existing entry: no temporary file can be created beside it; the old one stays.
    detail::StoreResult r = child.store(cache_key(), cache_entry(2));
    if (r.ok || r.problem.find("cannot create") == std::string::npos) return 1;
    if (child.load(cache_key()) != cache_entry(1)) return 2;
    // A new engine: its folder cannot be created.
    CacheKey other = cache_key();
    other.engine_hash = "fedcba9876543210";
    r = child.store(other, cache_entry(3));
    if (r.ok || r.problem.find("cannot create") == std::string::npos) return 3;
    if (child.stats().store_failures != 2) return 4;
    return 0;
  });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(cache.load(cache_key()), cache_entry(1));
  EXPECT_TRUE(temporary_files(dir_).empty());
}

TEST_F(RuntimeCacheTest, FailedWriteLeavesNoPartialFile) {
  RuntimeCache cache(options());
  ASSERT_TRUE(cache.store(cache_key(), cache_entry(1)));
  // A file size limit makes write() fail midway, the way a full disk does.
  int status = run_in_child([&]() -> int {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{4096, 4096};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 90;
    RuntimeCache child(options());
    detail::StoreResult r = child.store(cache_key(), cache_entry(2, 1 << 20));
    if (r.ok || r.problem.find("writing") == std::string::npos) return 1;
    return child.load(cache_key()) == cache_entry(1) ? 0 : 2;
  });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(cache.load(cache_key()), cache_entry(1));
  EXPECT_TRUE(temporary_files(dir_).empty());
}

TEST_F(RuntimeCacheTest, StaleTemporaryFilesAreCleanedUp) {
  RuntimeCache cache(options());
  ASSERT_TRUE(cache.store(cache_key(), cache_entry()));
  const std::string path = cache.path_for(cache_key());
  const fs::path stale = path + ".tmp-1-0000000000000000";
  const fs::path fresh = path + ".tmp-2-0000000000000000";  // maybe a writer at work
  write_bytes(stale, "half an entry");
  write_bytes(fresh, "half an entry");
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(2));
  ASSERT_TRUE(cache.store(cache_key("sm_80"), cache_entry()));
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));
  EXPECT_EQ(cache.load(cache_key()), cache_entry());
}

// An entry that says who wrote it, and whose every byte follows from that: a reader can
// tell a torn or mixed entry from a whole one.
CacheEntry writer_entry(int writer, int round) {
  CacheEntry e = cache_entry(uint32_t(writer * 1000 + round), 64 * 1024);
  e["writer"] = std::to_string(writer) + ":" + std::to_string(round);
  return e;
}

bool is_whole_writer_entry(const CacheEntry& e) {
  auto it = e.find("writer");
  if (it == e.end()) return false;
  int writer = 0, round = 0;
  if (std::sscanf(it->second.c_str(), "%d:%d", &writer, &round) != 2) return false;
  return e == writer_entry(writer, round);
}

TEST_F(RuntimeCacheTest, ConcurrentThreadsSeeOnlyWholeEntries) {
  constexpr int kThreads = 8, kRounds = 12;
  RuntimeCache shared(options());
  const CacheKey common = cache_key();
  std::atomic<int> broken{0}, failed_stores{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Half the threads share one cache object, half have their own, like separate processes.
      std::optional<RuntimeCache> own;
      if (t % 2) own.emplace(options());
      const RuntimeCache& cache = own ? *own : shared;
      const CacheKey mine = cache_key("sm_" + std::to_string(t % 4));
      for (int round = 0; round < kRounds; ++round) {
        if (!cache.store(common, writer_entry(t, round))) ++failed_stores;
        if (!cache.store(mine, writer_entry(t, round))) ++failed_stores;
        for (const CacheKey* k : {&common, &mine}) {
          std::optional<CacheEntry> e = cache.load(*k);
          if (!e || !is_whole_writer_entry(*e)) ++broken;
        }
      }
      if (own && own->stats().rejected != 0) ++broken;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(broken, 0);
  EXPECT_EQ(failed_stores, 0);
  EXPECT_EQ(shared.stats().rejected, 0u);
  for (int a = 0; a < 4; ++a) {
    std::optional<CacheEntry> e = shared.load(cache_key("sm_" + std::to_string(a)));
    ASSERT_TRUE(e);
    EXPECT_TRUE(is_whole_writer_entry(*e));
  }
  EXPECT_TRUE(temporary_files(dir_).empty());
}

TEST_F(RuntimeCacheTest, ConcurrentProcessesSeeOnlyWholeEntries) {
  constexpr int kProcesses = 4, kRounds = 10;
  RuntimeCache cache(options());
  ASSERT_TRUE(cache.store(cache_key(), writer_entry(100, 0)));
  // The children wait on a pipe until all exist, so that their stores overlap.
  int start[2];
  ASSERT_EQ(::pipe(start), 0);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    children.push_back(start_child([&, p]() -> int {
      ::close(start[1]);
      char c;
      if (::read(start[0], &c, 1) != 0) return 4;
      RuntimeCache child(options());
      for (int round = 0; round < kRounds; ++round) {
        if (!child.store(cache_key(), writer_entry(p, round))) return 1;
        std::optional<CacheEntry> e = child.load(cache_key());
        if (!e || !is_whole_writer_entry(*e)) return 2;
      }
      return child.stats().rejected == 0 ? 0 : 3;
    }));
  }
  ::close(start[0]);
  ::close(start[1]);  // go
  int broken = 0;
  for (int i = 0; i < 50; ++i) {
    std::optional<CacheEntry> e = cache.load(cache_key());
    if (!e || !is_whole_writer_entry(*e)) ++broken;
  }
  for (pid_t child : children) EXPECT_EQ(wait_child(child), 0);
  EXPECT_EQ(broken, 0);
  EXPECT_EQ(cache.stats().rejected, 0u);
  EXPECT_TRUE(temporary_files(dir_).empty());
}

}  // namespace
}  // namespace cppnn
