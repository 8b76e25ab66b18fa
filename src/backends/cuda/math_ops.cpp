// Device steps on the hand-written kernels of kernels/math.cu: averagePool2d, l2Pool2d,
// maxPool2d, softmax, layerNormalization, batchNormalization, instanceNormalization and the
// ten reduce* ops. Every geometry is worked out here, at step creation; run() only
// launches. The values follow the CPU kernels (see math.cu).
#include <algorithm>
#include <functional>
#include <memory>
#include <string>

#include "backends/cuda/device_ops.h"
#include "backends/cuda/kernels/math_kernels.h"
#include "core/dims.h"
#include "graph/op_math/layout.h"
#include "graph/op_math/window_attrs.h"

namespace cppnn::detail::cuda {

namespace {

namespace k = kernels;

k::MathType math_type(DataType t) {
  switch (t) {
    case DataType::float32:
      return k::kF32;
    case DataType::float16:
      return k::kF16;
    case DataType::int32:
      return k::kI32;
    case DataType::uint32:
      return k::kU32;
    case DataType::int64:
      return k::kI64;
    case DataType::uint64:
      return k::kU64;
    case DataType::int8:
      return k::kI8;
    case DataType::uint8:
      return k::kU8;
  }
  fail(ErrorKind::OperationError, "cuda math: unknown data type");
}

bool float_type(DataType t) { return t == DataType::float32 || t == DataType::float16; }

bool has_input(const Node& node, size_t i) {
  return i < node.inputs.size() && node.inputs[i] != kNoOperand;
}

// Yes, unless an input or the output is empty or the data type is not one the kernels take.
DeviceDecision basic_decision(const GraphIR& g, const Node& node, bool floats_only) {
  DeviceDecision d;
  const OperandDescriptor& in = g.desc(node.inputs[0]);
  const OperandDescriptor& out = g.desc(node.outputs[0]);
  if (element_count(in.shape) == 0 || element_count(out.shape) == 0) {
    d.why_not = "an empty tensor";
    return d;
  }
  if (floats_only && !float_type(in.data_type)) {
    d.why_not = "data type " + std::string(to_string(in.data_type));
    return d;
  }
  d.on_gpu = true;
  return d;
}

// A step that launches one precomputed kernel call.
class KernelStep final : public Step {
 public:
  using Launch = std::function<cudaError_t(cudaStream_t)>;
  KernelStep(const Node& node, std::string description, Launch launch)
      : Step(node), description_(std::move(description)), launch_(std::move(launch)) {}
  bool on_device() const override { return true; }
  void run(cudaStream_t stream) override { CPPNN_CUDA_CHECK(launch_(stream)); }
  std::string describe() const override { return description_; }

 private:
  std::string description_;
  Launch launch_;
};

std::string type_text(DataType t) { return std::string(to_string(t)); }

const void* optional_input(const std::vector<Placement>& places, const Node& node, size_t i,
                           const char* what) {
  return has_input(node, i) ? device_address(places, node.inputs[i], node, what) : nullptr;
}

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

// ---- Reductions ----------------------------------------------------------------------

k::ReduceKind reduce_kind(OpId op) {
  switch (op) {
    case OpId::reduceL1:
      return k::kReduceL1;
    case OpId::reduceL2:
      return k::kReduceL2;
    case OpId::reduceLogSum:
      return k::kReduceLogSum;
    case OpId::reduceLogSumExp:
      return k::kReduceLogSumExp;
    case OpId::reduceMax:
      return k::kReduceMax;
    case OpId::reduceMean:
      return k::kReduceMean;
    case OpId::reduceMin:
      return k::kReduceMin;
    case OpId::reduceProduct:
      return k::kReduceProduct;
    case OpId::reduceSum:
      return k::kReduceSum;
    case OpId::reduceSumSquare:
      return k::kReduceSumSquare;
    default:
      fail(ErrorKind::OperationError, "cuda math: '" + op_name(op) + "' is not a reduction");
  }
}

// The CPU's layout (op_math::reduce_layout) in the kernels' fixed-size form; `ok` false
// when there are more groups than it holds.
k::ReduceGeometry reduce_geometry(const Dims& shape, const std::vector<int64_t>& axes, bool& ok) {
  op_math::ReduceLayout layout = op_math::reduce_layout(shape, axes);
  k::ReduceGeometry l;
  ok = layout.kept_sizes.size() <= size_t(k::kMaxGroups) &&
       layout.row_sizes.size() <= size_t(k::kMaxGroups);
  if (!ok) return l;
  l.kept_rank = int(layout.kept_sizes.size());
  l.row_rank = int(layout.row_sizes.size());
  std::copy(layout.kept_sizes.begin(), layout.kept_sizes.end(), l.kept_sizes);
  std::copy(layout.kept_strides.begin(), layout.kept_strides.end(), l.kept_strides);
  std::copy(layout.row_sizes.begin(), layout.row_sizes.end(), l.row_sizes);
  std::copy(layout.row_strides.begin(), layout.row_strides.end(), l.row_strides);
  l.inner = layout.inner;
  l.inner_reduced = layout.inner_reduced;
  l.outer_count = layout.outer_count;
  l.row_count = layout.row_count;
  l.out_count = layout.out_count;
  l.reduce_count = layout.reduce_count;
  return l;
}

DeviceDecision decide_reduce(const GraphIR& g, const Node& node, const Device&) {
  DeviceDecision d = basic_decision(g, node, false);
  if (!d.on_gpu) return d;
  bool ok = true;
  reduce_geometry(g.desc(node.inputs[0]).shape, node.attrs.ints("axes"), ok);
  if (!ok) {
    d.on_gpu = false;
    d.why_not = "more than " + std::to_string(k::kMaxGroups) +
                " alternating groups of reduced and kept dimensions";
  }
  return d;
}

std::unique_ptr<Step> make_reduce(std::shared_ptr<Device>, const GraphIR& g, const Node& node,
                                  const std::vector<Placement>& places) {
  const OperandDescriptor& in = g.desc(node.inputs[0]);
  bool ok = true;
  k::ReduceGeometry geo = reduce_geometry(in.shape, node.attrs.ints("axes"), ok);
  if (!ok) fail(ErrorKind::NotSupportedError, "cuda math: too many dimension groups");
  k::ReduceKind kind = reduce_kind(node.op);
  k::MathType type = math_type(in.data_type);
  const void* x = device_address(places, node.inputs[0], node, "input");
  void* y = device_address(places, node.outputs[0], node, "output");
  bool block = geo.inner_reduced && geo.reduce_count >= 64;
  std::string text = node_name(node) + " " + to_string(in.shape) + " axes " +
                     to_string(Dims(node.attrs.ints("axes"))) + ": cuda kernel, " +
                     type_text(in.data_type) + ", " + std::to_string(geo.out_count) +
                     " outputs of " + std::to_string(geo.reduce_count) +
                     (block ? " (block per output)" : " (thread per output)");
  return std::make_unique<KernelStep>(node, text, [=](cudaStream_t s) {
    return k::launch_reduce(kind, type, x, y, geo, s);
  });
}

// ---- softmax -------------------------------------------------------------------------

DeviceDecision decide_softmax(const GraphIR& g, const Node& node, const Device&) {
  return basic_decision(g, node, true);
}

std::unique_ptr<Step> make_softmax(std::shared_ptr<Device>, const GraphIR& g, const Node& node,
                                   const std::vector<Placement>& places) {
  const OperandDescriptor& in = g.desc(node.inputs[0]);
  size_t axis = size_t(node.attrs.i("axis"));
  int64_t outer = dims_product(in.shape, 0, axis), length = in.shape[axis];
  int64_t inner = dims_product(in.shape, axis + 1, in.shape.size());
  k::MathType type = math_type(in.data_type);
  const void* x = device_address(places, node.inputs[0], node, "input");
  void* y = device_address(places, node.outputs[0], node, "output");
  std::string text = node_name(node) + " " + to_string(in.shape) + " axis " +
                     std::to_string(axis) + ": cuda kernel, " + type_text(in.data_type);
  return std::make_unique<KernelStep>(node, text, [=](cudaStream_t s) {
    return k::launch_softmax(type, x, y, outer, length, inner, s);
  });
}

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
  void* y = device_address(places, node.outputs[0], node, "output");
  std::string text = node_name(node) + " " + to_string(in.shape) + " axes " + to_string(Dims(axes)) +
                     ": cuda kernel, " + type_text(in.data_type) + ", " + std::to_string(rows) +
                     " rows of " + std::to_string(len);
  if (trailing_axes(axes, in.shape.size()))
    return std::make_unique<KernelStep>(node, text, [=](cudaStream_t s) {
      return k::launch_layer_norm(type, x, scale, bias, y, rows, len, epsilon, s);
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

void add_math_ops(DeviceOpTable& table) {
  for (OpId op : {OpId::averagePool2d, OpId::l2Pool2d, OpId::maxPool2d})
    table[op] = DeviceOp{decide_pool, make_pool};
  for (OpId op : {OpId::reduceL1, OpId::reduceL2, OpId::reduceLogSum, OpId::reduceLogSumExp,
                  OpId::reduceMax, OpId::reduceMean, OpId::reduceMin, OpId::reduceProduct,
                  OpId::reduceSum, OpId::reduceSumSquare})
    table[op] = DeviceOp{decide_reduce, make_reduce};
  table[OpId::softmax] = DeviceOp{decide_softmax, make_softmax};
  table[OpId::layerNormalization] = DeviceOp{decide_layer_norm, make_layer_norm};
  table[OpId::batchNormalization] = DeviceOp{decide_batch_norm, make_batch_norm};
  table[OpId::instanceNormalization] = DeviceOp{decide_instance_norm, make_instance_norm};
}

}  // namespace cppnn::detail::cuda
