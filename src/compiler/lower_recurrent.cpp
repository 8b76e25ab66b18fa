// Lowering of lstm, lstmCell, gru and gruCell into the ops every backend has: the spec's
// decompositions (webnn-index.bs, the lstm/gru "can be emulated" notes), unrolled over the
// steps. A backend without a recurrent kernel of its own (the CUDA plan) runs the result
// with its existing kernels: the products become matmuls, the gate math element-wise ops
// that its code generator fuses.
//
// One change from the notes' literal form keeps the unrolled graph small: the input's
// products with the weights are one matmul over every step ([steps * batch, inputSize] x
// [inputSize, gates * hiddenSize]), sliced per step, rather than one per step and gate; the
// recurrent products are one matmul per step over all gates, sliced per gate. The values
// are the same sums. Slices and transposes of constant weights become constants when the
// graph is folded afterwards (optimize() lowers before it folds).
//
// Every node made carries the lowered node's label; the lowered node's outputs keep their
// operand ids, so its consumers and the graph's outputs need no change.
#include <algorithm>
#include <sstream>

#include "compiler/passes.h"
#include "core/dispatch.h"
#include "graph/op_table.h"

namespace cppnn::detail {

namespace {

using U32s = std::vector<uint32_t>;

class Emitter {
 public:
  Emitter(GraphIR& g, std::vector<Node>& out, std::string label)
      : g_(g), out_(out), label_(std::move(label)) {}

  std::vector<OperandId> ops(OpId op, std::vector<OperandId> inputs, Attrs attrs = {}) {
    InputDescs descs;
    for (OperandId id : inputs) descs.push_back(id == kNoOperand ? nullptr : &g_.desc(id));
    std::vector<OperandDescriptor> outs = OpTable::instance().find(op)->infer(descs, attrs);
    Node node{op, std::move(inputs), {}, std::move(attrs), label_};
    for (const OperandDescriptor& d : outs) {
      node.outputs.push_back(OperandId(g_.operands.size()));
      g_.operands.push_back(OperandInfo{d, OperandRole::intermediate, {}, nullptr});
    }
    out_.push_back(std::move(node));
    return out_.back().outputs;
  }
  OperandId op(OpId op, std::vector<OperandId> inputs, Attrs attrs = {}) {
    return ops(op, std::move(inputs), std::move(attrs))[0];
  }

  OperandId slice(OperandId x, const U32s& starts, const U32s& sizes) {
    Attrs a;
    a.set_ints("starts", starts);
    a.set_ints("sizes", sizes);
    return op(OpId::slice, {x}, std::move(a));
  }
  OperandId reshape(OperandId x, const U32s& shape) {
    Attrs a;
    a.set_ints("newShape", shape);
    return op(OpId::reshape, {x}, std::move(a));
  }
  OperandId transpose(OperandId x) { return op(OpId::transpose, {x}); }  // reverses the axes
  OperandId concat(const std::vector<OperandId>& xs, uint32_t axis) {
    if (xs.size() == 1) return xs[0];
    Attrs a;
    a.set("axis", int64_t(axis));
    return op(OpId::concat, xs, std::move(a));
  }
  OperandId add(OperandId a, OperandId b) { return op(OpId::add, {a, b}); }
  OperandId mul(OperandId a, OperandId b) { return op(OpId::mul, {a, b}); }
  OperandId sub(OperandId a, OperandId b) { return op(OpId::sub, {a, b}); }
  OperandId matmul(OperandId a, OperandId b) { return op(OpId::matmul, {a, b}); }

  // A constant of `type` filled with `value`.
  OperandId constant(DataType type, const Dims& shape, double value) {
    auto t = std::make_shared<Tensor>(type, shape);
    if (type == DataType::bfloat16) {  // a storage type, not templated (core/dispatch.h)
      std::fill_n(t->data_as<uint16_t>(), t->element_count(), float_to_bfloat16(float(value)));
      g_.operands.push_back(OperandInfo{{type, shape}, OperandRole::constant, {}, std::move(t)});
      return OperandId(g_.operands.size() - 1);
    }
    visit_type(type, [&]<typename T>() {
      T* p = t->data_as<T>();
      for (size_t i = 0; i < t->element_count(); ++i) p[i] = from_double<T>(value);
    });
    g_.operands.push_back(OperandInfo{{type, shape}, OperandRole::constant, {}, std::move(t)});
    return OperandId(g_.operands.size() - 1);
  }

  // Makes `value` the operand `target` (an output of the lowered node): its producer
  // writes `target` instead, and every use made here reads it.
  void bind(OperandId value, OperandId target) {
    for (Node& n : out_) {
      for (OperandId& id : n.inputs)
        if (id == value) id = target;
      for (OperandId& id : n.outputs)
        if (id == value) id = target;
    }
  }

  const GraphIR& graph() const { return g_; }

 private:
  GraphIR& g_;
  std::vector<Node>& out_;
  std::string label_;
};

std::vector<OpId> activation_ops(const std::string& text) {
  std::vector<OpId> out;
  std::stringstream in(text);
  for (std::string n; std::getline(in, n, ',');)
    out.push_back(n == "relu" ? OpId::relu : n == "sigmoid" ? OpId::sigmoid : OpId::tanh);
  return out;
}

// One lowered node.
class Lowering {
 public:
  Lowering(GraphIR& g, const Node& node, std::vector<Node>& out)
      : e_(g, out, node.label), node_(node) {
    const Attrs& a = node.attrs;
    lstm_ = node.op == OpId::lstm || node.op == OpId::lstmCell;
    cell_ = node.op == OpId::lstmCell || node.op == OpId::gruCell;
    gates_ = lstm_ ? 4 : 3;
    H_ = uint32_t(a.i("hiddenSize"));
    const Dims& x = g.desc(node.inputs[0]).shape;
    type_ = g.desc(node.inputs[0]).data_type;
    T_ = cell_ ? 1 : uint32_t(x[0]);
    B_ = uint32_t(x[cell_ ? 0 : 1]);
    I_ = uint32_t(x[cell_ ? 1 : 2]);
    std::string direction = cell_ ? "forward" : a.s("direction");
    dirs_ = direction == "both" ? 2 : 1;
    backward_first_ = direction == "backward";
    acts_ = activation_ops(a.s("activations"));
    reset_after_ = !lstm_ && a.b("resetAfter");
    const std::string& layout = a.s("layout");
    if (lstm_)
      block_ = layout == "iofg" ? std::vector<uint32_t>{0, 1, 2, 3} : std::vector<uint32_t>{0, 3, 1, 2};
    else
      block_ = layout == "zrn" ? std::vector<uint32_t>{0, 1, 2} : std::vector<uint32_t>{1, 0, 2};
  }

  void run() {
    const Node& n = node_;
    auto in = [&](size_t i) { return i < n.inputs.size() ? n.inputs[i] : kNoOperand; };
    // Operand positions (graph/ops/recurrent.cpp).
    OperandId W = in(1), R = in(2), bias, rbias, peep = kNoOperand, h0, c0 = kNoOperand;
    switch (n.op) {
      case OpId::lstm: bias = in(3), rbias = in(4), peep = in(5), h0 = in(6), c0 = in(7); break;
      case OpId::lstmCell: h0 = in(3), c0 = in(4), bias = in(5), rbias = in(6), peep = in(7); break;
      case OpId::gru: bias = in(3), rbias = in(4), h0 = in(5); break;
      default: h0 = in(3), bias = in(4), rbias = in(5); break;
    }
    const uint32_t G = gates_ * H_;
    // The input of every step as one matrix.
    OperandId X = cell_ ? n.inputs[0] : e_.reshape(n.inputs[0], {T_ * B_, I_});
    std::vector<OperandId> hidden_out, cell_out;
    std::vector<std::vector<OperandId>> sequence(dirs_, std::vector<OperandId>(T_, kNoOperand));
    for (uint32_t d = 0; d < dirs_; ++d) {
      // This direction's operands, rank 2 (weights) and 1 (biases).
      auto per_dir = [&](OperandId v, const U32s& tail) -> OperandId {
        if (v == kNoOperand || cell_) return v;
        U32s starts(tail.size() + 1, 0), sizes = {1};
        starts[0] = d;
        sizes.insert(sizes.end(), tail.begin(), tail.end());
        return e_.reshape(e_.slice(v, starts, sizes), tail);
      };
      OperandId Wd = per_dir(W, {G, I_}), Rd = per_dir(R, {G, H_});
      OperandId bd = per_dir(bias, {G}), rbd = per_dir(rbias, {G});
      OperandId pd = per_dir(peep, {3 * H_});
      auto state = [&](OperandId v) {
        if (v == kNoOperand) return e_.constant(type_, {B_, H_}, 0.0);
        return per_dir(v, {B_, H_});
      };
      OperandId h = state(h0);
      OperandId c = lstm_ ? state(c0) : kNoOperand;
      // Products with the input for every step, with the input bias.
      OperandId XW = e_.matmul(X, e_.transpose(Wd));
      if (bd != kNoOperand) XW = e_.add(XW, bd);
      OperandId Rt = e_.transpose(Rd);
      // GRU without resetAfter: the new gate's recurrent product is taken of r * h.
      OperandId Rn_t = kNoOperand, rbias_n = kNoOperand;
      if (!lstm_ && !reset_after_) {
        uint32_t bn = block_[2] * H_;
        Rn_t = e_.transpose(e_.slice(Rd, {bn, 0}, {H_, H_}));
        if (rbd != kNoOperand) rbias_n = e_.slice(rbd, {bn}, {H_});
      }
      OperandId one = lstm_ ? kNoOperand : e_.constant(type_, {}, 1.0);
      bool backward = d == 1 || backward_first_;
      for (uint32_t s = 0; s < T_; ++s) {
        uint32_t t = backward ? T_ - 1 - s : s;
        OperandId xw = T_ == 1 ? XW : e_.slice(XW, {t * B_, 0}, {B_, G});
        OperandId hr = e_.matmul(h, Rt);
        if (rbd != kNoOperand) hr = e_.add(hr, rbd);
        auto gate = [&](OperandId v, size_t k) { return e_.slice(v, {0, block_[k] * H_}, {B_, H_}); };
        if (lstm_) {
          OperandId sum = e_.add(xw, hr);
          auto peephole = [&](OperandId pre, uint32_t k) {  // k: i 0, o 1, f 2 in the peepholes
            if (pd == kNoOperand) return pre;
            return e_.add(pre, e_.mul(c, e_.slice(pd, {k * H_}, {H_})));
          };
          OperandId i = e_.op(acts_[0], {peephole(gate(sum, 0), 0)});
          OperandId f = e_.op(acts_[0], {peephole(gate(sum, 2), 2)});
          OperandId g = e_.op(acts_[1], {gate(sum, 3)});
          OperandId o = e_.op(acts_[0], {peephole(gate(sum, 1), 1)});
          c = e_.add(e_.mul(f, c), e_.mul(i, g));
          h = e_.mul(o, e_.op(acts_[2], {c}));
        } else {
          OperandId z = e_.op(acts_[0], {e_.add(gate(xw, 0), gate(hr, 0))});
          OperandId r = e_.op(acts_[0], {e_.add(gate(xw, 1), gate(hr, 1))});
          OperandId pre;
          if (reset_after_) {
            pre = e_.add(gate(xw, 2), e_.mul(r, gate(hr, 2)));
          } else {
            OperandId rh = e_.matmul(e_.mul(r, h), Rn_t);
            if (rbias_n != kNoOperand) rh = e_.add(rh, rbias_n);
            pre = e_.add(gate(xw, 2), rh);
          }
          OperandId nn = e_.op(acts_[1], {pre});
          h = e_.add(e_.mul(z, h), e_.mul(e_.sub(one, z), nn));
        }
        sequence[d][t] = h;
      }
      hidden_out.push_back(h);
      if (lstm_) cell_out.push_back(c);
    }
    // Outputs: cells return [batch, hidden] states; lstm and gru [dirs, batch, hidden] and
    // the sequence [steps, dirs, batch, hidden].
    auto states = [&](const std::vector<OperandId>& per_dir) {
      if (cell_) return per_dir[0];
      std::vector<OperandId> parts;
      for (OperandId v : per_dir) parts.push_back(e_.reshape(v, {1, B_, H_}));
      return e_.concat(parts, 0);
    };
    std::vector<std::pair<OperandId, OperandId>> binds;
    binds.push_back({states(hidden_out), n.outputs[0]});
    if (lstm_) binds.push_back({states(cell_out), n.outputs[1]});
    size_t seq_out = lstm_ ? 2 : 1;
    if (!cell_ && n.outputs.size() > seq_out) {
      std::vector<OperandId> dirs;
      for (uint32_t d = 0; d < dirs_; ++d) {
        std::vector<OperandId> steps;
        for (uint32_t t = 0; t < T_; ++t) steps.push_back(e_.reshape(sequence[d][t], {1, 1, B_, H_}));
        dirs.push_back(e_.concat(steps, 0));
      }
      binds.push_back({e_.concat(dirs, 1), n.outputs[seq_out]});
    }
    // A value may be bound once: the last hidden state of a one-step cell is both its
    // output and (for lstmCell) used by nothing else, but an lstm's last state is reshaped
    // for the sequence too, so each output gets its own node (a reshape when needed).
    std::vector<OperandId> bound;
    for (auto [value, target] : binds) {
      bool produced_here = false;
      for (OperandId b : bound) produced_here = produced_here || b == value;
      if (produced_here || e_.graph().operands[size_t(value)].role != OperandRole::intermediate ||
          !made_here(value))
        value = e_.reshape(value, to_u32(e_.graph().desc(target).shape));
      e_.bind(value, target);
      bound.push_back(value);
    }
  }

 private:
  static U32s to_u32(const Dims& d) { return U32s(d.begin(), d.end()); }
  // Whether `v` is the output of a node this lowering made (else a reshape copies it).
  bool made_here(OperandId v) const { return v >= first_made_; }

  Emitter e_;
  const Node& node_;
  OperandId first_made_ = OperandId(e_.graph().operands.size());
  bool lstm_ = true, cell_ = false, reset_after_ = true, backward_first_ = false;
  uint32_t gates_ = 4, H_ = 0, T_ = 1, B_ = 1, I_ = 0, dirs_ = 1;
  DataType type_ = DataType::float32;
  std::vector<OpId> acts_;
  std::vector<uint32_t> block_;
};

}  // namespace

void lower_recurrent(GraphIR& g) {
  bool any = false;
  for (const Node& n : g.nodes) any = any || op_kind(n.op) == OpKind::recurrent;
  if (!any) return;
  std::vector<Node> nodes;
  std::vector<Node> old = std::move(g.nodes);
  for (Node& n : old) {
    if (op_kind(n.op) != OpKind::recurrent) {
      nodes.push_back(std::move(n));
      continue;
    }
    Lowering(g, n, nodes).run();
  }
  g.nodes = std::move(nodes);
}

}  // namespace cppnn::detail
