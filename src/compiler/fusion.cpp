// Producer fusion: a conv2d / convTranspose2d / matmul / gemm takes over the element-wise
// nodes that follow it, so backends run one kernel (oneDNN post-ops on the CPU, cuBLASLt
// and cuDNN epilogues on the GPU) instead of writing and re-reading the tensor.
//
// Contract with the kernels (and the op table, which validates it):
//   attr "activation": the WebNN name of an op marked EpilogueActivation in ops.def
//                      ("relu" | "clamp" | "sigmoid" | "tanh" | "leakyRelu" | "elu" |
//                      "hardSwish" | "gelu"); "activationMin"/"activationMax" (clamp),
//                      "activationAlpha" (leakyRelu, elu); "swish" (x * sigmoid(x)) only
//                      in the CPU backend's own plans (fuse_swish), never in a graph
//                      that is validated, written to an engine or given to another backend
//   conv2d input 2 "bias": 1-D per output channel; input 3 "residual": same desc as the
//                      output, added before the activation
//   matmul input 2 "bias": 1-D of the last output dimension
//   layerNormalization input 3 "residual" (fuse_norm_residual, for a backend that asks):
//                      same desc as the input, added to it before normalizing
#include <cmath>

#include "compiler/passes.h"
#include "compiler/uses.h"

namespace cppnn::detail {

namespace {

// conv2d, convTranspose2d, matmul and gemm.
bool fusable_producer(const Node& node) {
  OpKind kind = op_kind(node.op);
  return kind == OpKind::conv || kind == OpKind::matmul;
}

// The channel axis of the producer's output, or -1 if it has no per-channel bias slot.
int channel_axis(const Node& node, size_t rank) {
  if (node.op == OpId::conv2d) return node.attrs.s_or("inputLayout", "nchw") == "nhwc" ? 3 : 1;
  if (node.op == OpId::matmul) return int(rank) - 1;
  return -1;
}

// If `c` broadcast against `out` varies only along `axis`, returns its length there.
bool is_per_channel(const Dims& c, const Dims& out, int axis) {
  if (c.size() > out.size() || axis < 0) return false;
  size_t off = out.size() - c.size();
  for (size_t i = 0; i < c.size(); ++i) {
    bool channel = int(off + i) == axis;
    if (channel ? c[i] != out[off + i] : c[i] != 1) return false;
  }
  // The channel axis must be covered by c, else c is a broadcast scalar along it.
  return int(off) <= axis;
}

// Replaces the producer's output with the consumer's and kills the consumer.
void absorb(Node& producer, Node& consumer) {
  producer.outputs[0] = consumer.outputs[0];
  consumer.op = OpId::none;
}

bool try_bias(GraphIR& g, Node& p, Node& add, OperandId out) {
  if (add.op != OpId::add || (p.inputs.size() > 2 && p.inputs[2] != kNoOperand)) return false;
  if (p.op != OpId::conv2d && p.op != OpId::matmul) return false;
  if (p.attrs.has("activation")) return false;
  OperandId other = add.inputs[0] == out ? add.inputs[1] : add.inputs[0];
  const OperandInfo& c = g.operands[size_t(other)];
  const OperandDescriptor& od = g.desc(out);
  if (c.role != OperandRole::constant || c.desc.data_type != od.data_type) return false;
  if (g.desc(add.outputs[0]).shape != od.shape) return false;
  int axis = channel_axis(p, od.shape.size());
  if (!is_per_channel(c.desc.shape, od.shape, axis)) return false;
  // A fresh 1-D constant: the original may be shared with other nodes.
  auto bias = std::make_shared<const Tensor>(c.data->reshaped({od.shape[size_t(axis)]}));
  g.operands.push_back(OperandInfo{{od.data_type, bias->shape()}, OperandRole::constant, {}, bias});
  p.inputs.resize(3, kNoOperand);
  p.inputs[2] = OperandId(g.operands.size() - 1);
  absorb(p, add);
  return true;
}

bool try_residual(const GraphIR& g, Node& p, int32_t p_index, Node& add, OperandId out,
                  const Uses& uses) {
  if (add.op != OpId::add || p.op != OpId::conv2d || p.attrs.has("activation")) return false;
  if (p.inputs.size() > 3 && p.inputs[3] != kNoOperand) return false;
  OperandId other = add.inputs[0] == out ? add.inputs[1] : add.inputs[0];
  if (other == out || !(g.desc(other) == g.desc(out))) return false;
  if (g.desc(add.outputs[0]) != g.desc(out)) return false;
  // The residual must exist when the conv runs, which is where the fused node stays.
  if (uses.producer[size_t(other)] >= p_index) return false;
  p.inputs.resize(4, kNoOperand);
  p.inputs[3] = other;
  absorb(p, add);
  return true;
}

bool try_activation(Node& p, Node& act) {
  if (p.attrs.has("activation") || !op_has(act.op, OpTrait::EpilogueActivation)) return false;
  Attrs& a = p.attrs;
  // Engine files store the name, so the attribute stays a string.
  a.set("activation", op_name(act.op));
  // The activations with scalar options hand them to the epilogue.
  if (act.op == OpId::clamp) {
    a.set("activationMin", act.attrs.f("minValue"));
    a.set("activationMax", act.attrs.f("maxValue"));
  } else if (act.op == OpId::leakyRelu || act.op == OpId::elu) {
    a.set("activationAlpha", act.attrs.f("alpha"));
  }
  absorb(p, act);
  return true;
}

// A constant operand with one element: its value, and how close to an intended value its
// type can hold it (relative: float16 has 11 bits).
struct Scalar {
  double value = std::nan("");
  double tolerance = 0;
};

Scalar scalar_constant(const GraphIR& g, OperandId id) {
  if (id == kNoOperand) return {};
  const OperandInfo& info = g.operands[size_t(id)];
  if (info.role != OperandRole::constant || !info.data || info.data->element_count() != 1)
    return {};
  return {info.data->to_doubles()[0], info.desc.data_type == DataType::float16 ? 1e-3 : 1e-6};
}

bool near(Scalar s, double want) { return std::abs(s.value - want) <= s.tolerance * std::abs(want); }

// The input that is not `id` of a two-input node, or kNoOperand.
OperandId other_input(const Node& n, OperandId id) {
  if (n.inputs.size() != 2) return kNoOperand;
  if (n.inputs[0] == id) return n.inputs[1];
  if (n.inputs[1] == id) return n.inputs[0];
  return kNoOperand;
}

// The single node reading `id` when nothing else does (no graph output either), or null.
Node* sole_reader(GraphIR& g, const Uses& uses, OperandId id) {
  if (uses.count[size_t(id)] != 1 || uses.consumer[size_t(id)] < 0) return nullptr;
  return &g.nodes[size_t(uses.consumer[size_t(id)])];
}

// Matches x * 0.5 * (1 + erf(x / sqrt(2))) around one erf node, in the orders exporters
// write it (PyTorch's nn.GELU and transformers' gelu: (x * 0.5) * (1 + erf(x / 1.4142)),
// x * (1 + erf(x * 0.7071)) * 0.5, ...). Returns the node whose output is the GELU, and
// fills `dead` with the others; every intermediate must have no other reader.
Node* match_gelu(GraphIR& g, const Uses& uses, Node& erf, OperandId& x,
                 std::vector<Node*>& dead) {
  constexpr double kSqrt2 = 1.4142135623730951;
  if (erf.inputs.size() != 1 || erf.outputs.size() != 1) return nullptr;
  OperandId d = erf.inputs[0];
  int32_t p = uses.producer[size_t(d)];
  if (p < 0 || uses.count[size_t(d)] != 1) return nullptr;
  Node& scale = g.nodes[size_t(p)];
  if (scale.op == OpId::div && scale.inputs.size() == 2 &&
      near(scalar_constant(g, scale.inputs[1]), kSqrt2))
    x = scale.inputs[0];
  else if (scale.op == OpId::mul && near(scalar_constant(g, scale.inputs[1]), 1 / kSqrt2))
    x = scale.inputs[0];
  else if (scale.op == OpId::mul && near(scalar_constant(g, scale.inputs[0]), 1 / kSqrt2))
    x = scale.inputs[1];
  else
    return nullptr;
  DataType type = g.desc(x).data_type;
  if (type != DataType::float32 && type != DataType::float16) return nullptr;
  Node* add = sole_reader(g, uses, erf.outputs[0]);
  if (!add || add->op != OpId::add || !near(scalar_constant(g, other_input(*add, erf.outputs[0])), 1))
    return nullptr;
  OperandId a = add->outputs[0];
  Node* m1 = sole_reader(g, uses, a);
  if (!m1 || m1->op != OpId::mul) return nullptr;
  OperandId o = other_input(*m1, a);
  if (o == kNoOperand) return nullptr;
  Node* result = nullptr;
  dead = {&scale, &erf, add};
  if (o == x || near(scalar_constant(g, o), 0.5)) {
    // (x * (1 + erf)) * 0.5, or (0.5 * (1 + erf)) * x.
    Node* m2 = sole_reader(g, uses, m1->outputs[0]);
    if (!m2 || m2->op != OpId::mul) return nullptr;
    OperandId last = other_input(*m2, m1->outputs[0]);
    if (o == x ? !near(scalar_constant(g, last), 0.5) : last != x) return nullptr;
    dead.push_back(m1);
    result = m2;
  } else {
    // (x * 0.5) * (1 + erf).
    int32_t h = uses.producer[size_t(o)];
    if (h < 0 || uses.count[size_t(o)] != 1) return nullptr;
    Node& half = g.nodes[size_t(h)];
    if (half.op != OpId::mul || other_input(half, x) == kNoOperand ||
        !near(scalar_constant(g, other_input(half, x)), 0.5))
      return nullptr;
    dead.push_back(&half);
    result = m1;
  }
  if (!(g.desc(result->outputs[0]) == g.desc(x))) return nullptr;
  return result;
}

}  // namespace

void fuse_producers(GraphIR& g) {
  bool changed = true;
  while (changed) {
    changed = false;
    Uses uses(g);
    for (size_t n = 0; n < g.nodes.size(); ++n) {
      Node& p = g.nodes[n];
      if (p.op == OpId::none || !fusable_producer(p) || p.outputs.size() != 1) continue;
      OperandId out = p.outputs[0];
      if (uses.count[size_t(out)] != 1 || uses.consumer[size_t(out)] < 0) continue;
      Node& next = g.nodes[size_t(uses.consumer[size_t(out)])];
      if (try_bias(g, p, next, out) || try_residual(g, p, int32_t(n), next, out, uses) ||
          try_activation(p, next)) {
        changed = true;
        break;  // use counts changed; recount
      }
    }
  }
}

void fuse_gelu(GraphIR& g) {
  Uses uses(g);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    if (g.nodes[n].op != OpId::erf) continue;
    OperandId x = kNoOperand;
    std::vector<Node*> dead;
    Node* result = match_gelu(g, uses, g.nodes[n], x, dead);
    if (!result) continue;
    for (Node* d : dead) d->op = OpId::none;
    result->op = OpId::gelu;
    result->inputs = {x};
    result->attrs = Attrs();
    uses = Uses(g);
  }
}

void fuse_swish(GraphIR& g) {
  Uses uses(g);
  for (Node& p : g.nodes) {
    if (p.op == OpId::none || !fusable_producer(p) || p.outputs.size() != 1 ||
        p.attrs.has("activation"))
      continue;
    OperandId y = p.outputs[0];
    if (uses.count[size_t(y)] != 2) continue;
    // y's two readers: sigmoid(y) and mul(y, sigmoid(y)), the sigmoid read by the mul alone.
    Node* sig = nullptr;
    Node* mul = nullptr;
    for (Node& n : g.nodes) {
      if (n.op == OpId::sigmoid && n.inputs.size() == 1 && n.inputs[0] == y) sig = &n;
      if (n.op == OpId::mul && n.inputs.size() == 2 && (n.inputs[0] == y || n.inputs[1] == y))
        mul = &n;
    }
    if (!sig || !mul || uses.count[size_t(sig->outputs[0])] != 1 ||
        other_input(*mul, y) != sig->outputs[0] || !(g.desc(mul->outputs[0]) == g.desc(y)))
      continue;
    p.attrs.set("activation", std::string("swish"));
    p.outputs[0] = mul->outputs[0];
    sig->op = OpId::none;
    mul->op = OpId::none;
    uses = Uses(g);
  }
}

void fold_transposes_into_matmul(GraphIR& g) {
  Uses uses(g);
  auto is_f32 = [&](OperandId id) { return g.desc(id).data_type == DataType::float32; };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& m = g.nodes[i];
    if (m.op != OpId::matmul || m.inputs.size() != 2 || m.outputs.size() != 1) continue;
    OperandId y = m.outputs[0];
    size_t rank = g.desc(y).shape.size();
    const Dims& b = g.desc(m.inputs[1]).shape;
    if (rank < 3 || g.desc(m.inputs[0]).shape.size() != rank || b.size() != rank ||
        !is_f32(m.inputs[0]) || !is_f32(m.inputs[1]))
      continue;
    // Batched products only (attention's q k^T and p v): the kernel multiplies a shared
    // right-hand side as one flat product, which a strided left-hand side cannot be.
    int64_t b_batch = 1;
    for (size_t d = 0; d + 2 < b.size(); ++d) b_batch *= b[d];
    if (b_batch == 1) continue;
    const char* names[2] = {"aPermutation", "bPermutation"};
    for (size_t in = 0; in < 2; ++in) {
      OperandId x = m.inputs[in];
      int32_t p = uses.producer[size_t(x)];
      if (p < 0 || uses.count[size_t(x)] != 1 || m.attrs.has(names[in])) continue;
      Node* t = &g.nodes[size_t(p)];
      Node* scale = nullptr;
      size_t v = 0;  // scale's input from the transpose
      if (t->op == OpId::mul && t->inputs.size() == 2) {
        // PyTorch's SDPA export scales q and k^T after their transposes: a scalar product
        // commutes with the transpose, so it moves before it and the transpose folds.
        scale = t;
        v = scalar_constant(g, scale->inputs[0]).tolerance > 0 ? 1 : 0;
        if (scalar_constant(g, scale->inputs[1 - v]).tolerance == 0) continue;
        int32_t tp = uses.producer[size_t(scale->inputs[v])];
        if (tp < 0 || uses.count[size_t(scale->inputs[v])] != 1) continue;
        t = &g.nodes[size_t(tp)];
      }
      if (t->op != OpId::transpose) continue;
      OperandId source = t->inputs[0];
      if (scale) {
        g.operands.push_back(OperandInfo{{g.desc(x).data_type, g.desc(source).shape},
                                         OperandRole::intermediate, {}, nullptr});
        scale->inputs[v] = source;
        scale->outputs[0] = source = OperandId(g.operands.size() - 1);
      }
      m.attrs.set(names[in], t->attrs.ints("permutation"));
      m.inputs[in] = source;
      t->op = OpId::none;
    }
    if (uses.count[size_t(y)] == 1 && uses.consumer[size_t(y)] >= 0 &&
        !m.attrs.has("outPermutation") && !m.attrs.has("activation")) {
      Node& t = g.nodes[size_t(uses.consumer[size_t(y)])];
      if (t.op == OpId::transpose) {
        m.attrs.set("outPermutation", t.attrs.ints("permutation"));
        m.outputs[0] = t.outputs[0];
        t.op = OpId::none;
      }
    }
    uses = Uses(g);
  }
}

void fuse_norm_residual(GraphIR& g, const PassOptions& options) {
  if (!options.norm_residual) return;
  Uses uses(g);
  for (Node& ln : g.nodes) {
    if (ln.op != OpId::layerNormalization || ln.inputs.size() > 3) continue;
    OperandId sum = ln.inputs[0];
    int32_t p = uses.producer[size_t(sum)];
    if (p < 0 || uses.count[size_t(sum)] != 1) continue;
    Node& add = g.nodes[size_t(p)];
    if (add.op != OpId::add || !(g.desc(add.inputs[0]) == g.desc(sum)) ||
        !(g.desc(add.inputs[1]) == g.desc(sum)) || !options.norm_residual(g, ln))
      continue;
    ln.inputs.resize(3, kNoOperand);
    ln.inputs[0] = add.inputs[0];
    ln.inputs.push_back(add.inputs[1]);
    add.op = OpId::none;  // the layer norm stays where it is: both addends exist by then
  }
}

}  // namespace cppnn::detail
