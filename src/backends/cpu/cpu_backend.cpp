// The CPU backend: binds a kernel to every node, allocates intermediates, runs in order.
#include <omp.h>

#include <algorithm>

#include "backends/cpu/kernel.h"
#include "runtime/backend.h"

namespace cppnn::detail {

namespace {

class FnKernel final : public CpuKernel {
 public:
  explicit FnKernel(KernelFn fn) : fn_(std::move(fn)) {}
  void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
    fn_(in, out);
  }

 private:
  KernelFn fn_;
};

struct Step {
  const Node* node;
  std::unique_ptr<CpuKernel> kernel;
};

class CpuPlan final : public Plan {
 public:
  CpuPlan(std::shared_ptr<const GraphIR> graph, int threads) : graph_(std::move(graph)) {
    const GraphIR& g = *graph_;
    const auto& registry = CpuKernelRegistry::instance();
    for (const Node& node : g.nodes) {
      const KernelFactory* factory = registry.find(node.op);
      if (!factory)
        fail(ErrorKind::NotSupportedError,
             "the CPU backend has no kernel for op '" + node.op + "'");
      KernelContext cx{g, node, {}, {}, {}, threads};
      for (OperandId id : node.inputs) {
        cx.inputs.push_back(id == kNoOperand ? nullptr : &g.desc(id));
        const OperandInfo* info = id == kNoOperand ? nullptr : &g.operands[size_t(id)];
        cx.constants.push_back(info && info->role == OperandRole::constant ? info->data.get()
                                                                           : nullptr);
      }
      for (OperandId id : node.outputs) cx.outputs.push_back(&g.desc(id));
      try {
        steps_.push_back(Step{&node, (*factory)(cx)});
      } catch (const Error& e) {
        throw Error(e.kind(), node.op + (node.label.empty() ? "" : " '" + node.label + "'") +
                                  ": " + e.what());
      }
    }
  }

  NamedTensors compute(const NamedTensors& inputs) override {
    const GraphIR& g = *graph_;
    std::vector<Tensor> values(g.operands.size());
    for (size_t i = 0; i < g.operands.size(); ++i)
      if (g.operands[i].role == OperandRole::constant) values[i] = *g.operands[i].data;
    for (const auto& [name, id] : g.inputs) values[size_t(id)] = inputs.at(name);

    // Free each intermediate after its last use so peak memory follows liveness.
    std::vector<int32_t> last_use(g.operands.size(), -1);
    for (size_t s = 0; s < g.nodes.size(); ++s)
      for (OperandId id : g.nodes[s].inputs)
        if (id != kNoOperand) last_use[size_t(id)] = int32_t(s);
    for (const auto& [_, id] : g.outputs) last_use[size_t(id)] = int32_t(g.nodes.size());

    std::vector<const Tensor*> ins;
    std::vector<Tensor*> outs;
    for (size_t s = 0; s < steps_.size(); ++s) {
      const Node& node = *steps_[s].node;
      ins.clear();
      outs.clear();
      for (OperandId id : node.inputs) ins.push_back(id == kNoOperand ? nullptr : &values[size_t(id)]);
      for (OperandId id : node.outputs) {
        const OperandDescriptor& d = g.desc(id);
        values[size_t(id)] = Tensor(d.data_type, d.shape);
        outs.push_back(&values[size_t(id)]);
      }
      steps_[s].kernel->run(ins, outs);
      for (OperandId id : node.inputs)
        if (id != kNoOperand && last_use[size_t(id)] == int32_t(s) &&
            g.operands[size_t(id)].role == OperandRole::intermediate)
          values[size_t(id)] = Tensor();
    }
    NamedTensors result;
    for (const auto& [name, id] : g.outputs) result[name] = values[size_t(id)];
    return result;
  }

 private:
  std::shared_ptr<const GraphIR> graph_;
  std::vector<Step> steps_;
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const ContextOptions& options) {
    threads_ = options.num_threads > 0 ? options.num_threads : omp_get_num_procs();
    omp_set_num_threads(threads_);
  }
  std::string name() const override { return "cpu"; }
  std::unique_ptr<Plan> compile(std::shared_ptr<const GraphIR> graph) override {
    return std::make_unique<CpuPlan>(std::move(graph), threads_);
  }

 private:
  int threads_ = 1;
};

}  // namespace

std::unique_ptr<CpuKernel> make_kernel(KernelFn fn) {
  return std::make_unique<FnKernel>(std::move(fn));
}

const CpuKernelRegistry& CpuKernelRegistry::instance() {
  static const CpuKernelRegistry registry = [] {
    CpuKernelRegistry r;
    register_elementwise_kernels(r);
    register_shape_kernels(r);
    register_reduction_kernels(r);
    register_conv_kernels(r);
    register_normalization_kernels(r);
    register_pooling_kernels(r);
    return r;
  }();
  return registry;
}

const KernelFactory* CpuKernelRegistry::find(const std::string& op) const {
  auto it = factories_.find(op);
  return it == factories_.end() ? nullptr : &it->second;
}

void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  size_t threads = size_t(omp_get_max_threads());
  size_t chunks = std::min(threads, std::max<size_t>(1, n / std::max<size_t>(grain, 1)));
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
#pragma omp parallel for num_threads(int(chunks)) schedule(static)
  for (size_t c = 0; c < chunks; ++c) {
    size_t begin = n * c / chunks, end = n * (c + 1) / chunks;
    if (begin < end) fn(begin, end);
  }
}

std::vector<size_t> strides_of(const Dims& shape) {
  std::vector<size_t> s(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) s[i - 1] = s[i] * size_t(shape[i]);
  return s;
}

std::unique_ptr<Backend> make_cpu_backend(const ContextOptions& options) {
  return std::make_unique<CpuBackend>(options);
}

}  // namespace cppnn::detail
