// Exporters of WebNN's shape and data-movement ops. WebNN keeps shapes, sizes and axes as
// attributes; ONNX takes most of them as int64 inputs, written here as initializers.
#include <algorithm>
#include <limits>
#include <numeric>

#include "core/checked.h"
#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

using Ints = std::vector<int64_t>;

void reshape(NodeContext& ctx) {
  ctx.emit("Reshape", {ctx.input(0), ctx.writer().int64s(ctx.attrs().ints("newShape"), "shape")},
           {ctx.output(0)});
}

void transpose(NodeContext& ctx) {
  set_attr(ctx.emit("Transpose", {ctx.input(0)}, {ctx.output(0)}), "perm",
           ctx.attrs().ints("permutation"));
}

void concat(NodeContext& ctx) {
  std::vector<std::string> inputs;
  for (size_t i = 0; i < ctx.node().inputs.size(); ++i) inputs.push_back(ctx.input(i));
  set_attr(ctx.emit("Concat", inputs, {ctx.output(0)}), "axis", ctx.attrs().i("axis"));
}

void split(NodeContext& ctx) {
  std::vector<std::string> outputs;
  for (size_t i = 0; i < ctx.output_count(); ++i) outputs.push_back(ctx.output(i));
  auto& n = ctx.emit(
      "Split", {ctx.input(0), ctx.writer().int64s(ctx.attrs().ints("splits"), "split")}, outputs);
  set_attr(n, "axis", ctx.attrs().i("axis"));
}

void slice(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  const Ints& starts = a.ints("starts");
  const Ints& sizes = a.ints("sizes");
  Ints ends(starts.size()), axes(starts.size());
  // The op table bounds the end by the dimension; the exporter does not rely on it.
  for (size_t d = 0; d < starts.size(); ++d)
    ends[d] =
        detail::checked_add(starts[d], sizes[d], "export: the slice's end", ErrorKind::DataError);
  std::iota(axes.begin(), axes.end(), 0);
  GraphWriter& w = ctx.writer();
  ctx.emit("Slice",
           {ctx.input(0), w.int64s(starts, "starts"), w.int64s(ends, "ends"),
            w.int64s(axes, "axes"), w.int64s(a.ints("strides"), "steps")},
           {ctx.output(0)});
}

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

// ONNX's GatherND takes int64 indices only and fails out of range: coordinate d is clamped
// to [-dim_d, dim_d - 1] (Max / Min against per-coordinate bounds broadcast along the last
// axis), as cppnn's kernels clamp.
void gather_nd(NodeContext& ctx) {
  const Dims& shape = ctx.input_desc(0).shape;
  const Dims& ishape = ctx.input_desc(1).shape;
  size_t coords = size_t(ishape.back());
  Ints lo, hi;
  for (size_t d = 0; d < coords; ++d) {
    lo.push_back(-shape[d]);
    hi.push_back(shape[d] - 1);
  }
  std::string indices;
  if (const Tensor* c = ctx.constant(1)) {
    std::vector<double> v = c->to_doubles();
    Ints clamped;
    for (size_t i = 0; i < v.size(); ++i)
      clamped.push_back(clamped_index(v[i], lo[i % coords], hi[i % coords]));
    indices =
        ctx.writer().initializer(Tensor::from(DataType::int64, c->shape(), clamped), "indices");
  } else {
    indices = ctx.input(1);
    if (ctx.input_desc(1).data_type != DataType::int64) indices = ctx.cast(indices, kInt64);
    GraphWriter& w = ctx.writer();
    indices = ctx.emit_value("Max", {indices, w.int64s(lo, "lo")}, kInt64);
    indices = ctx.emit_value("Min", {indices, w.int64s(hi, "hi")}, kInt64);
  }
  ctx.emit("GatherND", {ctx.input(0), indices}, {ctx.output(0)});
}

void expand(NodeContext& ctx) {
  ctx.emit("Expand", {ctx.input(0), ctx.writer().int64s(ctx.attrs().ints("newShape"), "shape")},
           {ctx.output(0)});
}

void pad(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  Ints pads = a.ints("beginningPadding");
  const Ints& end = a.ints("endingPadding");
  pads.insert(pads.end(), end.begin(), end.end());
  const std::string& mode = a.s("mode");
  std::vector<std::string> inputs{ctx.input(0), ctx.writer().int64s(pads, "pads")};
  if (mode == "constant")
    inputs.push_back(ctx.writer().scalar(ctx.input_desc(0).data_type, a.f("value")));
  auto& n = ctx.emit("Pad", inputs, {ctx.output(0)});
  set_attr(n, "mode", mode == "reflection" ? std::string("reflect") : mode);
}

void tile(NodeContext& ctx) {
  ctx.emit("Tile", {ctx.input(0), ctx.writer().int64s(ctx.attrs().ints("repetitions"), "repeats")},
           {ctx.output(0)});
}

// A step of -1 from the last element through the first, on each reversed axis.
void reverse(NodeContext& ctx) {
  const Ints& axes = ctx.attrs().ints("axes");
  if (axes.empty()) {
    ctx.emit("Identity", {ctx.input(0)}, {ctx.output(0)});
    return;
  }
  GraphWriter& w = ctx.writer();
  size_t n = axes.size();
  ctx.emit("Slice",
           {ctx.input(0), w.int64s(Ints(n, -1), "starts"),
            w.int64s(Ints(n, std::numeric_limits<int64_t>::min()), "ends"), w.int64s(axes, "axes"),
            w.int64s(Ints(n, -1), "steps")},
           {ctx.output(0)});
}

void triangular(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  auto& n = ctx.emit("Trilu", {ctx.input(0), ctx.writer().int64_scalar(a.i("diagonal"), "k")},
                     {ctx.output(0)});
  set_attr(n, "upper", a.i("upper"));
}

// WebNN maps output coordinates with scale = outputSize / inputSize and
// (o + 0.5) / scale - 0.5, clamped: ONNX's half_pixel with the sizes input (whose scale is
// that ratio; the scales input would use the requested factor). Its nearest-neighbor
// ceil(c - 0.5) rounds halves down: round_prefer_floor. Integer linear resampling rounds to
// nearest in WebNN and is left open by ONNX, so it runs in float32 and rounds explicitly.
void resample2d(NodeContext& ctx) {
  const detail::Attrs& a = ctx.attrs();
  bool linear = a.s("mode") == "linear";
  DataType type = ctx.input_desc(0).data_type;
  bool integer_linear = linear && !is_float(type);
  std::string x = ctx.input(0);
  if (integer_linear) x = ctx.cast(x, onnx::TensorProto::FLOAT);
  std::string out = integer_linear ? ctx.temp(onnx::TensorProto::FLOAT) : ctx.output(0);
  auto& n = ctx.emit("Resize", {x, "", "", ctx.writer().int64s(ctx.output_desc(0).shape, "sizes")},
                     {out});
  set_attr(n, "mode", std::string(linear ? "linear" : "nearest"));
  set_attr(n, "coordinate_transformation_mode", std::string("half_pixel"));
  if (!linear) set_attr(n, "nearest_mode", std::string("round_prefer_floor"));
  if (integer_linear) {
    std::string rounded = ctx.emit_value("Round", {out}, onnx::TensorProto::FLOAT);
    set_attr(ctx.emit("Cast", {rounded}, {ctx.output(0)}), "to", int64_t(elem_type(type)));
  }
}

}  // namespace

void register_shape_exporters(ConverterTable& t) {
  using detail::OpId;
  t[OpId::reshape] = reshape;
  t[OpId::transpose] = transpose;
  t[OpId::concat] = concat;
  t[OpId::split] = split;
  t[OpId::slice] = slice;
  t[OpId::gather] = gather;
  t[OpId::gatherElements] = gather_elements;
  t[OpId::gatherND] = gather_nd;
  t[OpId::expand] = expand;
  t[OpId::pad] = pad;
  t[OpId::tile] = tile;
  t[OpId::reverse] = reverse;
  t[OpId::triangular] = triangular;
  t[OpId::resample2d] = resample2d;
}

}  // namespace cppnn::onnx_export
