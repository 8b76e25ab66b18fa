#pragma once
// The instruction-set level a CPU kernel file is compiled for (isa.h says how one is chosen
// at run time). Every file of this folder with a line CPPNN_ISA_BEGIN (the kernels; not
// the plan, the evaluator, the thread counts or isa.cpp) is compiled once per level: as
// itself for the portable baseline, and on x86-64 through generated wrappers
// (CMakeLists.txt) that define CPPNN_CPU_ISA_LEVEL first, 1 for AVX2 (x86-64-v3: AVX2, FMA,
// F16C, BMI) and 2 for AVX-512 (x86-64-v4). The library itself is compiled for the
// baseline, so it runs on any CPU of its architecture.
//
// A file puts everything it defines between CPPNN_ISA_BEGIN and CPPNN_ISA_END, after all
// its #includes:
//   - a namespace of the level's own (isa_baseline, isa_avx2, isa_avx512) keeps the three
//     copies of each function and template apart, so the linker never merges a level's
//     inline function or template instance into another's callers;
//   - the level's instructions are enabled by a target pragma over that region only. What
//     the headers included before it define (the standard library, oneDNN's, the core's)
//     stays baseline code, even where a level's copy instantiates or emits it: a copy that
//     the linker keeps for every caller must run on every CPU (the ctest
//     isa.baseline_outside_levels checks libcppnn.so for it). Such functions are still
//     inlined into a level's loops, which then vectorize for the level.
// Intrinsics are written under `#if CPPNN_ISA_AVX2` (true on x86-64 at levels 1 and 2) with
// a portable form in the #else; the feature macros (__AVX2__, __F16C__) say nothing here,
// since the compiler's own flags are the baseline's.
#ifndef CPPNN_CPU_ISA_LEVEL
#define CPPNN_CPU_ISA_LEVEL 0
#endif

#if CPPNN_CPU_ISA_LEVEL > 0 && !(defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)))
#error "CPPNN_CPU_ISA_LEVEL above 0 needs x86-64 and GCC or clang"
#endif

#if CPPNN_CPU_ISA_LEVEL > 0
#include <immintrin.h>
#define CPPNN_ISA_AVX2 1
#else
#define CPPNN_ISA_AVX2 0
#endif
#define CPPNN_ISA_AVX512 (CPPNN_CPU_ISA_LEVEL >= 2)

// The target features of each level (isa.cpp checks the CPU for the same ones).
#define CPPNN_ISA_FEATURES_1 "avx2,fma,f16c,bmi,bmi2,popcnt"
#define CPPNN_ISA_FEATURES_2 "avx2,fma,f16c,bmi,bmi2,popcnt,avx512f,avx512vl,avx512bw,avx512dq,avx512cd"

#define CPPNN_ISA_PRAGMA(text) _Pragma(#text)
#if CPPNN_CPU_ISA_LEVEL == 0
#define CPPNN_ISA_BEGIN namespace isa_baseline {
#define CPPNN_ISA_END }
#elif defined(__clang__)
#define CPPNN_ISA_REGION(features)                                                          \
  CPPNN_ISA_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))
#define CPPNN_ISA_END } CPPNN_ISA_PRAGMA(clang attribute pop)
#else
#define CPPNN_ISA_REGION(features) \
  CPPNN_ISA_PRAGMA(GCC push_options) CPPNN_ISA_PRAGMA(GCC target(features))
#define CPPNN_ISA_END } CPPNN_ISA_PRAGMA(GCC pop_options)
#endif
#if CPPNN_CPU_ISA_LEVEL == 1
#define CPPNN_ISA_BEGIN CPPNN_ISA_REGION(CPPNN_ISA_FEATURES_1) namespace isa_avx2 {
#elif CPPNN_CPU_ISA_LEVEL == 2
#define CPPNN_ISA_BEGIN CPPNN_ISA_REGION(CPPNN_ISA_FEATURES_2) namespace isa_avx512 {
#endif
