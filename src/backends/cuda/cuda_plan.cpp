// A CUDA plan. Element-wise groups become generated kernels (jit_kernels.h): the plan's
// graph is the optimized graph with each group's nodes replaced by one node that launches
// its kernel, so the memory plan gives the group's intermediates no bytes at all.
//
// Memory: one device block holds the graph's inputs and outputs (an I/O
// region) and the intermediates (the arena of plan_memory, so buffers whose lifetimes do
// not overlap share bytes); a pinned host block mirrors it, so the CPU fallback and the
// copies in and out need no allocation per compute; constants are uploaded once.
//
// Where each operand is made (device step, host step, input) and where it is read is known
// at compile time, so each is copied at most once, right after it is made: a device result
// that a host step or the caller reads is downloaded, a host result that a device step
// reads is uploaded. Everything runs on the device's one stream; a host step first waits
// for the work queued before it.
#include "backends/cuda/cuda_plan.h"


#include <cstring>
#include <map>
#include <sstream>

#include "backends/cuda/cpu_fallback.h"
#include "backends/cuda/jit_kernels.h"
#include "backends/cuda/device_ops.h"
#include "compiler/passes.h"
#include "runtime/memory_plan.h"

namespace cppnn::detail::cuda {

namespace {

constexpr size_t kNone = SIZE_MAX;

size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

std::string mib(size_t bytes) {
  std::ostringstream s;
  s.precision(bytes < (size_t(10) << 20) ? 2 : 0);
  s << std::fixed << double(bytes) / double(1 << 20) << " MiB";
  return s.str();
}

struct Transfer {
  void* dst;
  const void* src;
  size_t bytes;
  cudaMemcpyKind kind;
};

class CudaPlan final : public Plan {
 public:
  CudaPlan(std::shared_ptr<Device> device, std::shared_ptr<const GraphIR> graph, int threads)
      : device_(std::move(device)), threads_(threads) {
    device_->bind();
    // channels_last stays on: the convolutions run on the CPU fallback for now, where NHWC
    // is what the oneDNN kernels are fastest on (revisit when cuDNN convolutions arrive).
    auto optimized = std::make_shared<GraphIR>(*optimize(graph));
    split_epilogue_activations(*optimized, *device_);
    optimized_ = optimized;
    graph_ = replace_groups_by_kernels(optimized);
    // A node cuBLASLt turns down at step creation is re-planned on the CPU: its operands
    // then live elsewhere, so the whole layout is made again.
    std::map<size_t, std::string> forced_cpu;
    for (;;) {
      try {
        build(forced_cpu);
        return;
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::NotSupportedError || failed_node_ == kNone) throw;
        forced_cpu[failed_node_] = e.what();
      }
    }
  }

  NamedTensors compute(const NamedTensors& inputs) override {
    device_->bind();
    cudaStream_t stream = device_->stream;
    const GraphIR& g = *graph_;
    try {
      bool pending = false;
      for (const auto& [name, id] : g.inputs) {
        const Tensor& t = inputs.at(name);
        const Placement& p = places_[size_t(id)];
        if (p.bytes) std::memcpy(p.host, t.data(), p.bytes);
      }
      pending = enqueue(input_uploads_, stream) || pending;
      for (size_t i = 0; i < steps_.size(); ++i) {
        Step& step = *steps_[i];
        if (!step.on_device() && pending) {
          CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));
          pending = false;
        }
        step.run(stream);
        pending = step.on_device() || pending;
        pending = enqueue(after_step_[i], stream) || pending;
      }
      CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));
    } catch (...) {
      // Leaves nothing queued behind the error, so the next compute starts clean.
      (void)cudaStreamSynchronize(stream);
      (void)cudaGetLastError();
      throw;
    }
    NamedTensors result;
    for (const auto& [name, id] : g.outputs) {
      const OperandInfo& info = g.operands[size_t(id)];
      if (info.role == OperandRole::constant) {
        result[name] = info.data->clone();
        continue;
      }
      Tensor t = Tensor::uninitialized(info.desc.data_type, info.desc.shape);
      if (t.byte_size()) std::memcpy(t.data(), places_[size_t(id)].host, t.byte_size());
      result[name] = std::move(t);
    }
    return result;
  }

  std::string report() const override { return report_; }

 private:
  static constexpr const char* kKernelOp = "generatedKernel";

  // JIT-compiles the element-wise groups and returns the graph the plan runs: each group
  // is one kKernelOp node at its last node's place (its inputs are produced before that).
  // When the JIT fails, the groups stay on the CPU fallback and the report says why.
  std::shared_ptr<const GraphIR> replace_groups_by_kernels(std::shared_ptr<const GraphIR> g) {
    try {
      jit_ = jit_elementwise_kernels(*g, *device_);
    } catch (const Error& e) {
      jit_ = JitKernels{};
      jit_error_ = e.what();
      return g;
    }
    if (jit_.kernels.empty()) return g;
    int sms = 0;
    CPPNN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device_->ordinal));
    std::vector<int> kernel_at(g->nodes.size(), -1);
    std::vector<bool> covered(g->nodes.size(), false);
    for (size_t k = 0; k < jit_.kernels.size(); ++k) {
      for (size_t n : jit_.kernels[k].nodes) covered[n] = true;
      kernel_at[jit_.kernels[k].nodes.back()] = int(k);
    }
    auto out = std::make_shared<GraphIR>(*g);
    out->nodes.clear();
    kernel_of_node_.clear();
    for (size_t i = 0; i < g->nodes.size(); ++i) {
      if (kernel_at[i] >= 0) {
        const GeneratedKernel& k = jit_.kernels[size_t(kernel_at[i])];
        Node node;
        node.op = kKernelOp;
        node.inputs = k.inputs;
        node.outputs = {k.output};
        node.label = k.name;
        kernel_of_node_[out->nodes.size()] = size_t(kernel_at[i]);
        out->nodes.push_back(std::move(node));
      } else if (!covered[i]) {
        out->nodes.push_back(g->nodes[i]);
      }
    }
    grids_.clear();
    for (const GeneratedKernel& k : jit_.kernels) grids_.push_back(cuda_grid_size(k, unsigned(sms)));
    return out;
  }

  // "add+gelu" for a kernel's nodes, in the report.
  std::string kernel_ops(const GeneratedKernel& k) const {
    std::string s;
    for (size_t n : k.nodes) s += (s.empty() ? "" : "+") + optimized_->nodes[n].op;
    return s;
  }

  // Lays out memory, uploads constants and binds every node. Sets failed_node_ when a
  // step's creation throws, so that the caller can re-plan that node on the CPU.
  void build(const std::map<size_t, std::string>& forced_cpu) {
    const GraphIR& g = *graph_;
    size_t n_ops = g.operands.size();
    failed_node_ = kNone;
    steps_.clear();
    after_step_.clear();
    input_uploads_.clear();

    // Which side makes and reads each operand.
    std::vector<DeviceDecision> decisions(g.nodes.size());
    std::vector<bool> read_on_device(n_ops, false), read_on_host(n_ops, false);
    bool any_host_step = false;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& node = g.nodes[i];
      if (node.op == kKernelOp) {
        decisions[i].on_gpu = true;
      } else {
        decisions[i] = decide_on_device(g, node, *device_);
      }
      if (auto f = forced_cpu.find(i); f != forced_cpu.end()) {
        decisions[i].on_gpu = false;
        decisions[i].why_not = f->second;
      }
      bool gpu = decisions[i].on_gpu;
      any_host_step = any_host_step || !gpu;
      for (OperandId id : node.inputs)
        if (id != kNoOperand) (gpu ? read_on_device : read_on_host)[size_t(id)] = true;
    }
    // Operands only a generated kernel's registers hold are nowhere in memory.
    std::vector<bool> used(n_ops, false);
    for (const Node& node : g.nodes) {
      for (OperandId id : node.inputs)
        if (id != kNoOperand) used[size_t(id)] = true;
      for (OperandId id : node.outputs) used[size_t(id)] = true;
    }
    for (const auto& [_, id] : g.inputs) used[size_t(id)] = true;
    for (const auto& [_, id] : g.outputs) used[size_t(id)] = true;
    std::vector<bool> is_output(n_ops, false);
    for (const auto& [_, id] : g.outputs) is_output[size_t(id)] = read_on_host[size_t(id)] = true;

    // The layout: [I/O region | arena] on the device and, mirrored, on the host.
    memory_ = plan_memory(g);
    std::vector<size_t> io_offset(n_ops, kNone), const_offset(n_ops, kNone);
    size_t io_bytes = 0, const_bytes = 0;
    places_.assign(n_ops, Placement{});
    for (size_t i = 0; i < n_ops; ++i) {
      const OperandInfo& info = g.operands[i];
      places_[i].bytes = byte_size(info.desc.data_type, element_count(info.desc.shape));
      if (info.role == OperandRole::constant) {
        if (read_on_device[i]) {
          const_offset[i] = const_bytes;
          const_bytes += round_up(places_[i].bytes, 256);
        }
      } else if (info.role == OperandRole::input || is_output[i]) {
        io_offset[i] = io_bytes;
        io_bytes += round_up(places_[i].bytes, 256);
      } else if (memory_.offset[i] == kNone && places_[i].bytes && used[i]) {
        fail(ErrorKind::OperationError, "cuda plan: an intermediate operand has no place");
      }
    }
    size_t arena_bytes = round_up(memory_.arena_bytes, 256);
    // The device first: on a device too small for the graph, nothing else is allocated.
    device_block_ = DeviceBuffer(io_bytes + arena_bytes, "the plan's device arena (inputs, outputs and intermediates)");
    constants_ = DeviceBuffer(const_bytes, "the plan's constants");
    host_block_ = PinnedBuffer(io_bytes + (any_host_step ? arena_bytes : 0),
                               "the plan's pinned host mirror");
    for (size_t i = 0; i < n_ops; ++i) {
      const OperandInfo& info = g.operands[i];
      Placement& p = places_[i];
      if (info.role == OperandRole::constant) {
        p.host = const_cast<void*>(info.data->data());
        if (const_offset[i] != kNone) {
          p.device = constants_.data() + const_offset[i];
          // On the plan's stream, which does not wait for the legacy default stream.
          if (p.bytes)
            CPPNN_CUDA_CHECK(cudaMemcpyAsync(p.device, p.host, p.bytes, cudaMemcpyHostToDevice,
                                             device_->stream));
        }
      } else if (io_offset[i] != kNone) {
        p.device = device_block_.data() + io_offset[i];
        p.host = host_block_.data() + io_offset[i];
      } else if (memory_.offset[i] != kNone) {
        p.device = device_block_.data() + io_bytes + memory_.offset[i];
        if (any_host_step) p.host = host_block_.data() + io_bytes + memory_.offset[i];
      }
    }

    CPPNN_CUDA_CHECK(cudaStreamSynchronize(device_->stream));

    auto copy = [&](OperandId id, cudaMemcpyKind kind) {
      const Placement& p = places_[size_t(id)];
      return kind == cudaMemcpyHostToDevice ? Transfer{p.device, p.host, p.bytes, kind}
                                            : Transfer{p.host, p.device, p.bytes, kind};
    };
    for (const auto& [_, id] : g.inputs)
      if (read_on_device[size_t(id)] && places_[size_t(id)].bytes)
        input_uploads_.push_back(copy(id, cudaMemcpyHostToDevice));

    // Bind the nodes.
    size_t device_nodes = 0, host_nodes = 0;
    std::map<std::string, size_t> fallback_ops;
    std::ostringstream lines;
    size_t uploads = input_uploads_.size(), downloads = 0, up_bytes = 0, down_bytes = 0;
    for (const Transfer& t : input_uploads_) up_bytes += t.bytes;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& node = g.nodes[i];
      bool gpu = decisions[i].on_gpu;
      try {
        if (auto k = kernel_of_node_.find(i); k != kernel_of_node_.end())
          steps_.push_back(make_kernel_step(node, jit_.kernels[k->second], jit_.functions[k->second],
                                            jit_.module, places_, grids_[k->second],
                                            kernel_ops(jit_.kernels[k->second])));
        else if (gpu)
          steps_.push_back(device_ops().at(node.op).make(device_, g, node, places_));
        else
          steps_.push_back(make_cpu_fallback_step(
              g, node, places_, threads_,
              decisions[i].why_not.empty() ? "no CUDA kernel for this op yet" : decisions[i].why_not));
      } catch (const Error& e) {
        if (gpu && e.kind() == ErrorKind::NotSupportedError) failed_node_ = i;
        throw;
      }
      std::vector<Transfer> after;
      for (OperandId id : node.outputs) {
        if (!places_[size_t(id)].bytes) continue;
        if (gpu && read_on_host[size_t(id)]) {
          after.push_back(copy(id, cudaMemcpyDeviceToHost));
          ++downloads, down_bytes += places_[size_t(id)].bytes;
        } else if (!gpu && read_on_device[size_t(id)]) {
          after.push_back(copy(id, cudaMemcpyHostToDevice));
          ++uploads, up_bytes += places_[size_t(id)].bytes;
        }
      }
      after_step_.push_back(std::move(after));
      if (auto k = kernel_of_node_.find(i); k != kernel_of_node_.end())
        device_nodes += jit_.kernels[k->second].nodes.size();
      else if (gpu)
        ++device_nodes;
      else
        ++fallback_ops[node.op], ++host_nodes;
      lines << "  [" << (gpu ? "gpu" : "cpu") << "] " << steps_.back()->describe() << "\n";
    }

    std::ostringstream r;
    r << "cuda plan on device " << device_->ordinal << " (" << device_->name << ", sm_"
      << device_->sm << "): " << device_nodes + host_nodes << " nodes, " << device_nodes
      << " on the GPU, " << host_nodes << " on the CPU fallback\n";
    r << "generated kernels: " << jit_.kernels.size();
    if (!jit_.kernels.empty()) {
      size_t nodes = 0;
      for (const GeneratedKernel& k : jit_.kernels) nodes += k.nodes.size();
      r.precision(1);
      r << " (" << nodes << " element-wise nodes), JIT " << std::fixed << jit_.ms << " ms, "
        << (jit_.cache_hit ? "cache hit" : "compiled");
      r.unsetf(std::ios::fixed);
      r.precision(6);
    }
    if (!jit_.cache_note.empty()) r << " (" << jit_.cache_note << ")";
    if (!jit_error_.empty()) r << " (JIT failed, element-wise ops on the CPU fallback: " << jit_error_ << ")";
    r << "\n";
    r << "memory: device " << mib(device_block_.bytes()) << " (arena " << mib(arena_bytes)
      << ", I/O " << mib(io_bytes) << ") + constants " << mib(const_bytes) << ", pinned host "
      << mib(host_block_.bytes()) << "\n";
    r << "copies per compute: " << uploads << " uploads (" << mib(up_bytes) << "), " << downloads
      << " downloads (" << mib(down_bytes) << ")\n";
    r << "fallback ops:";
    if (fallback_ops.empty()) r << " none";
    for (const auto& [op, count] : fallback_ops) r << " " << op << " x" << count;
    r << "\nsteps:\n" << lines.str();
    report_ = r.str();
  }

  static bool enqueue(const std::vector<Transfer>& transfers, cudaStream_t stream) {
    for (const Transfer& t : transfers)
      CPPNN_CUDA_CHECK(cudaMemcpyAsync(t.dst, t.src, t.bytes, t.kind, stream));
    return !transfers.empty();
  }

  std::shared_ptr<Device> device_;
  int threads_ = 1;
  std::shared_ptr<const GraphIR> optimized_;  // what the kernels' node indices refer to
  std::shared_ptr<const GraphIR> graph_;      // the plan's: groups replaced by kernel nodes
  JitKernels jit_;
  std::string jit_error_;
  std::map<size_t, size_t> kernel_of_node_;  // graph_ node -> kernel
  std::vector<unsigned> grids_;              // per kernel
  MemoryPlan memory_;
  DeviceBuffer device_block_, constants_;
  PinnedBuffer host_block_;
  std::vector<Placement> places_;
  std::vector<std::unique_ptr<Step>> steps_;
  std::vector<std::vector<Transfer>> after_step_;  // copies queued right after each step
  std::vector<Transfer> input_uploads_;
  size_t failed_node_ = kNone;
  std::string report_;
};

}  // namespace

std::unique_ptr<Plan> make_cuda_plan(std::shared_ptr<Device> device,
                                     std::shared_ptr<const GraphIR> graph, int threads) {
  return std::make_unique<CudaPlan>(std::move(device), std::move(graph), threads);
}

}  // namespace cppnn::detail::cuda
