// The generated-kernel path of a CUDA plan. The runtime cache key is the module source's
// hash (a graph from the builder has no engine hash, and the source already pins every op,
// constant and the shapes' structure; the sizes are arguments), the device architecture,
// the driver, NVRTC and CUDA runtime versions and the cppnn build: an entry is a cubin the
// driver can load as it is. Within a process, a module already loaded by a plan of the same
// context for the same source serves the next plan too (a dynamic-shape graph's next
// shape, a graph compiled again): no cache read, no load.
#include "backends/cuda/jit_kernels.h"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include "backends/cuda/nvrtc_compiler.h"
#include "core/hash.h"
#include "runtime/runtime_cache.h"

namespace cppnn::detail::cuda {

namespace {

void check_cu(CUresult result, const std::string& what) {
  if (result == CUDA_SUCCESS) return;
  const char* text = nullptr;
  cuGetErrorString(result, &text);
  fail(ErrorKind::OperationError, what + ": " + (text ? text : "unknown CUDA driver error"));
}

CacheKey cache_key(const std::string& source, const std::string& arch) {
  CacheKey key;
  key.engine_hash = hash_hex(hash64(source.data(), source.size()));
  key.device_arch = arch;
  int driver = 0;
  if (cuDriverGetVersion(&driver) != CUDA_SUCCESS) driver = 0;
  key.driver_version = std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10);
  key.library_versions = "nvrtc" + nvrtc_version() + ";cudart" + std::to_string(CUDART_VERSION);
  return key;
}

// Loads `cubin` and finds every kernel in it; nullptr (with `why`) when the driver refuses.
std::shared_ptr<LoadedModule> try_load(const std::string& cubin,
                                       const std::vector<GeneratedKernel>& kernels,
                                       std::vector<CUfunction>& functions, std::string& why) {
  try {
    auto module = std::make_shared<LoadedModule>(cubin);
    functions.clear();
    for (const GeneratedKernel& k : kernels) functions.push_back(module->function(k.name));
    return module;
  } catch (const Error& e) {
    why = e.what();
    return nullptr;
  }
}

class KernelStep final : public Step {
 public:
  KernelStep(const Node& node, const GeneratedKernel& kernel, CUfunction function,
             std::shared_ptr<LoadedModule> module, const std::vector<Placement>& places,
             unsigned grid, std::string ops)
      : Step(node),
        function_(function),
        module_(std::move(module)),
        grid_(grid),
        elements_(kernel.elements),
        name_(kernel.name),
        ops_(std::move(ops)),
        vectorized_(kernel.vectorized),
        sizes_(cuda_size_argument(kernel)) {
    for (OperandId id : kernel.inputs)
      args_.push_back(reinterpret_cast<CUdeviceptr>(places[size_t(id)].device));
    args_.push_back(reinterpret_cast<CUdeviceptr>(places[size_t(kernel.output)].device));
    for (CUdeviceptr& p : args_) params_.push_back(&p);
    params_.push_back(sizes_.data());
  }

  bool on_device() const override { return true; }

  void run(cudaStream_t stream) override {
    if (elements_ == 0) return;
    check_cu(cuLaunchKernel(function_, grid_, 1, 1, kCudaBlockSize, 1, 1, 0,
                            reinterpret_cast<CUstream>(stream), params_.data(), nullptr),
             "launch of generated kernel " + name_);
  }

  std::string describe() const override {
    return ops_ + " as generated kernel " + name_ + " (" + std::to_string(elements_) +
           " elements, " + std::to_string(grid_) + "x" + std::to_string(kCudaBlockSize) +
           (vectorized_ ? ", 4 per thread)" : ")");
  }

 private:
  CUfunction function_;
  std::shared_ptr<LoadedModule> module_;
  unsigned grid_;
  size_t elements_;
  std::string name_, ops_;
  bool vectorized_;
  std::vector<CUdeviceptr> args_;
  std::vector<unsigned char> sizes_;  // the last parameter, by value
  std::vector<void*> params_;  // cuLaunchKernel's: pointers to args_ and sizes_, which never move
};

}  // namespace

LoadedModule::LoadedModule(const std::string& cubin) {
  check_cu(cuModuleLoadData(&module_, cubin.data()), "cuModuleLoadData of the generated kernels");
}

LoadedModule::~LoadedModule() {
  if (module_) cuModuleUnload(module_);
}

CUfunction LoadedModule::function(const std::string& name) const {
  CUfunction f = nullptr;
  check_cu(cuModuleGetFunction(&f, module_, name.c_str()), "cuModuleGetFunction " + name);
  return f;
}

JitKernels jit_elementwise_kernels(const GraphIR& graph, const Device& device) {
  auto start = std::chrono::steady_clock::now();
  JitKernels jit;
  jit.kernels = generate_cuda_kernels(graph);
  if (jit.kernels.empty()) return jit;
  std::string arch = "sm_" + std::to_string(device.sm);
  // Groups that differ only in their name (the same ops on shapes of the same structure, as
  // in every layer of a transformer) are one kernel: compiled once, launched by each group
  // with its own pointers and sizes. NVRTC's time grows with the program, so this is most
  // of a cold start.
  std::vector<GeneratedKernel> distinct;
  std::vector<size_t> distinct_of(jit.kernels.size());
  {
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < jit.kernels.size(); ++i) {
      const GeneratedKernel& k = jit.kernels[i];
      // Without the header's comment lines, which name the graph's nodes, operands and
      // shapes: the program (and its runtime cache entry) is then the same at every shape
      // of the same structure, since the code takes its sizes as an argument.
      std::string code = cuda_kernel_code(k);
      // The code with the kernel's name blanked out.
      std::string shape;
      size_t from = 0;
      for (size_t at = code.find(k.name); at != std::string::npos; at = code.find(k.name, from)) {
        shape.append(code, from, at - from).push_back('\x01');
        from = at + k.name.size();
      }
      shape.append(code, from, std::string::npos);
      auto [it, fresh] = seen.emplace(std::move(shape), distinct.size());
      if (fresh) {
        distinct.push_back(k);
        distinct.back().definitions = std::move(code);
      }
      distinct_of[i] = it->second;
    }
  }
  jit.distinct = distinct.size();
  std::string source = cuda_module_source(distinct);
  // Functions of the distinct kernels, spread to every group.
  auto spread = [&](std::vector<CUfunction>& functions) {
    std::vector<CUfunction> mine(jit.kernels.size());
    for (size_t i = 0; i < mine.size(); ++i) mine[i] = functions[distinct_of[i]];
    functions = std::move(mine);
  };

  // Loaded already for a plan of this context (its Device) that is still alive? (Keyed by
  // the Device, not the CUDA context, which contexts share: a fresh context reads the
  // runtime cache, as its tests expect. A Device outlives its plans' modules, so a later
  // Device at the same address finds only expired entries.)
  const Device* owner = &device;
  std::string loaded_key = arch + " " + hash_hex(hash64(source.data(), source.size()));
  static std::mutex loaded_mutex;
  static std::map<std::pair<const Device*, std::string>, std::weak_ptr<LoadedModule>> loaded;
  {
    std::lock_guard<std::mutex> lock(loaded_mutex);
    for (auto it = loaded.begin(); it != loaded.end();) it = it->second.expired() ? loaded.erase(it) : std::next(it);
    auto it = loaded.find({owner, loaded_key});
    if (it != loaded.end()) {
      if (std::shared_ptr<LoadedModule> module = it->second.lock()) {
        try {
          for (const GeneratedKernel& k : distinct) jit.functions.push_back(module->function(k.name));
          jit.module = std::move(module);
          spread(jit.functions);
          jit.cache_hit = true;
          jit.cache_note = "loaded already by another plan";
          jit.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
          return jit;
        } catch (const Error&) {
          jit.functions.clear();  // load it again below
        }
      }
    }
  }
  auto keep_loaded = [&] {
    if (!jit.module) return;
    std::lock_guard<std::mutex> lock(loaded_mutex);
    loaded[{owner, loaded_key}] = jit.module;
  };

  // The cache is an optimization: every failure here only means compiling.
  std::optional<RuntimeCache> cache;
  std::optional<CacheKey> key;
  try {
    cache.emplace();
    key = cache_key(source, arch);
    if (std::optional<CacheEntry> entry = cache->load(*key)) {
      auto cubin = entry->find("cubin");
      std::string why = "the entry holds no cubin";
      if (cubin != entry->end())
        jit.module = try_load(cubin->second, distinct, jit.functions, why);
      if (jit.module) {
        spread(jit.functions);
        jit.cache_hit = true;
      } else {
        jit.cache_note = "cache entry unusable (" + why + "), rebuilt";
        cache->remove(*key);
      }
    } else if (cache->stats().rejected) {
      jit.cache_note = "cache entry rejected (" + cache->stats().last_problem + "), rebuilt";
    }
  } catch (const std::exception& e) {
    jit.cache_note = std::string("runtime cache unavailable: ") + e.what();
    cache.reset();
  }

  if (!jit.module) {
    CompiledModule compiled = compile_cuda_module("graph " + hash_hex(hash64(source.data(), source.size())), distinct, arch);
    std::string why;
    jit.module = try_load(compiled.cubin, distinct, jit.functions, why);
    if (!jit.module) fail(ErrorKind::OperationError, "generated kernels: " + why);
    spread(jit.functions);
    if (cache && key) {
      try {
        StoreResult stored = cache->store(*key, CacheEntry{{"cubin", compiled.cubin}});
        if (!stored && cache->enabled())
          jit.cache_note += (jit.cache_note.empty() ? "" : "; ") + std::string("not cached: ") +
                            stored.problem;
      } catch (const std::exception& e) {
        jit.cache_note += std::string("; not cached: ") + e.what();
      }
    }
  }
  keep_loaded();
  jit.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return jit;
}

std::unique_ptr<Step> make_kernel_step(const Node& node, const GeneratedKernel& kernel,
                                       CUfunction function, std::shared_ptr<LoadedModule> module,
                                       const std::vector<Placement>& places, unsigned grid,
                                       std::string ops) {
  return std::make_unique<KernelStep>(node, kernel, function, std::move(module), places, grid,
                                      std::move(ops));
}

}  // namespace cppnn::detail::cuda
