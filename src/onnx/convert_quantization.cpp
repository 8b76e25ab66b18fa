// Converters of ONNX's QuantizeLinear and DequantizeLinear (opsets 10 to 21). ONNX's scale and
// zero point are a scalar or [1] (per-tensor), a 1-D tensor along `axis` (per-axis), or,
// from opset 21, a tensor of the input's rank with `block_size` elements per scale along
// `axis` (block-wise); WebNN takes all three as scales of the input's rank whose shape divides
// the input's, so each is reshaped to that rank. A block-wise scale whose last block is
// partial (the axis not a multiple of block_size) has no WebNN form: NotSupportedError. An
// absent zero point is zeros of the output type (QuantizeLinear: output_dtype, else uint8)
// or of the input's (DequantizeLinear). `saturate` only concerns float8 outputs, which WebNN
// lacks (their types are refused as any unsupported type is).
#include "graph/validation.h"
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

// The scale's (and zero point's) shape in the input's rank, per ONNX's rules.
Dims webnn_scale_shape(NodeContext& ctx, const Dims& x, const Dims& scale) {
  size_t rank = x.size();
  int64_t block = ctx.attr_int("block_size", 0);
  if (block < 0) ctx.bad_model("attribute 'block_size' must not be negative, got " +
                               std::to_string(block));
  bool single = scale.empty() || (scale.size() == 1 && scale[0] == 1);
  if (block == 0 && single) return Dims(rank, 1);
  if (rank == 0) ctx.bad_model("a scalar input takes a scalar scale, got " + to_string(scale));
  size_t axis = size_t(normalize_axis(ctx, ctx.attr_int("axis", 1), rank, "attribute 'axis'"));
  if (block == 0) {
    if (scale.size() != 1 || scale[0] != x[axis])
      ctx.bad_model("the scale of shape " + to_string(scale) + " must be a scalar, [1] or [" +
                    std::to_string(x[axis]) + "] (axis " + std::to_string(axis) +
                    " of the input " + to_string(x) + ")");
    Dims out(rank, 1);
    out[axis] = x[axis];
    return out;
  }
  Dims want = x;
  want[axis] = (x[axis] + block - 1) / block;
  if (scale != want)
    ctx.bad_model("the block-wise scale of shape " + to_string(scale) + " must be " +
                  to_string(want) + " (input " + to_string(x) + ", block_size " +
                  std::to_string(block) + " along axis " + std::to_string(axis) + ")");
  if (x[axis] % block != 0)
    ctx.not_supported("block_size " + std::to_string(block) + " does not divide dimension " +
                      std::to_string(axis) + " (" + std::to_string(x[axis]) + ") of the input " +
                      to_string(x) + ": WebNN's blocks are all of one size");
  return want;
}

void quantize_linear(NodeContext& ctx, bool quantize) {
  const ValuePtr& x = ctx.input(0);
  const ValuePtr& scale = ctx.input(1);
  Dims shape = webnn_scale_shape(ctx, x->shape, scale->shape);
  GraphBuilder& b = ctx.builder();
  Operand s = reshape_value(ctx, scale, shape);
  Operand z;
  if (ctx.has_input(2)) {
    const ValuePtr& zp = ctx.input(2);
    if (zp->shape != scale->shape)
      ctx.bad_model("the zero point of shape " + to_string(zp->shape) +
                    " must have the scale's shape " + to_string(scale->shape));
    if (quantize && ctx.attr_int("output_dtype", 0) != 0) {
      bool is_bool = false;
      DataType want =
          data_type_from_onnx(int32_t(ctx.attr_int("output_dtype", 0)), "output_dtype", &is_bool);
      if (want != zp->type)
        ctx.bad_model("attribute 'output_dtype' (" + std::string(to_string(want)) +
                      ") differs from the zero point's type " + std::string(to_string(zp->type)));
    }
    z = reshape_value(ctx, zp, shape);
  } else {
    DataType type = x->type;
    if (quantize) {
      int64_t dtype = ctx.attr_int("output_dtype", 0);
      bool is_bool = false;
      type = dtype == 0 ? DataType::uint8
                        : data_type_from_onnx(int32_t(dtype), "output_dtype", &is_bool);
    }
    z = ctx.host_constant(Tensor(type, shape));
  }
  if (quantize)
    ctx.set_output(0, b.quantize_linear(ctx.operand(0), s, z, ctx.options()));
  else
    ctx.set_output(0, b.dequantize_linear(ctx.operand(0), s, z, ctx.options()));
}

void quantize(NodeContext& ctx) { quantize_linear(ctx, true); }
void dequantize(NodeContext& ctx) { quantize_linear(ctx, false); }

}  // namespace

void register_quantization_converters(ConverterTable& t) {
  t["QuantizeLinear"] = quantize;
  t["DequantizeLinear"] = dequantize;
}

}  // namespace cppnn::onnx_import
