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

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <sstream>

#include "backends/cpu/evaluator.h"
#include "backends/cuda/cpu_fallback.h"
#include "backends/cuda/device_ops.h"
#include "backends/cuda/jit_kernels.h"
#include "backends/cuda/plan_build.h"
#include "backends/cuda/step_profile.h"
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

class CudaPlan final : public Plan {
 public:
  CudaPlan(std::shared_ptr<Device> device, std::shared_ptr<const GraphIR> graph, int threads)
      : device_(std::move(device)), threads_(threads) {
    device_->bind();
    build_phases().clear();
    auto t0 = std::chrono::steady_clock::now();
    PassOptions passes = cpu_pass_options();  // folds constants with the CPU kernels
    passes.channels_last = wants_channels_last(*graph);
    passes.concrete_shapes = true;
    // No recurrent kernels on the device: lstm and gru run as their decomposition into
    // matmuls and generated element-wise kernels (device_ops.h, recurrent_ops.cpp).
    passes.lower_recurrent = true;
    // Attention as one fused kernel where the device takes the problem (attention_ops.cpp).
    passes.attention = [this](const AttentionCandidate& c) { return takes_attention(c); };
    // Its q, k and v projections as one GEMM, which the fused kernel reads in place
    // (merge_projections.cpp): in float16, the only type the kernel takes.
    passes.merge_projections = [this](DataType t, int64_t head_dim) {
      return !device_->options.cpu_ops.count(OpId::attention) && device_->options.fused_attention &&
             attention_reads_merged_projections(t, head_dim);
    };
    // The residual add before a layer norm goes into its kernel (normalization_ops.cpp).
    passes.norm_residual = [this](const GraphIR& g, const Node& ln) { return takes_norm_residual(g, ln); };
    layout_ = passes.channels_last ? "nhwc" : "nchw";
    auto optimized = std::make_shared<GraphIR>(*optimize(graph, passes));
    split_epilogue_activations(*optimized, *device_);
    optimized_ = optimized;
    auto t1 = std::chrono::steady_clock::now();
    graph_ = replace_groups_by_kernels(optimized);
    auto t2 = std::chrono::steady_clock::now();
    // A node cuBLASLt turns down at step creation is re-planned on the CPU: its operands
    // then live elsewhere, so the whole layout is made again.
    std::map<size_t, std::string> forced_cpu;
    {
      // A run-time shape of a dynamic graph: its steps choose without timing (Device::
      // untimed_choices), for as long as this build runs.
      struct Untimed {
        Device& d;
        Untimed(Device& device, bool on) : d(device) { d.untimed_choices = on; }
        ~Untimed() { d.untimed_choices = false; }
      } untimed(*device_, graph->run_time_shape);
      for (;;) {
        try {
          build(forced_cpu);
          break;
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::NotSupportedError || failed_node_ == kNone) throw;
          forced_cpu[failed_node_] = e.what();
        }
      }
    }
    auto t3 = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    char line[320];
    std::snprintf(line, sizeof line,
                  "plan built in %.1f ms: optimize %.1f, generated kernels %.1f, memory + "
                  "constants + library steps %.1f (layout %s, precision %s%s)\n",
                  ms(t0, t3), ms(t0, t1), ms(t1, t2), ms(t2, t3), layout_.c_str(),
                  std::string(to_string(optimized_->precision)).c_str(),
                  graph->run_time_shape ? "; a new shape of a dynamic graph: nothing timed" : "");
    std::string phases = "build phases:";
    for (const auto& [phase, spent] : build_phases()) {
      char one[96];
      std::snprintf(one, sizeof one, " %s %.1f ms;", phase.c_str(), spent);
      phases += one;
    }
    report_.insert(report_.find('\n') + 1, std::string(line) + phases + "\n");
    if (device_->options.build_log) std::fprintf(stderr, "cppnn cuda: %s%s\n", line, phases.c_str());
  }

  ~CudaPlan() override {
    for (Segment& seg : segments_)
      if (seg.exec) (void)cudaGraphExecDestroy(seg.exec);
  }

  NamedTensors compute(const NamedTensors& inputs) override {
    device_->bind();
    cudaStream_t stream = device_->stream;
    const GraphIR& g = *graph_;
    try {
      // The pinned mirror is about to be written: no earlier dispatch may still read it.
      if (in_flight_) CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));
      in_flight_ = false;
      for (const auto& [name, id] : g.inputs) {
        const Tensor& t = inputs.at(name);
        const Placement& p = places_[size_t(id)];
        if (p.bytes) std::memcpy(p.host, t.data(), p.bytes);
      }
      bool pending = enqueue(input_uploads_, stream);
      run_steps(stream, pending);
      enqueue(output_downloads_, stream);
      CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));
      if (profile_) profile_->collect();
    } catch (...) {
      recover(stream);
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

  // Inputs and outputs in device tensors: device-to-device copies in and out of the plan's
  // fixed I/O buffers (so the captured CUDA graphs stay valid for any tensors), no host
  // copy, and no wait at the end unless a fallback step needs the host.
  void dispatch(const GraphIR&, const BackendTensors& inputs,
                const BackendTensors& outputs) override {
    device_->bind();
    cudaStream_t stream = device_->stream;
    const GraphIR& g = *graph_;
    try {
      std::vector<Transfer> in;
      for (const auto& [name, id] : g.inputs) {
        const BackendTensor* t = inputs.at(name);
        const Placement& p = places_[size_t(id)];
        if (!p.bytes) continue;
        if (p.device) in.push_back({p.device, t->data, p.bytes, kind_from(t, true)});
        if (p.host && read_by_host_step_[size_t(id)])
          in.push_back({p.host, t->data, p.bytes, t->on_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost});
      }
      // A host-to-host "copy" must not run through the stream: do it now, after earlier work.
      bool pending = in_flight_;
      for (const Transfer& t : in) {
        if (t.kind == cudaMemcpyHostToHost) {
          CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));
          std::memcpy(t.dst, t.src, t.bytes);
        } else {
          CPPNN_CUDA_CHECK(cudaMemcpyAsync(t.dst, t.src, t.bytes, t.kind, stream));
          pending = true;
        }
      }
      run_steps(stream, pending);
      for (const auto& [name, id] : g.outputs) {
        BackendTensor* t = outputs.at(name);
        const OperandInfo& info = g.operands[size_t(id)];
        const Placement& p = places_[size_t(id)];
        if (!p.bytes) continue;
        bool from_device = info.role != OperandRole::constant && made_on_device_[size_t(id)];
        const void* src = from_device ? p.device : p.host;
        cudaMemcpyKind kind = from_device ? (t->on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyDeviceToHost)
                                          : (t->on_device ? cudaMemcpyHostToDevice : cudaMemcpyHostToHost);
        if (kind == cudaMemcpyHostToHost) {
          CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));
          std::memcpy(t->data, src, p.bytes);
        } else {
          CPPNN_CUDA_CHECK(cudaMemcpyAsync(t->data, src, p.bytes, kind, stream));
        }
      }
      in_flight_ = true;
      if (profile_) {
        // Profiling waits for each dispatch, to read its events.
        CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));
        profile_->collect();
      }
    } catch (...) {
      recover(stream);
      throw;
    }
  }

  // Convolutions run channels-last (NHWC) where that is what the GPU is fast at: float16
  // (tensor cores). In float32 without TF32 cuDNN's NCHW kernels are the faster ones, so an
  // all-float32 graph keeps NCHW unless TF32 is allowed. CPPNN_CUDA_LAYOUT=nhwc|nchw
  // (CudaOptions::layout) overrides. Decided here, for this device, for every graph: an
  // engine's graph is layout-neutral (NCHW as the model was written, already fused, which
  // choose_channels_last handles); an engine file from before that change has its NHWC
  // convs baked in, and those stay as they are.
  bool wants_channels_last(const GraphIR& g) const {
    if (device_->options.layout == LayoutChoice::nhwc) return true;
    if (device_->options.layout == LayoutChoice::nchw) return false;
    if (device_->options.tf32) return true;
    for (const Node& n : g.nodes)
      if ((n.op == OpId::conv2d || n.op == OpId::convTranspose2d) &&
          g.desc(n.outputs[0]).data_type == DataType::float16)
        return true;
    return false;
  }

  // The kernels' own conditions (device_ops.h), unless a switch keeps the op off the GPU.
  bool takes_attention(const AttentionCandidate& c) const {
    if (device_->options.cpu_ops.count(OpId::attention) || !device_->options.fused_attention) return false;
    return attention_takes(c);
  }

  bool takes_norm_residual(const GraphIR& g, const Node& ln) const {
    if (device_->options.cpu_ops.count(OpId::layerNormalization) || device_->options.cpu_ops.count(OpId::add))
      return false;
    return layer_norm_takes_residual(g, ln);
  }

  std::string report() const override {
    std::string r = report_;
    size_t device_segments = 0, captured = 0;
    for (const Segment& seg : segments_) {
      device_segments += seg.device;
      captured += seg.exec != nullptr;
    }
    std::string line = "CUDA graphs: " + std::to_string(captured) + " of " +
                       std::to_string(device_segments) + " device segments captured" +
                       (use_graphs_ ? "" : " (off: CPPNN_CUDA_GRAPHS=0)") +
                       (graph_note_.empty() ? "" : " (" + graph_note_ + ")") + "\n";
    if (profile_) line += profile_->text(steps_);
    size_t at = r.find("steps:\n");
    return at == std::string::npos ? r + line : r.insert(at, line);
  }

 private:
  // A run of device steps (replayed as one CUDA graph once captured), or one host step.
  struct Segment {
    bool device = false;
    size_t begin = 0, end = 0;  // step indices [begin, end)
    bool tried = false;         // capture attempted
    cudaGraphExec_t exec = nullptr;
  };

  static cudaMemcpyKind kind_from(const BackendTensor* t, bool to_device) {
    if (to_device) return t->on_device ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice;
    return t->on_device ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost;
  }

  // Leaves nothing queued behind an error, so the next compute starts clean.
  void recover(cudaStream_t stream) {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream, &status) == cudaSuccess && status != cudaStreamCaptureStatusNone) {
      cudaGraph_t partial = nullptr;
      (void)cudaStreamEndCapture(stream, &partial);
      if (partial) (void)cudaGraphDestroy(partial);
    }
    (void)cudaStreamSynchronize(stream);
    (void)cudaGetLastError();
    in_flight_ = false;
  }

  // The steps in order: device segments as CUDA graphs (captured on first use), host steps
  // after waiting for the device work before them.
  void run_steps(cudaStream_t stream, bool& pending) {
    for (Segment& seg : segments_) {
      if (!seg.device) {
        if (pending) CPPNN_CUDA_CHECK(cudaStreamSynchronize(stream));
        pending = false;
        if (profile_) profile_->before_host_step();
        steps_[seg.begin]->run(stream);
        if (profile_) profile_->after_host_step(seg.begin);
        pending = enqueue(after_step_[seg.begin], stream);
        continue;
      }
      if (use_graphs_ && !seg.tried) capture(seg, stream);
      if (seg.exec) {
        CPPNN_CUDA_CHECK(cudaGraphLaunch(seg.exec, stream));
        if (profile_) profile_->graph_ran(seg.begin, seg.end);
      } else {
        if (profile_) profile_->before_device_segment(seg.end - seg.begin, stream);
        for (size_t i = seg.begin; i < seg.end; ++i) {
          if (profile_) profile_->before_device_step(i, stream, false);
          steps_[i]->run(stream);
          if (profile_) profile_->after_device_step(i, stream, false);
          enqueue(after_step_[i], stream);
        }
      }
      pending = true;
    }
  }

  // Records the segment's launches into a CUDA graph. A library call that cannot be
  // captured leaves the segment running step by step, and the report says so.
  void capture(Segment& seg, cudaStream_t stream) {
    seg.tried = true;
    auto start = std::chrono::steady_clock::now();
    if (cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
      graph_note_ = std::string("capture refused: ") + cudaGetErrorString(cudaGetLastError());
      return;
    }
    std::string problem;
    try {
      for (size_t i = seg.begin; i < seg.end; ++i) {
        if (profile_) profile_->before_device_step(i, stream, true);
        steps_[i]->run(stream);
        if (profile_) profile_->after_device_step(i, stream, true);
        enqueue(after_step_[i], stream);
      }
    } catch (const std::exception& e) {
      problem = e.what();
    }
    cudaGraph_t graph = nullptr;
    cudaError_t ended = cudaStreamEndCapture(stream, &graph);
    if (problem.empty() && ended != cudaSuccess) problem = cudaGetErrorString(ended);
    if (problem.empty() && graph) {
      cudaError_t made = cudaGraphInstantiate(&seg.exec, graph, 0);
      if (made != cudaSuccess) {
        seg.exec = nullptr;
        problem = cudaGetErrorString(made);
      }
    }
    if (graph) (void)cudaGraphDestroy(graph);
    if (!problem.empty()) {
      (void)cudaGetLastError();
      graph_note_ = "a segment runs step by step: " + problem;
    }
    if (device_->options.build_log)
      std::fprintf(stderr, "cppnn cuda: steps %zu..%zu captured as a CUDA graph in %.2f ms%s\n", seg.begin,
                   seg.end, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(),
                   problem.empty() ? "" : " (failed)");
  }

  // JIT-compiles the element-wise groups and returns the graph the plan runs: each group
  // is one OpId::generatedKernel node at its last node's place (its inputs are produced
  // before that).
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
    const int sms = device_->sm_total;
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
        node.op = OpId::generatedKernel;
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
    for (size_t n : k.nodes) s += (s.empty() ? "" : "+") + op_name(optimized_->nodes[n].op);
    return s;
  }

  // A build, in its phases: where each node runs (decide_sides), where each operand lives
  // (lay_out_memory, then allocate_memory; the constants go up meanwhile), the step of each
  // node (bind_steps) and the runs of device steps replayed as CUDA graphs (segment_steps).
  // Sets failed_node_ when a step's creation is turned down, so that the caller can re-plan
  // that node on the CPU.
  void build(const std::map<size_t, std::string>& forced_cpu) {
    const GraphIR& g = *graph_;
    drop_earlier_build();
    Sides sides = decide_sides(g, *device_, forced_cpu);
    read_by_host_step_ = sides.read_on_host;
    made_on_device_ = sides.made_on_device;

    MemoryLayout layout;
    {
      BuildPhase t("memory: lay out");
      layout = lay_out_memory(g, sides, *device_);
    }
    auto t_memory = std::chrono::steady_clock::now();
    PlanMemory memory = allocate_memory(g, layout, sides.any_host_node);
    device_block_ = std::move(memory.device_block);
    constants_ = std::move(memory.constants);
    borrowed_constants_ = std::move(memory.borrowed_constants);
    shared_bytes_ = 0;
    for (size_t i = 0; i < g.operands.size(); ++i)
      if (layout.shared_constant[i]) shared_bytes_ += layout.bytes[i];
    host_block_ = std::move(memory.host_block);
    places_ = std::move(memory.places);
    // The constants go up on a thread of their own while the steps are made: copies from
    // pageable memory keep the host busy (BERT-base's 440 MB took 45 ms on the H100), and
    // so does the libraries' setup. Steps made meanwhile may run the GPU on constants not
    // yet there; only their timing runs do, whose results are not used. The copy is
    // waited for before the build returns.
    ConstantUpload upload(device_, std::move(memory.constant_uploads));
    double memory_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_memory).count();

    BoundSteps bound = bind_steps(g, sides);
    upload.wait();
    build_phases()["memory: constants upload (overlapped)"] += upload.ms();
    // This plan's copies are up: later plans of this context may read them.
    for (size_t i = 0; i < g.operands.size(); ++i)
      if (layout.const_offset[i] != kNone && layout.bytes[i] && g.operands[i].data)
        device_->share_constant(g.operands[i].data, layout.bytes[i],
                                std::shared_ptr<void>(constants_, constants_->data() + layout.const_offset[i]));
    steps_ = std::move(bound.steps);
    after_step_ = std::move(bound.after_step);
    input_uploads_ = std::move(bound.input_uploads);
    output_downloads_ = std::move(bound.output_downloads);

    segments_ = segment_steps(steps_);
    use_graphs_ = device_->options.cuda_graphs;
    profile_.reset();
    if (device_->options.profile) profile_ = std::make_unique<StepProfile>(steps_.size());

    report_ = describe_build(layout, bound.summary, memory_ms);
  }

  // What an earlier build that failed made: its steps, copies, CUDA graphs and memory.
  void drop_earlier_build() {
    failed_node_ = kNone;
    steps_.clear();
    after_step_.clear();
    input_uploads_.clear();
    output_downloads_.clear();
    for (Segment& seg : segments_)
      if (seg.exec) (void)cudaGraphExecDestroy(seg.exec);
    segments_.clear();
    places_.clear();
    device_block_ = DeviceBuffer();
    constants_.reset();
    borrowed_constants_.clear();
    host_block_ = PinnedBuffer();
  }

  // Phase 1: which side, device or host, runs each node of `g`, and which makes and reads
  // each operand (runtime/partition.h, on the backend's own answer: supports_node).
  // `forced_cpu`: nodes a library turned down at step creation, and why.
  using Sides = Partition;
  static Sides decide_sides(const GraphIR& g, const Device& device,
                            const std::map<size_t, std::string>& forced_cpu) {
    return partition_graph(
        g, [&](const GraphIR& graph, size_t i) { return supports_node(graph, i, device, false); },
        forced_cpu);
  }

  // Phase 2: the layout, in bytes: [I/O region | arena] on the device and, mirrored, on the
  // host (inputs and outputs in the I/O region, intermediates in the arena of plan_memory),
  // and the constants a device step reads in a block of their own.
  struct MemoryLayout {
    std::vector<size_t> bytes;                    // per operand
    std::vector<size_t> io_offset, const_offset;  // per operand; kNone: not there
    // Per operand: a constant's device copy that another plan of this context made
    // (Device::find_constant); it then has no const_offset.
    std::vector<std::shared_ptr<void>> shared_constant;
    MemoryPlan arena;                             // the intermediates' offsets in the arena
    size_t io_bytes = 0, const_bytes = 0, arena_bytes = 0;
  };
  static MemoryLayout lay_out_memory(const GraphIR& g, const Sides& sides, Device& device) {
    size_t n_ops = g.operands.size();
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
    for (const auto& [_, id] : g.outputs) is_output[size_t(id)] = true;

    // A reshape the device runs is a view: its step copies nothing (movement_ops.cpp).
    std::vector<bool> views(g.nodes.size(), false);
    for (size_t s = 0; s < g.nodes.size(); ++s)
      views[s] = g.nodes[s].op == OpId::reshape && sides.nodes[s].supported;
    MemoryLayout m;
    m.arena = plan_memory(g, views);
    m.bytes.assign(n_ops, 0);
    m.io_offset.assign(n_ops, kNone);
    m.const_offset.assign(n_ops, kNone);
    m.shared_constant.assign(n_ops, nullptr);
    for (size_t i = 0; i < n_ops; ++i) {
      const OperandInfo& info = g.operands[i];
      m.bytes[i] = byte_size(info.desc.data_type, element_count(info.desc.shape));
      if (info.role == OperandRole::constant) {
        if (sides.read_on_device[i] && m.bytes[i] && info.data) {
          m.shared_constant[i] = device.find_constant(info.data, m.bytes[i]);
          if (m.shared_constant[i]) continue;
        }
        if (sides.read_on_device[i]) {
          m.const_offset[i] = m.const_bytes;
          m.const_bytes += round_up(m.bytes[i], 256);
        }
      } else if (info.role == OperandRole::input || is_output[i]) {
        m.io_offset[i] = m.io_bytes;
        m.io_bytes += round_up(m.bytes[i], 256);
      } else if (m.arena.offset[i] == kNone && m.bytes[i] && used[i]) {
        fail(ErrorKind::OperationError, "cuda plan: an intermediate operand has no place");
      }
    }
    m.arena_bytes = round_up(m.arena.arena_bytes, 256);
    return m;
  }

  // Phase 2, allocated: the plan's device block (I/O region and arena), its constants, its
  // pinned host mirror (of the arena only when a host step runs), and each operand's place.
  struct PlanMemory {
    DeviceBuffer device_block;
    std::shared_ptr<DeviceBuffer> constants;  // shared with the plans that borrow from it
    std::vector<std::shared_ptr<void>> borrowed_constants;  // other plans' copies read here
    PinnedBuffer host_block;
    std::vector<Placement> places;           // per operand
    std::vector<Transfer> constant_uploads;  // the constants' device copies, to be made
  };
  static PlanMemory allocate_memory(const GraphIR& g, const MemoryLayout& m, bool any_host_step) {
    PlanMemory p;
    {
      BuildPhase t("memory: allocate");
      // The device first: on a device too small for the graph, nothing else is allocated.
      p.device_block = DeviceBuffer(m.io_bytes + m.arena_bytes, "the plan's device arena (inputs, outputs and intermediates)");
      p.constants = std::make_shared<DeviceBuffer>(m.const_bytes, "the plan's constants");
      p.host_block = PinnedBuffer(m.io_bytes + (any_host_step ? m.arena_bytes : 0),
                                  "the plan's pinned host mirror");
    }
    size_t n_ops = g.operands.size();
    p.places.assign(n_ops, Placement{});
    for (size_t i = 0; i < n_ops; ++i) {
      const OperandInfo& info = g.operands[i];
      Placement& place = p.places[i];
      place.bytes = m.bytes[i];
      if (info.role == OperandRole::constant) {
        place.host = const_cast<void*>(info.data->data());
        if (m.shared_constant[i]) {
          place.device = static_cast<uint8_t*>(m.shared_constant[i].get());
          p.borrowed_constants.push_back(m.shared_constant[i]);
        } else if (m.const_offset[i] != kNone) {
          place.device = p.constants->data() + m.const_offset[i];
          if (place.bytes) p.constant_uploads.push_back({place.device, place.host, place.bytes, cudaMemcpyHostToDevice});
        }
      } else if (m.io_offset[i] != kNone) {
        place.device = p.device_block.data() + m.io_offset[i];
        place.host = p.host_block.data() + m.io_offset[i];
      } else if (m.arena.offset[i] != kNone) {
        place.device = p.device_block.data() + m.io_bytes + m.arena.offset[i];
        if (any_host_step) place.host = p.host_block.data() + m.io_bytes + m.arena.offset[i];
      }
    }
    return p;
  }

  // Phase 3: every node of `g` bound to its step at the places of places_ (the library
  // steps made first, on build workers in parallel), and the copies queued around them:
  // each operand is copied at most once, right after it is made.
  struct BindSummary {  // for the report
    size_t device_nodes = 0, host_nodes = 0;
    std::map<std::string, size_t> fallback_ops;  // op name -> nodes, sorted for the report
    std::string lines;                           // one per step
    size_t uploads = 0, downloads = 0, up_bytes = 0, down_bytes = 0;
    // op name -> (count, ms to create); by name, so that the report lists them sorted.
    std::map<std::string, std::pair<size_t, double>> step_ms;
    int workers = 1;  // build workers that made the library steps
  };
  struct BoundSteps {
    std::vector<std::unique_ptr<Step>> steps;       // per node, in order
    std::vector<std::vector<Transfer>> after_step;  // per step: copies queued right after it
    std::vector<Transfer> input_uploads;            // the inputs device steps read
    std::vector<Transfer> output_downloads;         // compute(): device results the caller reads
    BindSummary summary;
  };
  BoundSteps bind_steps(const GraphIR& g, const Sides& sides) {
    BoundSteps b;
    BindSummary& sum = b.summary;
    auto copy = [&](OperandId id, cudaMemcpyKind kind) {
      const Placement& p = places_[size_t(id)];
      return kind == cudaMemcpyHostToDevice ? Transfer{p.device, p.host, p.bytes, kind}
                                            : Transfer{p.host, p.device, p.bytes, kind};
    };
    for (const auto& [_, id] : g.inputs)
      if (sides.read_on_device[size_t(id)] && places_[size_t(id)].bytes)
        b.input_uploads.push_back(copy(id, cudaMemcpyHostToDevice));

    // The library steps first, on build workers in parallel; then every node in order.
    std::vector<bool> parallel(g.nodes.size(), false);
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (!sides.nodes[i].supported || kernel_of_node_.count(i)) continue;
      auto op = device_ops().find(g.nodes[i].op);
      parallel[i] = op != device_ops().end() && op->second.parallel_build;
    }
    LibrarySteps library = build_library_steps(device_, g, parallel, places_);
    sum.workers = library.workers;
    std::vector<Prebuilt>& prebuilt = library.steps;

    std::ostringstream lines;
    sum.uploads = b.input_uploads.size();
    for (const Transfer& t : b.input_uploads) sum.up_bytes += t.bytes;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& node = g.nodes[i];
      bool gpu = sides.nodes[i].supported;
      auto t_step = std::chrono::steady_clock::now();
      try {
        if (auto k = kernel_of_node_.find(i); k != kernel_of_node_.end())
          b.steps.push_back(make_kernel_step(node, jit_.kernels[k->second], jit_.functions[k->second],
                                             jit_.module, places_, grids_[k->second],
                                             kernel_ops(jit_.kernels[k->second])));
        else if (prebuilt[i].error)
          std::rethrow_exception(prebuilt[i].error);
        else if (prebuilt[i].step)
          b.steps.push_back(std::move(prebuilt[i].step));
        else if (gpu)
          b.steps.push_back(device_ops().at(node.op).make(device_, g, node, places_));
        else
          b.steps.push_back(make_cpu_fallback_step(
              g, node, places_, threads_,
              sides.nodes[i].why_not));
      } catch (const Error& e) {
        if (gpu && e.kind() == ErrorKind::NotSupportedError) failed_node_ = i;
        throw;
      }
      auto& [made, spent] = sum.step_ms[gpu ? op_name(node.op) : std::string("cpu fallback")];
      ++made;
      spent += prebuilt[i].ms + std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_step).count();
      std::vector<Transfer> after;
      for (OperandId id : node.outputs) {
        if (!places_[size_t(id)].bytes) continue;
        if (gpu && sides.read_on_host[size_t(id)]) {
          after.push_back(copy(id, cudaMemcpyDeviceToHost));
          ++sum.downloads, sum.down_bytes += places_[size_t(id)].bytes;
        } else if (!gpu && sides.read_on_device[size_t(id)]) {
          after.push_back(copy(id, cudaMemcpyHostToDevice));
          ++sum.uploads, sum.up_bytes += places_[size_t(id)].bytes;
        }
      }
      b.after_step.push_back(std::move(after));
      if (auto k = kernel_of_node_.find(i); k != kernel_of_node_.end())
        sum.device_nodes += jit_.kernels[k->second].nodes.size();
      else if (gpu)
        ++sum.device_nodes;
      else
        ++sum.fallback_ops[op_name(node.op)], ++sum.host_nodes;
      lines << "  [" << (gpu ? "gpu" : "cpu") << "] " << b.steps.back()->describe() << "\n";
    }
    sum.lines = lines.str();

    // What the caller reads: device results come down at the end (a fallback step's are
    // in the host mirror already).
    for (const auto& [_, id] : g.outputs) {
      size_t i = size_t(id);
      if (g.operands[i].role == OperandRole::constant || !places_[i].bytes) continue;
      if (sides.made_on_device[i] && !sides.read_on_host[i]) {
        b.output_downloads.push_back(copy(id, cudaMemcpyDeviceToHost));
        ++sum.downloads, sum.down_bytes += places_[i].bytes;
      }
    }
    return b;
  }

  // Phase 4: the steps in segments: each run of consecutive device steps one segment, which
  // run_steps captures as a CUDA graph on its first run (unless CPPNN_CUDA_GRAPHS=0) and
  // replays after; each host step a segment of its own.
  static std::vector<Segment> segment_steps(const std::vector<std::unique_ptr<Step>>& steps) {
    std::vector<Segment> segments;
    for (size_t i = 0; i < steps.size(); ++i) {
      bool dev = steps[i]->on_device();
      if (dev && !segments.empty() && segments.back().device) {
        segments.back().end = i + 1;
      } else {
        Segment seg;
        seg.device = dev;
        seg.begin = i;
        seg.end = i + 1;
        segments.push_back(seg);
      }
    }
    return segments;
  }

  // The report of a build (the constructor adds its timings after the first line).
  std::string describe_build(const MemoryLayout& layout, const BindSummary& sum, double memory_ms) const {
    std::ostringstream r;
    r << "cuda plan on device " << device_->ordinal << " (" << device_->name << ", sm_"
      << device_->sm << "): " << sum.device_nodes + sum.host_nodes << " nodes, " << sum.device_nodes
      << " on the GPU, " << sum.host_nodes << " on the CPU fallback\n";
    if (!device_->startup.empty()) r << "context startup: " << device_->startup << "\n";
    r << "generated kernels: " << jit_.kernels.size();
    if (!jit_.kernels.empty()) {
      size_t nodes = 0;
      for (const GeneratedKernel& k : jit_.kernels) nodes += k.nodes.size();
      r.precision(1);
      r << " (" << nodes << " element-wise nodes, " << jit_.distinct << " distinct), JIT "
        << std::fixed << jit_.ms << " ms, "
        << (jit_.cache_hit ? "cache hit" : "compiled");
      r.unsetf(std::ios::fixed);
      r.precision(6);
    }
    if (!jit_.cache_note.empty()) r << " (" << jit_.cache_note << ")";
    if (!jit_error_.empty()) r << " (JIT failed, element-wise ops on the CPU fallback: " << jit_error_ << ")";
    r << "\n";
    r << "memory: device " << mib(device_block_.bytes()) << " (arena " << mib(layout.arena_bytes)
      << ", I/O " << mib(layout.io_bytes) << ") + constants " << mib(layout.const_bytes);
    if (shared_bytes_) r << " (+ " << mib(shared_bytes_) << " read from another plan's copies)";
    r << ", pinned host " << mib(host_block_.bytes()) << "\n";
    {
      // Where the plan's build time goes (the runtime cache's warm start is judged by it).
      std::ostringstream t;
      t.setf(std::ios::fixed);
      t.precision(1);
      t << "build time: memory " << memory_ms << " ms; steps (library steps on "
        << sum.workers << " thread" << (sum.workers == 1 ? "" : "s") << ", their times summed)";
      for (const auto& [op, cm] : sum.step_ms) t << " " << op << " x" << cm.first << " " << cm.second << " ms";
      r << t.str() << "\n";
    }
    r << "copies per compute: " << sum.uploads << " uploads (" << mib(sum.up_bytes) << "), " << sum.downloads
      << " downloads (" << mib(sum.down_bytes) << ")\n";
    r << "fallback ops:";
    if (sum.fallback_ops.empty()) r << " none";
    for (const auto& [op, count] : sum.fallback_ops) r << " " << op << " x" << count;
    r << "\nsteps:\n" << sum.lines;
    return r.str();
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
  DeviceBuffer device_block_;
  std::shared_ptr<DeviceBuffer> constants_;  // this plan's copies, which later plans may borrow
  std::vector<std::shared_ptr<void>> borrowed_constants_;  // earlier plans' copies read here
  size_t shared_bytes_ = 0;  // constant bytes borrowed, for the report
  PinnedBuffer host_block_;
  std::vector<Placement> places_;
  std::vector<std::unique_ptr<Step>> steps_;
  std::vector<std::vector<Transfer>> after_step_;  // copies queued right after each step
  std::vector<Transfer> input_uploads_;
  std::vector<Transfer> output_downloads_;  // compute(): device results the caller reads
  std::vector<bool> read_by_host_step_;     // per operand
  std::vector<bool> made_on_device_;        // per operand
  std::vector<Segment> segments_;
  bool use_graphs_ = true;                // CudaOptions::cuda_graphs (CPPNN_CUDA_GRAPHS)
  std::unique_ptr<StepProfile> profile_;  // CudaOptions::profile (CPPNN_CUDA_PROFILE=1)
  std::string graph_note_;
  bool in_flight_ = false;  // a dispatch returned without waiting for its work
  size_t failed_node_ = kNone;
  std::string report_;
  std::string layout_;
};

}  // namespace

std::unique_ptr<Plan> make_cuda_plan(std::shared_ptr<Device> device,
                                     std::shared_ptr<const GraphIR> graph) {
  int threads = device->options.cpu_threads;
  return std::make_unique<CudaPlan>(std::move(device), std::move(graph), threads);
}

}  // namespace cppnn::detail::cuda
