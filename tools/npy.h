#pragma once
// Reading and writing NumPy .npy files (version 1.0, little-endian, C order), so the
// command-line tool can take real inputs and hand results to other tools.
#include <string>

#include "cppnn/tensor.h"

namespace cppnn::tools {

Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& tensor);

}  // namespace cppnn::tools
