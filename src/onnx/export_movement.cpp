// Exporters of the data-movement ops. WebNN keeps shapes, sizes and axes as attributes; ONNX
// takes most of them as int64 inputs, written here as initializers.
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

void register_movement_exporters(ConverterTable& t) {
  using detail::OpId;
  t[OpId::reshape] = reshape;
  t[OpId::transpose] = transpose;
  t[OpId::concat] = concat;
  t[OpId::split] = split;
  t[OpId::slice] = slice;
  t[OpId::expand] = expand;
  t[OpId::pad] = pad;
  t[OpId::tile] = tile;
  t[OpId::reverse] = reverse;
  t[OpId::triangular] = triangular;
  t[OpId::resample2d] = resample2d;
}

}  // namespace cppnn::onnx_export
