// The generated kernels of every codegen test case, compiled as host C++ (host_shim.h) and
// run thread by thread, against the CPU backend on the same graphs and inputs. This checks
// on any machine what a GPU would compute, except for CUDA's own math library: index math
// and broadcasting, vector loads, the grid-stride loop, inlined constants, integer
// wrap-around and division, casts and float16 rounding.
#include <map>

#include "codegen_host/host_shim.h"
#include "backends/cuda/codegen/cuda_codegen.h"
#include "cuda_jit/codegen_cases.h"

namespace cppnn {
namespace {

using detail::GeneratedKernel;
using detail::OperandId;

const HostKernel& host_kernel(const std::string& case_name, size_t index) {
  for (size_t i = 0; i < kHostKernelCount; ++i)
    if (case_name == kHostKernels[i].case_name && kHostKernels[i].index == index)
      return kHostKernels[i];
  fail(ErrorKind::OperationError,
       "no emulated kernel " + std::to_string(index) + " of " + case_name);
}

// Runs the graph's kernels in order; `multiprocessors` sets the grid as on such a device.
NamedTensors run_host_kernels(const testing::CodegenCase& c, unsigned multiprocessors) {
  const detail::GraphIR& g = c.graph.ir();
  std::vector<GeneratedKernel> kernels = detail::generate_cuda_kernels(g);
  std::map<OperandId, Tensor> buffers;
  for (const auto& [name, id] : g.inputs) buffers[id] = c.inputs.at(name).clone();
  for (size_t i = 0; i < kernels.size(); ++i) {
    const GeneratedKernel& k = kernels[i];
    std::vector<void*> params;
    for (OperandId id : k.inputs) {
      if (!buffers.count(id)) buffers[id] = g.operands[size_t(id)].data->clone();  // a constant
      params.push_back(buffers[id].data());
    }
    Tensor out = Tensor::uninitialized(g.desc(k.output).data_type, g.desc(k.output).shape);
    std::memset(out.data(), 0xA5, out.byte_size());  // an element the kernel misses shows
    params.push_back(out.data());
    std::vector<unsigned char> sizes = detail::cuda_size_argument(k);  // new[]: aligned
    params.push_back(sizes.data());
    buffers[k.output] = out;
    host_kernel(c.name, i).launch(params.data(), detail::cuda_grid_size(k, multiprocessors));
  }
  NamedTensors results;
  for (const auto& [name, id] : g.outputs) results[name] = buffers.at(id);
  return results;
}

class CudaCodegenHost : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaCodegenHost, KernelsMatchTheCpuBackend) {
  std::vector<testing::CodegenCase> cases = testing::codegen_cases();
  for (const auto& c : cases) {
    if (c.name != GetParam()) continue;
    NamedTensors want = testing::run_cpu(c.graph, c.inputs);
    // One multiprocessor: 8 blocks, so larger outputs go round the grid-stride loop; 100: one
    // thread or fewer per element.
    for (unsigned sms : {1u, 100u}) {
      NamedTensors got = run_host_kernels(c, sms);
      for (const auto& [name, w] : want) {
        const Tensor& t = got.at(name);
        testing::expect_codegen_match(t, w, c.name + " output " + name, c.bfloat16);
        // On the host both sides use glibc's math, so float16 results, rounded after every
        // op on both sides, must agree to the bit: this is what checks that rounding.
        if (w.data_type() == DataType::float16) {
          EXPECT_EQ(std::memcmp(t.data(), w.data(), w.byte_size()), 0) << c.name << " " << name;
        }
      }
    }
    return;
  }
  FAIL() << "no case " << GetParam();
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& c : testing::codegen_cases()) names.push_back(c.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Cases, CudaCodegenHost, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

TEST(CudaCodegenHostLaunch, GridStrideLoopCoversEveryElement) {
  testing::CodegenCase c{
      "mobilenet_like",
      testing::mobilenet_like_graph(3),
      {{"x", testing::random_tensor(DataType::float32, {1, 32, 56, 56}, -4, 4, 5)}}};
  NamedTensors want = testing::run_cpu(c.graph, c.inputs);
  NamedTensors got = run_host_kernels(c, 1);  // 8 blocks for 100352 elements
  for (const auto& [name, w] : want) testing::expect_codegen_match(got.at(name), w, name);
}

}  // namespace
}  // namespace cppnn
