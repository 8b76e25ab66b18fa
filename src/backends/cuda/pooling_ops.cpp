// Device steps of the pooling family: averagePool2d, l2Pool2d and maxPool2d on the kernels
// of kernels/math.cu. The window is worked out here, at step creation; run() only launches.
// The values follow the CPU kernels (src/backends/cpu/pooling.cpp; see math.cu).
#include <memory>
#include <string>

#include "backends/cuda/kernel_steps.h"
#include "graph/op_math/window_attrs.h"

namespace cppnn::detail::cuda {

namespace {

namespace k = kernels;

// ---- Pooling -------------------------------------------------------------------------

k::PoolKind pool_kind(OpId op) {
  switch (op) {
    case OpId::maxPool2d:
      return k::kPoolMax;
    case OpId::l2Pool2d:
      return k::kPoolL2;
    default:
      return k::kPoolAverage;
  }
}

DeviceDecision decide_pool(const GraphIR& g, const Node& node, const Device&) {
  // Average and l2 pooling take float types only (infer checks it); max pooling every type.
  return basic_decision(g, node, pool_kind(node.op) != k::kPoolMax);
}

std::unique_ptr<Step> make_pool(std::shared_ptr<Device>, const GraphIR& g, const Node& node,
                                const std::vector<Placement>& places) {
  const Attrs& a = node.attrs;
  const OperandDescriptor& in = g.desc(node.inputs[0]);
  const Dims& is = in.shape;
  const Dims& os = g.desc(node.outputs[0]).shape;
  k::PoolGeometry geo{};
  static_cast<op_math::PoolWindow&>(geo) = op_math::pool_window(is, os, a);
  // The CPU's global NCHW pooling (one window over the whole unpadded plane) divides by
  // height * width at once; its NHWC loops by the two tap counts: so do the kernels.
  geo.global = !geo.nhwc && op_math::pool_covers_plane(geo);
  k::PoolKind kind = pool_kind(node.op);
  k::MathType type = math_type(in.data_type);
  const void* x = device_address(places, node.inputs[0], node, "input");
  void* y = device_address(places, node.outputs[0], node, "output");
  std::string text = node_name(node) + " " + to_string(is) + " -> " + to_string(os) + " " +
                     a.s("layout") + ": cuda kernel, " + type_text(in.data_type) +
                     (geo.global ? ", global" : "");
  return std::make_unique<KernelStep>(node, text, [=](cudaStream_t s) {
    return k::launch_pool(kind, type, x, y, geo, s);
  });
}

}  // namespace

void add_pooling_ops(DeviceOpTable& table) {
  for (OpId op : {OpId::averagePool2d, OpId::l2Pool2d, OpId::maxPool2d})
    table[op] = DeviceOp{decide_pool, make_pool};
}

}  // namespace cppnn::detail::cuda
