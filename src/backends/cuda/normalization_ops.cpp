// Device steps of the normalization family: layerNormalization, batchNormalization and
// instanceNormalization on the kernels of kernels/math.cu. Every geometry is worked out
// here, at step creation; run() only launches. The values follow the CPU kernels
// (src/backends/cpu/normalization.cpp; see math.cu).
#include <memory>
#include <string>

#include "backends/cuda/kernel_steps.h"
#include "core/dims.h"

namespace cppnn::detail::cuda {

namespace {

namespace k = kernels;

// ---- layerNormalization --------------------------------------------------------------

DeviceDecision decide_layer_norm(const GraphIR& g, const Node& node, const Device&) {
  DeviceDecision d = basic_decision(g, node, true);
  if (d.on_gpu && g.desc(node.inputs[0]).shape.size() > 8) {
    d.on_gpu = false;
    d.why_not = "rank over 8";
  }
  return d;
}

// The trailing axes in ascending order: contiguous rows, scale and bias in row order.
bool trailing_axes(const std::vector<int64_t>& axes, size_t rank) {
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != int64_t(rank - axes.size() + i)) return false;
  return true;
}

}  // namespace

bool layer_norm_takes_residual(const GraphIR& g, const Node& ln) {
  const OperandDescriptor& in = g.desc(ln.inputs[0]);
  if (in.data_type != DataType::float16 && in.data_type != DataType::float32 &&
      in.data_type != DataType::bfloat16)
    return false;
  const std::vector<int64_t>& axes = ln.attrs.ints("axes");
  int64_t len = 1;
  for (int64_t a : axes) len *= int64_t(in.shape[size_t(a)]);
  return !axes.empty() && trailing_axes(axes, in.shape.size()) && len <= k::kLayerNormResidualMaxLength;
}

namespace {

std::unique_ptr<Step> make_layer_norm(std::shared_ptr<Device>, const GraphIR& g, const Node& node,
                                      const std::vector<Placement>& places) {
  const OperandDescriptor& in = g.desc(node.inputs[0]);
  const std::vector<int64_t>& axes = node.attrs.ints("axes");
  int64_t len = 1;
  for (int64_t a : axes) len *= in.shape[size_t(a)];
  int64_t rows = int64_t(element_count(in.shape)) / len;
  float epsilon = float(node.attrs.f("epsilon"));
  k::MathType type = math_type(in.data_type);
  const void* x = device_address(places, node.inputs[0], node, "input");
  const void* scale = optional_input(places, node, 1, "scale");
  const void* bias = optional_input(places, node, 2, "bias");
  // Input 3, the residual the fusion pass added (fusion.cpp, fuse_norm_residual): the rows
  // of x + residual are normalized.
  const void* residual = optional_input(places, node, 3, "residual");
  void* y = device_address(places, node.outputs[0], node, "output");
  std::string text = node_name(node) + " " + to_string(in.shape) + " axes " + to_string(Dims(axes)) +
                     ": cuda kernel, " + type_text(in.data_type) + ", " + std::to_string(rows) +
                     " rows of " + std::to_string(len) + (residual ? ", residual added first" : "");
  if (residual && !layer_norm_takes_residual(g, node))
    fail(ErrorKind::OperationError, "cuda plan: " + node_name(node) + ": a fused residual on rows the kernel cannot take");
  if (trailing_axes(axes, in.shape.size()))
    return std::make_unique<KernelStep>(node, text, [=](cudaStream_t s) {
      return k::launch_layer_norm(type, x, residual, scale, bias, y, rows, len, epsilon, s);
    });
  // Other axes: rows and their elements found through the strides.
  k::LayerNormAxes geo;
  geo.rows = rows, geo.len = len;
  const size_t rank = in.shape.size();
  std::vector<bool> normalized(rank, false);
  for (int64_t a : axes) {
    normalized[size_t(a)] = true;
    geo.inner_dims[geo.inner_rank] = in.shape[size_t(a)];
    geo.inner_strides[geo.inner_rank++] = dims_product(in.shape, size_t(a) + 1, rank);
  }
  for (size_t a = 0; a < rank; ++a)
    if (!normalized[a]) {
      geo.outer_dims[geo.outer_rank] = in.shape[a];
      geo.outer_strides[geo.outer_rank++] = dims_product(in.shape, a + 1, rank);
    }
  return std::make_unique<KernelStep>(node, text + ", strided", [=](cudaStream_t s) {
    return k::launch_layer_norm_axes(type, x, scale, bias, y, geo, epsilon, s);
  });
}

// ---- batchNormalization --------------------------------------------------------------

DeviceDecision decide_batch_norm(const GraphIR& g, const Node& node, const Device&) {
  return basic_decision(g, node, true);
}

std::unique_ptr<Step> make_batch_norm(std::shared_ptr<Device>, const GraphIR& g, const Node& node,
                                      const std::vector<Placement>& places) {
  const OperandDescriptor& in = g.desc(node.inputs[0]);
  size_t axis = size_t(node.attrs.i("axis"));
  int64_t outer = dims_product(in.shape, 0, axis), channels = in.shape[axis];
  int64_t inner = dims_product(in.shape, axis + 1, in.shape.size());
  double epsilon = node.attrs.f("epsilon");
  k::MathType type = math_type(in.data_type);
  const void* x = device_address(places, node.inputs[0], node, "input");
  const void* mean = device_address(places, node.inputs[1], node, "mean");
  const void* variance = device_address(places, node.inputs[2], node, "variance");
  const void* scale = optional_input(places, node, 3, "scale");
  const void* bias = optional_input(places, node, 4, "bias");
  void* y = device_address(places, node.outputs[0], node, "output");
  // Per-channel mean, multiplier and bias, folded on the device at every run (mean and
  // variance may be computed by the graph).
  auto params = std::make_shared<DeviceBuffer>(size_t(3 * channels) * sizeof(float),
                                               "batchNormalization's folded parameters");
  std::string text = node_name(node) + " " + to_string(in.shape) + " axis " +
                     std::to_string(axis) + ": cuda kernel, " + type_text(in.data_type);
  return std::make_unique<KernelStep>(node, text, [=](cudaStream_t s) {
    return k::launch_batch_norm(type, x, mean, variance, scale, bias, y,
                                reinterpret_cast<float*>(params->data()), outer, channels, inner,
                                epsilon, s);
  });
}

// ---- instanceNormalization -----------------------------------------------------------

DeviceDecision decide_instance_norm(const GraphIR& g, const Node& node, const Device&) {
  return basic_decision(g, node, true);
}

std::unique_ptr<Step> make_instance_norm(std::shared_ptr<Device>, const GraphIR& g,
                                         const Node& node, const std::vector<Placement>& places) {
  const OperandDescriptor& in = g.desc(node.inputs[0]);
  bool nhwc = node.attrs.s("layout") == "nhwc";
  const Dims& s = in.shape;
  int64_t batches = s[0], channels = nhwc ? s[3] : s[1];
  int64_t spatial = nhwc ? s[1] * s[2] : s[2] * s[3];
  float epsilon = float(node.attrs.f("epsilon"));
  k::MathType type = math_type(in.data_type);
  const void* x = device_address(places, node.inputs[0], node, "input");
  const void* scale = optional_input(places, node, 1, "scale");
  const void* bias = optional_input(places, node, 2, "bias");
  void* y = device_address(places, node.outputs[0], node, "output");
  std::string text = node_name(node) + " " + to_string(s) + " " + node.attrs.s("layout") +
                     ": cuda kernel, " + type_text(in.data_type);
  return std::make_unique<KernelStep>(node, text, [=](cudaStream_t st) {
    return k::launch_instance_norm(type, nhwc, x, scale, bias, y, batches, channels, spatial,
                                   epsilon, st);
  });
}

}  // namespace

void add_normalization_ops(DeviceOpTable& table) {
  table[OpId::layerNormalization] = DeviceOp{decide_layer_norm, make_layer_norm};
  table[OpId::batchNormalization] = DeviceOp{decide_batch_norm, make_batch_norm};
  table[OpId::instanceNormalization] = DeviceOp{decide_instance_norm, make_instance_norm};
}

}  // namespace cppnn::detail::cuda
