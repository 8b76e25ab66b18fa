#pragma once
// The instruction-set level of the CPU kernels, chosen at run time. The library is compiled
// for its architecture's baseline (plain x86-64 on x86), so it runs on any CPU of it; the
// kernel files are compiled once more per higher level on x86-64 (isa_target.h), and each
// op's factory prepares a node with the kernels of the level in effect.
//
// The level is the highest the CPU and OS support (AVX2 = x86-64-v3's AVX2, FMA, F16C,
// BMI1/2; AVX-512 = x86-64-v4's F, VL, BW, DQ, CD with the OS saving the zmm state), read
// once. CPPNN_CPU_ISA=baseline|avx2|avx512 lowers it, to run or test the other levels'
// kernels on one machine; a level above what the CPU supports, or a name that is none of
// these, is not followed: a warning on stderr says so and the supported level is used (a
// tuning variable never stops a program; the unit test CpuIsa.EnvironmentIsFollowed fails
// instead, so a CI run with a mistyped level cannot pass unnoticed).
//
// oneDNN (convolutions, matmul) dispatches on the CPU by itself and ignores this.
#include <optional>
#include <string>
#include <string_view>

namespace cppnn::detail {

enum class CpuIsa : int { baseline = 0, avx2 = 1, avx512 = 2 };
inline constexpr int kCpuIsaCount = 3;

const char* cpu_isa_name(CpuIsa isa);
std::optional<CpuIsa> parse_cpu_isa(std::string_view name);

// The highest level this build has kernels for and this CPU runs.
CpuIsa cpu_isa_supported();

// The level that CPPNN_CPU_ISA's value `requested` (nullptr or empty: unset) selects on a
// CPU that supports `supported`; `warning` (when not null) gets a message when the value is
// not followed, and is cleared otherwise.
CpuIsa choose_cpu_isa(const char* requested, CpuIsa supported, std::string* warning = nullptr);

// The level nodes are prepared with: chosen once, from the CPU and CPPNN_CPU_ISA.
CpuIsa cpu_isa();

// For tests: nodes prepared from now on use `isa`, lowered to cpu_isa_supported(); returns
// the level in effect before.
CpuIsa set_cpu_isa(CpuIsa isa);

}  // namespace cppnn::detail
