// Exporters of quantizeLinear and dequantizeLinear. Opset 17's QuantizeLinear and
// DequantizeLinear take float32 only, 8-bit outputs and a scalar or 1-D scale, where WebNN
// has float16, 32-bit types and block-wise scales: every case is written as the spec's
// emulation instead, with the zero point added in int64 so that 32-bit ones lose nothing:
//   quantize:   Cast<int>(Clip(Round(x / scale) + zeroPoint, lo, hi))  (Round: half to even;
//               NaN -> 0 by IsNaN and Where)
//   dequantize: Cast<float>((x - zeroPoint) * scale)
// with the scale and zero point upsampled to the input's shape where they are block-wise
// (Reshape, Expand, Reshape: each value repeated over its block); per-tensor and per-axis
// ones broadcast as they are.
#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

using Ints = std::vector<int64_t>;

// `value` (of the scale's shape) repeated over the blocks of the input's shape: only the
// dimensions with 1 < scale < input need it; ONNX broadcasting covers the others.
std::string upsampled(NodeContext& ctx, const std::string& value, ElemType type,
                      const Dims& scale, const Dims& input) {
  bool blocks = false;
  Ints split, expanded, target;
  for (size_t d = 0; d < input.size(); ++d) {
    int64_t block = input[d] / scale[d];
    bool blocked = scale[d] != 1 && block != 1;
    blocks = blocks || blocked;
    split.push_back(scale[d]);
    expanded.push_back(scale[d]);
    if (blocked) {
      split.push_back(1);
      expanded.push_back(block);
    }
    target.push_back(blocked ? input[d] : scale[d]);
  }
  if (!blocks) return value;
  GraphWriter& w = ctx.writer();
  std::string v = ctx.emit_value("Reshape", {value, w.int64s(split, "split")}, type);
  v = ctx.emit_value("Expand", {v, w.int64s(expanded, "blocks")}, type);
  return ctx.emit_value("Reshape", {v, w.int64s(target, "upsampled")}, type);
}

void quantize(NodeContext& ctx) {
  const Dims& input = ctx.input_desc(0).shape;
  const Dims& scale = ctx.input_desc(1).shape;
  ElemType ftype = elem_type(ctx.input_desc(0).data_type);
  DataType qtype = ctx.output_desc(0).data_type;
  ElemType otype = elem_type(qtype);
  GraphWriter& w = ctx.writer();
  std::string s = upsampled(ctx, ctx.input(1), ftype, scale, input);
  std::string z = upsampled(ctx, ctx.input(2), otype, scale, input);
  // The quotient and its rounding in the input's type, as the kernels compute them.
  std::string r = ctx.emit_value("Round", {ctx.emit_value("Div", {ctx.input(0), s}, ftype)}, ftype);
  r = ctx.cast(r, onnx::TensorProto::FLOAT);  // exact, and +-inf stays beyond the bounds below
  std::string nan = ctx.emit_value("IsNaN", {r}, kBool);
  // Whole numbers: bounded far outside every output range, then added in int64.
  r = ctx.emit_value("Clip", {r, w.scalar(DataType::float32, -1099511627776.0),
                              w.scalar(DataType::float32, 1099511627776.0)},
                     onnx::TensorProto::FLOAT);
  std::string sum = ctx.emit_value("Add", {ctx.cast(r, kInt64), ctx.cast(z, kInt64)}, kInt64);
  double lo = 0, hi = 4294967295.0;
  if (qtype == DataType::int8) lo = -128, hi = 127;
  if (qtype == DataType::uint8) hi = 255;
  if (qtype == DataType::int32) lo = -2147483648.0, hi = 2147483647.0;
  sum = ctx.emit_value("Clip", {sum, w.scalar(DataType::int64, lo), w.scalar(DataType::int64, hi)},
                       kInt64);
  // NaN quantizes to 0, as the kernels (and cast's float -> integer) give it.
  ctx.emit("Where", {nan, w.scalar(qtype, 0), ctx.cast(sum, otype)}, {ctx.output(0)});
}

void dequantize(NodeContext& ctx) {
  const Dims& input = ctx.input_desc(0).shape;
  const Dims& scale = ctx.input_desc(1).shape;
  ElemType qtype = elem_type(ctx.input_desc(0).data_type);
  ElemType ftype = elem_type(ctx.input_desc(1).data_type);
  std::string s = upsampled(ctx, ctx.input(1), ftype, scale, input);
  std::string z = upsampled(ctx, ctx.input(2), qtype, scale, input);
  // x - zeroPoint exactly in int64, then the product in float32 (exact for 8-bit inputs,
  // as the kernels' double product rounded once; 32-bit differences past 2^24 round first).
  constexpr ElemType kFloat = onnx::TensorProto::FLOAT;
  std::string diff =
      ctx.emit_value("Sub", {ctx.cast(ctx.input(0), kInt64), ctx.cast(z, kInt64)}, kInt64);
  std::string product = ctx.emit_value("Mul", {ctx.cast(diff, kFloat), ctx.cast(s, kFloat)}, kFloat);
  std::string out = ctx.output(0);
  if (ftype == kFloat)
    ctx.emit("Identity", {product}, {out});
  else
    set_attr(ctx.emit("Cast", {product}, {out}), "to", int64_t(ftype));
}

}  // namespace

void register_quantization_exporters(ConverterTable& t) {
  using detail::OpId;
  t[OpId::quantizeLinear] = quantize;
  t[OpId::dequantizeLinear] = dequantize;
}

}  // namespace cppnn::onnx_export
