// Runtime cache files that must not be trusted: flipped bytes, truncation, the entry of
// another key at a key's path, other format versions, crafted files whose checksum is right
// but whose structure is not, and things that are not files. Each must be a miss counted as
// rejected, never a crash or a throw, and must be gone so that the next store rebuilds it.
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "runtime_cache_test_support.h"

namespace cppnn {
namespace {

using namespace cppnn::testing;

class RuntimeCacheCorrupt : public RuntimeCacheTest {
 protected:
  void SetUp() override {
    RuntimeCacheTest::SetUp();
    cache_.emplace(options());
    ASSERT_TRUE(cache_->store(cache_key(), cache_entry(1, 40)));
    path_ = cache_->path_for(cache_key());
    good_ = read_bytes(path_);
  }

  // Places `bytes` at the key's path and expects a rejection that removes the file.
  void expect_rejected(const std::string& bytes, const std::string& what) {
    write_bytes(path_, bytes);
    uint64_t rejected = cache_->stats().rejected;
    std::optional<CacheEntry> got;
    EXPECT_NO_THROW(got = cache_->load(cache_key())) << what;
    EXPECT_EQ(got, std::nullopt) << what;
    EXPECT_EQ(cache_->stats().rejected, rejected + 1) << what;
    EXPECT_FALSE(fs::exists(path_)) << what << ": the bad file is still there";
  }

  std::optional<RuntimeCache> cache_;
  std::string path_;
  std::string good_;
};

TEST_F(RuntimeCacheCorrupt, EveryFlippedByteIsRejected) {
  ASSERT_GT(good_.size(), 400u);
  for (size_t i = 0; i < good_.size(); ++i) {
    for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
      std::string bad = good_;
      bad[i] = char(uint8_t(bad[i]) ^ mask);
      expect_rejected(bad, "byte " + std::to_string(i) + " ^ " + std::to_string(mask));
      if (HasFailure()) return;  // one report is enough
    }
  }
  EXPECT_EQ(cache_->stats().hits, 0u);
  // The next store rebuilds the entry.
  ASSERT_TRUE(cache_->store(cache_key(), cache_entry(1, 40)));
  EXPECT_EQ(cache_->load(cache_key()), cache_entry(1, 40));
}

TEST_F(RuntimeCacheCorrupt, EveryTruncationIsRejected) {
  for (size_t cut = 0; cut < good_.size(); ++cut) {
    expect_rejected(good_.substr(0, cut), "cut at " + std::to_string(cut));
    if (HasFailure()) return;
  }
  expect_rejected(good_ + '\0', "one byte appended");
  expect_rejected(good_ + good_, "the file twice");
  EXPECT_NE(cache_->stats().last_problem.find(path_), std::string::npos);
  EXPECT_NE(cache_->stats().last_problem.find("(removed)"), std::string::npos);
}

TEST_F(RuntimeCacheCorrupt, EntryOfAnotherKeyAtThePathIsRejected) {
  // A file name is a 64-bit hash of the key, so a collision (or a copied file) puts one
  // key's entry at another's path: the key echoed inside the file must settle it.
  std::vector<CacheKey> others;
  for (int field = 0; field < 5; ++field) {
    CacheKey k = cache_key();
    if (field == 0) k.engine_hash = "aaaaaaaaaaaaaaaa";
    if (field == 1) k.device_arch = "sm_80";
    if (field == 2) k.driver_version = "535.54.03";
    if (field == 3) k.library_versions = "cuda12.2;cudnn8.9;cublasLt12.2";
    if (field == 4) k.cppnn_version = "0.0.1+feedface";
    others.push_back(k);
  }
  for (const CacheKey& other : others) {
    ASSERT_TRUE(cache_->store(other, cache_entry(7)));
    std::string theirs = read_bytes(cache_->path_for(other));
    expect_rejected(theirs, "entry of " + other.engine_hash + " " + other.device_arch + " " +
                                other.driver_version + " " + other.library_versions + " " +
                                other.cppnn_version);
    EXPECT_NE(cache_->stats().last_problem.find("another key"), std::string::npos);
    EXPECT_EQ(cache_->load(other), cache_entry(7));  // the original stays good
  }
}

TEST_F(RuntimeCacheCorrupt, OtherFormatVersionsAreRejected) {
  for (uint32_t version : {0u, 2u, 0xffffffffu}) {
    std::string bad = good_;
    bad.replace(8, 4, le32(version));
    expect_rejected(with_cache_checksum(bad), "version " + std::to_string(version));
  }
  std::string bad = good_;
  bad.replace(8, 4, le32(detail::kRuntimeCacheFormatVersion + 1));
  expect_rejected(with_cache_checksum(bad), "next version");
  EXPECT_NE(cache_->stats().last_problem.find("newer"), std::string::npos);
}

// A file whose checksum is right but whose structure is not: the reader must check each
// length and count itself, not lean on the checksum.
std::string craft(const std::string& after_key, uint32_t reserved = 0) {
  CacheKey k = cache_key();
  std::string s = "CPPNNRTC" + le32(detail::kRuntimeCacheFormatVersion) + le32(reserved);
  for (const std::string* f :
       {&k.engine_hash, &k.device_arch, &k.driver_version, &k.library_versions, &k.cppnn_version})
    s += le32(uint32_t(f->size())) + *f;
  return with_cache_checksum(s + after_key + le64(0));
}

std::string blob(const std::string& name, const std::string& bytes) {
  return le32(uint32_t(name.size())) + name + le64(bytes.size()) + bytes;
}

TEST_F(RuntimeCacheCorrupt, CraftedStructureIsRejected) {
  std::string why;
  auto parse = [&](const std::string& bytes) {
    return detail::parse_cache_file(bytes, cache_key(), why);
  };
  // The crafted form is right when its structure is.
  EXPECT_EQ(parse(craft(le32(2) + blob("a", "x") + blob("b", "yz"))),
            (CacheEntry{{"a", "x"}, {"b", "yz"}}));
  EXPECT_EQ(parse(craft(le32(0))), CacheEntry{});

  struct Case {
    std::string bytes, fragment;
  };
  const Case cases[] = {
      {craft(le32(0), 1), "reserved"},
      {craft(le32(0xffffffffu)), "count exceeds"},
      {craft(le32(2) + blob("a", "x")), "count exceeds"},
      {craft(le32(2) + blob("a", "x") + le32(5) + "b" + std::string(8, '\0')),
       "blob 1 exceeds the file"},
      {craft(le32(1) + le32(0xfffffff0u) + "a" + le64(0)), "exceeds the file"},
      {craft(le32(1) + le32(1) + "a" + le64(~uint64_t(0))), "exceeds the file"},
      {craft(le32(1) + le32(1) + "a" + le64(uint64_t(1) << 62) + "x"), "exceeds the file"},
      {craft(le32(2) + blob("b", "x") + blob("a", "y")), "ascending"},
      {craft(le32(2) + blob("a", "x") + blob("a", "y")), "ascending"},
      {craft(le32(1) + blob("a", "x") + "stray"), "stray bytes"},
      {craft(""), "count exceeds"},
  };
  for (const Case& c : cases) {
    why.clear();
    std::optional<CacheEntry> got;
    EXPECT_NO_THROW(got = parse(c.bytes)) << c.fragment;
    EXPECT_EQ(got, std::nullopt) << c.fragment;
    EXPECT_NE(why.find(c.fragment), std::string::npos) << "'" << why << "' lacks " << c.fragment;
    expect_rejected(c.bytes, c.fragment);  // and through the file path
  }

  // A key string longer than any real key is refused before it is compared.
  std::string huge_key = "CPPNNRTC" + le32(detail::kRuntimeCacheFormatVersion) + le32(0) +
                         le32(1u << 20) + std::string(1u << 20, 'x');
  EXPECT_EQ(parse(with_cache_checksum(huge_key + le32(0) + le64(0))), std::nullopt);
  EXPECT_NE(why.find("truncated key"), std::string::npos) << why;
}

TEST_F(RuntimeCacheCorrupt, MutatedFilesNeverCrashTheParser) {
  // Random edits with the checksum fixed afterwards reach every branch of the parser; an
  // edit inside a blob's bytes may still parse, which is fine: that is what the file says.
  std::mt19937 gen(7);
  std::string why;
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = good_.substr(0, good_.size() - 8);
    for (int edits = 1 + int(gen() % 4); edits > 0 && !bytes.empty(); --edits) {
      size_t at = gen() % bytes.size();
      switch (gen() % 4) {
        case 0:
          bytes[at] = char(gen());
          break;
        case 1:
          bytes.erase(at, 1 + gen() % 8);
          break;
        case 2:
          bytes.insert(at, std::string(1 + gen() % 8, char(gen())));
          break;
        case 3:
          bytes.replace(at, std::min<size_t>(4, bytes.size() - at), le32(uint32_t(gen())));
          break;
      }
    }
    std::optional<CacheEntry> got =
        detail::parse_cache_file(with_cache_checksum(bytes + le64(0)), cache_key(), why);
    if (got) ++accepted;
  }
  EXPECT_LT(accepted, 20000);
}

TEST_F(RuntimeCacheCorrupt, NonFilesAtThePathAreRejected) {
  // A symbolic link, even to a good entry: the cache only trusts files it wrote itself.
  const fs::path target = dir_ / "elsewhere.cache";
  write_bytes(target, good_);
  fs::remove(path_);
  fs::create_symlink(target, path_);
  EXPECT_EQ(cache_->load(cache_key()), std::nullopt);
  EXPECT_FALSE(fs::is_symlink(path_));
  EXPECT_EQ(read_bytes(target), good_) << "the link's target was touched";

  // A FIFO must not hang the reader.
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  EXPECT_EQ(cache_->load(cache_key()), std::nullopt);
  EXPECT_FALSE(fs::exists(path_));

  // A folder cannot be removed by unlink, but it is still no entry, and a store fails
  // cleanly rather than replacing it.
  fs::create_directory(path_);
  EXPECT_EQ(cache_->load(cache_key()), std::nullopt);
  EXPECT_FALSE(cache_->store(cache_key(), cache_entry()));
  fs::remove(path_);

  // A file over the size cap is rejected without being read (it is sparse here).
  write_bytes(path_, good_);
  fs::resize_file(path_, detail::kMaxRuntimeCacheFileBytes + 1);
  EXPECT_EQ(cache_->load(cache_key()), std::nullopt);
  EXPECT_FALSE(fs::exists(path_));
  EXPECT_EQ(cache_->stats().rejected, 4u);
  EXPECT_TRUE(temporary_files(dir_).empty());

  ASSERT_TRUE(cache_->store(cache_key(), cache_entry(1, 40)));
  EXPECT_EQ(cache_->load(cache_key()), cache_entry(1, 40));
}

TEST_F(RuntimeCacheCorrupt, UnreadableEntryIsAMissNotARejection) {
  fs::permissions(path_, fs::perms::owner_write);  // nobody may read it, not even its owner
  int status = run_in_child([&]() -> int {
    if (int dropped = drop_root()) return dropped;
    RuntimeCache child(options());
    if (child.load(cache_key()) != std::nullopt) return 1;
    detail::CacheStats s = child.stats();
    return s.misses == 1 && s.rejected == 0 && !s.last_problem.empty() ? 0 : 2;
  });
  EXPECT_EQ(status, 0);
  // A file that cannot be read is no proof of corruption: it stays.
  EXPECT_TRUE(fs::exists(path_));
  fs::permissions(path_, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(cache_->load(cache_key()), cache_entry(1, 40));
}

}  // namespace
}  // namespace cppnn
