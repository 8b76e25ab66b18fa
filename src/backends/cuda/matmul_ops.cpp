// The matmul family on the device: matmul and gemm run on cuBLASLt (or our own kernels,
// timed beside it), the library code of lt_matmul.cpp; this is where the op's decision and
// its step factory enter the device-op table.
#include <climits>
#include <string>

#include "backends/cuda/lt_matmul.h"
#include "backends/cuda/matmul_geometry.h"
#include "core/dims.h"

namespace cppnn::detail::cuda {

namespace {

DeviceDecision decide_matmul(const GraphIR& g, const Node& node, const Device& device) {
  DeviceDecision d;
  const OperandDescriptor& out = g.desc(node.outputs[0]);
  // bfloat16: cuBLASLt's CUDA_R_16BF with float32 compute (our own kernels stay off).
  if (out.data_type != DataType::float32 && out.data_type != DataType::float16 &&
      out.data_type != DataType::bfloat16) {
    d.why_not = "data type " + std::string(to_string(out.data_type));
    return d;
  }
  const Dims& a = g.desc(node.inputs[0]).shape;
  int64_t k = node.op == OpId::gemm && node.attrs.b("aTranspose") ? a[0] : a.back();
  if (element_count(out.shape) == 0 || k == 0) {
    d.why_not = "an empty dimension";
    return d;
  }
  if (node.op != OpId::gemm) {
    MatmulGeometry geo = matmul_geometry(a, g.desc(node.inputs[1]).shape, out.shape);
    if (geo.batch > INT32_MAX) {
      d.why_not = "a batch over 2^31";
      return d;
    }
  }
  d.on_gpu = true;
  std::string act = node.attrs.s_or("activation", "");
  d.activation_in_epilogue = act.empty() || lt_epilogue_has(find_op(act).value_or(OpId::none), device);
  return d;
}

}  // namespace

void add_matmul_ops(DeviceOpTable& table) {
  table[OpId::matmul] = DeviceOp{decide_matmul, make_lt_matmul_step, true};
  table[OpId::gemm] = DeviceOp{decide_matmul, make_lt_matmul_step, true};
}

}  // namespace cppnn::detail::cuda
