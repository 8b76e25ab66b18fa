#include "core/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "cppnn/error.h"

namespace cppnn::detail {

FileDescriptor::~FileDescriptor() {
  if (fd >= 0) ::close(fd);
}

int FileDescriptor::release() { return std::exchange(fd, -1); }

std::string os_error() { return std::strerror(errno); }

bool write_all(int fd, const void* data, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (size) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= size_t(n);
  }
  return true;
}

void write_file_atomically(const std::string& path, const void* data, size_t size,
                           const std::string& what) {
  auto failure = [&](const std::string& why) {
    fail(ErrorKind::DataError, what + " '" + path + "': " + why);
  };
  static std::atomic<uint64_t> counter{0};
  std::string tmp;
  FileDescriptor f(-1);
  for (int attempt = 0; attempt < 100 && f.fd < 0; ++attempt) {
    tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    // 0666 less the umask: the file gets the permissions any new file would.
    f.fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f.fd < 0 && errno != EEXIST) failure("cannot create '" + tmp + "': " + os_error());
  }
  if (f.fd < 0) failure("cannot create a temporary file beside it");
  auto abandon = [&](const std::string& why) {
    if (f.fd >= 0) ::close(f.release());
    ::unlink(tmp.c_str());
    failure(why);
  };
  if (!write_all(f.fd, data, size))
    abandon("writing '" + tmp + "': " + os_error());
  if (::fsync(f.fd) != 0) abandon("syncing '" + tmp + "': " + os_error());
  if (::close(f.release()) != 0) abandon("closing '" + tmp + "': " + os_error());
  if (::rename(tmp.c_str(), path.c_str()) != 0) abandon("renaming '" + tmp + "': " + os_error());
  // Make the rename itself durable; the file is complete either way, so this is best effort.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  FileDescriptor d(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd >= 0) (void)::fsync(d.fd);
}

}  // namespace cppnn::detail
