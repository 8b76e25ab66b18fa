// Every binary the build makes searches for its libraries only where we put them. An empty
// entry in a run path (DT_RUNPATH or DT_RPATH), a "." or a relative directory means the
// working directory of whoever runs the program: a libcuda.so.1 dropped there would be
// loaded into it. Entries must be absolute or start with $ORIGIN.
//
// One core per process: every binary that needs libcppnn.so finds it beside itself
// ($ORIGIN, and the file is there): the cppnn program and the tests in build/, the Python
// module and its copy of the CUDA plugin in build/python/webnn, the plugin in build/. The
// plugin also names the CUDA and cuDNN folders, and nothing else.
//
// The dynamic section is read here from the file, through the program headers as the
// dynamic loader reads it (no readelf, no section headers needed).
#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct RunPaths {
  std::string error;               // why the file could not be read as ELF64, if it could not
  std::vector<std::string> paths;  // each DT_RPATH / DT_RUNPATH string, as stored
  std::vector<std::string> needed;  // each DT_NEEDED library name
};

// The file mapped read-only (the plugin is hundreds of megabytes; only its headers and
// strings are read).
class MappedFile {
 public:
  explicit MappedFile(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      void* p = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
      if (p != MAP_FAILED) {
        data_ = static_cast<const char*>(p);
        size_ = size_t(st.st_size);
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const { return {data_ ? data_ : "", size_}; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

bool is_elf(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[SELFMAG] = {};
  in.read(magic, SELFMAG);
  return in.gcount() == SELFMAG && std::memcmp(magic, ELFMAG, SELFMAG) == 0;
}

template <typename T>
std::optional<T> read_at(std::string_view bytes, uint64_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

RunPaths run_paths_of(const fs::path& path) {
  RunPaths out;
  MappedFile file(path);
  const std::string_view bytes = file.bytes();
  auto header = read_at<Elf64_Ehdr>(bytes, 0);
  if (!header || std::memcmp(header->e_ident, ELFMAG, SELFMAG) != 0)
    return {"not an ELF file", {}, {}};
  if (header->e_ident[EI_CLASS] != ELFCLASS64 || header->e_ident[EI_DATA] != ELFDATA2LSB)
    return {"not a little-endian ELF64 file", {}, {}};
  std::vector<Elf64_Phdr> segments;
  for (uint16_t i = 0; i < header->e_phnum; ++i) {
    auto ph = read_at<Elf64_Phdr>(bytes, header->e_phoff + uint64_t(i) * header->e_phentsize);
    if (!ph) return {"program header " + std::to_string(i) + " is outside the file", {}, {}};
    segments.push_back(*ph);
  }
  // The string table is named by its address in memory; the loadable segments map it back
  // to a place in the file.
  auto file_offset = [&](uint64_t address) -> std::optional<uint64_t> {
    for (const Elf64_Phdr& s : segments)
      if (s.p_type == PT_LOAD && address >= s.p_vaddr && address - s.p_vaddr < s.p_filesz)
        return s.p_offset + (address - s.p_vaddr);
    return std::nullopt;
  };
  for (const Elf64_Phdr& s : segments) {
    if (s.p_type != PT_DYNAMIC) continue;
    std::optional<uint64_t> strtab;
    std::vector<uint64_t> offsets;  // of the run path strings within the string table
    std::vector<uint64_t> needed;   // of the DT_NEEDED names
    for (uint64_t at = s.p_offset; at + sizeof(Elf64_Dyn) <= s.p_offset + s.p_filesz;
         at += sizeof(Elf64_Dyn)) {
      auto d = read_at<Elf64_Dyn>(bytes, at);
      if (!d) return {"the dynamic section is outside the file", {}, {}};
      if (d->d_tag == DT_NULL) break;
      if (d->d_tag == DT_STRTAB) strtab = d->d_un.d_ptr;
      if (d->d_tag == DT_RPATH || d->d_tag == DT_RUNPATH) offsets.push_back(d->d_un.d_val);
      if (d->d_tag == DT_NEEDED) needed.push_back(d->d_un.d_val);
    }
    if (offsets.empty() && needed.empty()) continue;
    std::optional<uint64_t> table = strtab ? file_offset(*strtab) : std::nullopt;
    if (!table) return {"no DT_STRTAB inside a loadable segment", {}, {}};
    auto string_at = [&](uint64_t o) -> std::optional<std::string> {
      uint64_t begin = *table + o;
      size_t end = begin < bytes.size() ? bytes.find('\0', begin) : std::string_view::npos;
      if (end == std::string_view::npos) return std::nullopt;
      return std::string(bytes.substr(begin, end - begin));
    };
    for (uint64_t o : offsets) {
      std::optional<std::string> path = string_at(o);
      if (!path) return {"a run path string runs past the file", {}, {}};
      out.paths.push_back(*path);
    }
    for (uint64_t o : needed) {
      std::optional<std::string> name = string_at(o);
      if (!name) return {"a DT_NEEDED string runs past the file", {}, {}};
      out.needed.push_back(*name);
    }
  }
  return out;
}

// The ':'-separated entries of a binary's run paths.
std::vector<std::string> run_path_entries(const RunPaths& r) {
  std::vector<std::string> out;
  for (const std::string& p : r.paths) {
    size_t begin = 0;
    while (true) {
      size_t end = p.find(':', begin);
      out.push_back(p.substr(begin, end == std::string::npos ? end : end - begin));
      if (end == std::string::npos) break;
      begin = end + 1;
    }
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// What is wrong with a run path ("" if nothing): each ':'-separated entry must be an
// absolute directory or one below $ORIGIN.
std::string run_path_problem(const std::string& run_path) {
  size_t begin = 0;
  while (true) {
    size_t end = run_path.find(':', begin);
    std::string entry = run_path.substr(begin, end == std::string::npos ? end : end - begin);
    if (entry.empty()) return "an empty entry (the working directory)";
    bool origin = entry.rfind("$ORIGIN", 0) == 0 || entry.rfind("${ORIGIN}", 0) == 0;
    if (!origin && entry[0] != '/')
      return "'" + entry + "' is relative to the working directory";
    if (end == std::string::npos) return "";
    begin = end + 1;
  }
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= s.size()) {
    size_t end = s.find(sep, begin);
    if (end == std::string::npos) end = s.size();
    if (end > begin) out.push_back(s.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

// The binaries CMake names (they must exist), and every ELF file at the top of the build
// folder and in the Python package's folder, so that a new one is checked without an edit.
std::vector<fs::path> binaries_to_check(std::vector<std::string>& missing) {
  std::vector<fs::path> out;
  for (const std::string& p : split(CPPNN_RPATH_BINARIES, '|')) {
    if (fs::exists(p))
      out.push_back(p);
    else
      missing.push_back(p);
  }
  for (const fs::path& dir : {fs::path(CPPNN_BUILD_DIR), fs::path(CPPNN_BUILD_DIR) / "python/webnn"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file() && is_elf(e.path())) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

TEST(RunPath, EveryEntryIsAbsoluteOrBelowOrigin) {
  std::vector<std::string> missing;
  std::vector<fs::path> binaries = binaries_to_check(missing);
  for (const std::string& m : missing) ADD_FAILURE() << m << " was not built";
  ASSERT_FALSE(binaries.empty());
  for (const fs::path& b : binaries) {
    RunPaths r = run_paths_of(b);
    EXPECT_EQ(r.error, "") << b;
    for (const std::string& p : r.paths)
      EXPECT_EQ(run_path_problem(p), "") << b << " has the run path '" << p << "'";
  }
}

TEST(RunPath, EveryBinaryFindsTheOneCoreBesideItself) {
  std::vector<std::string> missing;
  std::vector<fs::path> binaries = binaries_to_check(missing);
  size_t users = 0;
  for (const fs::path& b : binaries) {
    RunPaths r = run_paths_of(b);
    if (!contains(r.needed, "libcppnn.so")) continue;
    ++users;
    EXPECT_TRUE(contains(run_path_entries(r), "$ORIGIN"))
        << b << " needs libcppnn.so but its run path does not name $ORIGIN";
    EXPECT_TRUE(fs::exists(b.parent_path() / "libcppnn.so")) << "no libcppnn.so beside " << b;
  }
  // The program, libcppnn.so's users in the build folder, and those of the Python package.
  EXPECT_GE(users, 1u);
  for (const char* name : {"cppnn", "cppnn_tests"})
    EXPECT_TRUE(contains(run_paths_of(fs::path(CPPNN_BUILD_DIR) / name).needed, "libcppnn.so"))
        << name << " does not link libcppnn.so";
  RunPaths core = run_paths_of(fs::path(CPPNN_BUILD_DIR) / "libcppnn.so");
  EXPECT_EQ(core.error, "");
  EXPECT_FALSE(contains(core.needed, "libcppnn.so"));
  for (const fs::path& b : binaries) {
    if (b.filename().string().rfind("_webnn", 0) == 0) {
      EXPECT_TRUE(contains(run_paths_of(b).needed, "libcppnn.so")) << b;
    }
  }
}

#ifdef CPPNN_CUDA_PLUGIN_RUNPATH
// The plugin: libcppnn.so beside it, the CUDA and cuDNN folders named, and nothing else.
TEST(RunPath, ThePluginNamesItsFoldersOnly) {
  std::vector<std::string> want = {"$ORIGIN"};
  for (const std::string& dir : split(CPPNN_CUDA_PLUGIN_RUNPATH, '|')) want.push_back(dir);
  for (const fs::path& plugin : {fs::path(CPPNN_BUILD_DIR) / "libcppnn_cuda.so",
                                 fs::path(CPPNN_BUILD_DIR) / "python/webnn/libcppnn_cuda.so"}) {
    if (!fs::exists(plugin)) continue;
    RunPaths r = run_paths_of(plugin);
    EXPECT_EQ(run_path_entries(r), want) << plugin;
    EXPECT_TRUE(contains(r.needed, "libcppnn.so")) << plugin;
  }
}
#endif

TEST(RunPath, TheCheckRefusesWhatTheLoaderWouldResolveAgainstTheWorkingDirectory) {
  EXPECT_NE(run_path_problem("/usr/local/cuda/lib:"), "");  // the plugin's, before the fix
  EXPECT_NE(run_path_problem(":/usr/lib"), "");
  EXPECT_NE(run_path_problem("/a::/b"), "");
  EXPECT_NE(run_path_problem(""), "");
  EXPECT_NE(run_path_problem("."), "");
  EXPECT_NE(run_path_problem("lib"), "");
  EXPECT_NE(run_path_problem("/usr/lib:../lib"), "");
  EXPECT_NE(run_path_problem("ORIGIN/lib"), "");
  EXPECT_EQ(run_path_problem("/usr/local/cuda/lib"), "");
  EXPECT_EQ(run_path_problem("$ORIGIN:$ORIGIN/../lib:${ORIGIN}/x:/opt/cuda/lib"), "");
}

// The reader itself, on two libraries linked with a known bad run path: one as DT_RUNPATH
// (the linker's default), one as the older DT_RPATH.
TEST(RunPath, TheReaderFindsBothKindsOfRunPath) {
  for (const char* fixture : {CPPNN_RPATH_FIXTURE_RUNPATH, CPPNN_RPATH_FIXTURE_RPATH}) {
    RunPaths r = run_paths_of(fixture);
    EXPECT_EQ(r.error, "") << fixture;
    ASSERT_EQ(r.paths.size(), 1u) << fixture;
    EXPECT_EQ(r.paths[0], "/nonexistent/cppnn-rpath-fixture:");
    EXPECT_NE(run_path_problem(r.paths[0]), "");
  }
  EXPECT_EQ(run_paths_of("/proc/self/exe").error, "");
  EXPECT_NE(run_paths_of(CPPNN_SOURCE_DIR "/CMakeLists.txt").error, "");
}

}  // namespace
