// Exporters of the gathers: gather, gatherElements and gatherND, and the scatters
// scatterElements and scatterND. WebNN's ops (as cppnn runs them) count a negative index from
// the end and clamp what is still out of range, where ONNX's ops fail: the indices are clamped
// first, on the host when they are constant.
#include <algorithm>

#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

using Ints = std::vector<int64_t>;

// A constant index clamped to [lo, hi] (a dimension's range, well inside int64). Clamped as
// a double: an int64 index near 2^63 reads as 2^63, which no int64 holds.
int64_t clamped_index(double x, int64_t lo, int64_t hi) {
  return int64_t(std::clamp(x, double(lo), double(hi)));
}

// Indices of `gather` / `gatherElements` clamped to [-dim, dim - 1]: WebNN's gathers count a
// negative index from the end and clamp what is still out of range, where ONNX's ops fail.
// On the host when the indices are constant, else with a Clip (uint32 cast to int64 first).
std::string clamped_indices(NodeContext& ctx, int64_t dim) {
  DataType type = ctx.input_desc(1).data_type;
  if (const Tensor* c = ctx.constant(1)) {
    Ints clamped;
    for (double x : c->to_doubles()) clamped.push_back(clamped_index(x, -dim, dim - 1));
    return ctx.writer().initializer(Tensor::from(DataType::int64, c->shape(), clamped), "indices");
  }
  std::string indices = ctx.input(1);
  if (type == DataType::uint32) {
    indices = ctx.cast(indices, kInt64);
    type = DataType::int64;
  }
  // Dimensions are at most 2^31 - 1 (WebNN's valid dimension), so -dim fits an int32.
  GraphWriter& w = ctx.writer();
  return ctx.emit_value("Clip", {indices, w.scalar(type, double(-dim)), w.scalar(type, double(dim - 1))},
                        elem_type(type));
}

void gather(NodeContext& ctx) {
  int64_t axis = ctx.attrs().i("axis");
  std::string indices = clamped_indices(ctx, ctx.input_desc(0).shape[size_t(axis)]);
  set_attr(ctx.emit("Gather", {ctx.input(0), indices}, {ctx.output(0)}), "axis", axis);
}

void gather_elements(NodeContext& ctx) {
  int64_t axis = ctx.attrs().i("axis");
  std::string indices = clamped_indices(ctx, ctx.input_desc(0).shape[size_t(axis)]);
  set_attr(ctx.emit("GatherElements", {ctx.input(0), indices}, {ctx.output(0)}), "axis", axis);
}

// ONNX's GatherND and ScatterND take int64 indices only and fail out of range: coordinate d
// is clamped to [-dim_d, dim_d - 1] (Max / Min against per-coordinate bounds broadcast along
// the last axis), as cppnn's kernels clamp.
std::string clamped_coordinates(NodeContext& ctx) {
  const Dims& shape = ctx.input_desc(0).shape;
  const Dims& ishape = ctx.input_desc(1).shape;
  size_t coords = size_t(ishape.back());
  Ints lo, hi;
  for (size_t d = 0; d < coords; ++d) {
    lo.push_back(-shape[d]);
    hi.push_back(shape[d] - 1);
  }
  if (const Tensor* c = ctx.constant(1)) {
    std::vector<double> v = c->to_doubles();
    Ints clamped;
    for (size_t i = 0; i < v.size(); ++i)
      clamped.push_back(clamped_index(v[i], lo[i % coords], hi[i % coords]));
    return ctx.writer().initializer(Tensor::from(DataType::int64, c->shape(), clamped), "indices");
  }
  std::string indices = ctx.input(1);
  if (ctx.input_desc(1).data_type != DataType::int64) indices = ctx.cast(indices, kInt64);
  if (coords == 0) return indices;
  GraphWriter& w = ctx.writer();
  indices = ctx.emit_value("Max", {indices, w.int64s(lo, "lo")}, kInt64);
  return ctx.emit_value("Min", {indices, w.int64s(hi, "hi")}, kInt64);
}

void gather_nd(NodeContext& ctx) {
  ctx.emit("GatherND", {ctx.input(0), clamped_coordinates(ctx)}, {ctx.output(0)});
}

// ONNX leaves repeated indices without a reduction undefined; ONNX Runtime, as cppnn's
// kernels, writes them in order (the last one wins).
void scatter_elements(NodeContext& ctx) {
  int64_t axis = ctx.attrs().i("axis");
  std::string indices = clamped_indices(ctx, ctx.input_desc(0).shape[size_t(axis)]);
  set_attr(ctx.emit("ScatterElements", {ctx.input(0), indices, ctx.input(2)}, {ctx.output(0)}),
           "axis", axis);
}

void scatter_nd(NodeContext& ctx) {
  ctx.emit("ScatterND", {ctx.input(0), clamped_coordinates(ctx), ctx.input(2)}, {ctx.output(0)});
}

}  // namespace

void register_gather_exporters(ConverterTable& t) {
  using detail::OpId;
  t[OpId::gather] = gather;
  t[OpId::gatherElements] = gather_elements;
  t[OpId::gatherND] = gather_nd;
  t[OpId::scatterElements] = scatter_elements;
  t[OpId::scatterND] = scatter_nd;
}

}  // namespace cppnn::onnx_export
