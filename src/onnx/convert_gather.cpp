// Converters of ONNX's Gather, GatherElements and GatherND (like the movement ops,
// convert_movement.cpp, each folds on the host when its data is known at import time), and
// of ScatterElements and ScatterND (reduction "none" only: WebNN's scatters replace).
#include <algorithm>
#include <numeric>

#include "graph/validation.h"
#include "onnx/host_ops.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

void gather(NodeContext& ctx) {
  const ValuePtr& x = ctx.input(0);
  size_t axis =
      size_t(normalize_axis(ctx, ctx.attr_int("axis", 0), x->shape.size(), "attribute 'axis'"));
  const Dims& is = ctx.shape(1);
  Dims out(x->shape.begin(), x->shape.begin() + int64_t(axis));
  out.insert(out.end(), is.begin(), is.end());
  out.insert(out.end(), x->shape.begin() + int64_t(axis) + 1, x->shape.end());
  // A dynamic-shape import folds only gathers from small tensors (shape arithmetic): a row
  // of a weight table picked by a position that depends on a symbol (GPT-2's position
  // embedding at the past length) stays a lookup whose index the graph can patch.
  bool small = ctx.may_drop_shape_op() || element_count(x->shape) <= kMaxShapeTableElements;
  if (ctx.all_inputs_constant() && ctx.foldable(out) && small) {
    ctx.set_output(0, host_gather(*x->data, *ctx.constant(1), axis), x->is_bool);
    return;
  }
  GatherOptions o;
  o.label = ctx.label();
  o.axis = uint32_t(axis);
  ctx.set_output(0, ctx.builder().gather(ctx.operand(0), ctx.operand(1), o), x->is_bool);
}

// ONNX lets indices be smaller than data in the other axes; WebNN wants them equal, and
// reading data[..., idx, ...] only ever touches the first indices-dim entries of those axes,
// so data is sliced down to them first. Out-of-range indices, an error in ONNX, are clamped
// by cppnn's kernels (as gather's).
void gather_elements(NodeContext& ctx) {
  const ValuePtr& x = ctx.input(0);
  size_t rank = x->shape.size();
  size_t axis = size_t(normalize_axis(ctx, ctx.attr_int("axis", 0), rank, "attribute 'axis'"));
  const Dims& is = ctx.shape(1);
  GraphBuilder& b = ctx.builder();
  Operand data = ctx.operand(0);
  if (is.size() == rank) {
    bool smaller = false;
    std::vector<uint32_t> starts(rank, 0);
    std::vector<int64_t> sizes;
    for (size_t d = 0; d < rank; ++d) {
      bool cut = d != axis && is[d] < x->shape[d];
      smaller = smaller || cut;
      sizes.push_back(cut ? is[d] : x->shape[d]);
    }
    if (smaller) {
      SliceOptions so;
      so.label = ctx.label() + "/data";
      data = b.slice(data, starts, to_u32(ctx, sizes, "indices' shape"), so);
    }
  }
  GatherOptions o;
  o.label = ctx.label();
  o.axis = uint32_t(axis);
  ctx.set_output(0, b.gather_elements(data, ctx.operand(1), o), x->is_bool);
}

// WebNN's gatherND has no batch axes, so ONNX's batch_dims = b > 0 is lowered onto it: data's
// b batch axes are flattened into one, and every index tuple is prefixed with the linear number
// of its batch, so one gatherND over the flattened data reads each batch's own slice. The
// indices' leading axes are the batch axes, so the result already has ONNX's shape
// batch + indices[b:-1] + data[b+k:] and needs no reshape.
void gather_nd(NodeContext& ctx) {
  const ValuePtr& x = ctx.input(0);
  const ValuePtr& indices = ctx.input(1);
  const Dims& xs = x->shape;
  const Dims& is = indices->shape;
  if (xs.empty() || is.empty())
    ctx.bad_model("data " + to_string(xs) + " and indices " + to_string(is) +
                  " must have rank 1 or more");
  int64_t b = ctx.attr_int("batch_dims", 0);
  size_t ranks = std::min(xs.size(), is.size());
  if (b < 0 || size_t(b) >= ranks)
    ctx.bad_model("attribute 'batch_dims' = " + std::to_string(b) +
                  " must be at least 0 and less than the ranks of data " + to_string(xs) +
                  " and indices " + to_string(is));
  Dims batch(xs.begin(), xs.begin() + b);
  if (!std::equal(batch.begin(), batch.end(), is.begin()))
    ctx.bad_model("the first " + std::to_string(b) + " dimensions (batch_dims) of data " +
                  to_string(xs) + " and indices " + to_string(is) + " must be equal");
  int64_t k = is.back();
  if (k < 1 || k > int64_t(xs.size()) - b)
    ctx.bad_model("the last dimension of indices " + to_string(is) +
                  " must be between 1 and the rank of data " + to_string(xs) +
                  " less batch_dims (" + std::to_string(int64_t(xs.size()) - b) + ")");
  GraphBuilder& builder = ctx.builder();
  OperatorOptions o;
  o.label = ctx.label();
  if (b == 0) {
    ctx.set_output(0, builder.gather_nd(ctx.operand(0), ctx.operand(1), o), x->is_bool);
    return;
  }
  size_t batches = element_count(batch);
  // The batch numbers below are host data: 8 bytes a batch, twice (numbers, then ids).
  ctx.check_host_bytes(byte_size(DataType::int64, batches) * 2, "the batch numbers");
  Dims flat{int64_t(batches)};
  flat.insert(flat.end(), xs.begin() + b, xs.end());
  Operand data = reshape_value(ctx, x, flat);

  // Batch numbers laid along the batch axes (1 elsewhere), then broadcast to every tuple.
  Dims ids_shape(is.size(), 1);
  std::copy(batch.begin(), batch.end(), ids_shape.begin());
  std::vector<int64_t> numbers(batches);
  std::iota(numbers.begin(), numbers.end(), int64_t(0));
  Tensor ids = host_cast(int64_tensor(ids_shape, numbers), indices->type, false);
  Dims tuples(is.begin(), is.end() - 1);
  tuples.push_back(1);
  Operand prefixed;
  if (indices->data) {
    ctx.check_host_bytes(byte_size(ids.data_type(), element_count(tuples)) * 2,
                         "the batch numbers of every index tuple");
    Tensor expanded = host_expand(ids, tuples);
    prefixed = ctx.host_constant(host_concat({&expanded, &*indices->data}, is.size() - 1));
  } else {
    Operand id_operand = ctx.host_constant(ids);
    if (ids_shape != tuples)
      id_operand = builder.expand(id_operand, to_u32(ctx, tuples, "shape"),
                                  OperatorOptions{ctx.label() + "/batch"});
    prefixed = builder.concat({id_operand, ctx.operand(1)}, uint32_t(is.size() - 1),
                              OperatorOptions{ctx.label() + "/indices"});
  }
  ctx.set_output(0, builder.gather_nd(data, prefixed, o), x->is_bool);
}

// WebNN's scatters replace; ONNX's other reductions (add, mul, max, min) have no WebNN form.
void require_no_reduction(NodeContext& ctx) {
  std::string reduction = ctx.attr_string("reduction", "none");
  if (reduction != "none")
    ctx.not_supported("attribute 'reduction' = '" + reduction +
                      "': only 'none' (WebNN's scatters replace values)");
}

// ONNX lets indices (and updates) be smaller than data in the axes other than `axis`; WebNN
// wants them equal, which is the only form taken here. Out-of-range indices, an error in
// ONNX, are clamped by cppnn's kernels (as the gathers').
void scatter_elements(NodeContext& ctx) {
  require_no_reduction(ctx);
  const ValuePtr& x = ctx.input(0);
  size_t rank = x->shape.size();
  size_t axis = size_t(normalize_axis(ctx, ctx.attr_int("axis", 0), rank, "attribute 'axis'"));
  const Dims& is = ctx.shape(1);
  if (is.size() == rank)
    for (size_t d = 0; d < rank; ++d)
      if (d != axis && is[d] != x->shape[d])
        ctx.not_supported("indices of shape " + to_string(is) + " smaller than data " +
                          to_string(x->shape) + " in dimension " + std::to_string(d) +
                          " (not the axis): WebNN's scatterElements takes them equal");
  ScatterOptions o;
  o.label = ctx.label();
  o.axis = uint32_t(axis);
  ctx.set_output(0, ctx.builder().scatter_elements(ctx.operand(0), ctx.operand(1), ctx.operand(2), o),
                 x->is_bool);
}

void scatter_nd(NodeContext& ctx) {
  require_no_reduction(ctx);
  const ValuePtr& x = ctx.input(0);
  ctx.set_output(0, ctx.builder().scatter_nd(ctx.operand(0), ctx.operand(1), ctx.operand(2),
                                             ctx.options()),
                 x->is_bool);
}

}  // namespace

void register_gather_converters(ConverterTable& t) {
  t["Gather"] = gather;
  t["GatherElements"] = gather_elements;
  t["GatherND"] = gather_nd;
  t["ScatterElements"] = scatter_elements;
  t["ScatterND"] = scatter_nd;
}

}  // namespace cppnn::onnx_import
