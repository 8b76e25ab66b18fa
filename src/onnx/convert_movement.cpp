// Converters of ONNX's data-movement ops: Reshape (and Flatten, Squeeze, Unsqueeze, which
// are reshapes), Transpose, Concat, Split, Slice, Expand, Tile, Pad, Trilu and Resize. Shapes
// are static once symbolic dims are resolved, and the ops that move data fold on the host
// when it is known at import time: PyTorch's shape arithmetic never reaches the graph (with
// the ONNX-only Shape, Size, Range... of convert_onnx_only.cpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <set>

#include "core/checked.h"
#include "graph/validation.h"
#include "onnx/host_ops.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {
using detail::checked_add;
using detail::checked_mul;
// Dimensions of host values are any int64 >= 0 when another dimension is 0, and sizes, steps
// and counts come from the file: arithmetic past int64 on them is a malformed model.
constexpr ErrorKind kMalformed = ErrorKind::DataError;
}  // namespace

Operand reshape_value(NodeContext& ctx, const ValuePtr& value, const Dims& dims) {
  if (value->data) return shared_constant(ctx.builder(), value->data->reshaped(dims));
  if (value->shape == dims) return ctx.operand_of(value);
  return ctx.builder().reshape(ctx.operand_of(value), to_u32(ctx, dims, "shape"), ctx.options());
}

namespace {

// Output 0 is input 0 with another shape of the same size.
void set_reshaped(NodeContext& ctx, const Dims& dims) {
  const ValuePtr& x = ctx.input(0);
  if (element_count(dims) != element_count(x->shape))
    ctx.bad_model("cannot reshape " + to_string(x->shape) + " to " + to_string(dims));
  if (x->data)
    ctx.set_output(0, x->data->reshaped(dims), x->is_bool);
  else if (dims == x->shape && ctx.may_drop_shape_op())
    ctx.alias_output(0, x);
  else
    ctx.set_output(0,
                   ctx.builder().reshape(ctx.operand(0), to_u32(ctx, dims, "shape"), ctx.options()),
                   x->is_bool);
}

// Axes from the attribute (before opset 13/18) or from a constant input.
std::optional<std::vector<int64_t>> axes_of(const NodeContext& ctx, size_t input) {
  if (auto a = ctx.attr_ints("axes")) return a;
  if (ctx.has_input(input)) return int64_values(ctx.require_constant(input, "axes"));
  return std::nullopt;
}

void reshape(NodeContext& ctx) {
  std::vector<int64_t> target = ctx.opset() < 5 && ctx.has_attr("shape")
                                    ? *ctx.attr_ints("shape")
                                    : int64_values(ctx.require_constant(1, "Reshape's shape"));
  bool allow_zero = ctx.attr_int("allowzero", 0) != 0;
  const Dims& in = ctx.shape(0);
  Dims dims;
  int64_t infer_at = -1, known = 1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0 && !allow_zero) {
      if (i >= in.size())
        ctx.bad_model("shape value 0 at index " + std::to_string(i) +
                      " copies a dimension the input " + to_string(in) + " does not have");
      d = in[i];
    } else if (d == -1) {
      if (infer_at >= 0) ctx.bad_model("shape " + to_string(target) + " has more than one -1");
      infer_at = int64_t(i);
      d = 1;
    } else if (d < 0) {
      ctx.bad_model("shape " + to_string(target) + " has an invalid value " + std::to_string(d));
    }
    dims.push_back(d);
    known = checked_mul(known, d, "the shape's element count", kMalformed);
  }
  // The element count of an input that exists: far below 2^63.
  int64_t total = int64_t(element_count(in));
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0)
      ctx.bad_model("cannot infer the -1 in shape " + to_string(target) + " for input " +
                    to_string(in));
    dims[size_t(infer_at)] = total / known;
  }
  set_reshaped(ctx, dims);
}

void flatten(NodeContext& ctx) {
  const Dims& s = ctx.shape(0);
  int64_t rank = int64_t(s.size());
  int64_t axis = ctx.attr_int("axis", 1);
  if (axis < -rank || axis > rank)
    ctx.bad_model("attribute 'axis' " + std::to_string(axis) + " is out of range for rank " +
                  std::to_string(rank));
  if (axis < 0) axis += rank;
  int64_t outer = detail::checked_product(s, "the flattened size", kMalformed, 0, size_t(axis));
  int64_t inner = detail::checked_product(s, "the flattened size", kMalformed, size_t(axis));
  set_reshaped(ctx, {outer, inner});
}

void squeeze(NodeContext& ctx) {
  const Dims& s = ctx.shape(0);
  std::vector<bool> drop(s.size(), false);
  if (auto axes = axes_of(ctx, 1)) {
    for (int64_t a : *axes) {
      size_t d = size_t(normalize_axis(ctx, a, s.size(), "axis"));
      if (s[d] != 1)
        ctx.bad_model("cannot squeeze axis " + std::to_string(a) + " of size " +
                      std::to_string(s[d]));
      drop[d] = true;
    }
  } else {
    for (size_t d = 0; d < s.size(); ++d) drop[d] = s[d] == 1;
  }
  Dims dims;
  for (size_t d = 0; d < s.size(); ++d)
    if (!drop[d]) dims.push_back(s[d]);
  set_reshaped(ctx, dims);
}

void unsqueeze(NodeContext& ctx) {
  const Dims& s = ctx.shape(0);
  auto axes = axes_of(ctx, 1);
  if (!axes) ctx.bad_model("Unsqueeze needs axes");
  size_t out_rank = s.size() + axes->size();
  std::vector<bool> added(out_rank, false);
  for (int64_t a : *axes) {
    size_t d = size_t(normalize_axis(ctx, a, out_rank, "axis"));
    if (added[d]) ctx.bad_model("axis " + std::to_string(a) + " is repeated");
    added[d] = true;
  }
  Dims dims;
  size_t next = 0;
  for (size_t d = 0; d < out_rank; ++d) dims.push_back(added[d] ? 1 : s[next++]);
  set_reshaped(ctx, dims);
}

void transpose(NodeContext& ctx) {
  size_t rank = ctx.rank(0);
  std::vector<int64_t> perm(rank);
  std::iota(perm.rbegin(), perm.rend(), 0);
  if (auto p = ctx.attr_ints("perm")) perm = *p;
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(rank);
  std::iota(iota.begin(), iota.end(), 0);
  if (sorted != iota)
    ctx.bad_model("attribute 'perm' " + to_string(perm) + " is not a permutation");
  const ValuePtr& x = ctx.input(0);
  if (x->data && ctx.foldable(x->shape)) {
    ctx.set_output(0, host_transpose(*x->data, perm), x->is_bool);
  } else if (perm == iota) {
    ctx.alias_output(0, x);
  } else {
    TransposeOptions o;
    o.label = ctx.label();
    o.permutation = to_u32(ctx, perm, "perm");
    ctx.set_output(0, ctx.builder().transpose(ctx.operand(0), o), x->is_bool);
  }
}

void concat(NodeContext& ctx) {
  if (!ctx.has_attr("axis")) ctx.bad_model("attribute 'axis' is required");
  size_t rank = ctx.rank(0);
  size_t axis = size_t(normalize_axis(ctx, ctx.attr_int("axis", 0), rank, "attribute 'axis'"));
  Dims out = ctx.shape(0);
  out[axis] = 0;
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    const Dims& s = ctx.shape(i);
    bool fits = s.size() == rank && ctx.type(i) == ctx.type(0);
    for (size_t d = 0; fits && d < rank; ++d) fits = d == axis || s[d] == out[d];
    if (!fits)
      ctx.bad_model("input " + std::to_string(i) + " " + to_string(s) +
                    " does not match the others' shape or type on the axes other than " +
                    std::to_string(axis));
    out[axis] = checked_add(out[axis], s[axis], "the concatenated size", kMalformed);
  }
  bool is_bool = ctx.input(0)->is_bool;
  if (ctx.all_inputs_constant() && ctx.foldable(out)) {
    std::vector<const Tensor*> parts;
    for (size_t i = 0; i < ctx.input_count(); ++i) parts.push_back(ctx.constant(i));
    ctx.set_output(0, host_concat(parts, axis), is_bool);
    return;
  }
  // Empty pieces (an exporter's "no extra dims") contribute nothing and WebNN has no
  // zero-size operands.
  std::vector<Operand> parts;
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    if (element_count(ctx.shape(i)) == 0) continue;
    if (ctx.shape(i) == out) {
      ctx.alias_output(0, ctx.input(i));
      return;
    }
    parts.push_back(ctx.operand(i));
  }
  ctx.set_output(0, ctx.builder().concat(parts, uint32_t(axis), ctx.options()), is_bool);
}

void split(NodeContext& ctx) {
  const ValuePtr& x = ctx.input(0);
  size_t axis =
      size_t(normalize_axis(ctx, ctx.attr_int("axis", 0), x->shape.size(), "attribute 'axis'"));
  int64_t dim = x->shape[axis];
  int64_t n = int64_t(ctx.output_count());
  std::vector<int64_t> sizes;
  if (ctx.has_input(1)) {
    sizes = int64_values(ctx.require_constant(1, "Split's sizes"));
  } else if (auto s = ctx.attr_ints("split")) {
    sizes = *s;
  } else {
    if (ctx.has_attr("num_outputs")) n = ctx.attr_int("num_outputs", n);
    if (n < 1) ctx.bad_model("Split needs at least one output");
    // Before the loop below, which would otherwise run num_outputs times.
    if (n != int64_t(ctx.output_count()))
      ctx.bad_model("attribute 'num_outputs' " + std::to_string(n) + " for " +
                    std::to_string(ctx.output_count()) + " outputs");
    // Opset 18's uneven split: equal chunks of ceil(dim / n), the last one smaller.
    int64_t chunk = detail::ceil_div(dim, n);
    if (dim % n != 0 && ctx.opset() < 18)
      ctx.bad_model("dimension " + std::to_string(dim) + " does not split into " +
                    std::to_string(n) + " equal parts");
    for (int64_t i = 0; i < n; ++i)
      sizes.push_back(std::min(chunk, dim - checked_mul(i, chunk, "a split start", kMalformed)));
  }
  if (int64_t(sizes.size()) != int64_t(ctx.output_count()))
    ctx.bad_model(std::to_string(sizes.size()) + " split sizes for " +
                  std::to_string(ctx.output_count()) + " outputs");
  int64_t sum = 0;
  for (int64_t s : sizes) {
    if (s < 0) ctx.bad_model("split sizes " + to_string(sizes) + " has a negative size");
    sum = checked_add(sum, s, "the sum of split sizes", kMalformed);
  }
  if (sum != dim)
    ctx.bad_model("split sizes " + to_string(sizes) + " do not add up to dimension " +
                  std::to_string(dim));
  if (x->data && ctx.foldable(x->shape)) {
    std::vector<int64_t> starts(x->shape.size(), 0), steps(x->shape.size(), 1);
    for (size_t i = 0; i < sizes.size(); ++i) {
      Dims piece = x->shape;
      piece[axis] = sizes[i];
      ctx.set_output(i, host_slice(*x->data, starts, steps, piece), x->is_bool);
      starts[axis] += sizes[i];
    }
    return;
  }
  SplitOptions o;
  o.label = ctx.label();
  o.axis = uint32_t(axis);
  std::vector<Operand> parts = ctx.builder().split(ctx.operand(0), to_u32(ctx, sizes, "split"), o);
  for (size_t i = 0; i < parts.size(); ++i) ctx.set_output(i, parts[i], x->is_bool);
}

// ONNX Slice's clamping of start and end, per axis, to [first, count, step] of the input.
struct AxisSlice {
  int64_t start = 0, count = 0, step = 1;
};

AxisSlice clamp_slice(int64_t start, int64_t end, int64_t step, int64_t dim) {
  AxisSlice s;
  s.step = step;
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    s.count = end > start ? (end - start - 1) / step + 1 : 0;
  } else if (dim == 0) {
    start = 0;  // nothing to walk back over (and clamping to [0, -1] is undefined)
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    int64_t back =
        step == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -step;
    s.count = start > end ? (start - end - 1) / back + 1 : 0;
  }
  s.start = start;
  return s;
}

void slice(NodeContext& ctx) {
  const ValuePtr& x = ctx.input(0);
  size_t rank = x->shape.size();
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.attr_ints("starts").value_or(std::vector<int64_t>{});
    ends = ctx.attr_ints("ends").value_or(std::vector<int64_t>{});
    axes = ctx.attr_ints("axes").value_or(std::vector<int64_t>{});
  } else {
    starts = int64_values(ctx.require_constant(1, "Slice's starts"));
    ends = int64_values(ctx.require_constant(2, "Slice's ends"));
    if (ctx.has_input(3)) axes = int64_values(ctx.require_constant(3, "Slice's axes"));
    if (ctx.has_input(4)) steps = int64_values(ctx.require_constant(4, "Slice's steps"));
  }
  if (axes.empty()) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    ctx.bad_model("starts, ends, axes and steps have different lengths");

  std::vector<AxisSlice> per_axis(rank);
  for (size_t d = 0; d < rank; ++d) per_axis[d] = {0, x->shape[d], 1};
  std::set<int64_t> seen;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = normalize_axis(ctx, axes[i], rank, "axis");
    if (!seen.insert(a).second) ctx.bad_model("axis " + std::to_string(axes[i]) + " repeats");
    if (steps[i] == 0) ctx.bad_model("a step is 0");
    per_axis[size_t(a)] = clamp_slice(starts[i], ends[i], steps[i], x->shape[size_t(a)]);
  }
  Dims out;
  std::vector<int64_t> first, stride;
  for (const AxisSlice& s : per_axis) {
    out.push_back(s.count);
    first.push_back(s.start);
    stride.push_back(s.step);
  }
  if (x->data && ctx.foldable(out)) {
    ctx.set_output(0, host_slice(*x->data, first, stride, out), x->is_bool);
    return;
  }
  if (element_count(out) == 0)
    ctx.not_supported("the result " + to_string(out) + " is empty; WebNN has no empty tensors");
  if (out == x->shape && ctx.may_drop_shape_op() &&
      std::all_of(stride.begin(), stride.end(), [](int64_t s) { return s == 1; })) {
    ctx.alias_output(0, x);
    return;
  }
  // A negative step walks a reversed axis forward.
  GraphBuilder& b = ctx.builder();
  Operand y = ctx.operand(0);
  std::vector<int64_t> reversed;
  for (size_t d = 0; d < rank; ++d)
    if (stride[d] < 0) {
      reversed.push_back(int64_t(d));
      first[d] = x->shape[d] - 1 - first[d];
      // One element needs no step; a longer walk has |step| < the dimension, so -step exists.
      stride[d] = out[d] == 1 ? 1 : -stride[d];
    }
  if (!reversed.empty()) {
    ReverseOptions r;
    r.label = ctx.label();
    r.axes = to_u32(ctx, reversed, "axis");
    y = b.reverse(y, r);
  }
  // clamp_slice's counts keep (count - 1) * |step| below the dimension: no overflow.
  std::vector<int64_t> spans;
  for (size_t d = 0; d < rank; ++d) spans.push_back((out[d] - 1) * stride[d] + 1);
  SliceOptions o;
  o.label = ctx.label();
  if (std::any_of(stride.begin(), stride.end(), [](int64_t s) { return s != 1; }))
    o.strides = to_u32(ctx, stride, "steps");
  ctx.set_output(0, b.slice(y, to_u32(ctx, first, "starts"), to_u32(ctx, spans, "sizes"), o),
                 x->is_bool);
}

void expand(NodeContext& ctx) {
  const ValuePtr& x = ctx.input(0);
  std::vector<int64_t> target = int64_values(ctx.require_constant(1, "Expand's shape"));
  for (int64_t d : target)
    if (d < 0) ctx.bad_model("shape " + to_string(target) + " has a negative dimension");
  // ONNX's Expand broadcasts both ways: a 1 in the target keeps the input's size.
  Dims out = detail::broadcast_shapes(x->shape, target);
  if (x->data && ctx.foldable(out))
    ctx.set_output(0, host_expand(*x->data, out), x->is_bool);
  else if (out == x->shape && ctx.may_drop_shape_op())
    ctx.alias_output(0, x);
  else
    ctx.set_output(0,
                   ctx.builder().expand(ctx.operand(0), to_u32(ctx, out, "shape"), ctx.options()),
                   x->is_bool);
}

void tile(NodeContext& ctx) {
  std::vector<int64_t> repeats = int64_values(ctx.require_constant(1, "Tile's repeats"));
  ctx.set_output(0,
                 ctx.builder().tile(ctx.operand(0), to_u32(ctx, repeats, "repeats"), ctx.options()),
                 ctx.input(0)->is_bool);
}

void pad(NodeContext& ctx) {
  const ValuePtr& x = ctx.input(0);
  size_t rank = x->shape.size();
  PadOptions o;
  o.label = ctx.label();
  std::string mode = ctx.attr_string("mode", "constant");
  if (mode == "constant")
    o.mode = PaddingMode::constant;
  else if (mode == "edge")
    o.mode = PaddingMode::edge;
  else if (mode == "reflect")
    o.mode = PaddingMode::reflection;
  else
    ctx.not_supported("attribute 'mode' value '" + mode + "' is not supported");
  std::vector<int64_t> pads;
  if (ctx.opset() < 11) {
    pads = ctx.attr_ints("pads").value_or(std::vector<int64_t>{});
    o.value = ctx.attr_float("value", 0);
  } else {
    pads = int64_values(ctx.require_constant(1, "Pad's pads"));
    if (const Tensor* v =
            ctx.has_input(2) ? &ctx.require_constant(2, "Pad's constant_value") : nullptr) {
      if (v->element_count() != 1) ctx.bad_model("constant_value must hold one value");
      o.value = v->to_doubles()[0];
    }
  }
  std::vector<int64_t> axes(rank);
  std::iota(axes.begin(), axes.end(), 0);
  if (ctx.has_input(3)) axes = int64_values(ctx.require_constant(3, "Pad's axes"));
  if (pads.size() != 2 * axes.size())
    ctx.bad_model("pads has " + std::to_string(pads.size()) + " values for " +
                  std::to_string(axes.size()) + " axes");
  std::vector<int64_t> begin(rank, 0), end(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    size_t a = size_t(normalize_axis(ctx, axes[i], rank, "axis"));
    begin[a] = pads[i];
    end[a] = pads[axes.size() + i];
  }
  if (std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; })) {
    ctx.alias_output(0, x);
    return;
  }
  ctx.set_output(
      0, ctx.builder().pad(ctx.operand(0), to_u32(ctx, begin, "pads"), to_u32(ctx, end, "pads"), o),
      x->is_bool);
}

// WebNN's resample2d maps output coordinates with half_pixel and scale = output / input
// size, rounding nearest-neighbor halves down. Resize converts when ONNX's mapping is that
// one: half_pixel (pytorch_half_pixel when no resized size is 1), round_prefer_floor, a
// scales input giving whole sizes, at most two resized axes of a 4-D input. asymmetric with
// floor is accepted for whole upsampling factors, where it picks the same elements.
void resize(NodeContext& ctx) {
  size_t rank = ctx.rank(0);
  if (rank != 4)
    ctx.not_supported("only 4-D Resize is supported, the input has rank " + std::to_string(rank));
  std::string mode = ctx.attr_string("mode", "nearest");
  if (mode != "nearest" && mode != "linear")
    ctx.not_supported("attribute 'mode' value '" + mode + "' is not supported");
  if (ctx.attr_int("antialias", 0) != 0)
    ctx.not_supported("attribute 'antialias' is not supported");
  if (ctx.attr_string("keep_aspect_ratio_policy", "stretch") != "stretch")
    ctx.not_supported("attribute 'keep_aspect_ratio_policy' is not supported");
  const Dims& in = ctx.shape(0);
  // Output sizes are compared with (and divided by) the input's below.
  if (element_count(in) == 0)
    ctx.not_supported("the input " + to_string(in) + " is empty; WebNN has no empty tensors");
  std::vector<int64_t> axes(rank);
  std::iota(axes.begin(), axes.end(), 0);
  if (auto a = ctx.attr_ints("axes")) {
    axes = *a;
    for (int64_t& x : axes) x = normalize_axis(ctx, x, rank, "axis");
  }
  size_t scales_input = ctx.opset() < 11 ? 1 : 2;
  Dims out = in;
  if (ctx.opset() >= 11 && ctx.has_input(3) && element_count(ctx.shape(3)) > 0) {
    std::vector<int64_t> sizes = int64_values(ctx.require_constant(3, "Resize's sizes"));
    if (sizes.size() != axes.size())
      ctx.bad_model("sizes has " + std::to_string(sizes.size()) + " values for " +
                    std::to_string(axes.size()) + " axes");
    for (size_t i = 0; i < axes.size(); ++i) out[size_t(axes[i])] = sizes[i];
  } else if (ctx.has_input(scales_input)) {
    std::vector<double> scales = ctx.require_constant(scales_input, "Resize's scales").to_doubles();
    if (scales.size() != axes.size())
      ctx.bad_model("scales has " + std::to_string(scales.size()) + " values for " +
                    std::to_string(axes.size()) + " axes");
    for (size_t i = 0; i < axes.size(); ++i) {
      size_t d = size_t(axes[i]);
      // A scale from the file may be NaN, infinite or huge: no int64 output size.
      out[d] = detail::checked_to_int64(
          std::floor(double(in[d]) * scales[i]),
          "the output size of scale " + std::to_string(scales[i]) + " on axis " + std::to_string(d),
          kMalformed);
      // ONNX maps coordinates with the given scale, WebNN with output / input.
      if (float(double(out[d]) / double(in[d])) != float(scales[i]))
        ctx.not_supported("scale " + std::to_string(scales[i]) + " of axis " + std::to_string(d) +
                          " does not give a whole size");
    }
  } else {
    ctx.bad_model("Resize needs scales or sizes");
  }
  std::vector<uint32_t> resized;
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] < 1)
      ctx.bad_model("output size " + std::to_string(out[d]) + " of axis " + std::to_string(d) +
                    " is empty");
    if (out[d] != in[d]) resized.push_back(uint32_t(d));
  }
  if (resized.empty()) {
    ctx.alias_output(0, ctx.input(0));
    return;
  }
  if (resized.size() > 2)
    ctx.not_supported("Resize changes " + std::to_string(resized.size()) +
                      " axes; WebNN's resample2d changes at most 2");
  // Resize-10 had Upsample's mapping: asymmetric, rounding down.
  bool v10 = ctx.opset() < 11;
  std::string ctm =
      ctx.attr_string("coordinate_transformation_mode", v10 ? "asymmetric" : "half_pixel");
  std::string nearest_mode = ctx.attr_string("nearest_mode", v10 ? "floor" : "round_prefer_floor");
  bool whole_upsampling = true, no_size_one = true;
  for (uint32_t d : resized) {
    whole_upsampling = whole_upsampling && out[d] > in[d] && out[d] % in[d] == 0;
    no_size_one = no_size_one && out[d] > 1;
  }
  bool half_pixel = ctm == "half_pixel" || (ctm == "pytorch_half_pixel" && no_size_one);
  bool matches = mode == "linear"
                     ? half_pixel
                     : (half_pixel && nearest_mode == "round_prefer_floor") ||
                           (ctm == "asymmetric" && nearest_mode == "floor" && whole_upsampling);
  if (!matches)
    ctx.not_supported(
        "coordinate_transformation_mode '" + ctm + "'" +
        (mode == "nearest" ? " with nearest_mode '" + nearest_mode + "'" : std::string()) +
        " does not match WebNN's half-pixel mapping");
  // A second axis that keeps its size samples each element at itself.
  if (resized.size() == 1)
    resized.insert(resized[0] == 3 ? resized.begin() : resized.end(),
                   resized[0] == 3 ? 2 : resized[0] + 1);
  Resample2dOptions o;
  o.label = ctx.label();
  o.mode = mode == "linear" ? InterpolationMode::linear : InterpolationMode::nearest_neighbor;
  o.axes = resized;
  o.sizes = to_u32(ctx, {out[resized[0]], out[resized[1]]}, "sizes");
  ctx.set_output(0, ctx.builder().resample2d(ctx.operand(0), o));
}

void trilu(NodeContext& ctx) {
  TriangularOptions o;
  o.label = ctx.label();
  o.upper = ctx.attr_int("upper", 1) != 0;
  if (ctx.has_input(1)) {
    std::vector<int64_t> k = int64_values(ctx.require_constant(1, "Trilu's k"));
    if (k.size() != 1) ctx.bad_model("k must hold one value");
    if (k[0] < INT32_MIN || k[0] > INT32_MAX) ctx.not_supported("k is out of the int32 range");
    o.diagonal = int32_t(k[0]);
  }
  ctx.set_output(0, ctx.builder().triangular(ctx.operand(0), o), ctx.input(0)->is_bool);
}

}  // namespace

void register_movement_converters(ConverterTable& t) {
  t["Reshape"] = reshape;
  t["Flatten"] = flatten;
  t["Squeeze"] = squeeze;
  t["Unsqueeze"] = unsqueeze;
  t["Transpose"] = transpose;
  t["Concat"] = concat;
  t["Split"] = split;
  t["Slice"] = slice;
  t["Expand"] = expand;
  t["Tile"] = tile;
  t["Pad"] = pad;
  t["Trilu"] = trilu;
  t["Resize"] = resize;
}

}  // namespace cppnn::onnx_import
