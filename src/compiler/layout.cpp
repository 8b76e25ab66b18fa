// Layout choice: run convolutions (and the pools between them) in NHWC (channels last), the layout the CPU's
// oneDNN kernels and the GPU's tensor cores are fastest in, while the graph keeps its
// NCHW interface. Each NCHW conv/pool gets transposes around it; transposes then sink
// through layout-agnostic element-wise ops and cancel in pairs, so a chain of convs runs
// channels-last from end to end with one transpose at each edge of the chain.
#include <algorithm>

#include "compiler/passes.h"
#include "graph/op_table.h"

namespace cppnn::detail {

namespace {

const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};
const std::vector<int64_t> kToNchw = {0, 3, 1, 2};
// A 1-D convolution's [N, L, C] back to [N, C, L] (channels first, rank 3).
const std::vector<int64_t> kToNcl = {0, 2, 1};

Dims permuted(const Dims& shape, const std::vector<int64_t>& perm) {
  Dims out(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) out[i] = shape[size_t(perm[i])];
  return out;
}

class Rewriter {
 public:
  explicit Rewriter(GraphIR& g) : g_(g) {}

  OperandId new_operand(const OperandDescriptor& desc) {
    g_.operands.push_back(OperandInfo{desc, OperandRole::intermediate, {}, nullptr});
    return OperandId(g_.operands.size() - 1);
  }

  // A transpose node writing `out` (which must already have the permuted descriptor).
  Node transpose(OperandId in, OperandId out, const std::vector<int64_t>& perm) {
    Node n{OpId::transpose, {in}, {out}, {}, {}};
    n.attrs.set("permutation", perm);
    return n;
  }

  // Step 1: every NCHW conv2d runs in NHWC between two transposes. A conv that
  // fuse_producers already fused (an engine's graph, optimized again by its backend) moves
  // too: its bias is 1-D and its activation element-wise, so neither cares, and its
  // residual (input 3, the output's descriptor) is transposed in as its input is, so that
  // the pass lays out a fused graph as it lays out the graph before fusion.
  void wrap_nchw_ops() {
    std::vector<Node> nodes;
    for (Node& node : g_.nodes) {
      bool conv = (node.op == OpId::conv2d || node.op == OpId::convTranspose2d) &&
                  node.attrs.s_or("inputLayout", "nchw") == "nchw";
      // Pools are not wrapped: alone they would pay two transposes for nothing. They join
      // a channels-last chain when a transpose sinks into them (sink_through_pool).
      if (!conv || node.outputs.size() != 1) {
        nodes.push_back(std::move(node));
        continue;
      }
      OperandId x = node.inputs[0];
      OperandId x_nhwc = new_operand({g_.desc(x).data_type, permuted(g_.desc(x).shape, kToNhwc)});
      nodes.push_back(transpose(x, x_nhwc, kToNhwc));
      if (node.op == OpId::conv2d && node.inputs.size() > 3 && node.inputs[3] != kNoOperand) {
        OperandId r = node.inputs[3];
        OperandId r_nhwc = x_nhwc;
        if (r != x) {
          r_nhwc = new_operand({g_.desc(r).data_type, permuted(g_.desc(r).shape, kToNhwc)});
          nodes.push_back(transpose(r, r_nhwc, kToNhwc));
        }
        node.inputs[3] = r_nhwc;
      }
      OperandId y = node.outputs[0];
      OperandId y_nhwc = new_operand({g_.desc(y).data_type, permuted(g_.desc(y).shape, kToNhwc)});
      node.inputs[0] = x_nhwc;
      node.outputs[0] = y_nhwc;
      node.attrs.set("inputLayout", std::string("nhwc"));
      nodes.push_back(std::move(node));
      nodes.push_back(transpose(y_nhwc, y, kToNchw));
    }
    g_.nodes = std::move(nodes);
  }

  // Step 2, repeated until nothing changes: cancel transpose pairs, sink transposes below
  // element-wise ops, and turn transposes that only move size-1 axes into reshapes.
  bool simplify_once() {
    count_uses();
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      Node& n = g_.nodes[i];
      if (n.op == OpId::transpose && (cancel_pair(n) || to_reshape(n))) return true;
      // The element-wise ops a transpose may sink through are marked in ops.def.
      if (op_has(n.op, OpTrait::LayoutAgnostic) && sink_through(i)) return true;
      if (is_pool(n) && sink_through_pool(i)) return true;
      if (is_reduction(n) && sink_through_reduce(i)) return true;
      if ((n.op == OpId::concat || n.op == OpId::batchNormalization) && sink_through_axis_op(i))
        return true;
      if (n.op == OpId::resample2d && sink_through_resample(i)) return true;
      if ((n.op == OpId::split || n.op == OpId::slice) && sink_through_split_or_slice(i)) return true;
      if (n.op == OpId::reshape && (sink_through_channel_shuffle(i) || sink_through_unit_reshape(i)))
        return true;
    }
    return false;
  }

 private:
  void count_uses() {
    producer_.assign(g_.operands.size(), -1);
    for (size_t i = 0; i < g_.nodes.size(); ++i)
      for (OperandId o : g_.nodes[i].outputs) producer_[size_t(o)] = int32_t(i);
  }

  const Node* producer_of(OperandId id) const {
    int32_t p = producer_[size_t(id)];
    return p < 0 ? nullptr : &g_.nodes[size_t(p)];
  }

  bool is_graph_output(OperandId id) const {
    for (const auto& [_, o] : g_.outputs)
      if (o == id) return true;
    return false;
  }

  void replace_uses(OperandId from, OperandId to) {
    for (Node& n : g_.nodes)
      for (OperandId& in : n.inputs)
        if (in == from) in = to;
  }

  // transpose(transpose(x, p), q) with p∘q = identity: readers use x.
  bool cancel_pair(Node& outer) {
    const Node* inner = producer_of(outer.inputs[0]);
    if (!inner || inner->op != OpId::transpose || is_graph_output(outer.outputs[0])) return false;
    const auto& p = inner->attrs.ints("permutation");
    const auto& q = outer.attrs.ints("permutation");
    if (p.size() != q.size()) return false;
    for (size_t i = 0; i < q.size(); ++i)
      if (p[size_t(q[i])] != int64_t(i)) return false;
    OperandId x = inner->inputs[0];
    OperandId y = outer.outputs[0];
    outer.op = OpId::none;
    outer.outputs.clear();
    replace_uses(y, x);
    compact();
    return true;
  }

  // A transpose that keeps the order of all axes longer than 1 moves no bytes.
  bool to_reshape(Node& t) { return transpose_to_reshape(g_, t); }

  // E(transpose(z, P), c) -> transpose(E(z, c'), P) where every non-constant input of E
  // comes from a transpose with the same P and constants are permuted to match.
  bool sink_through(size_t index) {
    Node& e = g_.nodes[index];
    if (e.outputs.size() != 1) return false;
    const std::vector<int64_t>* perm = nullptr;
    for (OperandId in : e.inputs) {
      if (in == kNoOperand || g_.operands[size_t(in)].role == OperandRole::constant) continue;
      const Node* t = producer_of(in);
      if (!t || t->op != OpId::transpose) continue;
      const auto& p = t->attrs.ints("permutation");
      if (perm && *perm != p) return false;
      perm = &p;
    }
    // Only back-to-NCHW transposes (or a 1-D convolution's back to [N, C, L]) move down, so
    // the element-wise op lands channels-last; moving both directions would let an op with
    // one input of each layout flip forever.
    if (!perm || (*perm != kToNchw && *perm != kToNcl)) return false;
    std::vector<int64_t> P = *perm;
    size_t rank = P.size();
    std::vector<int64_t> inverse(rank);
    for (size_t i = 0; i < rank; ++i) inverse[size_t(P[i])] = int64_t(i);
    OperandId y = e.outputs[0];
    if (g_.desc(y).shape.size() != rank) return false;

    std::vector<OperandId> new_inputs;
    std::vector<Node> before;  // reshapes of broadcast operands, placed before the op
    for (OperandId in : e.inputs) {
      if (in == kNoOperand) {
        new_inputs.push_back(in);
      } else if (g_.operands[size_t(in)].role == OperandRole::constant) {
        OperandId c = permute_constant(in, inverse, rank);
        if (c == kNoOperand) return false;
        new_inputs.push_back(c);
      } else if (const Node* t = producer_of(in); t && t->op == OpId::transpose) {
        new_inputs.push_back(t->inputs[0]);
      } else {
        // An untransposed input (a residual branch, say) joins only if the graph already
        // has it in the other layout, so sinking never adds a transpose.
        // One whose transpose would move only size-1 axes (a squeeze-excite scale
        // [N, C, 1, 1], a per-channel row) joins through a reshape, which moves no bytes.
        OperandId other = existing_transpose(in, inverse, index);
        if (other == kNoOperand) {
          const OperandDescriptor& d = g_.desc(in);
          if (d.shape.size() != rank || !moves_only_unit_axes(d.shape, inverse)) return false;
          other = new_operand({d.data_type, permuted(d.shape, inverse)});
          Node r{OpId::reshape, {in}, {other}, {}, {}};
          const Dims& shape = g_.desc(other).shape;
          r.attrs.set("newShape", std::vector<int64_t>(shape.begin(), shape.end()));
          before.push_back(std::move(r));
        }
        new_inputs.push_back(other);
      }
    }
    OperandId z = new_operand({g_.desc(y).data_type, permuted(g_.desc(y).shape, inverse)});
    Node moved = e;
    moved.inputs = new_inputs;
    moved.outputs = {z};
    Node t = transpose(z, y, P);
    g_.nodes[index] = std::move(moved);
    g_.nodes.insert(g_.nodes.begin() + long(index) + 1, std::move(t));
    g_.nodes.insert(g_.nodes.begin() + long(index), before.begin(), before.end());
    return true;
  }

  // concat / batchNormalization (every transposed input back to NCHW) ->
  // transpose(op(inputs in NHWC, axis remapped), to NCHW): DenseNet's concat of its layers
  // and the batch norm before each conv (which folds into no conv) stay channels-last.
  // batchNormalization's mean, variance, scale and bias are 1-D along the axis: unchanged.
  bool sink_through_axis_op(size_t index) {
    Node& n = g_.nodes[index];
    if (n.outputs.size() != 1 || n.inputs.empty()) return false;
    size_t moved_inputs = n.op == OpId::concat ? n.inputs.size() : 1;
    std::vector<OperandId> sources;
    for (size_t k = 0; k < moved_inputs; ++k) {
      const Node* t = n.inputs[k] == kNoOperand ? nullptr : producer_of(n.inputs[k]);
      if (!t || t->op != OpId::transpose || t->attrs.ints("permutation") != kToNchw) return false;
      sources.push_back(t->inputs[0]);
    }
    OperandId y = n.outputs[0];
    if (g_.desc(y).shape.size() != 4) return false;
    int64_t axis = n.attrs.i_or("axis", 1);
    if (axis < 0 || axis >= 4) return false;
    Node moved = n;
    for (size_t k = 0; k < moved_inputs; ++k) moved.inputs[k] = sources[k];
    moved.attrs.set("axis", kToNchw[size_t(axis)]);
    place_in_nhwc(index, std::move(moved));
    return true;
  }

  // resample2d(transpose(z, to NCHW), axes) -> transpose(resample2d(z, axes in NHWC), to
  // NCHW): a feature pyramid's upsampling stays channels-last (PP-OCR's detector had a
  // transpose pair around each of its six Resize nodes). Sizes and scales follow their axes.
  bool sink_through_resample(size_t index) {
    Node& n = g_.nodes[index];
    if (n.outputs.size() != 1 || n.inputs.size() != 1) return false;
    const Node* t = producer_of(n.inputs[0]);
    if (!t || t->op != OpId::transpose || t->attrs.ints("permutation") != kToNchw) return false;
    if (g_.desc(n.outputs[0]).shape.size() != 4) return false;
    std::vector<int64_t> axes = n.attrs.ints("axes");
    for (int64_t& a : axes) {
      if (a < 0 || a >= 4) return false;
      a = kToNchw[size_t(a)];
    }
    Node moved = n;
    moved.inputs[0] = t->inputs[0];
    moved.attrs.set("axes", axes);
    place_in_nhwc(index, std::move(moved));
    return true;
  }

  // split / slice (the input back to NCHW) -> the op on the NHWC tensor, its axis (split)
  // or per-axis lists (slice) remapped, each output transposed back: ShuffleNet's channel
  // halves (x.chunk(2, dim=1)) stay channels-last. Only where every output has a reader
  // that wants NHWC (a conv's transpose in, a concat, an element-wise op), so that the
  // transposes it adds cancel rather than add up.
  bool sink_through_split_or_slice(size_t index) {
    Node& n = g_.nodes[index];
    if (n.inputs.size() != 1 || n.outputs.empty()) return false;
    const Node* t = producer_of(n.inputs[0]);
    if (!t || t->op != OpId::transpose || t->attrs.ints("permutation") != kToNchw) return false;
    if (g_.desc(n.inputs[0]).shape.size() != 4) return false;
    for (OperandId out : n.outputs)
      if (is_graph_output(out) || !read_in_nhwc(out)) return false;
    Node moved = n;
    moved.inputs[0] = t->inputs[0];
    if (n.op == OpId::split) {
      int64_t axis = n.attrs.i_or("axis", -1);
      if (axis < 0 || axis >= 4) return false;
      moved.attrs.set("axis", kToNchw[size_t(axis)]);
    } else {
      for (const char* key : {"starts", "sizes", "strides"}) {
        if (!n.attrs.has(key) || n.attrs.ints(key).size() != 4) return false;
        moved.attrs.set(key, std::vector<int64_t>(permuted(n.attrs.ints(key), kToNhwc)));
      }
    }
    place_in_nhwc(index, std::move(moved));
    return true;
  }

  // Whether some reader of `id` would take it channels-last: a transpose to NHWC (a
  // wrapped conv's), or a concat or element-wise op that a back-to-NCHW transpose sinks
  // through.
  bool read_in_nhwc(OperandId id) const {
    for (const Node& r : g_.nodes) {
      if (std::find(r.inputs.begin(), r.inputs.end(), id) == r.inputs.end()) continue;
      if (r.op == OpId::transpose && r.attrs.ints("permutation") == kToNhwc) return true;
      if (r.op == OpId::concat || op_has(r.op, OpTrait::LayoutAgnostic)) return true;
    }
    return false;
  }

  // The one node that reads `id` (nullptr if none, several, or `id` is a graph output).
  Node* only_reader(OperandId id) {
    if (is_graph_output(id)) return nullptr;
    Node* found = nullptr;
    for (Node& r : g_.nodes)
      for (OperandId in : r.inputs)
        if (in == id) {
          if (found && found != &r) return nullptr;
          found = &r;
        }
    return found;
  }

  // ShuffleNet's channel shuffle on an input back to NCHW, reshape [N, C, H, W] ->
  // [N, g, C/g, H, W], transpose (0, 2, 1, 3, 4), reshape to [N, C, H, W], becomes the same
  // shuffle of the NHWC tensor, reshape [N, H, W, g, C/g], transpose (0, 1, 2, 4, 3),
  // reshape [N, H, W, C], and one transpose back to NCHW after it (which then sinks on, or
  // cancels against the next conv's).
  bool sink_through_channel_shuffle(size_t index) {
    Node& r1 = g_.nodes[index];
    if (r1.inputs.size() != 1 || r1.outputs.size() != 1) return false;
    const Node* t = producer_of(r1.inputs[0]);
    if (!t || t->op != OpId::transpose || t->attrs.ints("permutation") != kToNchw) return false;
    const Dims x = g_.desc(r1.inputs[0]).shape;
    const Dims a = g_.desc(r1.outputs[0]).shape;
    if (x.size() != 4 || a.size() != 5 || a[0] != x[0] || a[3] != x[2] || a[4] != x[3] ||
        a[1] * a[2] != x[1])
      return false;
    Node* t1 = only_reader(r1.outputs[0]);
    if (!t1 || t1->op != OpId::transpose ||
        t1->attrs.ints("permutation") != std::vector<int64_t>{0, 2, 1, 3, 4})
      return false;
    Node* r2 = only_reader(t1->outputs[0]);
    if (!r2 || r2->op != OpId::reshape || g_.desc(r2->outputs[0]).shape != x) return false;
    const DataType type = g_.desc(r1.inputs[0]).data_type;
    const int64_t n = x[0], c = x[1], h = x[2], w = x[3], groups = a[1], per = a[2];
    OperandId split = new_operand({type, {n, h, w, groups, per}});
    OperandId swapped = new_operand({type, {n, h, w, per, groups}});
    OperandId merged = new_operand({type, {n, h, w, c}});
    OperandId y = r2->outputs[0];
    r1.inputs[0] = t->inputs[0];
    r1.outputs[0] = split;
    r1.attrs.set("newShape", std::vector<int64_t>{n, h, w, groups, per});
    *t1 = transpose(split, swapped, {0, 1, 2, 4, 3});
    r2->inputs[0] = swapped;
    r2->outputs[0] = merged;
    r2->attrs.set("newShape", std::vector<int64_t>{n, h, w, c});
    size_t after = size_t(r2 - g_.nodes.data()) + 1;
    g_.nodes.insert(g_.nodes.begin() + long(after), transpose(merged, y, kToNchw));
    return true;
  }

  // A 1-D convolution (ONNX Conv over [N, C, L], imported as a conv2d over a height of 1
  // between reshapes) stays channels-last through the reshapes around it:
  // - reshape [N, C, 1, L] -> [N, C, L] of a back-to-NCHW transpose of z [N, 1, L, C]
  //   becomes reshape(z) -> [N, L, C] and a rank-3 transpose back to [N, C, L] (kToNcl);
  // - reshape [N, C, L] -> [N, C, 1, L] of such a rank-3 transpose of y [N, L, C] becomes
  //   reshape(y) -> [N, 1, L, C] and a back-to-NCHW transpose, which cancels against the
  //   next conv's way in.
  // (The same with the unit axis last.) Whisper's stem, conv -> GELU -> conv -> GELU ->
  // permute(0, 2, 1), had five transposes around it (7% of its GPU time at batch 8).
  bool sink_through_unit_reshape(size_t index) {
    Node& r = g_.nodes[index];
    if (r.inputs.size() != 1 || r.outputs.size() != 1) return false;
    const Node* t = producer_of(r.inputs[0]);
    if (!t || t->op != OpId::transpose) return false;
    const std::vector<int64_t>& perm = t->attrs.ints("permutation");
    const Dims in = g_.desc(r.inputs[0]).shape, out = g_.desc(r.outputs[0]).shape;
    Dims moved_shape;
    std::vector<int64_t> back;
    if (perm == kToNchw && in.size() == 4 && out.size() == 3 && out[0] == in[0] && out[1] == in[1] &&
        ((in[2] == 1 && out[2] == in[3]) || (in[3] == 1 && out[2] == in[2]))) {
      moved_shape = {in[0], out[2], in[1]};  // [N, L, C]
      back = kToNcl;
    } else if (perm == kToNcl && in.size() == 3 && out.size() == 4 && out[0] == in[0] &&
               out[1] == in[1] && ((out[2] == 1 && out[3] == in[2]) || (out[3] == 1 && out[2] == in[2]))) {
      moved_shape = permuted(out, kToNhwc);  // [N, 1, L, C] or [N, L, 1, C]
      back = kToNchw;
    } else {
      return false;
    }
    Node moved = r;
    moved.inputs[0] = t->inputs[0];
    moved.attrs.set("newShape", std::vector<int64_t>(moved_shape.begin(), moved_shape.end()));
    place_in_nhwc(index, std::move(moved), back);
    return true;
  }

  static bool is_reduction(const Node& n) {
    return op_kind(n.op) == OpKind::reduction && n.op != OpId::argMin && n.op != OpId::argMax &&
           n.attrs.has("axes");
  }

  // reduce(transpose(z, to NCHW), axes) -> transpose(reduce(z, axes in NHWC), to NCHW): the
  // global mean of a squeeze-excite block stays channels-last. Without keepDimensions the
  // op moves only when the kept axes keep their order (the reduced output is then the same
  // in both layouts: [N, C] from N, C, H, W or N, H, W, C).
  bool sink_through_reduce(size_t index) {
    Node& r = g_.nodes[index];
    if (r.outputs.size() != 1 || r.inputs.size() != 1) return false;
    const Node* t = producer_of(r.inputs[0]);
    if (!t || t->op != OpId::transpose || t->attrs.ints("permutation") != kToNchw) return false;
    const std::vector<int64_t>& P = kToNchw;
    std::vector<int64_t> axes;
    std::vector<bool> reduced(4, false);
    for (int64_t a : r.attrs.ints("axes")) {
      if (a < 0 || a >= 4) return false;
      reduced[size_t(a)] = true;
      axes.push_back(P[size_t(a)]);
    }
    std::sort(axes.begin(), axes.end());
    bool keep = r.attrs.i_or("keepDimensions", 0) != 0;
    Node moved = r;
    moved.inputs[0] = t->inputs[0];
    moved.attrs.set("axes", axes);
    if (keep) {
      place_in_nhwc(index, std::move(moved));
      return true;
    }
    int64_t last = -1;
    for (size_t a = 0; a < 4; ++a) {
      if (reduced[a]) continue;
      if (P[a] < last) return false;
      last = P[a];
    }
    g_.nodes[index] = std::move(moved);
    return true;
  }

  // Puts `moved` (the node at `index`, its inputs already channels-last) in place writing
  // a channels-last copy of its output, followed by the transpose `back` (to NCHW, or a 1-D
  // convolution's to [N, C, L]) to the output readers expect.
  // (Every output of a multi-output op such as split, each with its own transpose.)
  void place_in_nhwc(size_t index, Node moved, const std::vector<int64_t>& back = kToNchw) {
    std::vector<int64_t> inverse(back.size());
    for (size_t i = 0; i < back.size(); ++i) inverse[size_t(back[i])] = int64_t(i);
    std::vector<Node> transposes;
    for (OperandId& y : moved.outputs) {
      OperandId z = new_operand({g_.desc(y).data_type, permuted(g_.desc(y).shape, inverse)});
      transposes.push_back(transpose(z, y, back));
      y = z;
    }
    g_.nodes[index] = std::move(moved);
    g_.nodes.insert(g_.nodes.begin() + long(index) + 1, transposes.begin(), transposes.end());
  }

  static bool is_pool(const Node& n) {
    return op_kind(n.op) == OpKind::pool && n.attrs.s_or("layout", "nchw") == "nchw";
  }

  // pool_nchw(transpose(z, to NCHW)) -> transpose(pool_nhwc(z), to NCHW).
  bool sink_through_pool(size_t index) {
    Node& p = g_.nodes[index];
    const Node* t = producer_of(p.inputs[0]);
    if (!t || t->op != OpId::transpose || t->attrs.ints("permutation") != kToNchw) return false;
    Node moved = p;
    moved.inputs[0] = t->inputs[0];
    moved.attrs.set("layout", std::string("nhwc"));
    place_in_nhwc(index, std::move(moved));
    return true;
  }

  // The output of a transpose(x, perm) node placed before `before`, if there is one.
  OperandId existing_transpose(OperandId x, const std::vector<int64_t>& perm, size_t before) {
    for (size_t i = 0; i < before; ++i) {
      const Node& n = g_.nodes[i];
      if (n.op == OpId::transpose && n.inputs[0] == x && n.attrs.ints("permutation") == perm)
        return n.outputs[0];
    }
    return kNoOperand;
  }

  // A constant broadcast against a rank-`rank` tensor, laid out for the permuted tensor.
  OperandId permute_constant(OperandId id, const std::vector<int64_t>& perm, size_t rank) {
    const OperandInfo& info = g_.operands[size_t(id)];
    if (info.desc.shape.size() > rank) return kNoOperand;
    Dims aligned(rank - info.desc.shape.size(), 1);
    aligned.insert(aligned.end(), info.desc.shape.begin(), info.desc.shape.end());
    Dims out_shape = permuted(aligned, perm);
    const Tensor& src = *info.data;
    Tensor dst = Tensor::uninitialized(src.data_type(), out_shape);
    size_t elem = element_size(src.data_type());
    std::vector<size_t> in_strides(rank, 1);
    for (size_t i = rank - 1; i-- > 0;) in_strides[i] = in_strides[i + 1] * size_t(aligned[i + 1]);
    size_t n = dst.element_count();
    std::vector<size_t> idx(rank, 0);
    const uint8_t* s = static_cast<const uint8_t*>(src.data());
    uint8_t* d = static_cast<uint8_t*>(dst.data());
    for (size_t flat = 0; flat < n; ++flat) {
      size_t off = 0;
      for (size_t k = 0; k < rank; ++k) off += idx[k] * in_strides[size_t(perm[k])];
      std::memcpy(d + flat * elem, s + off * elem, elem);
      for (size_t k = rank; k-- > 0;) {
        if (++idx[k] < size_t(out_shape[k])) break;
        idx[k] = 0;
      }
    }
    auto data = std::make_shared<const Tensor>(std::move(dst));
    g_.operands.push_back(OperandInfo{{data->data_type(), data->shape()}, OperandRole::constant, {}, data});
    return OperandId(g_.operands.size() - 1);
  }

  void compact() {
    g_.nodes.erase(std::remove_if(g_.nodes.begin(), g_.nodes.end(),
                                  [](const Node& n) { return n.op == OpId::none; }),
                   g_.nodes.end());
  }

  GraphIR& g_;
  std::vector<int32_t> producer_;
};

}  // namespace

void choose_channels_last(GraphIR& g) {
  Rewriter r(g);
  r.wrap_nchw_ops();
  // Each step removes a transpose or moves one strictly later; the cap only guards
  // against a rewrite bug looping forever on a pathological graph.
  for (size_t steps = 0; steps < 100000 && r.simplify_once(); ++steps) {
  }
}

}  // namespace cppnn::detail
