// Exporters of the matrix products: matmul (with the bias the fusion pass may add) and
// gemm. Fused epilogues become the ONNX nodes they stand for (finish_fused).
#include "onnx/export_context.h"

namespace cppnn::onnx_export {

namespace {

bool has_epilogue(const NodeContext& ctx) {
  return !ctx.attrs().s_or("activation", "").empty() ||
         (ctx.node().op == detail::OpId::conv2d && ctx.has_input(3));
}

void matmul(NodeContext& ctx) {
  ElemType type = elem_type(ctx.output_desc(0).data_type);
  bool bias = ctx.has_input(2);
  std::string result = bias || has_epilogue(ctx) ? ctx.temp(type) : ctx.output(0);
  ctx.emit("MatMul", {ctx.input(0), ctx.input(1)}, {result});
  if (bias) {
    std::string biased = has_epilogue(ctx) ? ctx.temp(type) : ctx.output(0);
    ctx.emit("Add", {result, ctx.input(2)}, {biased});
    result = biased;
  }
  finish_fused(ctx, result, "");
}

void gemm(NodeContext& ctx) {
  ElemType type = elem_type(ctx.output_desc(0).data_type);
  std::string result = has_epilogue(ctx) ? ctx.temp(type) : ctx.output(0);
  std::vector<std::string> inputs{ctx.input(0), ctx.input(1)};
  if (ctx.has_input(2)) inputs.push_back(ctx.input(2));
  auto& n = ctx.emit("Gemm", inputs, {result});
  const detail::Attrs& a = ctx.attrs();
  set_attr(n, "alpha", a.f("alpha"));
  set_attr(n, "beta", a.f("beta"));
  set_attr(n, "transA", a.i("aTranspose"));
  set_attr(n, "transB", a.i("bTranspose"));
  finish_fused(ctx, result, "");
}

}  // namespace

void register_matmul_exporters(ConverterTable& t) {
  using detail::OpId;
  t[OpId::matmul] = matmul;
  t[OpId::gemm] = gemm;
}

}  // namespace cppnn::onnx_export
