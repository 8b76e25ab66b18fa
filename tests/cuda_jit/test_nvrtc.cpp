// NVRTC compilation of the generated element-wise kernels, without a GPU: every op and data
// type compiles for every architecture the engine targets, cubins are CUDA ELF images,
// failures carry NVRTC's log, and the JIT's compile time for a MobileNetV2-sized graph.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include "backends/cuda/nvrtc_compiler.h"
#include "cuda_jit/codegen_cases.h"
#include "graph/op_id.h"

namespace cppnn {
namespace {

using detail::CompiledKernel;
using detail::GeneratedKernel;

std::vector<GeneratedKernel> all_case_kernels() {
  std::vector<GeneratedKernel> all;
  for (const auto& c : testing::codegen_cases()) {
    auto kernels = detail::generate_cuda_kernels(c.graph.ir());
    all.insert(all.end(), kernels.begin(), kernels.end());
  }
  return all;
}

// A CUDA cubin is a 64-bit little-endian ELF file whose machine is EM_CUDA (190).
void expect_cuda_elf(const std::string& cubin, const std::string& what) {
  ASSERT_GE(cubin.size(), 64u) << what;
  const std::string elf_magic = {'\x7f', 'E', 'L', 'F'};
  EXPECT_EQ(cubin.substr(0, 4), elf_magic) << what;
  EXPECT_EQ(cubin[4], 2) << what << ": not ELFCLASS64";
  EXPECT_EQ(cubin[5], 1) << what << ": not little-endian";
  unsigned machine = unsigned(uint8_t(cubin[18])) | unsigned(uint8_t(cubin[19])) << 8;
  EXPECT_EQ(machine, 190u) << what << ": not EM_CUDA";
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

TEST(CudaJit, NvrtcSupportsTheEngineTargets) {
  auto known = detail::nvrtc_supported_architectures();
  std::printf("NVRTC %s supports:", detail::nvrtc_version().c_str());
  for (const auto& a : known) std::printf(" %s", a.c_str());
  std::printf("\n");
  for (const char* arch : {"sm_75", "sm_86", "sm_89", "sm_90"})
    EXPECT_NE(std::find(known.begin(), known.end(), arch), known.end()) << arch;
}

TEST(CudaJit, CasesCoverEveryElementwiseOpAndType) {
  using detail::OpId;
  std::set<OpId> ops;
  std::set<std::pair<OpId, DataType>> op_types;
  for (const auto& c : testing::codegen_cases()) {
    const auto& g = c.graph.ir();
    for (const auto& k : detail::generate_cuda_kernels(g))
      for (size_t n : k.nodes) {
        const auto& node = g.nodes[n];
        ops.insert(node.op);
        // where's first operand is its uint8 condition; its values come next.
        detail::OperandId value = node.op == OpId::where ? node.inputs[1] : node.inputs[0];
        op_types.insert({node.op, g.desc(value).data_type});
      }
  }
  for (const detail::OpInfo& op : detail::all_ops())
    if (detail::is_cuda_elementwise_op(op.id)) {
      bool uint8_only = op.id == OpId::logicalAnd || op.id == OpId::logicalOr ||
                        op.id == OpId::logicalXor || op.id == OpId::logicalNot;
      EXPECT_TRUE(ops.count(op.id)) << op.name << " is in no test graph";
      EXPECT_TRUE(op_types.count({op.id, DataType::float32}) || uint8_only)
          << op.name << " on float32";
    }
  for (DataType t : kAllDataTypes) {
    EXPECT_TRUE(op_types.count({OpId::add, t})) << "add on " << to_string(t);
    EXPECT_TRUE(op_types.count({OpId::cast, t})) << "cast from " << to_string(t);
  }
}

// The path JIT takes: all kernels of a graph in one module, for every target architecture.
class CudaJitTarget : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaJitTarget, EveryCaseCompilesAsOneModuleWithoutWarnings) {
  const std::string& arch = GetParam();
  auto known = detail::nvrtc_supported_architectures();
  if (std::find(known.begin(), known.end(), arch) == known.end())
    GTEST_SKIP() << "NVRTC " << detail::nvrtc_version() << " does not support " << arch;
  double total = 0;
  size_t kernel_count = 0;
  for (const auto& c : testing::codegen_cases()) {
    std::vector<GeneratedKernel> kernels = detail::generate_cuda_kernels(c.graph.ir());
    detail::CompiledModule m = detail::compile_cuda_module(c.name, kernels, arch);
    total += m.compile_ms;
    kernel_count += kernels.size();
    EXPECT_EQ(m.arch, arch);
    EXPECT_EQ(m.log, "") << c.name << " for " << arch << ":\n"
                         << detail::cuda_module_source(kernels);
    expect_cuda_elf(m.cubin, c.name);
    ASSERT_EQ(m.kernel_names.size(), kernels.size());
    for (size_t i = 0; i < kernels.size(); ++i) {
      EXPECT_EQ(m.kernel_names[i], kernels[i].name);
      // The ELF symbol table names every kernel.
      EXPECT_NE(m.cubin.find(kernels[i].name + '\0'), std::string::npos) << kernels[i].name;
    }
  }
  std::printf("%s: %zu kernels in %zu modules, %.0f ms of NVRTC\n", arch.c_str(), kernel_count,
              testing::codegen_cases().size(), total);
}

// sm_120 only where this NVRTC knows it (CUDA 12.8 and later).
INSTANTIATE_TEST_SUITE_P(Architectures, CudaJitTarget,
                         ::testing::Values("sm_75", "sm_86", "sm_89", "sm_90", "sm_120"));

// Each kernel's standalone source compiles too (one program per kernel).
TEST(CudaJit, EveryKernelCompilesAloneWithoutWarnings) {
  std::vector<GeneratedKernel> kernels = all_case_kernels();
  ASSERT_GT(kernels.size(), 100u);
  auto start = std::chrono::steady_clock::now();
  std::vector<CompiledKernel> compiled = detail::compile_cuda_kernels(kernels, "sm_90");
  std::printf("sm_90: %zu kernels one by one in %.0f ms\n", kernels.size(),
              milliseconds_since(start));
  ASSERT_EQ(compiled.size(), kernels.size());
  for (size_t i = 0; i < kernels.size(); ++i) {
    EXPECT_EQ(compiled[i].name, kernels[i].name);
    EXPECT_EQ(compiled[i].arch, "sm_90");
    EXPECT_EQ(compiled[i].log, "") << kernels[i].name << ":\n" << kernels[i].source;
    expect_cuda_elf(compiled[i].cubin, compiled[i].name);
  }
}

TEST(CudaJit, ModuleOfTwoGraphsIsRefused) {
  std::vector<GeneratedKernel> a =
      detail::generate_cuda_kernels(testing::mobilenet_like_graph(1).ir());
  std::vector<GeneratedKernel> b =
      detail::generate_cuda_kernels(testing::mobilenet_like_graph(2).ir());
  a.insert(a.end(), b.begin(), b.end());
  testing::expect_error([&] { detail::compile_cuda_module("mixed", a, "sm_90"); },
                        ErrorKind::OperationError, "two kernels named 'cppnn_ew0_mul_add_clamp'");
}

TEST(CudaJit, SyntaxErrorCarriesTheNvrtcLog) {
  const std::string source =
      "extern \"C\" __global__ void broken(float* out) { out[0] = 1.0f +; }\n";
  testing::expect_error([&] { detail::compile_cuda_source("broken", source, "sm_90"); },
                        ErrorKind::OperationError, "kernel 'broken' for sm_90");
  try {
    detail::compile_cuda_source("broken", source, "sm_90");
  } catch (const Error& e) {
    std::string message = e.what();
    // NVRTC's log names the file (the kernel's name) and the line of the error.
    EXPECT_NE(message.find("broken.cu(1): error"), std::string::npos) << message;
    EXPECT_NE(message.find("expected an expression"), std::string::npos) << message;
  }
  // The compiler keeps working afterwards.
  auto good = detail::compile_cuda_source(
      "fine", "extern \"C\" __global__ void fine(float* out) { out[0] = 1.0f; }\n", "sm_90");
  expect_cuda_elf(good.cubin, good.name);
}

TEST(CudaJit, ParallelCompilationReportsTheFirstFailureInOrder) {
  std::vector<GeneratedKernel> kernels = all_case_kernels();
  kernels.resize(6);
  kernels[2].source += "this is not CUDA\n";
  kernels[4].source += "nor this\n";
  testing::expect_error([&] { detail::compile_cuda_kernels(kernels, "sm_86", 3); },
                        ErrorKind::OperationError, "kernel '" + kernels[2].name + "' for sm_86");
}

TEST(CudaJit, UnknownArchitectureIsNotSupported) {
  for (const char* arch : {"sm_10", "compute_90", "sm_90x", ""})
    testing::expect_error([&] { detail::compile_cuda_source("k", "", arch); },
                          ErrorKind::NotSupportedError, "cannot compile for architecture");
}

// Printed, not asserted: the machine running the tests sets the numbers.
TEST(CudaJit, CompileTimeOfAMobileNetSizedGraph) {
  std::vector<GeneratedKernel> kernels =
      detail::generate_cuda_kernels(testing::mobilenet_like_graph(30).ir());
  ASSERT_EQ(kernels.size(), 30u);
  detail::compile_cuda_source("warm_up", "extern \"C\" __global__ void warm_up() {}\n", "sm_90");
  for (const char* arch : {"sm_90", "sm_86"}) {
    auto start = std::chrono::steady_clock::now();
    auto serial = detail::compile_cuda_kernels(kernels, arch, 1);
    double serial_ms = milliseconds_since(start);
    start = std::chrono::steady_clock::now();
    auto parallel = detail::compile_cuda_kernels(kernels, arch, 0);
    double parallel_ms = milliseconds_since(start);
    start = std::chrono::steady_clock::now();
    detail::CompiledModule module = detail::compile_cuda_module("mobilenet_like", kernels, arch);
    double module_ms = milliseconds_since(start);
    std::printf(
        "NVRTC, 30 kernels for %s: one program each %.0f ms on 1 thread, %.0f ms on %u threads; "
        "one module %.0f ms\n",
        arch, serial_ms, parallel_ms, std::thread::hardware_concurrency(), module_ms);
    for (size_t i = 0; i < kernels.size(); ++i) EXPECT_EQ(serial[i].cubin, parallel[i].cubin);
    expect_cuda_elf(module.cubin, "module");
  }
}

}  // namespace
}  // namespace cppnn
