// Matrix products: matmul, gemm. Besides the spec's options their schemas accept what the
// compiler's fusion pass adds: an "activation" attribute on both (check_fused_activation,
// graph/validation.h, shared with conv.cpp) and a "bias" operand on matmul.
#include <algorithm>

#include "core/dispatch.h"
#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

std::vector<OperandDescriptor> infer_matmul(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& a = *in[0];
  const OperandDescriptor& b = *in[1];
  check_data_type(a, "a", kFloatTypes);
  check_same_type(a, "a", b, "b");
  if (a.shape.size() < 2)
    type_error(operand_name("a") + " must be at least 2-D, got shape " + to_string(a.shape));
  if (b.shape.size() < 2)
    type_error(operand_name("b") + " must be at least 2-D, got shape " + to_string(b.shape));
  size_t ra = a.shape.size(), rb = b.shape.size();
  int64_t cols_a = a.shape[ra - 1], rows_a = a.shape[ra - 2];
  int64_t cols_b = b.shape[rb - 1], rows_b = b.shape[rb - 2];
  if (cols_a != rows_b)
    type_error(operand_name("a") + " has " + std::to_string(cols_a) + " columns but " +
               operand_name("b") + " has " + std::to_string(rows_b) + " rows (shapes " +
               to_string(a.shape) + " and " + to_string(b.shape) + ")");
  Dims batch_a(a.shape.begin(), a.shape.end() - 2), batch_b(b.shape.begin(), b.shape.end() - 2);
  Dims out;
  try {
    out = broadcast_shapes(batch_a, batch_b);
  } catch (const Error& e) {
    type_error("batch dimensions: " + std::string(e.what()));
  }
  out.push_back(rows_a);
  out.push_back(cols_b);
  if (in.size() > 2 && in[2]) {
    check_same_type(a, "a", *in[2], "bias");
    if (in[2]->shape != Dims{cols_b})
      type_error(operand_name("bias") + " must have shape [" + std::to_string(cols_b) +
                 "] (the output's last dimension), got " + to_string(in[2]->shape));
  }
  check_fused_activation(attrs);
  return {{a.data_type, out}};
}

// The spec casts alpha and beta to the operands' data type.
double cast_to(DataType type, double v) {
  if (type == DataType::bfloat16) return double(bfloat16_to_float(float_to_bfloat16(float(v))));
  return type == DataType::float16 ? double(float(half(float(v)))) : double(float(v));
}

std::vector<OperandDescriptor> infer_gemm(const InputDescs& in, Attrs& attrs) {
  const OperandDescriptor& a = *in[0];
  const OperandDescriptor& b = *in[1];
  check_data_type(a, "a", kFloatTypes);
  check_same_type(a, "a", b, "b");
  check_rank(a, "a", 2);
  check_rank(b, "b", 2);
  attrs.set("alpha", cast_to(a.data_type, attrs.f_or("alpha", 1.0)));
  attrs.set("beta", cast_to(a.data_type, attrs.f_or("beta", 1.0)));
  attrs.set_bool("aTranspose", attrs.i_or("aTranspose", 0) != 0);
  attrs.set_bool("bTranspose", attrs.i_or("bTranspose", 0) != 0);
  Dims sa = a.shape, sb = b.shape;
  if (attrs.b("aTranspose")) std::reverse(sa.begin(), sa.end());
  if (attrs.b("bTranspose")) std::reverse(sb.begin(), sb.end());
  if (sa[1] != sb[0])
    type_error(operand_name("a") + " (as used) has shape " + to_string(sa) + " and " +
               operand_name("b") + " has " + to_string(sb) + "; their inner dimensions differ");
  Dims out{sa[0], sb[1]};
  if (in.size() > 2 && in[2]) {
    if (!unidirectionally_broadcastable(in[2]->shape, out))
      type_error(operand_name("c") + " of shape " + to_string(in[2]->shape) +
                 " is not unidirectionally broadcastable to the output shape " + to_string(out));
    check_same_type(a, "a", *in[2], "c");
  }
  check_fused_activation(attrs);
  return {{a.data_type, out}};
}

}  // namespace

void register_matmul_ops(OpTable& table) {
  table.add(OpSchema{OpId::matmul, {"a", "b", "bias"}, 2, false, infer_matmul});
  table.add(OpSchema{OpId::gemm, {"a", "b", "c"}, 2, false, infer_gemm});
}

}  // namespace detail

using namespace detail;

Operand GraphBuilder::matmul(const Operand& a, const Operand& b, const OperatorOptions& o) {
  return add_op(*this, OpId::matmul, {a, b}, {}, o.label)[0];
}

Operand GraphBuilder::gemm(const Operand& a, const Operand& b, const GemmOptions& o) {
  Attrs attrs;
  attrs.set("alpha", o.alpha);
  attrs.set("beta", o.beta);
  attrs.set_bool("aTranspose", o.a_transpose);
  attrs.set_bool("bTranspose", o.b_transpose);
  std::vector<Operand> inputs{a, b};
  if (o.c.valid()) inputs.push_back(o.c);
  return add_op(*this, OpId::gemm, inputs, std::move(attrs), o.label)[0];
}

}  // namespace cppnn
