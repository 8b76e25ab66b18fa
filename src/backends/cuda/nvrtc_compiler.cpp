#include "backends/cuda/nvrtc_compiler.h"

#include <nvrtc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <system_error>
#include <thread>

namespace cppnn::detail {

namespace {

void check(nvrtcResult result, const std::string& what) {
  if (result != NVRTC_SUCCESS)
    fail(ErrorKind::OperationError,
         "NVRTC " + what + " failed: " + std::string(nvrtcGetErrorString(result)));
}

class Program {
 public:
  Program(const std::string& source, const std::string& name) {
    check(
        nvrtcCreateProgram(&program_, source.c_str(), (name + ".cu").c_str(), 0, nullptr, nullptr),
        "program creation for kernel '" + name + "'");
  }
  ~Program() { nvrtcDestroyProgram(&program_); }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  std::string log() const {
    size_t size = 0;
    if (nvrtcGetProgramLogSize(program_, &size) != NVRTC_SUCCESS || size <= 1) return "";
    std::string log(size, '\0');
    if (nvrtcGetProgramLog(program_, log.data()) != NVRTC_SUCCESS) return "";
    log.resize(size - 1);  // the terminating NUL
    return log;
  }
  nvrtcProgram get() const { return program_; }

 private:
  nvrtcProgram program_ = nullptr;
};

}  // namespace

std::string nvrtc_version() {
  int major = 0, minor = 0;
  check(nvrtcVersion(&major, &minor), "version query");
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<std::string> nvrtc_supported_architectures() {
  int count = 0;
  check(nvrtcGetNumSupportedArchs(&count), "architecture query");
  std::vector<int> archs(size_t(std::max(count, 0)));
  check(nvrtcGetSupportedArchs(archs.data()), "architecture query");
  std::sort(archs.begin(), archs.end());
  std::vector<std::string> names;
  for (int a : archs) names.push_back("sm_" + std::to_string(a));
  return names;
}

const std::vector<std::string>& nvrtc_kernel_options() {
  static const std::vector<std::string> options = {
      "--fmad=false", "--prec-div=true", "--prec-sqrt=true", "--ftz=false", "--std=c++17"};
  return options;
}

namespace {

void check_architecture(const std::string& arch) {
  std::vector<std::string> known = nvrtc_supported_architectures();
  if (std::find(known.begin(), known.end(), arch) != known.end()) return;
  std::string list;
  for (const std::string& a : known) list += (list.empty() ? "" : ", ") + a;
  fail(ErrorKind::NotSupportedError, "NVRTC " + nvrtc_version() +
                                         " cannot compile for architecture '" + arch +
                                         "'; it supports " + list);
}

struct Compilation {
  std::string cubin, log;
  double ms = 0;
};

// `what` names the program in messages: "kernel 'x'" or "module 'y' (3 kernels)".
Compilation compile(const std::string& file, const std::string& what, const std::string& source,
                    const std::string& arch) {
  check_architecture(arch);
  auto start = std::chrono::steady_clock::now();
  Program program(source, file);
  std::vector<std::string> options = nvrtc_kernel_options();
  options.push_back("--gpu-architecture=" + arch);
  std::vector<const char*> argv;
  for (const std::string& o : options) argv.push_back(o.c_str());
  nvrtcResult result = nvrtcCompileProgram(program.get(), int(argv.size()), argv.data());
  Compilation c{{}, program.log(), 0};
  if (result != NVRTC_SUCCESS)
    fail(ErrorKind::OperationError, "NVRTC could not compile " + what + " for " + arch + " (" +
                                        nvrtcGetErrorString(result) + "):\n" + c.log);
  size_t size = 0;
  check(nvrtcGetCUBINSize(program.get(), &size), "cubin size query for " + what);
  c.cubin.resize(size);
  check(nvrtcGetCUBIN(program.get(), c.cubin.data()), "cubin copy for " + what);
  c.ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return c;
}

}  // namespace

CompiledKernel compile_cuda_source(const std::string& name, const std::string& source,
                                   const std::string& arch) {
  Compilation c = compile(name, "kernel '" + name + "'", source, arch);
  return CompiledKernel{name, arch, std::move(c.cubin), std::move(c.log), c.ms};
}

CompiledKernel compile_cuda_kernel(const GeneratedKernel& kernel, const std::string& arch) {
  return compile_cuda_source(kernel.name, kernel.source, arch);
}

CompiledModule compile_cuda_module(const std::string& name,
                                   const std::vector<GeneratedKernel>& kernels,
                                   const std::string& arch) {
  std::string what = "module '" + name + "' (" + std::to_string(kernels.size()) + " kernels)";
  Compilation c = compile(name, what, cuda_module_source(kernels), arch);
  CompiledModule m{arch, {}, std::move(c.cubin), std::move(c.log), c.ms};
  for (const GeneratedKernel& k : kernels) m.kernel_names.push_back(k.name);
  return m;
}

std::vector<CompiledKernel> compile_cuda_kernels(const std::vector<GeneratedKernel>& kernels,
                                                 const std::string& arch, unsigned threads) {
  check_architecture(arch);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = unsigned(std::min<size_t>(threads, kernels.size()));
  std::vector<CompiledKernel> results(kernels.size());
  std::vector<std::exception_ptr> errors(kernels.size());
  std::atomic<size_t> next{0};
  // Each NVRTC program is independent; workers take the next kernel until none is left.
  auto work = [&] {
    for (size_t i = next++; i < kernels.size(); i = next++) {
      try {
        results[i] = compile_cuda_kernel(kernels[i], arch);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  // The calling thread works too, so the kernels still get compiled if no thread starts.
  std::vector<std::thread> pool;
  try {
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  } catch (const std::system_error&) {
  }
  work();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

}  // namespace cppnn::detail
