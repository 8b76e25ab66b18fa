// Run-time choice of the CPU kernels' instruction-set level (isa.h), and the registration
// functions of kernel.h, which register each op family's kernels of every level built.
#include "backends/cpu/isa.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

#include "backends/cpu/kernel.h"

namespace cppnn::detail {

// Each family's registration, once per level (the kernel files, isa_target.h). CMake
// defines CPPNN_CPU_ISA_LEVELS to the number of levels compiled: 3 on x86-64, else 1.
#ifndef CPPNN_CPU_ISA_LEVELS
#define CPPNN_CPU_ISA_LEVELS 1
#endif
#define CPPNN_CPU_FAMILIES(X) \
  X(elementwise) X(reduction) X(movement) X(gather) X(conv) X(matmul) X(pooling) \
  X(normalization) X(recurrent) X(quantization)
#define CPPNN_DECLARE_FAMILY(family) void register_##family##_kernels(CpuKernelRegistry& registry);
namespace isa_baseline {
CPPNN_CPU_FAMILIES(CPPNN_DECLARE_FAMILY)
}
#if CPPNN_CPU_ISA_LEVELS > 1
namespace isa_avx2 {
CPPNN_CPU_FAMILIES(CPPNN_DECLARE_FAMILY)
}
namespace isa_avx512 {
CPPNN_CPU_FAMILIES(CPPNN_DECLARE_FAMILY)
}
#endif

namespace {

constexpr std::array<const char*, kCpuIsaCount> kNames = {"baseline", "avx2", "avx512"};

#if CPPNN_CPU_ISA_LEVELS > 1
// What cpuid and the OS's saved-state mask (xgetbv) say, feature by feature: the same
// features as the target pragmas of isa_target.h.
CpuIsa detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return CpuIsa::baseline;
  bool fma = c & (1u << 12), popcnt = c & (1u << 23), osxsave = c & (1u << 27),
       avx = c & (1u << 28), f16c = c & (1u << 29);
  if (!(osxsave && avx)) return CpuIsa::baseline;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0x6u) != 0x6u) return CpuIsa::baseline;  // the OS saves no ymm state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return CpuIsa::baseline;
  bool bmi1 = b & (1u << 3), avx2 = b & (1u << 5), bmi2 = b & (1u << 8);
  if (!(fma && popcnt && f16c && bmi1 && avx2 && bmi2)) return CpuIsa::baseline;
  bool avx512 = (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 28)) &&  // F, DQ, CD
                (b & (1u << 30)) && (b & (1u << 31));                        // BW, VL
  bool zmm_state = (xcr0_lo & 0xe6u) == 0xe6u;  // opmask, upper zmm, zmm16-31 saved too
  return avx512 && zmm_state ? CpuIsa::avx512 : CpuIsa::avx2;
}
#else
CpuIsa detect() { return CpuIsa::baseline; }
#endif

std::atomic<int>& active_level() {
  static std::atomic<int> level = [] {
    std::string warning;
    CpuIsa isa = choose_cpu_isa(std::getenv("CPPNN_CPU_ISA"), cpu_isa_supported(), &warning);
    if (!warning.empty()) std::fprintf(stderr, "cppnn: %s\n", warning.c_str());
    return int(isa);
  }();
  return level;
}

// Every level's factories, each level in a registry of its own. kernel.h's registry holds,
// per op, a factory that forwards to the one of the level in effect when the node is
// prepared (cpu_isa()): the choice costs nothing per run, and tests compare levels in one
// process (set_cpu_isa).
std::array<CpuKernelRegistry, kCpuIsaCount>& level_registries() {
  static std::array<CpuKernelRegistry, kCpuIsaCount> registries;
  return registries;
}

using RegisterFn = void (*)(CpuKernelRegistry&);

void register_family(CpuKernelRegistry& registry, std::array<RegisterFn, kCpuIsaCount> levels) {
  auto& by_level = level_registries();
  for (int l = 0; l < kCpuIsaCount; ++l)
    if (levels[size_t(l)]) levels[size_t(l)](by_level[size_t(l)]);
  // The baseline registry holds every op a family has (all levels compile the same files).
  for (size_t i = 0; i < size_t(OpId::count); ++i) {
    OpId op = OpId(i);
    if (!by_level[0].has(op)) continue;
    registry.add(op, [op](const KernelContext& cx) {
      return (*level_registries()[size_t(cpu_isa())].find(op))(cx);
    });
  }
}

}  // namespace

const char* cpu_isa_name(CpuIsa isa) { return kNames[size_t(isa)]; }

std::optional<CpuIsa> parse_cpu_isa(std::string_view name) {
  for (int l = 0; l < kCpuIsaCount; ++l)
    if (name == kNames[size_t(l)]) return CpuIsa(l);
  return std::nullopt;
}

CpuIsa cpu_isa_supported() {
  static const CpuIsa supported = detect();
  return supported;
}

CpuIsa choose_cpu_isa(const char* requested, CpuIsa supported, std::string* warning) {
  if (warning) warning->clear();
  if (!requested || !*requested) return supported;
  std::optional<CpuIsa> isa = parse_cpu_isa(requested);
  std::string why;
  if (!isa)
    why = "CPPNN_CPU_ISA=" + std::string(requested) +
          " is not a level (baseline, avx2 or avx512); using " + cpu_isa_name(supported);
  else if (int(*isa) > int(supported))
    why = "CPPNN_CPU_ISA=" + std::string(requested) + " is above what this CPU (or build) runs; using " +
          cpu_isa_name(supported);
  if (!why.empty()) {
    if (warning) *warning = why;
    return supported;
  }
  return *isa;
}

CpuIsa cpu_isa() { return CpuIsa(active_level().load(std::memory_order_relaxed)); }

CpuIsa set_cpu_isa(CpuIsa isa) {
  if (int(isa) > int(cpu_isa_supported())) isa = cpu_isa_supported();
  return CpuIsa(active_level().exchange(int(isa)));
}

#if CPPNN_CPU_ISA_LEVELS > 1
#define CPPNN_DEFINE_FAMILY(family)                                                    \
  void register_##family##_kernels(CpuKernelRegistry& registry) {                      \
    register_family(registry, {isa_baseline::register_##family##_kernels,              \
                               isa_avx2::register_##family##_kernels,                  \
                               isa_avx512::register_##family##_kernels});              \
  }
#else
#define CPPNN_DEFINE_FAMILY(family)                                                    \
  void register_##family##_kernels(CpuKernelRegistry& registry) {                      \
    register_family(registry, {isa_baseline::register_##family##_kernels, nullptr, nullptr}); \
  }
#endif
CPPNN_CPU_FAMILIES(CPPNN_DEFINE_FAMILY)

}  // namespace cppnn::detail
