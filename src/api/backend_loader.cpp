// Backend selection. The CUDA backend is a plugin (libcppnn_cuda.so) opened with dlopen
// only when a context asks for acceleration, so the core and the CPU backend run on
// machines with no GPU, no driver and no CUDA libraries. The plugin links libcuda itself:
// on a machine without the NVIDIA driver its dlopen fails, and that is the answer. It also
// links this core, libcppnn.so, which the loader finds already in the process: one core,
// one op table, one kernel registry. The plugin is reached only through its C function
// table (runtime/backend_plugin.h), which api/plugin_backend.cpp turns into a Backend.
#include "api/backend_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include "api/plugin_backend.h"
#include "backends/cpu/cpu_backend.h"
#include "runtime/backend_plugin.h"

namespace cppnn::detail {

namespace {

namespace fs = std::filesystem;

// Where to look for the plugin: an explicit path, then beside the library that holds this
// code (libcppnn.so: build trees and installs keep the two together), then beside the
// program, then the loader's path.
std::vector<std::string> plugin_candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("CPPNN_CUDA_BACKEND"); env && *env) {
    out.push_back(env);
    return out;
  }
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&plugin_candidates), &info) && info.dli_fname) {
    fs::path here = fs::path(info.dli_fname).parent_path();
    out.push_back((here / "libcppnn_cuda.so").string());
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) out.push_back((exe.parent_path() / "libcppnn_cuda.so").string());
  out.push_back("libcppnn_cuda.so");
  return out;
}

}  // namespace

BackendChoice choose_backend(const ContextOptions& options) {
  if (!options.accelerated)
    return {make_cpu_backend(options), "the CPU was asked for (accelerated = false)"};
  if (options.power_preference == PowerPreference::low_power)
    return {make_cpu_backend(options), "low-power preference keeps the discrete GPU idle"};

  std::string why;
  for (const std::string& path : plugin_candidates()) {
    bool explicit_path = path.find('/') != std::string::npos;
    if (explicit_path && !fs::exists(path)) {
      if (why.empty()) why = "no CUDA backend at " + path;
      continue;
    }
    // RTLD_LOCAL: the plugin's symbols (and the CUDA libraries it brings) stay out of the
    // global namespace; its one export is looked up here.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* e = dlerror();  // reading it clears it: read once
      std::string err = e ? e : "unknown error";
      // The bare name missing from the loader path only means "not installed".
      if (explicit_path || err.find("cannot open shared object file") == std::string::npos ||
          err.find("libcppnn_cuda.so:") != 0)
        why = "CUDA backend " + path + " did not load: " + err;
      continue;
    }
    auto entry = reinterpret_cast<cppnn_backend_plugin_fn>(dlsym(handle, CPPNN_BACKEND_PLUGIN_ENTRY));
    if (!entry) {
      why = path + " is not a cppnn backend plugin (it has no " CPPNN_BACKEND_PLUGIN_ENTRY ")";
      dlclose(handle);
      continue;
    }
    const CppnnBackendPluginV1* table = entry(CPPNN_BACKEND_PLUGIN_VERSION);
    std::string problem =
        table ? plugin_table_problem(*table, path)
              : path + " does not offer backend plugin version " +
                    std::to_string(CPPNN_BACKEND_PLUGIN_VERSION) + ", this cppnn's";
    if (!problem.empty()) {
      why = problem;
      dlclose(handle);
      continue;
    }
    std::unique_ptr<Backend> backend;
    try {
      backend = make_plugin_backend(*table, options);
    } catch (const std::exception& e) {
      why = std::string("CUDA backend unavailable: ") + e.what();
      dlclose(handle);  // nothing from it is alive
      continue;
    }
    // The handle stays open for the process: plans and kernels live in its code.
    std::string detail = backend->detail();
    return {std::move(backend), "CUDA device found" + (detail.empty() ? "" : ": " + detail)};
  }
  return {make_cpu_backend(options), why.empty() ? "no CUDA backend installed" : why};
}

}  // namespace cppnn::detail
