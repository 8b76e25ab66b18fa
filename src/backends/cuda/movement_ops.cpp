// Device steps of the movement family on the hand-written kernels of kernels/movement.cu.
// Semantics follow the CPU kernels (src/backends/cpu/movement*.cpp):
//   transpose, slice, expand, tile, reverse: one strided copy each (a view: output dims,
//     signed input strides, an input offset), simplified the way the CPU simplifies it;
//   reshape: a device-to-device copy; concat / split: one strided copy per part;
//   pad, triangular, resample2d: kernels of their own.
// Every index table is computed at step creation; run() only enqueues on the stream. The
// gathers (gather_ops.cpp) and cumulativeSum, argMin, argMax (reduction_ops.cpp) run on
// kernels of the same file.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "backends/cuda/kernel_steps.h"
#include "core/dims.h"
#include "core/number_cast.h"
#include "core/dispatch.h"
#include "graph/op_math/layout.h"

namespace cppnn::detail::cuda {

namespace {

namespace mv = movement;

using Strides = std::vector<int64_t>;


Strides row_major(const Dims& shape) {
  Strides s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

// ---- strided copies ---------------------------------------------------------------------

// out[out_offset + idx . out] = in[in_offset + idx . in] over every multi-index of dims.
struct View {
  std::vector<int64_t> dims;
  Strides in, out;
  int64_t in_offset = 0, out_offset = 0;
};

// A view whose output is the contiguous tensor of shape `dims`.
View contiguous_out(const Dims& dims, Strides in, int64_t in_offset = 0) {
  View v;
  v.dims = dims;
  v.in = std::move(in);
  v.out = row_major(dims);
  v.in_offset = in_offset;
  return v;
}

// Drops size-1 dims and merges neighbours whose strides nest on both sides (as the CPU's
// simplify): a contiguous run becomes one dimension.
View simplify(const View& v) {
  View s;
  s.in_offset = v.in_offset;
  s.out_offset = v.out_offset;
  for (size_t i = 0; i < v.dims.size(); ++i) {
    if (v.dims[i] == 1) continue;
    if (!s.dims.empty() && s.in.back() == v.in[i] * v.dims[i] &&
        s.out.back() == v.out[i] * v.dims[i]) {
      s.dims.back() *= v.dims[i];
      s.in.back() = v.in[i];
      s.out.back() = v.out[i];
      continue;
    }
    s.dims.push_back(v.dims[i]);
    s.in.push_back(v.in[i]);
    s.out.push_back(v.out[i]);
  }
  return s;
}

// Moves runs of k contiguous elements as one element of k times the size (up to 16 bytes)
// when the innermost dim is contiguous on both sides and everything divides.
void widen(View& v, size_t& esize, const void* in, const void* out) {
  if (v.dims.empty()) return;
  size_t r = v.dims.size() - 1;
  if (v.in[r] != 1 || v.out[r] != 1) return;
  for (int64_t k = int64_t(16 / esize); k > 1; k /= 2) {
    bool ok = v.dims[r] % k == 0 && v.in_offset % k == 0 && v.out_offset % k == 0 &&
              aligned(in, size_t(k) * esize) && aligned(out, size_t(k) * esize);
    for (size_t d = 0; ok && d < r; ++d) ok = v.in[d] % k == 0 && v.out[d] % k == 0;
    if (!ok) continue;
    v.dims[r] /= k;
    v.in_offset /= k;
    v.out_offset /= k;
    for (size_t d = 0; d < r; ++d) v.in[d] /= k, v.out[d] /= k;
    esize *= size_t(k);
    return;
  }
}

// Adds the launch of one view (simplified, widened): a cudaMemcpyAsync when it is one
// contiguous run, else the strided-copy kernel. Returns how, for the report.
std::string add_copy(MovementStep& step, const void* in, void* out, const View& view,
                     size_t esize) {
  View v = simplify(view);
  widen(v, esize, in, out);
  const uint8_t* src = static_cast<const uint8_t*>(in);
  uint8_t* dst = static_cast<uint8_t*>(out);
  bool run = v.dims.empty() || (v.dims.size() == 1 && v.in[0] == 1 && v.out[0] == 1);
  if (run) {
    int64_t count = v.dims.empty() ? 1 : v.dims[0];
    const uint8_t* from = src + v.in_offset * int64_t(esize);
    uint8_t* to = dst + v.out_offset * int64_t(esize);
    size_t bytes = size_t(count) * esize;
    step.add([from, to, bytes](cudaStream_t s) {
      CPPNN_CUDA_CHECK(cudaMemcpyAsync(to, from, bytes, cudaMemcpyDeviceToDevice, s));
    });
    return "copy";
  }
  if (v.dims.size() > size_t(mv::kMaxRank))
    fail(ErrorKind::OperationError, "cuda plan: a strided copy of rank " +
                                        std::to_string(v.dims.size()) + " for GPU " +
                                        node_name(step.node()));
  mv::StridedCopy c;
  c.rank = int(v.dims.size());
  for (size_t d = 0; d < v.dims.size(); ++d) {
    c.dims[d] = v.dims[d];
    c.in_strides[d] = v.in[d];
    c.out_strides[d] = v.out[d];
  }
  c.in_offset = v.in_offset;
  c.out_offset = v.out_offset;
  int elem = int(esize), blocks = step.max_blocks();
  step.add([in, out, c, elem, blocks](cudaStream_t s) {
    CPPNN_CUDA_CHECK(mv::launch_strided_copy(in, out, c, elem, blocks, s));
  });
  return "strided rank " + std::to_string(c.rank) + " x" + std::to_string(esize) + "B";
}

// ---- the views of each op (as the CPU's movement_strided.cpp) ---------------------------

View transpose_view(const GraphIR& g, const Node& n) {
  Strides s = row_major(in_shape(g, n)), in;
  for (int64_t p : n.attrs.ints("permutation")) in.push_back(s[size_t(p)]);
  return contiguous_out(out_shape(g, n), in);
}

View slice_view(const GraphIR& g, const Node& n) {
  Strides s = row_major(in_shape(g, n)), in;
  const std::vector<int64_t>& starts = n.attrs.ints("starts");
  const std::vector<int64_t>& steps = n.attrs.ints("strides");
  int64_t offset = 0;
  for (size_t d = 0; d < s.size(); ++d) {
    in.push_back(s[d] * steps[d]);
    offset += starts[d] * s[d];
  }
  return contiguous_out(out_shape(g, n), in, offset);
}

View expand_view(const GraphIR& g, const Node& n) {
  const Dims& shape = in_shape(g, n);
  const Dims& out = out_shape(g, n);
  Strides s = row_major(shape), in(out.size(), 0);
  size_t lead = out.size() - shape.size();
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1) in[lead + d] = s[d];
  return contiguous_out(out, in);
}

// Output dim d of size reps * n is the row-major pair (repeat, index): stride 0, then the
// input's stride.
View tile_view(const GraphIR& g, const Node& n) {
  const Dims& shape = in_shape(g, n);
  Strides s = row_major(shape), in;
  const std::vector<int64_t>& reps = n.attrs.ints("repetitions");
  Dims dims;
  for (size_t d = 0; d < shape.size(); ++d) {
    dims.insert(dims.end(), {reps[d], shape[d]});
    in.insert(in.end(), {0, s[d]});
  }
  return contiguous_out(dims, in);
}

View reverse_view(const GraphIR& g, const Node& n) {
  const Dims& shape = in_shape(g, n);
  Strides in = row_major(shape);
  int64_t offset = 0;
  for (int64_t axis : n.attrs.ints("axes")) {
    size_t a = size_t(axis);
    offset += (shape[a] - 1) * in[a];
    in[a] = -in[a];
  }
  return contiguous_out(shape, in, offset);
}

// concat (join = true: parts are the inputs) and split (parts are the outputs): part k
// is the slab at its offset along the axis of the joined tensor.
std::vector<View> part_views(const GraphIR& g, const Node& n, bool join) {
  const Dims& joined = join ? out_shape(g, n) : in_shape(g, n);
  size_t axis = size_t(n.attrs.i("axis"));
  Strides js = row_major(joined);
  const std::vector<OperandId>& parts = join ? n.inputs : n.outputs;
  std::vector<View> views;
  int64_t at = 0;
  for (OperandId id : parts) {
    const Dims& shape = g.desc(id).shape;
    View v;
    v.dims = shape;
    Strides ps = row_major(shape);
    if (join) {
      v.in = ps;
      v.out = js;
      v.out_offset = at * js[axis];
    } else {
      v.in = js;
      v.out = ps;
      v.in_offset = at * js[axis];
    }
    at += shape[axis];
    views.push_back(std::move(v));
  }
  return views;
}

bool view_op(OpId op) {
  switch (op) {
    case OpId::transpose:
    case OpId::slice:
    case OpId::expand:
    case OpId::tile:
    case OpId::reverse:
      return true;
    default:
      return false;
  }
}

View view_of(const GraphIR& g, const Node& n) {
  switch (n.op) {
    case OpId::transpose:
      return transpose_view(g, n);
    case OpId::slice:
      return slice_view(g, n);
    case OpId::expand:
      return expand_view(g, n);
    case OpId::tile:
      return tile_view(g, n);
    default:
      return reverse_view(g, n);
  }
}

// ---- decisions ------------------------------------------------------------------------

DeviceDecision decide_movement(const GraphIR& g, const Node& n, const Device&) {
  if (any_empty(g, n)) return no("an empty tensor");
  std::vector<View> views;
  if (view_op(n.op)) views.push_back(view_of(g, n));
  else if (n.op == OpId::concat) views = part_views(g, n, true);
  else if (n.op == OpId::split) views = part_views(g, n, false);
  for (const View& v : views) {
    size_t rank = simplify(v).dims.size();
    if (rank > size_t(mv::kMaxRank))
      return no("a strided copy of rank " + std::to_string(rank) + " after merging dims (at most " +
                std::to_string(mv::kMaxRank) + ")");
  }
  switch (n.op) {
    case OpId::pad: {
      if (in_shape(g, n).size() > size_t(mv::kMaxRank))
        return no("rank over " + std::to_string(mv::kMaxRank));
      const std::string& mode = n.attrs.s("mode");
      if (mode != "constant" && mode != "edge" && mode != "reflection")
        return no("padding mode '" + mode + "'");
      break;
    }
    case OpId::resample2d: {
      DataType t = g.desc(n.inputs[0]).data_type;
      const std::string& mode = n.attrs.s("mode");
      if (mode != "nearest-neighbor" && mode != "linear") return no("mode '" + mode + "'");
      if (mode == "linear" && t != DataType::float32 && t != DataType::float16 &&
          t != DataType::int8 && t != DataType::uint8)
        return no("linear resampling of data type " + std::string(to_string(t)));
      break;
    }
    default:
      break;
  }
  return yes();
}

// ---- steps ----------------------------------------------------------------------------

std::unique_ptr<Step> make_view_step(std::shared_ptr<Device> device, const GraphIR& g,
                                     const Node& n, const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  size_t esize = element_size(g.desc(n.inputs[0]).data_type);
  const void* in = address(places, n.inputs[0], n, "input");
  void* out = address(places, n.outputs[0], n, "output");
  std::string how;
  if (n.op == OpId::reshape && in == out) {
    how = "view (no copy)";  // the memory plan gave the output the input's bytes
  } else if (n.op == OpId::reshape) {
    size_t bytes = places[size_t(n.outputs[0])].bytes;
    step->add([in, out, bytes](cudaStream_t s) {
      CPPNN_CUDA_CHECK(cudaMemcpyAsync(out, in, bytes, cudaMemcpyDeviceToDevice, s));
    });
    how = "copy";
  } else {
    how = add_copy(*step, in, out, view_of(g, n), esize);
  }
  step->describe_as(head(g, n) + how);
  return step;
}

std::unique_ptr<Step> make_parts_step(std::shared_ptr<Device> device, const GraphIR& g,
                                      const Node& n, const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  bool join = n.op == OpId::concat;
  size_t esize = element_size(g.desc(n.inputs[0]).data_type);
  std::vector<View> views = part_views(g, n, join);
  std::string how;
  for (size_t k = 0; k < views.size(); ++k) {
    const void* in = address(places, join ? n.inputs[k] : n.inputs[0], n, "input");
    void* out = address(places, join ? n.outputs[0] : n.outputs[k], n, "output");
    std::string one = add_copy(*step, in, out, views[k], esize);
    if (how.find(one) == std::string::npos) how += (how.empty() ? "" : ", ") + one;
  }
  step->describe_as(head(g, n) + std::to_string(views.size()) + " parts (" + how + ")");
  return step;
}

std::unique_ptr<Step> make_pad_step(std::shared_ptr<Device> device, const GraphIR& g,
                                    const Node& n, const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  const Dims& shape = in_shape(g, n);
  const Dims& out_dims = out_shape(g, n);
  DataType type = g.desc(n.inputs[0]).data_type;
  const std::string& mode = n.attrs.s("mode");
  mv::PadParams p;
  p.rank = int(shape.size());
  p.mode = mode == "constant" ? 0 : mode == "edge" ? 1 : 2;
  Strides s = row_major(shape);
  const std::vector<int64_t>& begin = n.attrs.ints("beginningPadding");
  for (size_t d = 0; d < shape.size(); ++d) {
    p.out_dims[d] = out_dims[d];
    p.in_dims[d] = shape[d];
    p.in_strides[d] = s[d];
    p.begin[d] = begin[d];
  }
  visit_type(type, [&]<typename T>() {
    T v = cast_number<T>(n.attrs.f("value"));
    std::memcpy(&p.value_bits, &v, sizeof(T));
  });
  const void* in = address(places, n.inputs[0], n, "input");
  void* out = address(places, n.outputs[0], n, "output");
  int64_t total = int64_t(element_count(out_dims));
  int elem = int(element_size(type)), blocks = step->max_blocks();
  step->add([=](cudaStream_t st) {
    CPPNN_CUDA_CHECK(mv::launch_pad(in, out, p, total, elem, blocks, st));
  });
  step->describe_as(head(g, n) + "pad " + mode);
  return step;
}

std::unique_ptr<Step> make_triangular_step(std::shared_ptr<Device> device, const GraphIR& g,
                                           const Node& n, const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  const Dims& shape = in_shape(g, n);
  size_t rank = shape.size();
  int64_t h = shape[rank - 2], w = shape[rank - 1];
  int64_t total = int64_t(element_count(shape));
  bool upper = n.attrs.b("upper");
  int64_t diagonal = n.attrs.i("diagonal");
  const void* in = address(places, n.inputs[0], n, "input");
  void* out = address(places, n.outputs[0], n, "output");
  int elem = int(element_size(g.desc(n.inputs[0]).data_type)), blocks = step->max_blocks();
  step->add([=](cudaStream_t s) {
    CPPNN_CUDA_CHECK(mv::launch_triangular(in, out, total, h, w, upper, diagonal, elem, blocks, s));
  });
  step->describe_as(head(g, n) + (upper ? "upper" : "lower") + " triangle, diagonal " +
                    std::to_string(diagonal));
  return step;
}

// resample2d, as the CPU's movement_resample.cpp (graph/op_math/resample.h): the input seen
// as [outer, H, mid, W, inner], the spec's half-pixel mapping computed in double on the host.
std::vector<int64_t> nearest_indices(int64_t in_size, int64_t out_size) {
  std::vector<int64_t> idx(static_cast<size_t>(out_size));
  for (size_t o = 0; o < idx.size(); ++o)
    idx[o] = op_math::resample_nearest_index(int64_t(o), in_size, out_size);
  return idx;
}

std::vector<mv::LinearTap> linear_taps(int64_t in_size, int64_t out_size) {
  std::vector<mv::LinearTap> taps(static_cast<size_t>(out_size));
  for (size_t o = 0; o < taps.size(); ++o)
    taps[o] = op_math::resample_linear_tap(int64_t(o), in_size, out_size);
  return taps;
}

std::unique_ptr<Step> make_resample_step(std::shared_ptr<Device> device, const GraphIR& g,
                                         const Node& n, const std::vector<Placement>& places) {
  auto step = std::make_unique<MovementStep>(n, std::move(device));
  mv::ResampleGeometry geo =
      op_math::resample_split(in_shape(g, n), out_shape(g, n), n.attrs.ints("axes"));
  DataType type = g.desc(n.inputs[0]).data_type;
  const void* in = address(places, n.inputs[0], n, "input");
  void* out = address(places, n.outputs[0], n, "output");
  int blocks = step->max_blocks();
  const std::string& mode = n.attrs.s("mode");
  if (mode == "nearest-neighbor") {
    const int64_t* ys = step->upload(nearest_indices(geo.in_h, geo.out_h), "resample2d's rows");
    const int64_t* xs = step->upload(nearest_indices(geo.in_w, geo.out_w), "resample2d's columns");
    int elem = int(element_size(type));
    step->add([=](cudaStream_t s) {
      CPPNN_CUDA_CHECK(mv::launch_resample_nearest(in, out, geo, ys, xs, elem, blocks, s));
    });
  } else {
    const mv::LinearTap* ys = step->upload(linear_taps(geo.in_h, geo.out_h), "resample2d's rows");
    const mv::LinearTap* xs = step->upload(linear_taps(geo.in_w, geo.out_w), "resample2d's columns");
    mv::ElemType t = elem_type(type);
    step->add([=](cudaStream_t s) {
      CPPNN_CUDA_CHECK(mv::launch_resample_linear(in, out, t, geo, ys, xs, blocks, s));
    });
  }
  step->describe_as(head(g, n) + mode);
  return step;
}

}  // namespace

void add_movement_ops(DeviceOpTable& table) {
  for (OpId op : {OpId::reshape, OpId::transpose, OpId::slice, OpId::expand, OpId::tile,
                  OpId::reverse})
    table[op] = DeviceOp{decide_movement, make_view_step};
  table[OpId::concat] = DeviceOp{decide_movement, make_parts_step};
  table[OpId::split] = DeviceOp{decide_movement, make_parts_step};
  table[OpId::pad] = DeviceOp{decide_movement, make_pad_step};
  table[OpId::triangular] = DeviceOp{decide_movement, make_triangular_step};
  table[OpId::resample2d] = DeviceOp{decide_movement, make_resample_step};
}

}  // namespace cppnn::detail::cuda
