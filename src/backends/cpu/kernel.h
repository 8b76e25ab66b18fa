#pragma once
// CPU kernels: each op of the table has a factory that prepares a kernel for one node
// (choosing algorithms and packing constant weights once) and a run() per compute.
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dispatch.h"
#include "graph/ir.h"
#include "graph/op_id.h"

namespace cppnn::detail {

// What a factory may look at when preparing a node.
struct KernelContext {
  const GraphIR& graph;
  const Node& node;
  // Input descriptors; nullptr for an absent optional operand.
  std::vector<const OperandDescriptor*> inputs;
  std::vector<const OperandDescriptor*> outputs;
  // Constant data of inputs that are constants (weights); nullptr otherwise.
  std::vector<const Tensor*> constants;
  int num_threads = 1;
};

// The context of `node` in `graph`: descriptors of its operands and the data of those
// inputs that are constants.
KernelContext kernel_context(const GraphIR& graph, const Node& node, int num_threads);

class CpuKernel {
 public:
  virtual ~CpuKernel() = default;
  // Inputs: nullptr for absent optional operands. Outputs are allocated by the plan.
  virtual void run(const std::vector<const Tensor*>& inputs,
                   const std::vector<Tensor*>& outputs) = 0;
  // Two convolutions in a row whose oneDNN primitives use one layout other than the
  // graph's (Winograd's blocked one): this kernel writes its output 0 in that layout and
  // `next` reads its input 0 so, the intermediate's buffer holding it (same byte size;
  // conv.cpp). The plan asks only where the output has no other reader and is not a graph
  // output. Returns whether the two were linked (false, and nothing changed, otherwise).
  virtual bool hand_output_natively_to(CpuKernel& next) { return false; }
};

// A kernel from a plain function, for ops that prepare nothing.
using KernelFn = std::function<void(const std::vector<const Tensor*>&, const std::vector<Tensor*>&)>;
std::unique_ptr<CpuKernel> make_kernel(KernelFn fn);

using KernelFactory = std::function<std::unique_ptr<CpuKernel>(const KernelContext&)>;


// The kernel the CPU runs for `node` of `graph`: its op's factory's (NotSupportedError when
// the op has none). A node with bfloat16 operands other than a cast (bfloat16 precision's
// storage type, which no kernel is templated on) gets its float32 kernel, prepared on a
// float32 copy of its operands and constants, between conversions: its bfloat16 inputs
// widened to float32 (exact), its float32 results rounded to bfloat16 (nearest even) --
// float32 arithmetic and accumulation, bfloat16 storage.
std::unique_ptr<CpuKernel> make_node_kernel(const GraphIR& graph, const Node& node,
                                            int num_threads);

// One factory per op, indexed by OpId; tests/unit/test_op_table.cpp checks that every op a
// user can build has one.
class CpuKernelRegistry {
 public:
  static const CpuKernelRegistry& instance();
  // nullptr when the op has no CPU kernel (OpId::none, the CUDA plan's generatedKernel).
  const KernelFactory* find(OpId op) const {
    if (size_t(op) >= factories_.size() || !factories_[size_t(op)]) return nullptr;
    return &factories_[size_t(op)];
  }
  bool has(OpId op) const { return find(op) != nullptr; }
  void add(OpId op, KernelFactory factory) { factories_[size_t(op)] = std::move(factory); }

 private:
  std::array<KernelFactory, size_t(OpId::count)> factories_;
};

// One registration function per op family, in src/backends/cpu/<family>.cpp (its helpers
// are <family>_<what>.cpp/.h).
void register_elementwise_kernels(CpuKernelRegistry& registry);
void register_reduction_kernels(CpuKernelRegistry& registry);
void register_movement_kernels(CpuKernelRegistry& registry);
void register_gather_kernels(CpuKernelRegistry& registry);
void register_conv_kernels(CpuKernelRegistry& registry);
void register_matmul_kernels(CpuKernelRegistry& registry);
void register_pooling_kernels(CpuKernelRegistry& registry);
void register_normalization_kernels(CpuKernelRegistry& registry);
void register_recurrent_kernels(CpuKernelRegistry& registry);
void register_quantization_kernels(CpuKernelRegistry& registry);

// Runs fn(begin, end) over [0, n) on the CPU threads (OpenMP, shared with oneDNN);
// `grain` is the smallest chunk worth a thread.
void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn);

// Row-major strides of a shape.
std::vector<size_t> strides_of(const Dims& shape);

}  // namespace cppnn::detail
