#pragma once
// The CPU backend (cpu_backend.cpp): what a context gets without the CUDA plugin.
#include <memory>

#include "runtime/backend.h"

namespace cppnn::detail {

std::unique_ptr<Backend> make_cpu_backend(const ContextOptions& options);

}  // namespace cppnn::detail
