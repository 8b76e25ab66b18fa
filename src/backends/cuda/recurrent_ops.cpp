// The recurrent family on CUDA: lstm, lstmCell, gru and gruCell have no device step of their
// own. The plan lowers them before it plans (PassOptions::lower_recurrent, the compiler's
// lower_recurrent): their spec decomposition, unrolled over the steps, runs as cuBLASLt
// matmuls, slices and generated element-wise kernels. The entries here answer the
// placement question (Context::placement asks before any lowering) with that; a plan never
// sees one of these nodes, so the step factory only reports a planning bug.
#include <memory>

#include "backends/cuda/device_ops.h"

namespace cppnn::detail::cuda {

namespace {

DeviceDecision decide_recurrent(const GraphIR&, const Node&, const Device&) {
  DeviceDecision d;
  d.on_gpu = true;  // as matmuls and element-wise kernels, once lowered
  return d;
}

std::unique_ptr<Step> make_recurrent(std::shared_ptr<Device>, const GraphIR&, const Node& node,
                                     const std::vector<Placement>&) {
  fail(ErrorKind::OperationError,
       op_name(node.op) + ": reached the CUDA plan unlowered (PassOptions::lower_recurrent)");
}

}  // namespace

void add_recurrent_ops(DeviceOpTable& table) {
  for (OpId op : {OpId::lstm, OpId::lstmCell, OpId::gru, OpId::gruCell})
    table[op] = DeviceOp{decide_recurrent, make_recurrent};
}

}  // namespace cppnn::detail::cuda
