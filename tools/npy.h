#pragma once
// Reading and writing NumPy .npy files (version 1.0, little-endian, C order), so the
// command-line tool can take real inputs and hand results to other tools.
#include <string>
#include <vector>

#include "cppnn/tensor.h"

namespace cppnn::tools {

// A DataError naming the file for anything malformed: a header over 64 KiB, a shape that is
// not non-negative integers, more data claimed than the file holds.
Tensor read_npy(const std::string& path);
// Creates or truncates `path`, never through a symbolic link (O_NOFOLLOW): a DataError.
void write_npy(const std::string& path, const Tensor& tensor);

// A file name for an output named `name` (a model's, so untrusted): letters, digits, '.',
// '-' and '_' kept, every other byte '_', no leading '.', at most 120 bytes, "output" when
// empty; never a path. Distinct names may map to one file name: the caller makes them
// unique (unique_file_names).
std::string safe_file_name(const std::string& name);
// safe_file_name of each of `names`, in order, made distinct by "_2", "_3", ... (compared
// without case, for case-insensitive file systems).
std::vector<std::string> unique_file_names(const std::vector<std::string>& names);

}  // namespace cppnn::tools
