#pragma once
// Which backend a context gets: the CPU's, or the CUDA plugin's (backend_loader.cpp).
#include <memory>
#include <string>

#include "runtime/backend.h"

namespace cppnn::detail {

struct BackendChoice {
  std::unique_ptr<Backend> backend;
  std::string reason;  // why this backend: shown by Context::backend_reason()
};

// The best backend for the options: CUDA when asked for and usable, else the CPU.
BackendChoice choose_backend(const ContextOptions& options);

}  // namespace cppnn::detail
