// Attention fusion: softmax(q k^T * scale + mask) v, as exported models spell it, becomes
// one internal attention node, which a backend runs as one kernel that never writes the
// scores (the CUDA plan: kernels/attention.cuh).
//
// Matched, walking back from each softmax over the last axis of a rank-4 tensor:
//   scores = matmul(a, b), a: q [batch, heads, sq, d], b: k^T [batch, heads, d, sk], with
//            no broadcasting between them;
//   then any of: mul or div by a scalar constant (the scale); one add of a mask that
//            broadcasts to the scores; one where(cond, scores, fill) or where(cond, fill,
//            scores) (masked_fill) with a uint8 cond that broadcasts and a scalar constant
//            fill, before the add if there is one; a scale after a mask ends the match (the
//            mask would be scaled too), and so does an add before the where (the fill
//            would not replace the sum);
//   p = softmax(scores, last axis), optionally where(isNaN(p), 0, p) (PyTorch's exported
//       scaled_dot_product_attention zeroes the rows of NaNs);
//   out = matmul(p, v), v: [batch, heads, sk, dv].
// Every intermediate of the chain must be read only by the chain. q, k and v are followed
// back through transposes and scalar mul/div (folded into the scale; not on v) to the
// tensors the split heads were transposed from; a transpose that only reads `out` is taken
// over too. So the node reads and writes those tensors in place, through strides:
//   inputs  q, k, v, mask, cond (kNoOperand: none); each of q, k, v of rank 4 (or the
//           tensor a view below reads)
//   attrs   "scale" (double); "qPermutation", "kPermutation", "vPermutation",
//           "outPermutation": logical axis i ([batch, heads, sequence, head dim]) is axis
//           perm[i] of the tensor, and perm[3] == 3 (the head dimension stays innermost);
//           "zeroNanRows" (bool); with cond: "maskFill" (double), "fillWhereTrue" (bool:
//           the score is filled where cond is true, else where it is false)
//   output  the output tensor, rank 4
//   A q, k or v whose heads were split off a larger tensor's columns (a merged projection:
//   split or slice along the last axis, then a reshape to [.., heads, head dim]) is read
//   there: the input is that tensor, and "qOffset" (int: elements), "qShape" and
//   "qStrides" (4 ints each: the rank-4 view the permutation indexes) say where (the same
//   with k and v); without them the input is the rank-4 tensor itself, contiguous.
// The mask broadcasts to [batch, heads, sq, sk] as the add did.
//
// Causal masks. A mask or cond that is a constant (after folding: on the specialized graph a
// plan compiles, a GPT-2 export's slice of its max_positions x max_positions table is one)
// whose values hide exactly the keys after the query's position plus an offset, for every
// element the kernel would read (broadcast axes included), is dropped and the node says
//   "causal" (bool) and "causalOffset" (int): key k is visible to query q iff
//   k <= q + causalOffset,
// so that a kernel computes only the key tiles a query tile sees and masks the diagonal
// tiles from indices (kernels/attention.cuh). Accepted (causal_offset below):
//   - a uint8 cond of where(cond, s, fill) (visible where true) or where(cond, fill, s)
//     (visible where false) with fill <= -1e4 or -inf;
//   - an added float mask of exactly 0 where visible and <= -1e4 (or -inf) where hidden;
//   - the offset >= 0, so that every query sees at least key 0: a row the mask hides
//     entirely is NaN with a fill of -inf and the mean of v with a finite one, and the kernel
//     could not tell them apart (such a mask stays a general one). All keys visible (a
//     decode step's mask) is causal with offset sk - 1: nothing to skip, nothing masked.
// A hidden score of -1e4 or below counts as -inf: what it leaves, exp(-1e4 - max), is 0 in
// float unless the visible scores of its row are themselves below about -9900.
// With both a cond and an added mask, one that is causal and hides with exactly -inf is
// dropped and the other kept (transformers' GPT-2: its causal where, then the padding):
// the hidden scores were -inf plus the other's value, -inf for any value but +inf or NaN.
// A finite fill plus a runtime mask is a value that depends on the mask: general path.
// Anything else (a runtime mask, one wrong element, a negative offset, a problem of over
// 2^28 mask reads) keeps the general mask path.
#include <algorithm>
#include <cmath>
#include <optional>

#include "compiler/passes.h"
#include "compiler/uses.h"
#include "core/dims.h"
#include "core/dispatch.h"

namespace cppnn::detail {

namespace {

using Perm = std::vector<int64_t>;

Perm identity() { return {0, 1, 2, 3}; }

// A scalar constant of a float type, or nullopt.
std::optional<double> scalar_constant(const GraphIR& g, OperandId id) {
  const OperandInfo& info = g.operands[size_t(id)];
  if (info.role != OperandRole::constant || !info.data || element_count(info.desc.shape) != 1) return {};
  if (info.desc.data_type != DataType::float32 && info.desc.data_type != DataType::float16) return {};
  return info.data->to_doubles().at(0);
}

// x * c, c * x or x / c for a float scalar constant c, with x of the node's output shape:
// x, and c (or 1 / c) multiplied into `scale`; otherwise kNoOperand and `scale` untouched.
OperandId scalar_factor(const GraphIR& g, const Node& n, double& scale) {
  if (n.op != OpId::mul && n.op != OpId::div) return kNoOperand;
  const OperandDescriptor& out = g.desc(n.outputs[0]);
  if (std::optional<double> c = scalar_constant(g, n.inputs[1]); c && g.desc(n.inputs[0]) == out) {
    scale *= n.op == OpId::mul ? *c : 1.0 / *c;
    return n.inputs[0];
  }
  if (n.op == OpId::mul)
    if (std::optional<double> c = scalar_constant(g, n.inputs[0]); c && g.desc(n.inputs[1]) == out) {
      scale *= *c;
      return n.inputs[1];
    }
  return kNoOperand;
}

// Read by exactly `node` (once) and not a graph output (which Uses counts as a read).
bool only_read_by(const Uses& uses, OperandId id, int32_t node) {
  return uses.count[size_t(id)] == 1 && uses.consumer[size_t(id)] == node;
}

// Follows `id` back through transposes (and, with `scales`, scalar mul/div, whose factors
// multiply `scale`) to the tensor it was made from: logical axis i of `id` is axis perm[i]
// of the returned operand.
OperandId trace(const GraphIR& g, const Uses& uses, OperandId id, Perm& perm, double* scale) {
  perm = identity();
  for (;;) {
    int32_t p = uses.producer[size_t(id)];
    if (p < 0) return id;
    const Node& n = g.nodes[size_t(p)];
    if (n.op == OpId::transpose && g.desc(n.inputs[0]).shape.size() == 4) {
      const std::vector<int64_t>& t = n.attrs.ints("permutation");
      Perm composed(4);
      for (size_t i = 0; i < 4; ++i) composed[i] = t[size_t(perm[i])];
      perm = composed;
      id = n.inputs[0];
      continue;
    }
    if (scale) {
      if (OperandId rest = scalar_factor(g, n, *scale); rest != kNoOperand) {
        id = rest;
        continue;
      }
    }
    return id;
  }
}

// A rank-4 operand that is a view of a column range of a larger tensor: the heads of one
// of the projections a merged (or exported-merged, GPT-2's c_attn) matmul computes, split
// off along the last axis (split, or a slice of unit strides) and reshaped to [.., heads,
// head dim]. Element (i0, i1, i2, i3) of the view is element offset + sum(i * strides) of
// `base`, contiguous.
struct View {
  OperandId base = kNoOperand;
  int64_t offset = 0;
  Perm shape, strides;
};

// `id` as such a view, or nullopt. The offset and row length must be multiples of 8
// elements (a kernel's 16-byte loads: kernels/attention.h).
std::optional<View> view_of(const GraphIR& g, const Uses& uses, OperandId id) {
  const int32_t r = uses.producer[size_t(id)];
  if (r < 0 || g.nodes[size_t(r)].op != OpId::reshape) return {};
  const OperandId cols = g.nodes[size_t(r)].inputs[0];
  const Dims& o = g.desc(id).shape;
  const Dims& in = g.desc(cols).shape;
  if (o.size() != 4 || in.size() < 2 || in.back() != o[2] * o[3] ||
      dims_product(in, 0, in.size() - 1) != o[0] * o[1])
    return {};
  const int32_t p = uses.producer[size_t(cols)];
  if (p < 0) return {};
  const Node& n = g.nodes[size_t(p)];
  const size_t last = in.size() - 1;
  int64_t start = 0;
  if (n.op == OpId::split && size_t(n.attrs.i("axis")) == last) {
    const std::vector<int64_t>& splits = n.attrs.ints("splits");
    size_t j = 0;
    while (j < n.outputs.size() && n.outputs[j] != cols) start += splits[j++];
    if (j == n.outputs.size()) return {};
  } else if (n.op == OpId::slice) {
    const Dims& x = g.desc(n.inputs[0]).shape;
    const std::vector<int64_t>& starts = n.attrs.ints("starts");
    for (size_t d = 0; d < x.size(); ++d)
      if (n.attrs.ints("strides")[d] != 1 || (d < last && (starts[d] != 0 || x[d] != in[d]))) return {};
    start = starts[last];
  } else {
    return {};
  }
  const Dims& x = g.desc(n.inputs[0]).shape;
  if (x.size() != in.size()) return {};
  const int64_t row = x.back();
  if (start % 8 != 0 || row % 8 != 0 || o[3] % 8 != 0) return {};
  View v;
  v.base = n.inputs[0];
  v.offset = start;
  v.shape = {o[0], o[1], o[2], o[3]};
  v.strides = {o[1] * row, row, o[3], 1};
  return v;
}

Perm inverse(const Perm& p) {
  Perm inv(p.size());
  for (size_t i = 0; i < p.size(); ++i) inv[size_t(p[i])] = int64_t(i);
  return inv;
}

// Whether `mask` broadcasts (numpy rules, aligned right) to `scores` without growing it.
bool broadcasts_to(const Dims& mask, const Dims& scores) {
  if (mask.size() > scores.size()) return false;
  size_t off = scores.size() - mask.size();
  for (size_t i = 0; i < mask.size(); ++i)
    if (mask[i] != 1 && mask[i] != scores[off + i]) return false;
  return true;
}

// Whether the constant `id` (a uint8 cond or a float mask, broadcasting to [batch, heads,
// sq, sk]) is causal, and its offset: key k visible to query q iff k <= q + offset, offset
// >= 0, for every (b, h, q, k) the kernel would read. A cond's visible keys are where it is
// true, or false with `fill_where_true`, and it hides with `fill`; a mask is 0 where visible
// and hides with values <= -1e4. With `hide_with_inf`, only -inf counts as hiding. nullopt
// for anything else (see the header).
std::optional<int64_t> causal_offset(const GraphIR& g, OperandId id, bool is_cond, bool fill_where_true,
                                     double fill, int64_t sq, int64_t sk, bool hide_with_inf) {
  constexpr double kHides = -1e4;
  if (id == kNoOperand) return {};
  const OperandInfo& info = g.operands[size_t(id)];
  if (info.role != OperandRole::constant || !info.data || sq <= 0 || sk <= 0) return {};
  if (is_cond && (std::isnan(fill) || (hide_with_inf ? fill != -INFINITY : !(fill <= kHides)))) return {};
  const Dims& shape = info.desc.shape;
  if (shape.size() > 4) return {};
  // Strides of the mask aligned right against [b, h, sq, sk], 0 along broadcast axes, and
  // its own extents along b and h (1 when broadcast).
  int64_t st[4] = {0, 0, 0, 0}, ext[4] = {1, 1, 1, 1}, stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    const size_t axis = 4 - shape.size() + i;
    st[axis] = shape[i] == 1 ? 0 : stride;
    ext[axis] = int64_t(shape[i]);
    stride *= int64_t(shape[i]);
  }
  if ((ext[2] != 1 && ext[2] != sq) || (ext[3] != 1 && ext[3] != sk)) return {};
  // Every (b, h, q, k) read once: bounded, so that a large broadcast problem costs no
  // more than a fixed time (2^28 reads, a 16k x 16k table) to compile.
  if (int64_t(info.data->element_count()) != stride || ext[0] * ext[1] > (int64_t(1) << 28) / sq / sk) return {};
  const DataType type = info.desc.data_type;
  if (is_cond ? type != DataType::uint8 : type != DataType::float16 && type != DataType::float32) return {};
  // One row of the mask, as doubles.
  std::vector<double> v(static_cast<size_t>(sk));
  auto read_row = [&](int64_t at) {
    if (type == DataType::uint8) {
      const auto* d = static_cast<const uint8_t*>(info.data->data());
      for (int64_t k = 0; k < sk; ++k) v[size_t(k)] = double(d[at + k * st[3]]);
    } else if (type == DataType::float16) {
      const auto* d = static_cast<const half*>(info.data->data());
      for (int64_t k = 0; k < sk; ++k) v[size_t(k)] = to_double(d[at + k * st[3]]);
    } else {
      const auto* d = static_cast<const float*>(info.data->data());
      for (int64_t k = 0; k < sk; ++k) v[size_t(k)] = double(d[at + k * st[3]]);
    }
  };
  auto visible = [&](double x, bool& ok) {
    if (is_cond) return (x != 0.0) != fill_where_true;
    if (x == 0.0) return true;
    ok = hide_with_inf ? x == -INFINITY : x <= kHides;  // NaN: neither
    return false;
  };
  // Each row's visible keys must be a prefix [0, n); then n = min(sk, q + offset + 1) for
  // one offset >= 0, which the first row that hides a key gives (none: all visible).
  std::vector<int64_t> visible_count;
  visible_count.reserve(size_t(ext[0] * ext[1] * sq));
  std::optional<int64_t> offset;
  for (int64_t b = 0; b < ext[0]; ++b)
    for (int64_t h = 0; h < ext[1]; ++h)
      for (int64_t q = 0; q < sq; ++q) {
        read_row(b * st[0] + h * st[1] + q * st[2]);
        int64_t n = 0;
        bool ok = true, hidden_seen = false;
        for (int64_t k = 0; k < sk; ++k) {
          const bool vis = visible(v[size_t(k)], ok);
          if (!ok || (vis && hidden_seen)) return {};
          if (vis) ++n;
          else hidden_seen = true;
        }
        if (n < sk && !offset) offset = n - 1 - q;
        visible_count.push_back(n);
      }
  if (!offset) offset = sk - 1;
  if (*offset < 0) return {};
  size_t i = 0;
  for (int64_t bh = 0; bh < ext[0] * ext[1]; ++bh)
    for (int64_t q = 0; q < sq; ++q)
      if (visible_count[i++] != std::min(sk, q + *offset + 1)) return {};
  return offset;
}

bool try_fuse(GraphIR& g, const Uses& uses, size_t softmax_index, const PassOptions& options) {
  const Node& sm = g.nodes[softmax_index];
  const int32_t smi = int32_t(softmax_index);
  const Dims& sshape = g.desc(sm.outputs[0]).shape;
  if (sshape.size() != 4 || sm.attrs.i("axis") != 3) return false;

  // After the softmax: matmul(p, v), or where(isNaN(p), 0, p) first.
  OperandId p = sm.outputs[0];
  std::vector<int32_t> chain = {smi};
  bool zero_nan_rows = false;
  OperandId probs = p;
  if (uses.count[size_t(p)] == 2) {
    // Two nodes read p (a graph output counts as a read: then only one node does).
    std::vector<int32_t> two;
    for (size_t n = 0; n < g.nodes.size(); ++n)
      if (g.nodes[n].op != OpId::none)
        for (OperandId in : g.nodes[n].inputs)
          if (in == p) two.push_back(int32_t(n));
    if (two.size() != 2) return false;
    int32_t a = two[0], b = two[1];
    if (g.nodes[size_t(a)].op == OpId::where) std::swap(a, b);
    const Node& isnan = g.nodes[size_t(a)];
    const Node& where = g.nodes[size_t(b)];
    if (isnan.op != OpId::isNaN || where.op != OpId::where || where.inputs[0] != isnan.outputs[0] ||
        where.inputs[2] != p || !only_read_by(uses, isnan.outputs[0], b))
      return false;
    std::optional<double> zero = scalar_constant(g, where.inputs[1]);
    if (!zero || *zero != 0.0) return false;
    zero_nan_rows = true;
    probs = where.outputs[0];
    chain.push_back(a), chain.push_back(b);
  }
  if (uses.count[size_t(probs)] != 1 || uses.consumer[size_t(probs)] < 0) return false;
  const int32_t m2i = uses.consumer[size_t(probs)];
  const Node& m2 = g.nodes[size_t(m2i)];
  if (m2.op != OpId::matmul || m2.inputs.size() < 2 || m2.inputs[0] != probs || m2.inputs[1] == probs ||
      (m2.inputs.size() > 2 && m2.inputs[2] != kNoOperand) || m2.attrs.has("activation"))
    return false;

  // Before the softmax: scale and mask nodes back to matmul(q, k^T).
  double scale = 1.0;
  OperandId mask = kNoOperand, cond = kNoOperand;
  double fill = 0.0;
  bool fill_where_true = false;
  bool scaled_after_mask = false;
  bool cond_before_add_seen = false;  // walking back, a where came first: it is the later
  OperandId x = sm.inputs[0];
  int32_t next = smi;
  for (;;) {
    if (!only_read_by(uses, x, next)) return false;
    int32_t pi = uses.producer[size_t(x)];
    if (pi < 0) return false;
    const Node& n = g.nodes[size_t(pi)];
    if (n.op == OpId::matmul) break;
    if (n.op == OpId::mul || n.op == OpId::div) {
      OperandId rest = scalar_factor(g, n, scale);
      if (rest == kNoOperand) return false;
      if (mask == kNoOperand && cond == kNoOperand) scaled_after_mask = true;
      chain.push_back(pi), x = rest, next = pi;
      continue;
    }
    if (n.op == OpId::where && cond == kNoOperand) {
      // where(c, x, f): filled where c is false; where(c, f, x): where it is true.
      std::optional<double> f = scalar_constant(g, n.inputs[2]);
      bool x_first = f.has_value() && g.desc(n.inputs[1]) == g.desc(x);
      if (!x_first) f = scalar_constant(g, n.inputs[1]);
      OperandId rest = x_first ? n.inputs[1] : n.inputs[2];
      const OperandDescriptor& c = g.desc(n.inputs[0]);
      if (!f || rest == n.inputs[0] || !(g.desc(rest) == g.desc(x)) || c.data_type != DataType::uint8 ||
          !broadcasts_to(c.shape, g.desc(x).shape) || scaled_after_mask)
        return false;
      // Walking back: a where met before an add would be applied after it.
      cond = n.inputs[0], fill = *f, fill_where_true = !x_first;
      if (mask == kNoOperand) cond_before_add_seen = true;
      chain.push_back(pi), x = rest, next = pi;
      continue;
    }
    if (n.op == OpId::add && mask == kNoOperand) {
      if (cond_before_add_seen) return false;  // add(...) then where: the fill replaces the sum
      // The side that has the scores' shape continues the chain; the other is the mask.
      OperandId a = n.inputs[0], b = n.inputs[1];
      if (!(g.desc(a) == g.desc(x))) std::swap(a, b);
      if (!(g.desc(a) == g.desc(x)) || !broadcasts_to(g.desc(b).shape, g.desc(x).shape)) return false;
      if (scaled_after_mask) return false;  // (s + mask) * c: the mask would need scaling
      mask = b;
      chain.push_back(pi), x = a, next = pi;
      continue;
    }
    return false;
  }
  const int32_t m1i = uses.producer[size_t(x)];
  const Node& m1 = g.nodes[size_t(m1i)];
  if ((m1.inputs.size() > 2 && m1.inputs[2] != kNoOperand) || m1.attrs.has("activation")) return false;
  chain.push_back(m1i);

  const Dims& qs = g.desc(m1.inputs[0]).shape;
  const Dims& kts = g.desc(m1.inputs[1]).shape;
  const Dims& vs = g.desc(m2.inputs[1]).shape;
  if (qs.size() != 4 || kts.size() != 4 || vs.size() != 4) return false;
  for (size_t i = 0; i < 2; ++i)
    if (qs[i] != kts[i] || qs[i] != vs[i]) return false;
  if (qs[3] != kts[2] || kts[3] != vs[2]) return false;

  Perm qp, ktp, vp;
  OperandId q = trace(g, uses, m1.inputs[0], qp, &scale);
  OperandId kt = trace(g, uses, m1.inputs[1], ktp, &scale);
  OperandId v = trace(g, uses, m2.inputs[1], vp, nullptr);
  Perm kp = {ktp[0], ktp[1], ktp[3], ktp[2]};  // k = k^T with its last two axes swapped
  if (qp[3] != 3 || kp[3] != 3 || vp[3] != 3) return false;
  // Heads split off a merged projection: read where the projection wrote them.
  const std::optional<View> qv = view_of(g, uses, q), kv = view_of(g, uses, kt), vv = view_of(g, uses, v);

  // The output: in place of a transpose that alone reads it.
  OperandId out = m2.outputs[0];
  Perm op = identity();
  int32_t out_transpose = -1;
  if (uses.count[size_t(out)] == 1 && uses.consumer[size_t(out)] >= 0) {
    const Node& t = g.nodes[size_t(uses.consumer[size_t(out)])];
    if (t.op == OpId::transpose && t.attrs.ints("permutation")[3] == 3) {
      out_transpose = uses.consumer[size_t(out)];
      op = inverse(Perm(t.attrs.ints("permutation")));
      out = t.outputs[0];
    }
  }

  // A constant causal mask or cond is dropped for "causal" (the header says when).
  std::optional<int64_t> causal;
  if (cond != kNoOperand && mask == kNoOperand) {
    causal = causal_offset(g, cond, true, fill_where_true, fill, qs[2], kts[3], false);
    if (causal) cond = kNoOperand;
  } else if (mask != kNoOperand && cond == kNoOperand) {
    causal = causal_offset(g, mask, false, false, 0.0, qs[2], kts[3], false);
    if (causal) mask = kNoOperand;
  } else if (mask != kNoOperand && cond != kNoOperand) {
    // The hidden scores become -inf plus the other's value (or fill): both hide with -inf.
    causal = causal_offset(g, cond, true, fill_where_true, fill, qs[2], kts[3], true);
    if (causal) {
      cond = kNoOperand;
    } else if (!std::isnan(fill) && fill != INFINITY) {
      causal = causal_offset(g, mask, false, false, 0.0, qs[2], kts[3], true);
      if (causal) mask = kNoOperand;
    }
  }

  AttentionCandidate c;
  c.batch = qs[0], c.heads = qs[1], c.query_length = qs[2], c.key_length = kts[3];
  c.head_dim = qs[3], c.value_dim = vs[3];
  c.data_type = g.desc(q).data_type;
  for (OperandId id : {kt, v, out})
    if (g.desc(id).data_type != c.data_type) return false;
  c.masked = mask != kNoOperand;
  c.conditioned = cond != kNoOperand;
  c.causal = causal.has_value();
  if (c.masked) c.mask_type = g.desc(mask).data_type;
  if (!options.attention(c)) return false;

  Node fused;
  fused.op = OpId::attention;
  fused.inputs = {qv ? qv->base : q, kv ? kv->base : kt, vv ? vv->base : v, mask, cond};
  fused.outputs = {out};
  fused.label = m2.label.empty() ? sm.label : m2.label;
  fused.attrs.set("scale", scale);
  fused.attrs.set("qPermutation", qp);
  fused.attrs.set("kPermutation", kp);
  fused.attrs.set("vPermutation", vp);
  fused.attrs.set("outPermutation", op);
  for (const auto& [prefix, view] : {std::pair{"q", &qv}, std::pair{"k", &kv}, std::pair{"v", &vv}}) {
    if (!*view) continue;
    fused.attrs.set(std::string(prefix) + "Offset", (*view)->offset);
    fused.attrs.set(std::string(prefix) + "Shape", (*view)->shape);
    fused.attrs.set(std::string(prefix) + "Strides", (*view)->strides);
  }
  fused.attrs.set_bool("zeroNanRows", zero_nan_rows);
  if (cond != kNoOperand) {
    fused.attrs.set("maskFill", fill);
    fused.attrs.set_bool("fillWhereTrue", fill_where_true);
  }
  fused.attrs.set_bool("causal", causal.has_value());
  if (causal) fused.attrs.set("causalOffset", *causal);
  for (int32_t n : chain) g.nodes[size_t(n)].op = OpId::none;
  if (out_transpose >= 0) g.nodes[size_t(out_transpose)].op = OpId::none;
  g.nodes[size_t(m2i)] = std::move(fused);
  return true;
}

}  // namespace

void fuse_attention(GraphIR& g, const PassOptions& options) {
  if (!options.attention) return;
  Uses uses(g);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    // A fusion kills nodes and moves an output: the read and write map is made again.
    if (g.nodes[n].op == OpId::softmax && try_fuse(g, uses, n, options)) uses = Uses(g);
  }
}

}  // namespace cppnn::detail
