// Device steps of the quantization family: quantizeLinear and dequantizeLinear on the kernels
// of kernels/quantization.cu, computing each element as the CPU kernels do
// (graph/op_math/quantize.h). The blockwise geometry is folded and fixed at step creation;
// run() only enqueues on the stream.
#include <memory>
#include <string>

#include "backends/cuda/kernel_steps.h"
#include "backends/cuda/kernels/quantization_kernels.h"
#include "graph/op_math/quantize.h"

namespace cppnn::detail::cuda {

namespace {

namespace qk = quantization;

// The kernels' geometry of a node: false when the folded dimensions exceed the kernels' rank.
bool geometry_of(const GraphIR& g, const Node& n, qk::Geometry& out) {
  op_math::BlockwiseShape b = op_math::merge_blockwise(in_shape(g, n, 0), in_shape(g, n, 1));
  if (b.dims.size() > size_t(qk::kMaxRank)) return false;
  out.rank = int(b.dims.size());
  int64_t stride = 1;
  for (int d = out.rank - 1; d >= 0; --d) {
    out.dims[d] = b.dims[size_t(d)];
    out.blocks[d] = b.blocks[size_t(d)];
    out.scale_strides[d] = stride;
    stride *= b.dims[size_t(d)] / b.blocks[size_t(d)];
  }
  out.total = int64_t(element_count(in_shape(g, n, 0)));
  return true;
}

DeviceDecision decide_quantization(const GraphIR& g, const Node& n, const Device&) {
  if (any_empty(g, n)) return no("an empty tensor");
  qk::Geometry geometry;
  if (!geometry_of(g, n, geometry))
    return no("a blockwise scale of more than " + std::to_string(qk::kMaxRank) +
              " folded dimensions");
  return yes();
}

std::unique_ptr<Step> make_quantization_step(std::shared_ptr<Device> device, const GraphIR& g,
                                             const Node& n, const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  qk::Geometry geometry;
  geometry_of(g, n, geometry);
  const void* x = address(places, n.inputs[0], n, "input");
  const void* scale = address(places, n.inputs[1], n, "scale");
  const void* zero_point = address(places, n.inputs[2], n, "zeroPoint");
  void* out = address(places, n.outputs[0], n, "output");
  DataType in_type = g.desc(n.inputs[0]).data_type, out_type = g.desc(n.outputs[0]).data_type;
  movement::ElemType in = elem_type(in_type), result = elem_type(out_type);
  bool quantize = n.op == OpId::quantizeLinear;
  int blocks = step->max_blocks();
  step->add([=](cudaStream_t s) {
    CPPNN_CUDA_CHECK(quantize ? qk::launch_quantize(x, scale, zero_point, out, in, result,
                                                    geometry, blocks, s)
                              : qk::launch_dequantize(x, scale, zero_point, out, in, result,
                                                      geometry, blocks, s));
  });
  step->describe_as(head(g, n) + (quantize ? "quantize " : "dequantize ") +
                    std::string(to_string(in_type)) + " -> " + std::string(to_string(out_type)) +
                    ", scale " + to_string(in_shape(g, n, 1)) + " (" +
                    std::to_string(geometry.rank) + " folded dims)");
  return step;
}

}  // namespace

void add_quantization_ops(DeviceOpTable& table) {
  table[OpId::quantizeLinear] = DeviceOp{decide_quantization, make_quantization_step};
  table[OpId::dequantizeLinear] = DeviceOp{decide_quantization, make_quantization_step};
}

}  // namespace cppnn::detail::cuda
