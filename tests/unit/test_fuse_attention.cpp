// The attention fusion pass (compiler/fuse_attention.cpp): which exported spellings of
// softmax(q k^T * scale + mask) v become one attention node, with which attributes, and which
// stay as they are. The fused node's values are checked on the GPU (tests/gpu, against the
// CPU backend's unfused graph) and its kernel on the host (tests/cuda_host).
#include "compiler/passes.h"
#include "graph/op_id.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::GraphIR;
using detail::OpId;

TransposeOptions perm(std::vector<uint32_t> p) {
  TransposeOptions o;
  o.permutation = std::move(p);
  return o;
}

detail::PassOptions fusing(std::vector<detail::AttentionCandidate>* seen = nullptr) {
  detail::PassOptions o;
  o.fold_constants = false;
  o.channels_last = false;
  o.attention = [seen](const detail::AttentionCandidate& c) {
    if (seen) seen->push_back(c);
    return true;
  };
  return o;
}

struct Spelling {
  bool k_transposed_once = true;  // k^T as one transpose [0,2,3,1] of [b,s,h,d]; else [0,2,1,3] then [0,1,3,2]
  bool scale_on_qk = false;       // q * c and k^T * c (PyTorch's exported SDPA) instead of scores / c
  bool mask = true;
  bool zero_nan = false;          // where(isNaN(p), 0, p) after the softmax
  bool output_transpose = true;
  bool scale_after_mask = false;  // (s + mask) / c: not fusable
};

// BERT's self-attention on x [b, s, h * d] split into heads: returns the graph's only output.
Graph attention_graph(const Spelling& sp, DataType type = DataType::float16) {
  const uint32_t b = 2, s = 10, h = 3, d = 32;
  GraphBuilder g;
  Operand q4 = g.input("q", type, {b, s, h, d});
  Operand k4 = g.input("k", type, {b, s, h, d});
  Operand v4 = g.input("v", type, {b, s, h, d});
  Operand mask = g.input("mask", type, {b, 1, 1, s});
  Operand q = g.transpose(q4, perm({0, 2, 1, 3}));
  Operand kt = sp.k_transposed_once ? g.transpose(k4, perm({0, 2, 3, 1}))
                                    : g.transpose(g.transpose(k4, perm({0, 2, 1, 3})), perm({0, 1, 3, 2}));
  Operand v = g.transpose(v4, perm({0, 2, 1, 3}));
  Operand scores;
  if (sp.scale_on_qk) {
    Operand c = g.constant(type, 0.42044820762685725);  // sqrt(1 / sqrt(32))
    scores = g.matmul(g.mul(q, c), g.mul(kt, c));
  } else {
    scores = g.matmul(q, kt);
    if (!sp.scale_after_mask) scores = g.div(scores, g.constant(type, 5.656854249492381));
  }
  if (sp.mask) scores = g.add(scores, mask);
  if (sp.scale_after_mask) scores = g.div(scores, g.constant(type, 5.656854249492381));
  Operand p = g.softmax(scores, 3);
  if (sp.zero_nan) p = g.where(g.is_nan(p), g.constant(type, 0.0), p);
  Operand out = g.matmul(p, v);
  if (sp.output_transpose) out = g.reshape(g.transpose(out, perm({0, 2, 1, 3})), {b, s, h * d});
  return g.build({{"y", out}});
}

const detail::Node* only_attention(const GraphIR& g) {
  const detail::Node* found = nullptr;
  for (const detail::Node& n : g.nodes) {
    if (n.op == OpId::attention) {
      EXPECT_EQ(found, nullptr) << "two attention nodes";
      found = &n;
    }
  }
  return found;
}

TEST(FuseAttention, BertSpellingBecomesOneNodeReadingTheSplitHeadsInPlace) {
  Graph graph = attention_graph({});
  std::vector<detail::AttentionCandidate> seen;
  auto fused = detail::optimize(graph.ir_ptr(), fusing(&seen));
  const detail::Node* a = only_attention(*fused);
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(seen.size(), 1u);
  std::string ops;
  for (const detail::Node& n : fused->nodes) ops += detail::op_name(n.op) + " ";
  EXPECT_EQ(ops, "attention reshape ");
  EXPECT_EQ(seen[0].batch, 2);
  EXPECT_EQ(seen[0].heads, 3);
  EXPECT_EQ(seen[0].query_length, 10);
  EXPECT_EQ(seen[0].key_length, 10);
  EXPECT_EQ(seen[0].head_dim, 32);
  EXPECT_TRUE(seen[0].masked);
  // q, k, v are the graph's inputs themselves: every transpose is gone.
  EXPECT_EQ(a->inputs[0], fused->inputs.at("q"));
  EXPECT_EQ(a->inputs[1], fused->inputs.at("k"));
  EXPECT_EQ(a->inputs[2], fused->inputs.at("v"));
  EXPECT_EQ(a->inputs[3], fused->inputs.at("mask"));
  std::vector<int64_t> split = {0, 2, 1, 3};
  EXPECT_EQ(a->attrs.ints("qPermutation"), split);
  EXPECT_EQ(a->attrs.ints("kPermutation"), split);
  EXPECT_EQ(a->attrs.ints("vPermutation"), split);
  EXPECT_EQ(a->attrs.ints("outPermutation"), split);
  // The constant as float16 holds it: 5.65625.
  EXPECT_NEAR(a->attrs.f("scale"), 1.0 / 5.65625, 1e-12);
  EXPECT_FALSE(a->attrs.b("zeroNanRows"));
  for (const detail::Node& n : fused->nodes) EXPECT_NE(n.op, OpId::transpose);
}

// Two attentions in a row, the second reading the first's output: both fused (the pass
// remakes its read and write map after each fusion).
TEST(FuseAttention, ChainedAttentionsBothFuse) {
  const uint32_t s = 8, d = 32;
  GraphBuilder g;
  Operand x = g.input("x", DataType::float16, {1, s, 1, d});
  Operand h = x;
  for (int layer = 0; layer < 2; ++layer) {
    Operand q = g.transpose(h, perm({0, 2, 1, 3}));
    Operand kt = g.transpose(h, perm({0, 2, 3, 1}));
    Operand p = g.softmax(g.matmul(q, kt), 3);
    h = g.transpose(g.matmul(p, q), perm({0, 2, 1, 3}));
  }
  Graph graph = g.build({{"y", h}});
  auto fused = detail::optimize(graph.ir_ptr(), fusing());
  std::string ops;
  for (const detail::Node& n : fused->nodes) ops += detail::op_name(n.op) + " ";
  EXPECT_EQ(ops, "attention attention ");
  EXPECT_EQ(fused->nodes[1].inputs[0], fused->nodes[0].outputs[0]);
}

TEST(FuseAttention, PyTorchSdpaSpelling) {
  Spelling sp;
  sp.k_transposed_once = false, sp.scale_on_qk = true, sp.zero_nan = true;
  Graph graph = attention_graph(sp);
  auto fused = detail::optimize(graph.ir_ptr(), fusing());
  const detail::Node* a = only_attention(*fused);
  ASSERT_NE(a, nullptr);
  EXPECT_NEAR(a->attrs.f("scale"), 0.42041015625 * 0.42041015625, 1e-12);  // float16's 0.4204...
  EXPECT_TRUE(a->attrs.b("zeroNanRows"));
  EXPECT_EQ(a->attrs.ints("kPermutation"), (std::vector<int64_t>{0, 2, 1, 3}));
  std::string ops;
  for (const detail::Node& n : fused->nodes) ops += detail::op_name(n.op) + " ";
  EXPECT_EQ(ops, "attention reshape ");
}

TEST(FuseAttention, WithoutMaskOrOutputTranspose) {
  Spelling sp;
  sp.mask = false, sp.output_transpose = false;
  Graph graph = attention_graph(sp);
  auto fused = detail::optimize(graph.ir_ptr(), fusing());
  const detail::Node* a = only_attention(*fused);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->inputs[3], detail::kNoOperand);
  EXPECT_EQ(a->attrs.ints("outPermutation"), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(a->outputs[0], fused->outputs.at("y"));
}

TEST(FuseAttention, LeftAloneWhereTheMeaningWouldChange) {
  // (s + mask) / c scales the mask too.
  Spelling sp;
  sp.scale_after_mask = true;
  Graph scaled = attention_graph(sp);
  auto a = detail::optimize(scaled.ir_ptr(), fusing());
  EXPECT_EQ(only_attention(*a), nullptr);

  // The scores are also an output: they must be written. (The same graph without that
  // output fuses.)
  for (bool scores_out : {true, false}) {
    const uint32_t s = 8, d = 32;
    GraphBuilder g;
    Operand q = g.input("q", DataType::float16, {1, 1, s, d});
    Operand kt = g.transpose(g.input("k", DataType::float16, {1, 1, s, d}), perm({0, 1, 3, 2}));
    Operand v = g.input("v", DataType::float16, {1, 1, s, d});
    Operand scores = g.matmul(q, kt);
    Operand y = g.matmul(g.softmax(scores, 3), v);
    Graph graph = scores_out ? g.build({{"y", y}, {"scores", scores}}) : g.build({{"y", y}});
    auto b = detail::optimize(graph.ir_ptr(), fusing());
    EXPECT_EQ(only_attention(*b) == nullptr, scores_out);
  }
  const uint32_t s = 8, d = 32;

  // Not the last axis.
  GraphBuilder h;
  Operand q2 = h.input("q", DataType::float16, {1, 1, s, d});
  Operand kt2 = h.transpose(h.input("k", DataType::float16, {1, 1, s, d}), perm({0, 1, 3, 2}));
  Operand v2 = h.input("v", DataType::float16, {1, 1, s, d});
  Graph axis2 = h.build({{"y", h.matmul(h.softmax(h.matmul(q2, kt2), 2), v2)}});
  auto c = detail::optimize(axis2.ir_ptr(), fusing());
  EXPECT_EQ(only_attention(*c), nullptr);

  // The backend turns it down (float32 here): nothing changes.
  Graph f32 = attention_graph({}, DataType::float32);
  detail::PassOptions no = fusing();
  no.attention = [](const detail::AttentionCandidate& cand) { return cand.data_type == DataType::float16; };
  auto d32 = detail::optimize(f32.ir_ptr(), no);
  EXPECT_EQ(only_attention(*d32), nullptr);
  // Without a callback (the engine builder, the CPU backend) the pass does nothing.
  detail::PassOptions none = fusing();
  none.attention = nullptr;
  auto e = detail::optimize(attention_graph({}).ir_ptr(), none);
  EXPECT_EQ(only_attention(*e), nullptr);
}

// GPT-2's causal masks: where(causal, s, fill) (transformers) and masked_fill(~causal,
// fill), which exports as where(not_causal, fill, s); an add before the where is not
// fusable (the fill replaces the sum).
Graph causal_graph(bool masked_fill, bool add_before_where) {
  const uint32_t s = 6, d = 32;
  GraphBuilder g;
  Operand q = g.input("q", DataType::float16, {1, 2, s, d});
  Operand kt = g.transpose(g.input("k", DataType::float16, {1, 2, s, d}), perm({0, 1, 3, 2}));
  Operand v = g.input("v", DataType::float16, {1, 2, s, d});
  Operand pad = g.input("pad", DataType::float16, {1, 1, 1, s});
  std::vector<uint8_t> c(size_t(s) * s);
  for (uint32_t i = 0; i < s; ++i)
    for (uint32_t k = 0; k < s; ++k) c[size_t(i) * s + k] = uint8_t((k <= i) != masked_fill);
  Operand cond = g.constant(DataType::uint8, {1, 1, s, s}, c.data(), c.size());
  Operand fill = g.constant(DataType::float16, -65504.0);
  Operand scores = g.div(g.matmul(q, kt), g.constant(DataType::float16, 8.0));
  if (add_before_where) scores = g.add(scores, pad);
  scores = masked_fill ? g.where(cond, fill, scores) : g.where(cond, scores, fill);
  if (!add_before_where) scores = g.add(scores, pad);
  return g.build({{"y", g.matmul(g.softmax(scores, 3), v)}});
}

TEST(FuseAttention, CausalWhereMasks) {
  for (bool masked_fill : {false, true}) {
    Graph graph = causal_graph(masked_fill, false);
    auto fused = detail::optimize(graph.ir_ptr(), fusing());
    const detail::Node* a = only_attention(*fused);
    ASSERT_NE(a, nullptr) << masked_fill;
    ASSERT_EQ(a->inputs.size(), 5u);
    EXPECT_EQ(a->inputs[3], fused->inputs.at("pad"));
    EXPECT_EQ(fused->operands[size_t(a->inputs[4])].role, detail::OperandRole::constant);
    EXPECT_EQ(a->attrs.f("maskFill"), -65504.0);
    EXPECT_EQ(a->attrs.b("fillWhereTrue"), masked_fill);
  }
  Graph late = causal_graph(false, true);
  EXPECT_EQ(only_attention(*detail::optimize(late.ir_ptr(), fusing())), nullptr);
}

// fuse_norm_residual (fusion.cpp): layerNormalization(a + b) takes the add over when the sum
// is read by nothing else and the backend accepts; the values are checked on the GPU
// (tests/gpu: CudaJit.BertBlockRunsGeluOnGpu) and the kernel on the host (test_row_warp_host).
TEST(FuseNormResidual, TakesTheAddOverWhenTheSumIsReadOnlyByTheNorm) {
  GraphBuilder g;
  Operand a = g.input("a", DataType::float16, {4, 8});
  Operand b = g.input("b", DataType::float16, {4, 8});
  Operand c = g.input("c", DataType::float16, {8});
  LayerNormalizationOptions ln;
  ln.axes = std::vector<uint32_t>{1};
  Operand sum = g.add(a, b);
  Graph one = g.build({{"y", g.layer_normalization(sum, ln)}});
  detail::PassOptions o;
  o.fold_constants = false, o.channels_last = false;
  o.norm_residual = [](const GraphIR&, const detail::Node&) { return true; };
  auto fused = detail::optimize(one.ir_ptr(), o);
  ASSERT_EQ(fused->nodes.size(), 1u);
  const detail::Node& n = fused->nodes[0];
  EXPECT_EQ(n.op, OpId::layerNormalization);
  ASSERT_EQ(n.inputs.size(), 4u);
  EXPECT_EQ(n.inputs[0], fused->inputs.at("a"));
  EXPECT_EQ(n.inputs[3], fused->inputs.at("b"));

  // The sum is also an output, or is broadcast (b + c): left alone.
  GraphBuilder h;
  Operand a2 = h.input("a", DataType::float16, {4, 8});
  Operand b2 = h.input("b", DataType::float16, {4, 8});
  Operand c2 = h.input("c", DataType::float16, {8});
  Operand s2 = h.add(a2, b2);
  Graph two = h.build({{"y", h.layer_normalization(s2, ln)}, {"sum", s2},
                       {"z", h.layer_normalization(h.add(a2, c2), ln)}});
  auto kept = detail::optimize(two.ir_ptr(), o);
  for (const detail::Node& node : kept->nodes) {
    if (node.op == OpId::layerNormalization) {
      EXPECT_EQ(node.inputs.size(), 3u);
    }
  }
  // Without the backend's yes: nothing.
  o.norm_residual = nullptr;
  EXPECT_EQ(detail::optimize(one.ir_ptr(), o)->nodes.size(), 2u);
  (void)c;
}

}  // namespace
}  // namespace cppnn
