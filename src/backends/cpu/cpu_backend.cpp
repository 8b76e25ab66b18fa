// The CPU backend: binds a kernel to every node, allocates intermediates, runs in order.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <cstring>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/evaluator.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/matmul_attention.h"
#include "backends/cpu/threads.h"
#include "compiler/passes.h"
#include "runtime/memory_plan.h"

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

bool has_bfloat16_operand(const GraphIR& g, const Node& node) {
  for (const auto* ids : {&node.inputs, &node.outputs})
    for (OperandId id : *ids)
      if (id != kNoOperand && g.desc(id).data_type == DataType::bfloat16) return true;
  return false;
}

Tensor widened(const Tensor& t) {
  Tensor out = Tensor::uninitialized(DataType::float32, t.shape());
  const uint16_t* src = t.data_as<uint16_t>();
  float* dst = out.data_as<float>();
  parallel_for(t.element_count(), 1 << 14, [=](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) dst[i] = bfloat16_to_float(src[i]);
  });
  return out;
}

// make_node_kernel's kernel for a node with bfloat16 operands.
class Float32Kernel final : public CpuKernel {
 public:
  Float32Kernel(const GraphIR& g, const Node& node, const KernelFactory& factory,
                int num_threads) {
    // A graph of just the node's operands, numbered in order of use, bfloat16 made float32.
    std::map<OperandId, OperandId> renumbered;
    auto copy = [&](OperandId id) {
      if (id == kNoOperand) return kNoOperand;
      auto [it, fresh] = renumbered.emplace(id, OperandId(graph_.operands.size()));
      if (!fresh) return it->second;
      OperandInfo info = g.operands[size_t(id)];
      if (info.desc.data_type == DataType::bfloat16) {
        info.desc.data_type = DataType::float32;
        if (info.data) info.data = std::make_shared<const Tensor>(widened(*info.data));
      }
      graph_.operands.push_back(std::move(info));
      return it->second;
    };
    node_ = node;
    for (OperandId& id : node_.inputs) {
      widen_.push_back(id != kNoOperand && g.desc(id).data_type == DataType::bfloat16);
      id = copy(id);
    }
    for (OperandId& id : node_.outputs) {
      round_.push_back(g.desc(id).data_type == DataType::bfloat16);
      id = copy(id);
    }
    inner_ = factory(kernel_context(graph_, node_, num_threads));
  }

  void run(const std::vector<const Tensor*>& inputs,
           const std::vector<Tensor*>& outputs) override {
    std::vector<Tensor> wide_in(inputs.size()), wide_out(outputs.size());
    std::vector<const Tensor*> in(inputs);
    std::vector<Tensor*> out(outputs);
    for (size_t i = 0; i < in.size(); ++i)
      if (widen_[i] && in[i]) {
        wide_in[i] = widened(*in[i]);
        in[i] = &wide_in[i];
      }
    for (size_t k = 0; k < out.size(); ++k)
      if (round_[k]) {
        wide_out[k] = Tensor::uninitialized(DataType::float32, out[k]->shape());
        out[k] = &wide_out[k];
      }
    inner_->run(in, out);
    for (size_t k = 0; k < out.size(); ++k) {
      if (!round_[k]) continue;
      const float* src = wide_out[k].data_as<float>();
      uint16_t* dst = outputs[k]->data_as<uint16_t>();
      parallel_for(wide_out[k].element_count(), 1 << 14, [=](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) dst[i] = float_to_bfloat16(src[i]);
      });
    }
  }

 private:
  GraphIR graph_;  // the kernel may keep references into it (descriptors, constants)
  Node node_;
  std::vector<bool> widen_, round_;
  std::unique_ptr<CpuKernel> inner_;
};

struct Step {
  const Node* node;
  std::unique_ptr<CpuKernel> kernel;
  int threads = 1;  // step_threads: what its work can keep busy
  double seconds = 0;  // with CPPNN_PROFILE set
  size_t runs = 0;
};

class CpuPlan final : public Plan {
 public:
  CpuPlan(std::shared_ptr<const GraphIR> graph, const CpuThreads& threads, size_t max_bytes)
      : graph_(std::move(graph)), threads_(threads.count) {
    const GraphIR& g = *graph_;
    // Checked before any kernel is bound or byte allocated.
    // Every reshape may be a view: plan_memory keeps copies where one side is not an
    // intermediate, and the kernel skips the copy when both sides share bytes.
    std::vector<bool> views(g.nodes.size(), false);
    for (size_t s = 0; s < g.nodes.size(); ++s) views[s] = g.nodes[s].op == OpId::reshape;
    memory_ = plan_memory(g, views);
    check_plan_memory(g, memory_, max_bytes);
    const auto& registry = CpuKernelRegistry::instance();
    for (const Node& node : g.nodes) {
      if (!registry.has(node.op))
        fail(ErrorKind::NotSupportedError,
             "the CPU backend has no kernel for op '" + op_name(node.op) + "'");
      try {
        // oneDNN sizes a primitive's work split for the threads OpenMP offers when it is
        // created, and runs it on as many: the step's count both times.
        int t = step_threads(g, node, threads_);
        omp_set_num_threads(t);
        steps_.push_back(Step{&node, make_node_kernel(g, node, t), t});
      } catch (const Error& e) {
        omp_set_num_threads(threads_);
        throw Error(e.kind(), op_name(node.op) +
                                  (node.label.empty() ? "" : " '" + node.label + "'") + ": " +
                                  e.what());
      }
    }
    const size_t links = link_native_layouts(g);
    // 0xff bytes are NaN in every float type: a kernel that forgets to write part of its
    // output shows up in tests instead of silently reading zeros.
    Tensor arena = Tensor::uninitialized(DataType::uint8, {int64_t(memory_.arena_bytes)});
    if (memory_.arena_bytes) std::memset(arena.data(), 0xff, memory_.arena_bytes);
    omp_set_num_threads(threads_);
    report_ = describe(g, steps_, threads);
    if (links) {
      std::string note = "; " + std::to_string(links) + " convolution pair" + (links == 1 ? "" : "s") +
                         " hand over in their own layout";
      report_.insert(report_.find("\nsteps:"), note);
    }
    values_.resize(g.operands.size());
    for (size_t i = 0; i < g.operands.size(); ++i) {
      const OperandInfo& info = g.operands[i];
      if (info.role == OperandRole::constant) values_[i] = *info.data;
      if (memory_.offset[i] != SIZE_MAX)
        values_[i] = Tensor::wrap(info.desc.data_type, info.desc.shape,
                                  arena.data_as<uint8_t>() + memory_.offset[i],
                                  std::shared_ptr<void>(arena_holder(arena)));
    }
  }

  // CPPNN_PROFILE=1: time per op kind, printed to stderr when the plan goes away.
  ~CpuPlan() override {
    if (!profile_ || steps_.empty() || steps_[0].runs == 0) return;
    std::map<std::string, std::pair<double, size_t>> by_op;
    double total = 0;
    for (const Step& s : steps_) {
      std::string key = op_name(s.node->op);
      if (s.node->op == OpId::conv2d) {
        key.append(" ").append(s.node->attrs.s_or("inputLayout", "nchw"));
        if (s.node->attrs.i_or("groups", 1) > 1) key.append(" grouped");
      }
      by_op[key].first += s.seconds / double(s.runs);
      by_op[key].second += 1;
      total += s.seconds / double(s.runs);
    }
    std::fprintf(stderr, "cppnn profile (ms per run, %zu runs):\n", steps_[0].runs);
    for (const auto& [op, v] : by_op)
      std::fprintf(stderr, "  %-28s %4zu nodes %8.3f ms %5.1f%%\n", op.c_str(), v.second,
                   v.first * 1e3, 100 * v.first / total);
    std::fprintf(stderr, "  %-28s %4zu nodes %8.3f ms\n", "total", steps_.size(), total * 1e3);
  }

  std::string report() const override { return report_; }

  NamedTensors compute(const NamedTensors& inputs) override {
    const GraphIR& g = *graph_;
    for (const auto& [name, id] : g.inputs) values_[size_t(id)] = inputs.at(name);
    // An output folded to a constant is copied so the caller cannot change the plan's copy.
    for (const auto& [_, id] : g.outputs)
      values_[size_t(id)] = g.operands[size_t(id)].role == OperandRole::constant
                                ? g.operands[size_t(id)].data->clone()
                                : Tensor::uninitialized(g.desc(id).data_type, g.desc(id).shape);

    std::vector<const Tensor*> ins;
    std::vector<Tensor*> outs;
    // The thread count is per calling thread (OpenMP's nthreads-var): set here, on the
    // thread that computes, and put back for whatever else that thread runs.
    int current = -1;
    struct Restore {
      int threads;
      ~Restore() { omp_set_num_threads(threads); }
    } restore{threads_};
    for (Step& step : steps_) {
      if (step.threads != current) omp_set_num_threads(current = step.threads);
      ins.clear();
      outs.clear();
      for (OperandId id : step.node->inputs)
        ins.push_back(id == kNoOperand ? nullptr : &values_[size_t(id)]);
      for (OperandId id : step.node->outputs) outs.push_back(&values_[size_t(id)]);
      if (profile_) {
        auto t0 = std::chrono::steady_clock::now();
        step.kernel->run(ins, outs);
        step.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++step.runs;
      } else {
        step.kernel->run(ins, outs);
      }
    }
    NamedTensors result;
    for (const auto& [name, id] : g.outputs) result[name] = values_[size_t(id)];
    // Drop references to the caller's inputs and outputs.
    for (const auto& [_, id] : g.inputs) values_[size_t(id)] = Tensor();
    for (const auto& [_, id] : g.outputs)
      values_[size_t(id)] = g.operands[size_t(id)].role == OperandRole::constant
                                ? *g.operands[size_t(id)].data
                                : Tensor();
    return result;
  }

 private:
  // What the plan runs: the first line says the precision and the layout the passes chose,
  // then one line per step (op, conv layout and fused epilogue, label, output), so that two
  // plans of one model (compiled directly, and from its engine) can be compared.
  static std::string describe(const GraphIR& g, const std::vector<Step>& plan_steps,
                              const CpuThreads& threads) {
    // Appends only: g++ 12 reports -Wrestrict falsely on "literal" + std::string here.
    size_t convs = 0, nhwc = 0, fewer = 0;
    std::string steps;
    for (const Step& step : plan_steps) {
      const Node& node = *step.node;
      std::string line = "  ";
      line += op_name(node.op);
      if (node.op == OpId::conv2d) {
        ++convs;
        std::string layout = node.attrs.s_or("inputLayout", "nchw");
        nhwc += layout == "nhwc";
        line += ' ';
        line += layout;
        if (node.inputs.size() > 2 && node.inputs[2] != kNoOperand) line += " +bias";
        if (node.inputs.size() > 3 && node.inputs[3] != kNoOperand) line += " +residual";
      }
      if (node.attrs.has("activation")) {
        line += " +";
        line += node.attrs.s("activation");
      }
      if (!node.label.empty()) {
        line += " '";
        line += node.label;
        line += '\'';
      }
      line += " ->";
      for (OperandId out : node.outputs) {
        line += ' ';
        line += to_string(g.desc(out).data_type);
        line += ' ';
        line += to_string(g.desc(out).shape);
      }
      if (step.threads < threads.count) {
        ++fewer;
        line += " [";
        line += std::to_string(step.threads);
        line += step.threads == 1 ? " thread]" : " threads]";
      }
      steps += line;
      steps += '\n';
    }
    std::string r = "cpu plan: ";
    r += std::to_string(g.nodes.size());
    r += " nodes on ";
    r += std::to_string(threads.count);
    r += threads.count == 1 ? " thread (" : " threads (";
    r += threads.why;
    if (fewer) {
      r += "; ";
      r += std::to_string(fewer);
      r += fewer == 1 ? " step" : " steps";
      r += " too small to share them on fewer";
    }
    r += ')';
    r += ", precision ";
    r += to_string(g.precision);
    if (g.precision == Precision::float32) r += " (as built)";
    r += ", layout ";
    r += nhwc == 0 ? "nchw" : nhwc == convs ? "nhwc" : "mixed";
    r += " (";
    r += std::to_string(nhwc);
    r += " of ";
    r += std::to_string(convs);
    r += " conv2d channels-last)\nsteps:\n";
    r += steps;
    return r;
  }

  // Consecutive convolutions whose primitives share a layout of their own (Winograd's
  // blocked one) hand the intermediate over in it: the producer's output read by that
  // convolution alone (input 0), not a graph output.
  size_t link_native_layouts(const GraphIR& g) {
    std::vector<int32_t> readers(g.operands.size(), 0), reader(g.operands.size(), -1);
    for (size_t s = 0; s < steps_.size(); ++s)
      for (OperandId in : steps_[s].node->inputs)
        if (in != kNoOperand) ++readers[size_t(in)], reader[size_t(in)] = int32_t(s);
    for (const auto& [_, id] : g.outputs) ++readers[size_t(id)];
    size_t linked = 0;
    for (Step& p : steps_) {
      if (p.node->op != OpId::conv2d || p.node->outputs.size() != 1) continue;
      OperandId o = p.node->outputs[0];
      if (readers[size_t(o)] != 1 || reader[size_t(o)] < 0) continue;
      Step& c = steps_[size_t(reader[size_t(o)])];
      if (c.node->op != OpId::conv2d || c.node->inputs.empty() || c.node->inputs[0] != o) continue;
      if (p.kernel->hand_output_natively_to(*c.kernel)) ++linked;
    }
    return linked;
  }

  static std::shared_ptr<void> arena_holder(const Tensor& arena) {
    return std::shared_ptr<void>(std::make_shared<Tensor>(arena));
  }

  std::shared_ptr<const GraphIR> graph_;
  int threads_ = 1;
  std::vector<Step> steps_;
  std::string report_;
  bool profile_ = std::getenv("CPPNN_PROFILE") != nullptr;
  MemoryPlan memory_;
  std::vector<Tensor> values_;
};

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const ContextOptions& options) {
    threads_ = cpu_thread_count(options.num_threads);
    omp_set_num_threads(threads_.count);
    max_bytes_ = options.max_graph_bytes;
  }
  std::string name() const override { return "cpu"; }
  std::unique_ptr<Plan> compile(std::shared_ptr<const GraphIR> graph) override {
    PassOptions options = cpu_pass_options();
    options.cpu_plan_fusions = true;
    options.concrete_shapes = true;
    // Attention as one kernel (matmul_attention.cpp) where it takes the candidate: float32.
    // CPPNN_CPU_ATTENTION=0 keeps the graph's ops (to compare, or to rule the kernel out);
    // read at each compile, so that one process can time both.
    const char* attention_env = std::getenv("CPPNN_CPU_ATTENTION");
    const bool fused_attention = !(attention_env && std::string(attention_env) == "0");
    if (fused_attention) {
      options.attention = [](const AttentionCandidate& c) { return cpu_attention_takes(c); };
      // The q, k and v projections as one wider product (merge_projections.cpp), whose
      // columns the kernel reads in place: no split is left to copy.
      options.merge_projections = [](DataType type, int64_t) { return type == DataType::float32; };
    }
    // The residual add before a layer norm is read by the norm's kernel (input 3): BERT's
    // post-norm blocks write and read one tensor less each (normalization.cpp).
    options.norm_residual = [](const GraphIR& g, const Node& ln) {
      DataType t = g.desc(ln.inputs[0]).data_type;
      return t == DataType::float32 || t == DataType::float16;
    };
    return std::make_unique<CpuPlan>(optimize(graph, options), threads_, max_bytes_);
  }

 private:
  CpuThreads threads_;
  size_t max_bytes_ = 0;
};

}  // namespace

KernelContext kernel_context(const GraphIR& g, const Node& node, int num_threads) {
  KernelContext cx{g, node, {}, {}, {}, num_threads};
  for (OperandId id : node.inputs) {
    const OperandInfo* info = id == kNoOperand ? nullptr : &g.operands[size_t(id)];
    cx.inputs.push_back(info ? &info->desc : nullptr);
    cx.constants.push_back(info && info->role == OperandRole::constant ? info->data.get()
                                                                       : nullptr);
  }
  for (OperandId id : node.outputs) cx.outputs.push_back(&g.desc(id));
  return cx;
}

std::unique_ptr<CpuKernel> make_node_kernel(const GraphIR& g, const Node& node,
                                            int num_threads) {
  const KernelFactory* factory = CpuKernelRegistry::instance().find(node.op);
  if (!factory)
    fail(ErrorKind::NotSupportedError,
         "the CPU backend has no kernel for op '" + op_name(node.op) + "'");
  if (node.op != OpId::cast && has_bfloat16_operand(g, node))
    return std::make_unique<Float32Kernel>(g, node, *factory, num_threads);
  return (*factory)(kernel_context(g, node, num_threads));
}

std::unique_ptr<CpuKernel> make_kernel(KernelFn fn) {
  return std::make_unique<FnKernel>(std::move(fn));
}

const CpuKernelRegistry& CpuKernelRegistry::instance() {
  static const CpuKernelRegistry registry = [] {
    CpuKernelRegistry r;
    register_elementwise_kernels(r);
    register_reduction_kernels(r);
    register_movement_kernels(r);
    register_gather_kernels(r);
    register_conv_kernels(r);
    register_matmul_kernels(r);
    register_pooling_kernels(r);
    register_normalization_kernels(r);
    register_recurrent_kernels(r);
    register_quantization_kernels(r);
    return r;
  }();
  return registry;
}

void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  // The whole team, even when fewer threads have work: OpenMP re-forms its thread team
  // whenever a region asks for another size, and on 16 cores that cost hundreds of
  // microseconds per region when sizes alternate (oneDNN's primitives take the whole team).
  int team = omp_get_max_threads();
  size_t chunks = std::min(size_t(team), std::max<size_t>(1, n / std::max<size_t>(grain, 1)));
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
#pragma omp parallel num_threads(team)
  {
    size_t c = size_t(omp_get_thread_num());
    if (c < chunks) {
      size_t begin = n * c / chunks, end = n * (c + 1) / chunks;
      if (begin < end) fn(begin, end);
    }
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
