#pragma once
// The internal attention node (made by fuse_attention, src/compiler/fuse_attention.cpp,
// which documents its inputs and attributes) as the CPU kernel reads it
// (matmul_attention.cpp), and which candidates the CPU backend takes. Plain inline code
// outside the instruction-set levels: the plan (cpu_backend.cpp), the thread estimate
// (threads.cpp) and every level's kernel read the node alike.
#include <algorithm>
#include <string>

#include "compiler/passes.h"
#include "core/dims.h"
#include "cppnn/error.h"
#include "graph/ir.h"

namespace cppnn::detail {

// q, k, v or the output: logical element (b, h, s, e) ([batch, heads, sequence, head dim])
// is element offset + b * sb + h * sh + s * ss + e of the operand's data (the head
// dimension stays innermost: the pass only fuses such permutations).
struct AttentionView {
  int64_t offset = 0, sb = 0, sh = 0, ss = 0;
  int64_t dim[4] = {0, 0, 0, 0};  // logical extents
};

// A mask's or cond's strides aligned right against [batch, heads, sq, sk]; 0 along
// broadcast axes.
struct AttentionBroadcast {
  int64_t b = 0, h = 0, q = 0, k = 0;
};

struct AttentionProblem {
  int64_t batch = 0, heads = 0, sq = 0, sk = 0, d = 0, dv = 0;
  AttentionView q, k, v, out;
  float scale = 1;
  bool masked = false, conditioned = false;
  AttentionBroadcast mask, cond;
  float fill = 0;
  bool fill_where_true = false;
  bool causal = false;
  int64_t causal_offset = 0;
  bool zero_nan_rows = false;
};

// Input `id` of the node named `name` ("q", "k", "v"; "out" for the output): the operand
// itself (contiguous, rank 4) or the view of a merged projection's columns that the
// "<name>Offset", "<name>Shape" and "<name>Strides" attributes give.
inline AttentionView attention_view(const GraphIR& g, const Node& node, OperandId id,
                                    const std::string& name) {
  const std::vector<int64_t>& perm = node.attrs.ints(name + "Permutation");
  int64_t shape[4], strides[4], offset = 0;
  if (node.attrs.has(name + "Shape")) {
    const std::vector<int64_t>& s = node.attrs.ints(name + "Shape");
    const std::vector<int64_t>& st = node.attrs.ints(name + "Strides");
    if (s.size() != 4 || st.size() != 4 || st[3] != 1)
      fail(ErrorKind::NotSupportedError, "attention: a view of '" + name + "' that is not [b, h, s, d] with unit d stride");
    for (size_t a = 0; a < 4; ++a) shape[a] = s[a], strides[a] = st[a];
    offset = node.attrs.i(name + "Offset");
  } else {
    const Dims& s = g.desc(id).shape;
    if (s.size() != 4) fail(ErrorKind::NotSupportedError, "attention: '" + name + "' is not of rank 4");
    for (size_t a = 0; a < 4; ++a) shape[a] = int64_t(s[a]), strides[a] = dims_product(s, a + 1, 4);
  }
  if (perm.size() != 4 || perm[3] != 3)
    fail(ErrorKind::NotSupportedError, "attention: the head dimension of '" + name + "' is not innermost");
  AttentionView v;
  v.offset = offset;
  for (size_t i = 0; i < 4; ++i) v.dim[i] = shape[size_t(perm[i])];
  v.sb = strides[size_t(perm[0])], v.sh = strides[size_t(perm[1])], v.ss = strides[size_t(perm[2])];
  return v;
}

inline AttentionBroadcast attention_broadcast(const Dims& shape) {
  int64_t st[4] = {0, 0, 0, 0}, stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    const size_t axis = 4 - shape.size() + i;
    st[axis] = shape[i] == 1 ? 0 : stride;
    stride *= int64_t(shape[i]);
  }
  return {st[0], st[1], st[2], st[3]};
}

inline AttentionProblem attention_problem(const GraphIR& g, const Node& node) {
  AttentionProblem p;
  p.q = attention_view(g, node, node.inputs[0], "q");
  p.k = attention_view(g, node, node.inputs[1], "k");
  p.v = attention_view(g, node, node.inputs[2], "v");
  p.out = attention_view(g, node, node.outputs[0], "out");
  p.batch = p.q.dim[0], p.heads = p.q.dim[1], p.sq = p.q.dim[2], p.d = p.q.dim[3];
  p.sk = p.k.dim[2], p.dv = p.v.dim[3];
  for (const AttentionView* x : {&p.k, &p.v, &p.out})
    if (x->dim[0] != p.batch || x->dim[1] != p.heads)
      fail(ErrorKind::NotSupportedError, "attention: q, k, v and the output disagree on batch or heads");
  if (p.k.dim[3] != p.d || p.v.dim[2] != p.sk || p.out.dim[2] != p.sq || p.out.dim[3] != p.dv)
    fail(ErrorKind::NotSupportedError, "attention: q, k, v and the output disagree on their sizes");
  p.scale = float(node.attrs.f("scale"));
  p.zero_nan_rows = node.attrs.b("zeroNanRows");
  p.causal = node.attrs.i_or("causal", 0) != 0;
  if (p.causal) p.causal_offset = node.attrs.i("causalOffset");
  auto present = [&](size_t i) { return node.inputs.size() > i && node.inputs[i] != kNoOperand; };
  if (present(3)) {
    const Dims& m = g.desc(node.inputs[3]).shape;
    if (m.size() > 4) fail(ErrorKind::NotSupportedError, "attention: a mask of rank above 4");
    p.masked = true;
    p.mask = attention_broadcast(m);
  }
  if (present(4)) {
    const Dims& c = g.desc(node.inputs[4]).shape;
    if (c.size() > 4) fail(ErrorKind::NotSupportedError, "attention: a cond of rank above 4");
    p.conditioned = true;
    p.cond = attention_broadcast(c);
    p.fill = float(node.attrs.f("maskFill"));
    p.fill_where_true = node.attrs.b("fillWhereTrue");
  }
  return p;
}

// The candidates the CPU kernel takes: float32 q, k, v and output, a float32 mask if any
// (the kernel computes in float32 and reads the mask as it is). Any head dims, lengths,
// cond, causal offset. Float16 and bfloat16 graphs keep the unfused ops.
inline bool cpu_attention_takes(const AttentionCandidate& c) {
  return c.data_type == DataType::float32 && (!c.masked || c.mask_type == DataType::float32) &&
         c.batch > 0 && c.heads > 0 && c.query_length > 0 && c.key_length > 0 && c.head_dim > 0 &&
         c.value_dim > 0;
}

// Multiply-adds and exps of one run, for the thread estimate (threads.cpp).
inline void attention_work(const GraphIR& g, const Node& node, double& flops, double& exps) {
  const AttentionView q = attention_view(g, node, node.inputs[0], "q");
  const AttentionView k = attention_view(g, node, node.inputs[1], "k");
  const AttentionView v = attention_view(g, node, node.inputs[2], "v");
  const double pairs = double(q.dim[0]) * double(q.dim[1]) * double(q.dim[2]) * double(k.dim[2]);
  flops = 2 * pairs * double(q.dim[3] + v.dim[3]);
  exps = pairs;
}

}  // namespace cppnn::detail
