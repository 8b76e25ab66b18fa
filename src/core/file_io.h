#pragma once
// File I/O shared by everything that writes or reads whole files (engines, ONNX export).
#include <cstddef>
#include <string>

namespace cppnn::detail {

// Closes on every path out, so an exception cannot leak the descriptor.
struct FileDescriptor {
  int fd = -1;
  explicit FileDescriptor(int f) : fd(f) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor();
  int release();
};

std::string os_error();

// Writes all `size` bytes, retrying short writes and EINTR; false on any other failure.
bool write_all(int fd, const void* data, size_t size);

// Writes to a fresh file beside `path`, fsyncs it and renames it over `path`: a reader sees
// the old file or the complete new one, never a partial write, even if the process dies
// midway. A failure removes the temporary file and throws DataError "<what> '<path>': why".
void write_file_atomically(const std::string& path, const void* data, size_t size,
                           const std::string& what);

}  // namespace cppnn::detail
