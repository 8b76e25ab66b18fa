#pragma once
// Sets the CPU kernels' instruction-set level for a scope (detail::set_cpu_isa), as tests of
// another level's kernels need, and restores the level before it.
#include "backends/cpu/isa.h"

namespace cppnn::testing {

class ScopedIsa {
 public:
  explicit ScopedIsa(detail::CpuIsa isa) : previous_(detail::set_cpu_isa(isa)) {}
  ~ScopedIsa() { detail::set_cpu_isa(previous_); }
  ScopedIsa(const ScopedIsa&) = delete;
  ScopedIsa& operator=(const ScopedIsa&) = delete;

 private:
  detail::CpuIsa previous_;
};

}  // namespace cppnn::testing
