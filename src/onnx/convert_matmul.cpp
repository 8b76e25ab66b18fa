// Converters of ONNX's matrix products: MatMul (whose 1-D operands numpy-style promotion
// reshapes) and Gemm.
#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

void matmul(NodeContext& ctx) {
  GraphBuilder& b = ctx.builder();
  size_t ra = ctx.rank(0), rb = ctx.rank(1);
  if (ra == 0 || rb == 0) ctx.bad_model("MatMul inputs must have rank >= 1");
  // WebNN's matmul is for rank >= 2; ONNX (like numpy) promotes a 1-D operand and then
  // drops the added dimension.
  Operand a = ra == 1 ? reshape_value(ctx, ctx.input(0), {1, ctx.shape(0)[0]}) : ctx.operand(0);
  Operand bm = rb == 1 ? reshape_value(ctx, ctx.input(1), {ctx.shape(1)[0], 1}) : ctx.operand(1);
  Operand y = b.matmul(a, bm, ctx.options());
  if (ra == 1 || rb == 1) {
    Dims dims = y.shape();
    if (rb == 1) dims.erase(dims.end() - 1);
    if (ra == 1) dims.erase(dims.end() - (rb == 1 ? 1 : 2));
    y = b.reshape(y, to_u32(ctx, dims, "MatMul output dimension"), ctx.options());
  }
  ctx.set_output(0, y);
}

void gemm(NodeContext& ctx) {
  GemmOptions o;
  o.label = ctx.label();
  o.alpha = ctx.attr_float("alpha", 1.0f);
  o.beta = ctx.attr_float("beta", 1.0f);
  o.a_transpose = ctx.attr_int("transA", 0) != 0;
  o.b_transpose = ctx.attr_int("transB", 0) != 0;
  if (ctx.has_input(2)) o.c = ctx.operand(2);
  ctx.set_output(0, ctx.builder().gemm(ctx.operand(0), ctx.operand(1), o));
}

}  // namespace

void register_matmul_converters(ConverterTable& t) {
  t["MatMul"] = matmul;
  t["Gemm"] = gemm;
}

}  // namespace cppnn::onnx_import
