#include "backends/cuda/cpu_fallback.h"

#include "backends/cpu/kernel.h"

namespace cppnn::detail::cuda {

namespace {

class CpuFallbackStep final : public Step {
 public:
  CpuFallbackStep(const GraphIR& g, const Node& node, const std::vector<Placement>& places,
                  int threads, std::string why)
      : Step(node), why_(std::move(why)) {
    const KernelFactory* factory = CpuKernelRegistry::instance().find(node.op);
    if (!factory)
      fail(ErrorKind::NotSupportedError, "neither the GPU nor the CPU fallback has a kernel for op '" +
                                             op_name(node.op) + "'");
    KernelContext cx = kernel_context(g, node, threads);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      OperandId id = node.inputs[i];
      if (id == kNoOperand) inputs_.emplace_back();
      else if (cx.constants[i]) inputs_.push_back(*cx.constants[i]);
      else inputs_.push_back(host_tensor(g.desc(id), places[size_t(id)]));
    }
    for (OperandId id : node.outputs) outputs_.push_back(host_tensor(g.desc(id), places[size_t(id)]));
    try {
      // make_node_kernel: a node on bfloat16 operands runs its float32 kernel between
      // conversions, as on the CPU backend.
      kernel_ = make_node_kernel(g, node, threads);
    } catch (const Error& e) {
      throw Error(e.kind(), node_name(node) + ": " + e.what());
    }
    for (size_t i = 0; i < inputs_.size(); ++i)
      in_ptrs_.push_back(node.inputs[i] == kNoOperand ? nullptr : &inputs_[i]);
    for (Tensor& t : outputs_) out_ptrs_.push_back(&t);
  }

  bool on_device() const override { return false; }

  void run(cudaStream_t) override {
    try {
      kernel_->run(in_ptrs_, out_ptrs_);
    } catch (const Error& e) {
      throw Error(e.kind(), node_name(node()) + " (CPU fallback): " + e.what());
    }
  }

  std::string describe() const override { return node_name(node()) + ": cpu fallback (" + why_ + ")"; }

 private:
  static Tensor host_tensor(const OperandDescriptor& desc, const Placement& p) {
    if (!p.host && p.bytes)
      fail(ErrorKind::OperationError, "cuda plan: an operand of the CPU fallback has no host copy");
    // The plan owns the memory and outlives the step: no owner to keep.
    return Tensor::wrap(desc.data_type, desc.shape, p.host, nullptr);
  }

  std::string why_;
  std::unique_ptr<CpuKernel> kernel_;
  std::vector<Tensor> inputs_, outputs_;
  std::vector<const Tensor*> in_ptrs_;
  std::vector<Tensor*> out_ptrs_;
};

}  // namespace

std::unique_ptr<Step> make_cpu_fallback_step(const GraphIR& g, const Node& node,
                                             const std::vector<Placement>& places, int threads,
                                             std::string why) {
  return std::make_unique<CpuFallbackStep>(g, node, places, threads, std::move(why));
}

}  // namespace cppnn::detail::cuda
