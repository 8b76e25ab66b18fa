// The attention fusion pass (compiler/fuse_attention.cpp): which exported spellings of
// softmax(q k^T * scale + mask) v become one attention node, with which attributes, and which
// stay as they are. The fused node's values are checked on the GPU (tests/gpu, against the
// CPU backend's unfused graph) and its kernel on the host (tests/cuda_host).
#include <cmath>

#include "backends/cpu/evaluator.h"
#include "compiler/passes.h"
#include "cppnn/onnx.h"
#include "engine/portable_graph.h"
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
    // A finite fill plus a runtime padding mask is a value that depends on the padding:
    // the general path (the cond kept), not "causal".
    EXPECT_EQ(fused->operands[size_t(a->inputs[4])].role, detail::OperandRole::constant);
    EXPECT_EQ(a->attrs.f("maskFill"), -65504.0);
    EXPECT_EQ(a->attrs.b("fillWhereTrue"), masked_fill);
    EXPECT_FALSE(a->attrs.b("causal"));
  }
  Graph late = causal_graph(false, true);
  EXPECT_EQ(only_attention(*detail::optimize(late.ir_ptr(), fusing())), nullptr);
}

// Causal mask recognition (fuse_attention.cpp, "Causal masks"): a constant mask that hides
// exactly the keys after query + offset is dropped for the node's "causal" and
// "causalOffset"; anything else stays a mask.
enum class MaskKind { where, masked_fill, additive };

struct CausalSpec {
  uint32_t sq = 6, sk = 6, batch = 1;
  MaskKind kind = MaskKind::where;
  int64_t offset = 0;                 // key k visible to q iff k <= q + offset
  double hide = -INFINITY;            // the fill (where) or the hidden value (additive)
  Dims mask_shape = {};               // default {1, 1, sq, sk}
  int wrong_b = 0, wrong_q = -1, wrong_k = -1;  // one element flipped (copy b, row q, key k)
  bool runtime_mask = false;          // the mask (or cond) is a graph input, not a constant
  bool padding = false;               // a runtime additive padding mask [b, 1, 1, sk] too
  DataType type = DataType::float16;
  bool sliced = false;                // the table is [max, max], sliced to [sk - sq:sk, :sk]
};

Graph causal_spec_graph(const CausalSpec& c) {
  const uint32_t d = 32, h = 2;
  GraphBuilder g;
  Operand q = g.input("q", c.type, {c.batch, h, c.sq, d});
  Operand kt = g.transpose(g.input("k", c.type, {c.batch, h, c.sk, d}), perm({0, 1, 3, 2}));
  Operand v = g.input("v", c.type, {c.batch, h, c.sk, d});
  Dims shape = c.mask_shape.empty() ? Dims{1, 1, c.sq, c.sk} : c.mask_shape;
  // Rows of the table are queries past + q (past = sk - sq when sliced), columns keys.
  const uint32_t max = 16;
  const uint32_t rows = c.sliced ? max : shape.size() < 2 ? 1 : uint32_t(shape[shape.size() - 2]);
  const uint32_t cols = c.sliced ? max : uint32_t(shape.back());
  const uint32_t copies = c.sliced ? 1 : uint32_t(element_count(shape) / (rows * cols));
  const int64_t row_shift = c.sliced ? int64_t(c.sk) - int64_t(c.sq) : 0;
  std::vector<double> values;
  for (uint32_t b = 0; b < copies; ++b)
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t k = 0; k < cols; ++k) {
        // A row of a broadcast (size 1) query axis is query 0's.
        bool visible = int64_t(k) <= int64_t(r) - row_shift + c.offset;
        if (int(b) == c.wrong_b && int(r) == c.wrong_q && int(k) == c.wrong_k) visible = !visible;
        if (c.kind == MaskKind::additive) values.push_back(visible ? 0.0 : c.hide);
        else values.push_back(double(visible != (c.kind == MaskKind::masked_fill)));
      }
  const DataType mtype = c.kind == MaskKind::additive ? c.type : DataType::uint8;
  Dims table_shape = c.sliced ? Dims{1, 1, max, max} : shape;
  Operand m = c.runtime_mask ? g.input("m", mtype, table_shape)
                             : g.constant(testing::tensor_from_doubles(mtype, table_shape, values));
  if (c.sliced) m = g.slice(m, {0, 0, uint32_t(row_shift), 0}, {1, 1, c.sq, c.sk});
  Operand scores = g.div(g.matmul(q, kt), g.constant(c.type, 5.656854249492381));
  if (c.kind == MaskKind::additive) scores = g.add(scores, m);
  else if (c.kind == MaskKind::where) scores = g.where(m, scores, g.constant(c.type, c.hide));
  else scores = g.where(m, g.constant(c.type, c.hide), scores);
  if (c.padding) scores = g.add(scores, g.input("pad", c.type, {c.batch, 1, 1, c.sk}));
  return g.build({{"y", g.matmul(g.softmax(scores, 3), v)}});
}

// The fused node of `c`'s graph, folded with the CPU's kernels as a plan folds it.
struct Fused {
  std::shared_ptr<const GraphIR> graph;
  const detail::Node* node = nullptr;
  bool causal() const { return node && node->attrs.b("causal"); }
  bool has_mask() const { return node && (node->inputs[3] != detail::kNoOperand || node->inputs[4] != detail::kNoOperand); }
};

Fused fuse(const Graph& graph) {
  detail::PassOptions o = detail::cpu_pass_options();
  o.channels_last = false;
  o.attention = [](const detail::AttentionCandidate&) { return true; };
  Fused f;
  f.graph = detail::optimize(graph.ir_ptr(), o);
  f.node = only_attention(*f.graph);
  return f;
}

Fused fuse(const CausalSpec& c) { return fuse(causal_spec_graph(c)); }

TEST(FuseAttention, CausalMaskRecognized) {
  struct Accepted {
    std::string name;
    CausalSpec spec;
  };
  std::vector<Accepted> cases;
  cases.push_back({"uint8 where(cond, s, -inf)", {}});
  CausalSpec c;
  c.kind = MaskKind::masked_fill, c.hide = -65504.0;
  cases.push_back({"masked_fill: where(not_causal, finfo.min, s)", c});
  c = {};
  c.kind = MaskKind::additive;
  cases.push_back({"additive 0 / -inf", c});
  c.hide = -10000.0, c.type = DataType::float32;
  cases.push_back({"additive 0 / -1e4, float32", c});
  c = {};
  // A prefill of 5 after a past of 7: rows 7..11 of the triangle k <= row, keys 0..11.
  c.sliced = true, c.sq = 5, c.sk = 12, c.offset = 7;
  cases.push_back({"sliced from a 16 x 16 triangle: [7:12, :12], offset 7", c});
  c.kind = MaskKind::additive, c.type = DataType::float32;
  cases.push_back({"an additive 0 / -inf bias sliced the same way (bench_gpu.py --gpt2-mask add)", c});
  c = {};
  c.sq = 4, c.sk = 10, c.offset = 6, c.kind = MaskKind::additive;
  cases.push_back({"additive, offset 6 (a past of 6)", c});
  c = {};
  c.sq = 1, c.sk = 9, c.offset = 8, c.kind = MaskKind::masked_fill, c.mask_shape = {1, 1, 1, 9};
  cases.push_back({"decode: one query sees all 9 keys", c});
  c = {};
  c.batch = 2, c.mask_shape = {2, 1, 6, 6};
  cases.push_back({"one copy per batch", c});
  c = {};
  c.sq = 70, c.sk = 70, c.mask_shape = {70, 70};
  cases.push_back({"rank-2 table, 70 x 70", c});
  c = {};
  c.offset = 2, c.sq = 1, c.sk = 6, c.mask_shape = {1, 1, 1, 6}, c.kind = MaskKind::additive;
  cases.push_back({"one query, one row, offset 2", c});
  c = {};
  c.kind = MaskKind::additive, c.mask_shape = {1, 1, 6, 1}, c.offset = 5;
  cases.push_back({"all zeros through a broadcast key axis: all visible (offset sk - 1)", c});
  for (const Accepted& a : cases) {
    SCOPED_TRACE(a.name);
    Fused f = fuse(a.spec);
    ASSERT_NE(f.node, nullptr);
    EXPECT_TRUE(f.causal());
    EXPECT_EQ(f.node->attrs.i("causalOffset"), a.spec.offset);
    EXPECT_FALSE(f.has_mask()) << "the mask is dropped";
    EXPECT_FALSE(f.node->attrs.has("maskFill"));
    // The table is gone from the graph.
    for (const detail::OperandInfo& info : f.graph->operands)
      EXPECT_FALSE(info.role == detail::OperandRole::constant && info.desc.shape.size() >= 2);
  }
}

TEST(FuseAttention, NotCausalKeepsTheMask) {
  struct Rejected {
    std::string name;
    CausalSpec spec;
  };
  std::vector<Rejected> cases;
  CausalSpec c;
  c.wrong_q = 3, c.wrong_k = 1;
  cases.push_back({"one element below the diagonal hidden", c});
  c.wrong_q = 2, c.wrong_k = 5;
  cases.push_back({"one element above the diagonal visible", c});
  c = {};
  c.kind = MaskKind::additive, c.wrong_q = 5, c.wrong_k = 5;
  cases.push_back({"additive: the last diagonal element hidden", c});
  c = {};
  c.batch = 2, c.mask_shape = {2, 1, 6, 6}, c.wrong_b = 1, c.wrong_q = 4, c.wrong_k = 5;
  cases.push_back({"the second batch's copy differs", c});
  c = {};
  c.kind = MaskKind::additive, c.hide = -100.0;
  cases.push_back({"additive -100 above the diagonal: a bias, not a mask", c});
  c = {};
  c.hide = -1.0;
  cases.push_back({"where with a fill of -1", c});
  c = {};
  c.offset = -1;
  cases.push_back({"offset -1: query 0 sees nothing", c});
  c = {};
  c.runtime_mask = true;
  cases.push_back({"a runtime cond", c});
  c.kind = MaskKind::additive;
  cases.push_back({"a runtime additive mask", c});
  c = {};
  c.padding = true, c.hide = -65504.0;
  cases.push_back({"causal where with a finite fill, then a runtime padding mask", c});
  c = {};
  c.kind = MaskKind::additive, c.mask_shape = {1, 1, 6, 1}, c.wrong_b = 0, c.wrong_q = 2, c.wrong_k = 0;
  cases.push_back({"a broadcast key axis hiding every key of row 2", c});
  c = {};
  c.mask_shape = {1, 1, 1, 6};
  cases.push_back({"one row broadcast over 6 queries", c});
  c = {};
  c.kind = MaskKind::additive, c.mask_shape = {1}, c.sq = c.sk = 20000, c.offset = 20000;
  cases.push_back({"a scalar 0 over 20000 x 20000: past the bound on what is read (2^28)", c});
  for (const Rejected& r : cases) {
    SCOPED_TRACE(r.name);
    Fused f = fuse(r.spec);
    ASSERT_NE(f.node, nullptr) << "still fused, with the general mask";
    EXPECT_FALSE(f.causal());
    EXPECT_FALSE(f.node->attrs.has("causalOffset"));
    EXPECT_TRUE(f.has_mask());
  }
}

// GPT-2's causal where with -inf, then a runtime padding mask (transformers' order): the
// hidden scores are -inf whatever the padding holds, so the cond goes and the mask stays.
TEST(FuseAttention, CausalWithAPaddingMaskKeepsThePadding) {
  CausalSpec c;
  c.padding = true;
  Fused f = fuse(c);
  ASSERT_NE(f.node, nullptr);
  EXPECT_TRUE(f.causal());
  EXPECT_EQ(f.node->inputs[3], f.graph->inputs.at("pad"));
  EXPECT_EQ(f.node->inputs[4], detail::kNoOperand);
  EXPECT_FALSE(f.node->attrs.has("maskFill"));
  // A causal additive -inf mask with a runtime cond before it: the mask goes, the cond stays.
  const uint32_t s = 5, d = 32;
  GraphBuilder g;
  Operand q = g.input("q", DataType::float16, {1, 1, s, d});
  Operand kt = g.transpose(g.input("k", DataType::float16, {1, 1, s, d}), perm({0, 1, 3, 2}));
  Operand v = g.input("v", DataType::float16, {1, 1, s, d});
  std::vector<double> m(size_t(s) * s);
  for (uint32_t i = 0; i < s; ++i)
    for (uint32_t k = 0; k < s; ++k) m[size_t(i) * s + k] = k <= i ? 0.0 : -INFINITY;
  Operand cond = g.input("cond", DataType::uint8, {1, 1, 1, s});
  Operand scores = g.where(cond, g.matmul(q, kt), g.constant(DataType::float16, -1e4));
  scores = g.add(scores, g.constant(testing::tensor_from_doubles(DataType::float16, {1, 1, s, s}, m)));
  Fused h = fuse(g.build({{"y", g.matmul(g.softmax(scores, 3), v)}}));
  ASSERT_NE(h.node, nullptr);
  EXPECT_TRUE(h.causal());
  EXPECT_EQ(h.node->inputs[3], detail::kNoOperand);
  EXPECT_EQ(h.node->inputs[4], h.graph->inputs.at("cond"));
}

// The benchmark's GPT-2 as exported (tests/python/dynamic_fixtures: masked_fill(future,
// -inf) on a slice of its n_positions x n_positions table), imported with dynamic batch and
// sequence (or past) and specialized, then made float16 as a float16 context's plan gets it
// (engine/portable_graph.h): every layer's attention is causal, its mask gone.
TEST(FuseAttention, Gpt2ExportsAreCausalAtEveryShape) {
  const std::string dir = CPPNN_SOURCE_DIR "/tests/python/dynamic_fixtures/";
  struct Export {
    std::string file;
    std::map<std::string, SymbolRange> ranges;
    std::map<std::string, int64_t> at;
    int64_t offset;
  };
  const std::vector<Export> exports = {
      {"gpt2_tiny_prefill.onnx", {{"batch", {1, 1, 4}}, {"seq", {1, 8, 64}}}, {{"batch", 2}, {"seq", 13}}, 0},
      {"gpt2_tiny_prefill.onnx", {{"batch", {1, 1, 4}}, {"seq", {1, 8, 64}}}, {{"batch", 1}, {"seq", 64}}, 0},
      {"gpt2_tiny_decode.onnx", {{"batch", {1, 1, 4}}, {"past", {1, 7, 63}}}, {{"batch", 1}, {"past", 20}}, 20},
      {"gpt2_tiny_decode.onnx", {{"batch", {1, 1, 4}}, {"past", {1, 7, 63}}}, {{"batch", 3}, {"past", 63}}, 63},
  };
  for (const Export& e : exports) {
    SCOPED_TRACE(e.file + " at " + std::to_string(e.at.begin()->second) + ", " +
                 std::to_string(e.at.rbegin()->second));
    OnnxImportOptions o;
    o.dynamic = e.ranges;
    Graph g = load_onnx(dir + e.file, o).specialize(e.at);
    for (Precision precision : {Precision::float32, Precision::float16}) {
      auto portable = detail::portable_graph(g.ir_ptr(), precision, "test");
      detail::PassOptions p = detail::cpu_pass_options();
      p.channels_last = false;
      p.attention = [](const detail::AttentionCandidate&) { return true; };
      auto fused = detail::optimize(portable, p);
      int attentions = 0;
      for (const detail::Node& n : fused->nodes) {
        if (n.op != OpId::attention) continue;
        ++attentions;
        EXPECT_TRUE(n.attrs.b("causal"));
        EXPECT_EQ(n.attrs.i("causalOffset"), e.offset);
        EXPECT_EQ(n.inputs[3], detail::kNoOperand);
        EXPECT_EQ(n.inputs[4], detail::kNoOperand);
      }
      EXPECT_EQ(attentions, 2) << "two layers";
    }
  }
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

namespace cppnn {
namespace {

// merge_projections (compiler/merge_projections.cpp): BERT's (or Whisper's, whose key has
// no bias) q, k and v projections of one input become one matmul and a split, which the
// attention then reads in place.
struct Projections {
  uint32_t batch = 2, seq = 5, heads = 3, d = 8;
  bool k_bias = false;
  bool q_also_output = false;  // q's projection is a graph output too: not merged
  double q_scale = 1.0;         // q's projection times this (Whisper: d^-0.5)
  DataType type = DataType::float32;
};

struct ProjectionGraph {
  Graph graph;
  Tensor x, w[3], b[3];
};

ProjectionGraph projection_graph(const Projections& p) {
  const uint32_t c = p.heads * p.d;
  ProjectionGraph r;
  r.x = testing::random_tensor(p.type, {p.batch, p.seq, c}, -1, 1, 11);
  GraphBuilder g;
  Operand x = g.input("x", p.type, {p.batch, p.seq, c});
  Operand heads[3];
  Operand q_flat;
  for (int i = 0; i < 3; ++i) {
    r.w[i] = testing::random_tensor(p.type, {c, c}, -0.5, 0.5, uint32_t(20 + i));
    r.b[i] = testing::random_tensor(p.type, {c}, -0.5, 0.5, uint32_t(30 + i));
    if (i == 1 && !p.k_bias) r.b[i] = Tensor(p.type, {c});  // zeros
    Operand y = g.matmul(x, g.constant(r.w[i]));
    if (i != 1 || p.k_bias) y = g.add(y, g.constant(r.b[i]));
    if (i == 0 && p.q_scale != 1.0) y = g.mul(y, g.constant(p.type, p.q_scale));
    if (i == 0) q_flat = y;
    heads[i] = g.transpose(g.reshape(y, {p.batch, p.seq, p.heads, p.d}), perm({0, 2, 1, 3}));
  }
  Operand kt = g.transpose(heads[1], perm({0, 1, 3, 2}));
  Operand s = g.div(g.matmul(heads[0], kt), g.constant(p.type, std::sqrt(double(p.d))));
  Operand out = g.transpose(g.matmul(g.softmax(s, 3), heads[2]), perm({0, 2, 1, 3}));
  Operand y = g.reshape(out, {p.batch, p.seq, c});
  r.graph = p.q_also_output ? g.build({{"y", y}, {"q", q_flat}}) : g.build({{"y", y}});
  return r;
}

// softmax(q k^T / sqrt(d)) v in float64, [batch, seq, heads * d].
std::vector<double> projection_reference(const Projections& p, const ProjectionGraph& r) {
  const size_t c = size_t(p.heads) * p.d, rows = size_t(p.batch) * p.seq;
  std::vector<double> xv = r.x.to_doubles(), proj[3];
  for (int i = 0; i < 3; ++i) {
    std::vector<double> w = r.w[i].to_doubles(), b = r.b[i].to_doubles();
    proj[i].assign(rows * c, 0.0);
    for (size_t row = 0; row < rows; ++row)
      for (size_t n = 0; n < c; ++n) {
        double acc = b[n];
        for (size_t k = 0; k < c; ++k) acc += xv[row * c + k] * w[k * c + n];
        proj[i][row * c + n] = i == 0 ? acc * p.q_scale : acc;
      }
  }
  std::vector<double> out(rows * c, 0.0);
  for (uint32_t bi = 0; bi < p.batch; ++bi)
    for (uint32_t h = 0; h < p.heads; ++h)
      for (uint32_t i = 0; i < p.seq; ++i) {
        std::vector<double> s(p.seq);
        double mx = -INFINITY, sum = 0.0;
        for (uint32_t k = 0; k < p.seq; ++k) {
          double acc = 0.0;
          for (uint32_t e = 0; e < p.d; ++e)
            acc += proj[0][(size_t(bi) * p.seq + i) * c + h * p.d + e] * proj[1][(size_t(bi) * p.seq + k) * c + h * p.d + e];
          s[k] = acc / std::sqrt(double(p.d));
          mx = std::max(mx, s[k]);
        }
        for (double& v : s) sum += (v = std::exp(v - mx));
        for (uint32_t e = 0; e < p.d; ++e) {
          double acc = 0.0;
          for (uint32_t k = 0; k < p.seq; ++k) acc += s[k] / sum * proj[2][(size_t(bi) * p.seq + k) * c + h * p.d + e];
          out[(size_t(bi) * p.seq + i) * c + h * p.d + e] = acc;
        }
      }
  return out;
}

detail::PassOptions merging(bool fuse_attention) {
  detail::PassOptions o = detail::cpu_pass_options();
  o.channels_last = false;
  o.attention = [fuse_attention](const detail::AttentionCandidate&) { return fuse_attention; };
  o.merge_projections = [](DataType, int64_t head_dim) { return head_dim == 8 || head_dim == 16; };
  return o;
}

size_t count(const GraphIR& g, OpId op) {
  size_t n = 0;
  for (const detail::Node& node : g.nodes) n += node.op == op;
  return n;
}

TEST(MergeProjections, OneMatmulAndASplitWithTheSameValues) {
  for (bool k_bias : {true, false}) {
    SCOPED_TRACE(k_bias ? "BERT: three biases" : "Whisper: the key without a bias");
    Projections p;
    p.k_bias = k_bias;
    ProjectionGraph r = projection_graph(p);
    // The attention left unfused, so the CPU runs the merged graph as it is.
    auto merged = detail::optimize(r.graph.ir_ptr(), merging(false));
    EXPECT_EQ(count(*merged, OpId::matmul), 3u) << "one projection, two attention products";
    ASSERT_EQ(count(*merged, OpId::split), 1u);
    for (const detail::Node& n : merged->nodes)
      if (n.op == OpId::matmul && n.inputs[0] == merged->inputs.at("x")) {
        EXPECT_EQ(merged->desc(n.inputs[1]).shape, (Dims{24, 72}));
        ASSERT_GT(n.inputs.size(), 2u) << "the bias add fused into it";
        EXPECT_EQ(merged->desc(n.inputs[2]).shape, (Dims{72}));
      }
    Tensor got = testing::run_cpu(Graph(merged), {{"x", r.x}}).at("y");
    testing::expect_close(got, projection_reference(p, r), {1e-5, 1e-5}, "merged");
    // Without the backend's yes: three projections.
    detail::PassOptions no = merging(false);
    no.merge_projections = [](DataType, int64_t) { return false; };
    EXPECT_EQ(count(*detail::optimize(r.graph.ir_ptr(), no), OpId::matmul), 5u);
  }
}

// Two optimizations of graphs over the same weights (a dynamic graph's plans per shape) get
// the same merged tensors, which a backend can then keep on the device once; other weights
// or another scale get their own.
TEST(MergeProjections, TheSameWeightsMergeIntoTheSameTensors) {
  auto merged_weight = [](const std::shared_ptr<const detail::GraphIR>& g) -> const Tensor* {
    for (const detail::Node& n : g->nodes)
      if (n.op == OpId::matmul && n.inputs[0] == g->inputs.at("x")) return g->operands[size_t(n.inputs[1])].data.get();
    return nullptr;
  };
  Projections p;
  ProjectionGraph r = projection_graph(p);
  auto a = detail::optimize(r.graph.ir_ptr(), merging(false));
  auto b = detail::optimize(r.graph.ir_ptr(), merging(false));
  ASSERT_NE(merged_weight(a), nullptr);
  EXPECT_EQ(merged_weight(a), merged_weight(b));
  ProjectionGraph other = projection_graph(p);  // new weight tensors (the same values)
  auto c = detail::optimize(other.graph.ir_ptr(), merging(false));
  EXPECT_NE(merged_weight(c), merged_weight(a));
  Projections scaled;
  scaled.q_scale = 0.25;
  ProjectionGraph s = projection_graph(scaled);
  auto d = detail::optimize(s.graph.ir_ptr(), merging(false));
  EXPECT_NE(merged_weight(d), merged_weight(a));
  // The shared tensor still computes what the projections did.
  Tensor got = testing::run_cpu(Graph(b), {{"x", r.x}}).at("y");
  testing::expect_close(got, projection_reference(p, r), {1e-5, 1e-5}, "merged, shared");
}

// Whisper's q * d^-0.5 after its projection: a power of two folds into the weights (the
// same values), anything else keeps q apart (k and v still merge).
TEST(MergeProjections, AScaleByAPowerOfTwoFoldsIntoTheWeights) {
  for (double scale : {0.25, 0.3}) {
    SCOPED_TRACE(scale);
    Projections p;
    p.q_scale = scale;
    ProjectionGraph r = projection_graph(p);
    auto merged = detail::optimize(r.graph.ir_ptr(), merging(false));
    const bool folded = scale == 0.25;
    EXPECT_EQ(count(*merged, OpId::mul), folded ? 0u : 1u);
    EXPECT_EQ(count(*merged, OpId::matmul), folded ? 3u : 4u);
    Tensor got = testing::run_cpu(Graph(merged), {{"x", r.x}}).at("y");
    testing::expect_close(got, projection_reference(p, r), {1e-5, 1e-5}, "merged");
  }
}

TEST(MergeProjections, AttentionReadsTheHeadsWhereTheMergedMatmulWroteThem) {
  Projections p;
  p.type = DataType::float16, p.k_bias = true;
  ProjectionGraph r = projection_graph(p);
  auto fused = detail::optimize(r.graph.ir_ptr(), merging(true));
  std::string ops;
  for (const detail::Node& n : fused->nodes) ops += detail::op_name(n.op) + " ";
  EXPECT_EQ(ops, "matmul attention reshape ") << "no split, reshape or transpose left";
  const detail::Node* a = only_attention(*fused);
  ASSERT_NE(a, nullptr);
  const detail::OperandId qkv = fused->nodes[0].outputs[0];
  EXPECT_EQ(fused->desc(qkv).shape, (Dims{2, 5, 72}));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a->inputs[size_t(i)], qkv);
  EXPECT_EQ(a->attrs.i("qOffset"), 0);
  EXPECT_EQ(a->attrs.i("kOffset"), 24);
  EXPECT_EQ(a->attrs.i("vOffset"), 48);
  for (const char* name : {"qShape", "kShape", "vShape"})
    EXPECT_EQ(a->attrs.ints(name), (std::vector<int64_t>{2, 5, 3, 8})) << name;
  for (const char* name : {"qStrides", "kStrides", "vStrides"})
    EXPECT_EQ(a->attrs.ints(name), (std::vector<int64_t>{5 * 72, 72, 8, 1})) << name;
  EXPECT_EQ(a->attrs.ints("qPermutation"), (std::vector<int64_t>{0, 2, 1, 3}));
  EXPECT_FALSE(a->attrs.has("outShape"));
}

TEST(MergeProjections, LeftAloneWhenAProjectionIsReadOtherwise) {
  Projections p;
  p.q_also_output = true;
  ProjectionGraph r = projection_graph(p);
  auto g = detail::optimize(r.graph.ir_ptr(), merging(false));
  // q stays as it is; k and v merge, as two (cross-attention's key and value would).
  EXPECT_EQ(count(*g, OpId::split), 1u);
  EXPECT_EQ(count(*g, OpId::matmul), 4u);
  std::vector<Dims> weights;
  for (const detail::Node& n : g->nodes)
    if (n.op == OpId::matmul && n.inputs[0] == g->inputs.at("x")) weights.push_back(g->desc(n.inputs[1]).shape);
  EXPECT_EQ(weights, (std::vector<Dims>{{24, 24}, {24, 48}}));
  NamedTensors out = testing::run_cpu(Graph(g), {{"x", r.x}});
  testing::expect_close(out.at("y"), projection_reference(p, r), {1e-5, 1e-5}, "y");
  EXPECT_EQ(out.at("q").shape(), (Dims{2, 5, 24}));
  // A head dimension the backend's kernel does not take (12 here): the split would stay, a
  // copy, so nothing merges.
  Projections odd;
  odd.d = 12;
  auto h = detail::optimize(projection_graph(odd).graph.ir_ptr(), merging(false));
  EXPECT_EQ(count(*h, OpId::split), 0u);
  EXPECT_EQ(count(*h, OpId::matmul), 5u);
}

// The PyTorch exports (tests/python/dynamic_fixtures) as a float16 context's plan gets
// them: transformers' BERT merges q, k and v; so does Whisper's encoder, whose q is scaled
// by 16^-0.5 after its projection (folded into its weights) and whose k has no bias.
TEST(MergeProjections, BertAndWhisperExports) {
  struct Export {
    std::string file;
    std::map<std::string, int64_t> dims;
    Dims merged;         // the merged product's shape
    bool q_merged;
  };
  for (const Export& e : {Export{"bert_tiny.onnx", {{"batch", 2}, {"seq", 9}}, {2, 9, 96}, true},
                          Export{"whisper_tiny_encoder.onnx", {{"batch", 2}}, {2, 24, 96}, true}}) {
    SCOPED_TRACE(e.file);
    OnnxImportOptions o;
    o.dim_values = e.dims;
    Graph g = load_onnx(CPPNN_SOURCE_DIR "/tests/python/dynamic_fixtures/" + e.file, o);
    auto fused = detail::optimize(detail::portable_graph(g.ir_ptr(), Precision::float16, "test"), merging(true));
    size_t attentions = 0;
    for (const detail::Node& n : fused->nodes) {
      if (n.op != OpId::attention) continue;
      ++attentions;
      EXPECT_EQ(fused->desc(n.inputs[1]).shape, e.merged);
      EXPECT_EQ(n.inputs[2], n.inputs[1]);
      EXPECT_EQ(n.inputs[0] == n.inputs[1], e.q_merged);
      EXPECT_EQ(n.attrs.i("vOffset"), e.q_merged ? 64 : 32);
    }
    EXPECT_EQ(attentions, 2u);
    EXPECT_EQ(count(*fused, OpId::split), 0u) << "read in place: no split left";
  }
}

// GPT-2's c_attn is one matmul already, split into q, k and v (its present key and value
// read the split too): the attention reads its heads where c_attn wrote them.
TEST(MergeProjections, Gpt2ReadsTheHeadsOfItsOwnMergedProjection) {
  OnnxImportOptions o;
  o.dim_values = {{"batch", 1}, {"seq", 13}};
  Graph g = load_onnx(CPPNN_SOURCE_DIR "/tests/python/dynamic_fixtures/gpt2_tiny_prefill.onnx", o);
  auto fused = detail::optimize(detail::portable_graph(g.ir_ptr(), Precision::float16, "test"), merging(true));
  size_t attentions = 0;
  for (const detail::Node& n : fused->nodes) {
    if (n.op != OpId::attention) continue;
    ++attentions;
    EXPECT_EQ(fused->desc(n.inputs[0]).shape, (Dims{1, 13, 96}));
    EXPECT_EQ(n.inputs[1], n.inputs[0]);
    EXPECT_EQ(n.attrs.i("kOffset"), 32);
    EXPECT_EQ(n.attrs.ints("vStrides"), (std::vector<int64_t>{13 * 96, 96, 16, 1}));
    EXPECT_TRUE(n.attrs.b("causal"));
  }
  EXPECT_EQ(attentions, 2u);
}

}  // namespace
}  // namespace cppnn
