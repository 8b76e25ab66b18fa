// Device steps of the gather family: gather, gatherElements and gatherND on the kernels of
// kernels/movement.cu, scatterElements and scatterND on those of kernels/scatter.cu.
// Semantics follow the CPU kernels (src/backends/cpu/gather.cpp): a negative index counts
// from the end and what is still out of range is clamped; a scatter's repeated index keeps
// the last update. Every geometry is worked out at step creation; run() only enqueues on
// the stream.
#include <memory>
#include <string>

#include "backends/cuda/kernel_steps.h"
#include "backends/cuda/kernels/scatter_kernels.h"
#include "core/dims.h"

namespace cppnn::detail::cuda {

namespace {

namespace mv = movement;

DeviceDecision decide_gather(const GraphIR& g, const Node& n, const Device&) {
  if (any_empty(g, n)) return no("an empty tensor");
  switch (n.op) {
    case OpId::gather:
    case OpId::gatherElements:
    case OpId::gatherND:
    case OpId::scatterElements:
    case OpId::scatterND: {
      DataType t = g.desc(n.inputs[1]).data_type;
      if (t != DataType::int32 && t != DataType::uint32 && t != DataType::int64)
        return no("indices of data type " + std::string(to_string(t)));
      if (n.op == OpId::gatherND || n.op == OpId::scatterND) {
        int64_t coords = in_shape(g, n, 1).back();
        if (coords > int64_t(mv::kMaxRank))
          return no("coordinates of " + std::to_string(coords) + " axes (at most " +
                    std::to_string(mv::kMaxRank) + ")");
      }
      break;
    }
    default:
      break;
  }
  return yes();
}

std::unique_ptr<Step> make_gather_step(std::shared_ptr<Device> device, const GraphIR& g,
                                       const Node& n, const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  const Dims& shape = in_shape(g, n);
  size_t axis = size_t(n.attrs.i("axis"));
  int64_t outer = dims_product(shape, 0, axis), dim = shape[axis];
  int64_t inner = dims_product(shape, axis + 1, shape.size());
  int64_t count = int64_t(element_count(in_shape(g, n, 1)));
  size_t esize = element_size(g.desc(n.inputs[0]).data_type);
  const void* in = address(places, n.inputs[0], n, "input");
  const void* indices = address(places, n.inputs[1], n, "indices");
  void* out = address(places, n.outputs[0], n, "output");
  // Rows of `inner` elements move whole: wider elements where they divide.
  for (int64_t k = int64_t(16 / esize); k > 1; k /= 2) {
    if (inner % k == 0 && aligned(in, size_t(k) * esize) && aligned(out, size_t(k) * esize)) {
      inner /= k;
      esize *= size_t(k);
      break;
    }
  }
  mv::ElemType index_type = elem_type(g.desc(n.inputs[1]).data_type);
  int elem = int(esize), blocks = step->max_blocks();
  step->add([=](cudaStream_t s) {
    CPPNN_CUDA_CHECK(mv::launch_gather(in, indices, index_type, out, outer, dim, count, inner,
                                       elem, blocks, s));
  });
  step->describe_as(head(g, n) + "gather x" + std::to_string(esize) + "B, indices " +
                    std::string(to_string(g.desc(n.inputs[1]).data_type)) + " clamped");
  return step;
}

// gatherElements' and scatterElements' geometry: the input [outer, dim, inner] around the
// axis, the indices [outer, count, inner].
struct ElementsGeometry {
  size_t axis;
  int64_t outer, dim, inner, count;
};

ElementsGeometry elements_geometry(const GraphIR& g, const Node& n) {
  const Dims& shape = in_shape(g, n);
  size_t axis = size_t(n.attrs.i("axis"));
  return {axis, dims_product(shape, 0, axis), shape[axis],
          dims_product(shape, axis + 1, shape.size()), in_shape(g, n, 1)[axis]};
}

// gatherElements, as the CPU's gather.cpp: indices (and output) [outer, n, inner] over
// the input [outer, dim, inner]; every element reads its own clamped index.
std::unique_ptr<Step> make_gather_elements_step(std::shared_ptr<Device> device, const GraphIR& g,
                                                const Node& n,
                                                const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  ElementsGeometry geo = elements_geometry(g, n);  // (locals below: the lambda captures them)
  size_t axis = geo.axis;
  int64_t outer = geo.outer, dim = geo.dim, inner = geo.inner, count = geo.count;
  DataType index_dtype = g.desc(n.inputs[1]).data_type;
  mv::ElemType index_type = elem_type(index_dtype);
  const void* in = address(places, n.inputs[0], n, "input");
  const void* indices = address(places, n.inputs[1], n, "indices");
  void* out = address(places, n.outputs[0], n, "output");
  int elem = int(element_size(g.desc(n.inputs[0]).data_type)), blocks = step->max_blocks();
  step->add([=](cudaStream_t s) {
    CPPNN_CUDA_CHECK(mv::launch_gather_elements(in, indices, index_type, out, outer, dim, count,
                                                inner, elem, blocks, s));
  });
  step->describe_as(head(g, n) + "gatherElements axis " + std::to_string(axis) + ", indices " +
                    std::string(to_string(index_dtype)) + " clamped");
  return step;
}

// gatherND's and scatterND's geometry: tuples of `coords` indices over the data's leading
// axes, each naming a contiguous slice of its trailing axes, moved with the widest element
// (up to 16 bytes) that the slice and both pointers' alignment allow. `a` is where the slices
// come from or go to besides the data (gatherND's input, scatterND's updates), `b` the
// output. Returns the element size used.
size_t nd_slices(const Dims& shape, const Dims& ishape, size_t esize, const void* a,
                 const void* b, mv::GatherNDParams& p) {
  size_t coords = size_t(ishape.back());
  p.coords = int(coords);
  p.m = dims_product(ishape, 0, ishape.size() - 1);
  p.slice = dims_product(shape, coords, shape.size());
  for (size_t d = 0; d < coords; ++d) {
    p.dims[d] = shape[d];
    p.strides[d] = dims_product(shape, d + 1, shape.size());
  }
  // Every stride is a multiple of the slice, so a divisor of the slice divides them all.
  for (int64_t k = int64_t(16 / esize); k > 1; k /= 2) {
    if (p.slice % k == 0 && aligned(a, size_t(k) * esize) && aligned(b, size_t(k) * esize)) {
      p.slice /= k;
      for (size_t d = 0; d < coords; ++d) p.strides[d] /= k;
      return esize * size_t(k);
    }
  }
  return esize;
}

// gatherND, as the CPU's gather.cpp: each coordinate tuple picks a contiguous slice of
// the input's trailing axes, moved with wider elements where the slice and alignment allow.
std::unique_ptr<Step> make_gather_nd_step(std::shared_ptr<Device> device, const GraphIR& g,
                                          const Node& n, const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  const void* in = address(places, n.inputs[0], n, "input");
  const void* indices = address(places, n.inputs[1], n, "indices");
  void* out = address(places, n.outputs[0], n, "output");
  mv::GatherNDParams p;
  size_t esize = nd_slices(in_shape(g, n), in_shape(g, n, 1),
                           element_size(g.desc(n.inputs[0]).data_type), in, out, p);
  size_t coords = size_t(p.coords);
  DataType index_dtype = g.desc(n.inputs[1]).data_type;
  mv::ElemType index_type = elem_type(index_dtype);
  int elem = int(esize), blocks = step->max_blocks();
  step->add([=](cudaStream_t s) {
    CPPNN_CUDA_CHECK(mv::launch_gather_nd(in, indices, index_type, out, p, elem, blocks, s));
  });
  step->describe_as(head(g, n) + "gatherND " + std::to_string(coords) + " coordinates x" +
                    std::to_string(esize) + "B, indices " + std::string(to_string(index_dtype)) +
                    " clamped");
  return step;
}

// A scatter's output starts as a copy of its input, on the stream before the updates.
void copy_input_first(MovementStep& step, const void* in, void* out, size_t bytes) {
  if (in == out || bytes == 0) return;
  step.add([=](cudaStream_t s) {
    CPPNN_CUDA_CHECK(cudaMemcpyAsync(out, in, bytes, cudaMemcpyDeviceToDevice, s));
  });
}

// scatterElements, as the CPU's gather.cpp: one thread per column (o, k) of the output
// [outer, dim, inner] walks the updates [outer, n, inner] in order.
std::unique_ptr<Step> make_scatter_elements_step(std::shared_ptr<Device> device, const GraphIR& g,
                                                 const Node& n,
                                                 const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  ElementsGeometry geo = elements_geometry(g, n);  // (locals below: the lambda captures them)
  size_t axis = geo.axis;
  int64_t outer = geo.outer, dim = geo.dim, inner = geo.inner, count = geo.count;
  DataType index_dtype = g.desc(n.inputs[1]).data_type;
  mv::ElemType index_type = elem_type(index_dtype);
  DataType type = g.desc(n.inputs[0]).data_type;
  const void* in = address(places, n.inputs[0], n, "input");
  const void* indices = address(places, n.inputs[1], n, "indices");
  const void* updates = address(places, n.inputs[2], n, "updates");
  void* out = address(places, n.outputs[0], n, "output");
  copy_input_first(*step, in, out, byte_size(type, element_count(in_shape(g, n))));
  int elem = int(element_size(type)), blocks = step->max_blocks();
  step->add([=](cudaStream_t s) {
    CPPNN_CUDA_CHECK(scatter::launch_scatter_elements(indices, index_type, updates, out, outer,
                                                      dim, count, inner, elem, blocks, s));
  });
  step->describe_as(head(g, n) + "scatterElements axis " + std::to_string(axis) + ", indices " +
                    std::string(to_string(index_dtype)) + " clamped");
  return step;
}

// scatterND, as the CPU's gather.cpp: one thread per slice element writes it for every
// coordinate tuple in order; wider elements where the slice and alignment allow.
std::unique_ptr<Step> make_scatter_nd_step(std::shared_ptr<Device> device, const GraphIR& g,
                                           const Node& n, const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  const Dims& shape = in_shape(g, n);
  DataType type = g.desc(n.inputs[0]).data_type;
  const void* in = address(places, n.inputs[0], n, "input");
  const void* indices = address(places, n.inputs[1], n, "indices");
  const void* updates = address(places, n.inputs[2], n, "updates");
  void* out = address(places, n.outputs[0], n, "output");
  copy_input_first(*step, in, out, byte_size(type, element_count(shape)));
  scatter::ScatterNDParams p;
  size_t esize = nd_slices(shape, in_shape(g, n, 1), element_size(type), updates, out, p);
  size_t coords = size_t(p.coords);
  DataType index_dtype = g.desc(n.inputs[1]).data_type;
  mv::ElemType index_type = elem_type(index_dtype);
  int elem = int(esize), blocks = step->max_blocks();
  step->add([=](cudaStream_t s) {
    CPPNN_CUDA_CHECK(
        scatter::launch_scatter_nd(indices, index_type, updates, out, p, elem, blocks, s));
  });
  step->describe_as(head(g, n) + "scatterND " + std::to_string(coords) + " coordinates x" +
                    std::to_string(esize) + "B, indices " + std::string(to_string(index_dtype)) +
                    " clamped");
  return step;
}

}  // namespace

void add_gather_ops(DeviceOpTable& table) {
  table[OpId::gather] = DeviceOp{decide_gather, make_gather_step};
  table[OpId::gatherElements] = DeviceOp{decide_gather, make_gather_elements_step};
  table[OpId::gatherND] = DeviceOp{decide_gather, make_gather_nd_step};
  table[OpId::scatterElements] = DeviceOp{decide_gather, make_scatter_elements_step};
  table[OpId::scatterND] = DeviceOp{decide_gather, make_scatter_nd_step};
}

}  // namespace cppnn::detail::cuda
