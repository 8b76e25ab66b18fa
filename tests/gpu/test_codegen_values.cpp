// Values of the generated element-wise kernels on a GPU, against the CPU backend running the
// same graph on the same inputs. Needs an NVIDIA GPU and driver: built only with
// -DCPPNN_BUILD_GPU_TESTS=ON.
//
// Tolerances: codegen_tolerance in tests/cuda_jit/codegen_cases.h.
#include <cuda.h>

#include <cstdio>
#include <cstring>
#include <map>

#include "backends/cuda/nvrtc_compiler.h"
#include "cuda_jit/codegen_cases.h"

namespace cppnn {
namespace {

using detail::GeneratedKernel;
using detail::OperandId;

void check(CUresult result, const std::string& what) {
  if (result == CUDA_SUCCESS) return;
  const char* text = nullptr;
  cuGetErrorString(result, &text);
  fail(ErrorKind::OperationError, what + ": " + (text ? text : "unknown CUDA error"));
}

struct Device {
  CUdevice device = 0;
  CUcontext context = nullptr;
  std::string arch;
  unsigned multiprocessors = 0;
  std::string skip_reason;  // non-empty: no usable GPU
};

const Device& device() {
  static const Device d = [] {
    Device d;
    if (cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&d.device, 0) != CUDA_SUCCESS) {
      d.skip_reason = "no CUDA device";
      return d;
    }
    check(cuDevicePrimaryCtxRetain(&d.context, d.device), "cuDevicePrimaryCtxRetain");
    int major = 0, minor = 0, sms = 0;
    cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d.device);
    cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d.device);
    cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d.device);
    d.arch = "sm_" + std::to_string(major * 10 + minor);
    d.multiprocessors = unsigned(sms);
    char name[256] = {};
    cuDeviceGetName(name, sizeof name, d.device);
    std::printf("GPU: %s, %s, %d multiprocessors\n", name, d.arch.c_str(), sms);
    return d;
  }();
  if (d.context) check(cuCtxSetCurrent(d.context), "cuCtxSetCurrent");
  return d;
}

class DeviceMemory {
 public:
  explicit DeviceMemory(size_t bytes) {
    check(cuMemAlloc(&ptr_, std::max<size_t>(bytes, 1)), "cuMemAlloc");
  }
  ~DeviceMemory() { cuMemFree(ptr_); }
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  CUdeviceptr get() const { return ptr_; }

 private:
  CUdeviceptr ptr_ = 0;
};

class Module {
 public:
  explicit Module(const std::string& cubin) {
    check(cuModuleLoadData(&module_, cubin.data()), "cuModuleLoadData");
  }
  ~Module() { cuModuleUnload(module_); }
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  CUfunction function(const std::string& name) const {
    CUfunction f = nullptr;
    check(cuModuleGetFunction(&f, module_, name.c_str()), "cuModuleGetFunction " + name);
    return f;
  }

 private:
  CUmodule module_ = nullptr;
};

// Runs every kernel of the graph in order (each graph node must be element-wise) and
// returns the graph's outputs. `grid` 0: cuda_grid_size's choice.
NamedTensors run_gpu(const testing::CodegenCase& c, unsigned grid = 0) {
  const Device& d = device();
  const detail::GraphIR& g = c.graph.ir();
  std::vector<GeneratedKernel> kernels = detail::generate_cuda_kernels(g);
  // One module for the graph, as the JIT compiles it.
  Module module(detail::compile_cuda_module(c.name, kernels, d.arch).cubin);
  std::map<OperandId, std::unique_ptr<DeviceMemory>> buffers;
  auto upload = [&](OperandId id, const Tensor& t) {
    auto m = std::make_unique<DeviceMemory>(t.byte_size());
    check(cuMemcpyHtoD(m->get(), t.data(), t.byte_size()), "cuMemcpyHtoD");
    buffers[id] = std::move(m);
  };
  for (const auto& [name, id] : g.inputs) upload(id, c.inputs.at(name));
  for (size_t i = 0; i < kernels.size(); ++i) {
    const GeneratedKernel& k = kernels[i];
    std::vector<CUdeviceptr> pointers;
    for (OperandId id : k.inputs) {
      if (!buffers.count(id)) upload(id, *g.operands[size_t(id)].data);  // a constant
      pointers.push_back(buffers.at(id)->get());
    }
    const OperandDescriptor& out = g.desc(k.output);
    size_t out_bytes = byte_size(out.data_type, k.elements);
    buffers[k.output] = std::make_unique<DeviceMemory>(out_bytes);
    // A pattern no result has by chance: an element the kernel misses shows.
    check(cuMemsetD8(buffers.at(k.output)->get(), 0xA5, out_bytes), "cuMemsetD8");
    pointers.push_back(buffers.at(k.output)->get());
    std::vector<unsigned char> sizes = detail::cuda_size_argument(k);
    std::vector<void*> params;
    for (CUdeviceptr& p : pointers) params.push_back(&p);
    params.push_back(sizes.data());
    unsigned blocks = grid ? grid : detail::cuda_grid_size(k, d.multiprocessors);
    check(cuLaunchKernel(module.function(k.name), blocks, 1, 1, detail::kCudaBlockSize, 1, 1, 0,
                         nullptr, params.data(), nullptr),
          "cuLaunchKernel " + k.name);
    check(cuCtxSynchronize(), "kernel " + k.name);
  }
  NamedTensors results;
  for (const auto& [name, id] : g.outputs) {
    Tensor t(g.desc(id).data_type, g.desc(id).shape);
    check(cuMemcpyDtoH(t.data(), buffers.at(id)->get(), t.byte_size()), "cuMemcpyDtoH");
    results[name] = std::move(t);
  }
  return results;
}

void expect_matches_cpu(const testing::CodegenCase& c, unsigned grid = 0) {
  NamedTensors want = testing::run_cpu(c.graph, c.inputs);
  NamedTensors got = run_gpu(c, grid);
  for (const auto& [name, w] : want)
    testing::expect_codegen_match(got.at(name), w, c.name + " output " + name, c.bfloat16);
}

void skip_without_gpu() {
  if (!device().skip_reason.empty()) GTEST_SKIP() << device().skip_reason;
}

class GpuCodegen : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { skip_without_gpu(); }
};

class GpuCodegenLaunch : public ::testing::Test {
 protected:
  void SetUp() override { skip_without_gpu(); }
};

TEST_P(GpuCodegen, MatchesTheCpuBackend) {
  for (const auto& c : testing::codegen_cases())
    if (c.name == GetParam()) return expect_matches_cpu(c);
  FAIL() << "no case " << GetParam();
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& c : testing::codegen_cases()) names.push_back(c.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Cases, GpuCodegen, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

// Few blocks for much work: each thread goes round the grid-stride loop many times.
TEST_F(GpuCodegenLaunch, GridStrideLoopCoversEveryElement) {
  testing::CodegenCase c{
      "mobilenet_like",
      testing::mobilenet_like_graph(3),
      {{"x", testing::random_tensor(DataType::float32, {1, 32, 56, 56}, -4, 4, 5)}}};
  expect_matches_cpu(c, 3);
}

}  // namespace
}  // namespace cppnn
