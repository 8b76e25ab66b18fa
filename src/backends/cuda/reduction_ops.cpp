// Device steps of the reduction family: the ten reduce* ops and softmax on the kernels of
// kernels/math.cu, cumulativeSum, argMin and argMax on those of kernels/movement.cu. Every
// geometry is worked out here, at step creation; run() only launches. The values follow the
// CPU kernels (src/backends/cpu/reduction*.cpp; see math.cu and movement.cu).
#include <algorithm>
#include <memory>
#include <string>

#include "backends/cuda/kernel_steps.h"
#include "core/dims.h"
#include "graph/op_math/layout.h"

namespace cppnn::detail::cuda {

namespace {

namespace k = kernels;
namespace mv = movement;

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

// ---- cumulativeSum, argMin, argMax ------------------------------------------------------

DeviceDecision decide_axis(const GraphIR& g, const Node& n, const Device&) {
  if (any_empty(g, n)) return no("an empty tensor");
  switch (n.op) {
    case OpId::cumulativeSum: {
      DataType t = g.desc(n.inputs[0]).data_type;
      if (t == DataType::int8 || t == DataType::uint8)
        return no("data type " + std::string(to_string(t)));
      break;
    }
    case OpId::argMin:
    case OpId::argMax: {
      DataType t = g.desc(n.outputs[0]).data_type;
      if (t != DataType::int32 && t != DataType::int64)
        return no("output data type " + std::string(to_string(t)));
      break;
    }
    default:
      break;
  }
  return yes();
}

struct AxisSplit {
  int64_t outer, length, inner;
};
AxisSplit split_at(const Dims& shape, size_t axis) {
  return {dims_product(shape, 0, axis), shape[axis], dims_product(shape, axis + 1, shape.size())};
}

std::unique_ptr<Step> make_axis_step(std::shared_ptr<Device> device, const GraphIR& g,
                                     const Node& n, const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  AxisSplit a = split_at(in_shape(g, n), size_t(n.attrs.i("axis")));
  mv::ElemType type = elem_type(g.desc(n.inputs[0]).data_type);
  const void* in = address(places, n.inputs[0], n, "input");
  void* out = address(places, n.outputs[0], n, "output");
  int blocks = step->max_blocks();
  if (n.op == OpId::cumulativeSum) {
    bool exclusive = n.attrs.b("exclusive"), reversed = n.attrs.b("reversed");
    step->add([=](cudaStream_t s) {
      CPPNN_CUDA_CHECK(mv::launch_cumulative_sum(in, out, type, a.outer, a.length, a.inner,
                                                 exclusive, reversed, blocks, s));
    });
    step->describe_as(head(g, n) + "scan, one thread per column" +
                      (exclusive ? ", exclusive" : "") + (reversed ? ", reversed" : ""));
  } else {
    bool out64 = g.desc(n.outputs[0]).data_type == DataType::int64;
    bool is_max = n.op == OpId::argMax;
    step->add([=](cudaStream_t s) {
      CPPNN_CUDA_CHECK(mv::launch_arg_min_max(in, out, type, out64, is_max, a.outer, a.length,
                                              a.inner, blocks, s));
    });
    step->describe_as(head(g, n) + "scan, one thread per column, " + (out64 ? "int64" : "int32"));
  }
  return step;
}

}  // namespace

void add_reduction_ops(DeviceOpTable& table) {
  for (OpId op : {OpId::reduceL1, OpId::reduceL2, OpId::reduceLogSum, OpId::reduceLogSumExp,
                  OpId::reduceMax, OpId::reduceMean, OpId::reduceMin, OpId::reduceProduct,
                  OpId::reduceSum, OpId::reduceSumSquare})
    table[op] = DeviceOp{decide_reduce, make_reduce};
  table[OpId::softmax] = DeviceOp{decide_softmax, make_softmax};
  table[OpId::cumulativeSum] = DeviceOp{decide_axis, make_axis_step};
  table[OpId::argMin] = DeviceOp{decide_axis, make_axis_step};
  table[OpId::argMax] = DeviceOp{decide_axis, make_axis_step};
}

}  // namespace cppnn::detail::cuda
