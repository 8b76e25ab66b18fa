#include "backends/cuda/library_preload.h"

#include <cudnn.h>
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace cppnn::detail::cuda {

namespace {

// The folder of the libcudnn.so this plugin was linked against and loaded: cuDNN's shim
// opens its sub-libraries from beside itself, and a copy from elsewhere (another cuDNN 9
// minor version on the library path) must not be the one opened first.
std::string cudnn_folder() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&cudnnGetVersion), &info) || !info.dli_fname) return "";
  std::string path = info.dli_fname;
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

}  // namespace

LibraryPreload::LibraryPreload(bool enabled) {
  if (!enabled) {
    summary_ = "library preload off (CPPNN_CUDA_PRELOAD=0)";
    return;
  }
  thread_ = std::thread([this] { run(); });
}

void LibraryPreload::wait() {
  if (thread_.joinable()) thread_.join();
}

void LibraryPreload::run() {
  // In the order cuDNN needs them: the graph library first (cudnnCreate), the large engine
  // libraries last. libcudnn_adv (RNNs, attention) is not used by cppnn.
  static const char* const kSubLibraries[] = {"graph", "ops", "cnn", "heuristic",
                                              "engines_runtime_compiled", "engines_precompiled"};
  const std::string folder = cudnn_folder();
  const std::string suffix = ".so." + std::to_string(CUDNN_MAJOR);
  auto t0 = std::chrono::steady_clock::now();
  int opened = 0;
  std::string missing;
  for (const char* sub : kSubLibraries) {
    std::string name = "libcudnn_" + std::string(sub) + suffix;
    // RTLD_LAZY | RTLD_LOCAL: what cuDNN's own dlopen would do; a later dlopen by cuDNN of
    // the same soname finds this one and costs nothing. The handle is never closed.
    void* handle = folder.empty() ? nullptr : dlopen((folder + name).c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (!handle) handle = dlopen(name.c_str(), RTLD_LAZY | RTLD_LOCAL);
    if (handle)
      ++opened;
    else
      missing += (missing.empty() ? "" : ", ") + name;
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  char line[160];
  std::snprintf(line, sizeof line, "%d cuDNN libraries preloaded in %.1f ms beside context creation",
                opened, ms);
  summary_ = line;
  if (!missing.empty()) summary_ += " (not found: " + missing + ")";
}

}  // namespace cppnn::detail::cuda
