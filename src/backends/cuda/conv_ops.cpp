// The conv family on the device: conv2d and convTranspose2d run on cuDNN (or our own
// kernels, timed beside it), the library code of cudnn_conv.cpp; this is where the ops'
// decision and their step factory enter the device-op table.
#include <climits>
#include <string>

#include "backends/cuda/conv_geometry.h"
#include "backends/cuda/cudnn_conv.h"
#include "core/dims.h"

namespace cppnn::detail::cuda {

namespace {

DeviceDecision decide_conv(const GraphIR& g, const Node& node, const Device&) {
  DeviceDecision d;
  const OperandDescriptor& out = g.desc(node.outputs[0]);
  // bfloat16: cuDNN only (CUDNN_DATA_BFLOAT16, float accumulation), our kernels off.
  if (out.data_type != DataType::float32 && out.data_type != DataType::float16 &&
      out.data_type != DataType::bfloat16) {
    d.why_not = "data type " + std::string(to_string(out.data_type));
    return d;
  }
  for (OperandId id : {node.inputs[0], node.inputs[1], node.outputs[0]}) {
    const Dims& shape = g.desc(id).shape;
    int64_t count = element_count(shape);
    if (count == 0) {
      d.why_not = "an empty tensor";
      return d;
    }
    if (count > INT32_MAX) {
      d.why_not = "a tensor of over 2^31 elements (cuDNN's legacy API counts in int)";
      return d;
    }
  }
  if (conv_activation_code(node.attrs.s_or("activation", "")) < 0) {
    d.why_not = "fused activation '" + node.attrs.s("activation") + "'";
    return d;
  }
  ConvGeometry s = conv_geometry(g, node);
  if (!s.why_not.empty()) {
    d.why_not = s.why_not;
    return d;
  }
  d.on_gpu = true;
  d.activation_in_epilogue = true;  // cuDNN or the epilogue kernel applies every one
  return d;
}

}  // namespace

void add_conv_ops(DeviceOpTable& table) {
  table[OpId::conv2d] = DeviceOp{decide_conv, make_cudnn_conv_step, true};
  table[OpId::convTranspose2d] = DeviceOp{decide_conv, make_cudnn_conv_step, true};
}

}  // namespace cppnn::detail::cuda
