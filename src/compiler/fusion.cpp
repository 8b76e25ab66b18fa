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
#include "core/dispatch.h"
#include "graph/op_math/window_attrs.h"

namespace cppnn::detail {

namespace {

// conv2d, convTranspose2d, matmul and gemm.
bool fusable_producer(const Node& node) {
  OpKind kind = op_kind(node.op);
  return kind == OpKind::conv || kind == OpKind::matmul;
}

// The channel axis of the producer's output, or -1 if it has no per-channel bias slot.
int channel_axis(const Node& node, size_t rank) {
  if (node.op == OpId::conv2d || node.op == OpId::convTranspose2d)
    return node.attrs.s_or("inputLayout", "nchw") == "nhwc" ? 3 : 1;
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

OperandId other_input(const Node& n, OperandId id);

// A float32 / float16 tensor of `values` (rounded once to the type).
Tensor float_tensor(DataType type, Dims shape, const std::vector<double>& values) {
  Tensor t = Tensor::uninitialized(type, std::move(shape));
  if (type == DataType::float16) {
    half* d = t.data_as<half>();
    for (size_t i = 0; i < values.size(); ++i) d[i] = from_double<half>(values[i]);
  } else {
    float* d = t.data_as<float>();
    for (size_t i = 0; i < values.size(); ++i) d[i] = float(values[i]);
  }
  return t;
}

OperandId add_constant(GraphIR& g, Tensor t) {
  auto data = std::make_shared<const Tensor>(std::move(t));
  g.operands.push_back(OperandInfo{{data->data_type(), data->shape()}, OperandRole::constant, {}, data});
  return OperandId(g.operands.size() - 1);
}

bool is_f32_or_f16(DataType t) { return t == DataType::float32 || t == DataType::float16; }

// The values of constant `id` along the producer's `channels` output channels, when it is
// one value (a scalar, or any shape of one element) or varies only along the channel axis
// of `out`; else empty.
std::vector<double> per_channel_values(const GraphIR& g, OperandId id, const Dims& out, int axis,
                                       int64_t channels) {
  if (id == kNoOperand || axis < 0) return {};
  const OperandInfo& c = g.operands[size_t(id)];
  if (c.role != OperandRole::constant || !c.data) return {};
  std::vector<double> v = c.data->to_doubles();
  if (v.size() == 1) return std::vector<double>(size_t(channels), v[0]);
  if (c.desc.shape.size() > out.size() || !is_per_channel(c.desc.shape, out, axis) ||
      int64_t(v.size()) != channels)
    return {};
  return v;
}

// The producer's bias as doubles (zeros when it has none), or empty when it has one that
// is not a constant.
std::vector<double> bias_values(const GraphIR& g, const Node& p, int64_t channels) {
  if (p.inputs.size() <= 2 || p.inputs[2] == kNoOperand) return std::vector<double>(size_t(channels), 0.0);
  const OperandInfo& b = g.operands[size_t(p.inputs[2])];
  if (b.role != OperandRole::constant || !b.data || int64_t(b.data->element_count()) != channels) return {};
  return b.data->to_doubles();
}

bool try_bias(GraphIR& g, Node& p, Node& add, OperandId out) {
  if (add.op != OpId::add) return false;
  if (p.op != OpId::conv2d && p.op != OpId::convTranspose2d && p.op != OpId::matmul) return false;
  if (p.attrs.has("activation")) return false;
  OperandId other = add.inputs[0] == out ? add.inputs[1] : add.inputs[0];
  const OperandInfo& c = g.operands[size_t(other)];
  const OperandDescriptor& od = g.desc(out);
  if (c.role != OperandRole::constant || c.desc.data_type != od.data_type) return false;
  if (g.desc(add.outputs[0]).shape != od.shape) return false;
  int axis = channel_axis(p, od.shape.size());
  if (axis < 0) return false;
  int64_t channels = od.shape[size_t(axis)];
  bool has_bias = p.inputs.size() > 2 && p.inputs[2] != kNoOperand;
  if (!has_bias && is_per_channel(c.desc.shape, od.shape, axis)) {
    // A fresh 1-D constant over the same bytes: the original may be shared with other nodes.
    p.inputs.resize(3, kNoOperand);
    p.inputs[2] = add_constant(g, c.data->reshaped({channels}));
    absorb(p, add);
    return true;
  }
  // A scalar added (PP-LCNet's learnable affine blocks: conv * a + b), or a second
  // per-channel constant after a bias: one bias of their sums, rounded once.
  if (!is_f32_or_f16(od.data_type)) return false;
  std::vector<double> add_v = per_channel_values(g, other, od.shape, axis, channels);
  std::vector<double> bias = bias_values(g, p, channels);
  if (add_v.empty() || bias.empty()) return false;
  for (size_t k = 0; k < bias.size(); ++k) bias[k] += add_v[k];
  p.inputs.resize(3, kNoOperand);
  p.inputs[2] = add_constant(g, float_tensor(od.data_type, {channels}, bias));
  absorb(p, add);
  return true;
}

// y * s + t per output channel folded into a conv2d / convTranspose2d whose filter (and
// bias) are constants: the filter's output channel k scaled by s[k], the bias b[k] * s[k] +
// t[k]. What ONNX Runtime's Conv+Mul / Conv+BatchNormalization fusions do; the values
// round once, in the filter's type. False (nothing changed) where it does not apply.
bool fold_channel_affine(GraphIR& g, Node& p, const std::vector<double>& s, const std::vector<double>& t) {
  if (p.op != OpId::conv2d && p.op != OpId::convTranspose2d) return false;
  if (p.attrs.has("activation") || (p.inputs.size() > 3 && p.inputs[3] != kNoOperand)) return false;
  const OperandInfo& f = g.operands[size_t(p.inputs[1])];
  DataType type = g.desc(p.outputs[0]).data_type;
  if (f.role != OperandRole::constant || !f.data || f.desc.data_type != type || !is_f32_or_f16(type)) return false;
  std::vector<double> bias = bias_values(g, p, int64_t(s.size()));
  if (bias.empty()) return false;
  bool transposed = p.op == OpId::convTranspose2d;
  op_math::ConvWindow w = op_math::conv_window(g.desc(p.inputs[0]).shape, f.desc.shape,
                                               g.desc(p.outputs[0]).shape, p.attrs, transposed);
  if (int64_t(s.size()) != w.k) return false;
  std::vector<double> v = f.data->to_doubles();
  // Logical filter dims: conv2d o over all k outputs, i over c / groups; convTranspose2d i
  // over all c inputs, o over the k / groups outputs of i's group.
  int64_t O = transposed ? w.k / w.groups : w.k;
  int64_t I = transposed ? w.c : w.c / w.groups;
  for (int64_t o = 0; o < O; ++o)
    for (int64_t i = 0; i < I; ++i) {
      int64_t channel = transposed ? (i / (w.c / w.groups)) * O + o : o;
      for (int64_t h = 0; h < w.kh; ++h)
        for (int64_t x = 0; x < w.kw; ++x) {
          size_t at = size_t(o * w.filter_o + i * w.filter_i + h * w.filter_h + x * w.filter_w);
          if (at >= v.size()) return false;
          v[at] *= s[size_t(channel)];
        }
    }
  for (size_t k = 0; k < bias.size(); ++k) bias[k] = bias[k] * s[k] + t[k];
  p.inputs.resize(3, kNoOperand);
  p.inputs[1] = add_constant(g, float_tensor(type, f.desc.shape, v));
  p.inputs[2] = add_constant(g, float_tensor(type, {w.k}, bias));
  return true;
}

// conv * s, s a constant scalar or per output channel.
bool try_scale(GraphIR& g, Node& p, Node& mul, OperandId out) {
  if (mul.op != OpId::mul || mul.inputs.size() != 2) return false;
  if (p.op != OpId::conv2d && p.op != OpId::convTranspose2d) return false;
  const OperandDescriptor& od = g.desc(out);
  if (g.desc(mul.outputs[0]) != od) return false;
  int axis = channel_axis(p, od.shape.size());
  if (axis < 0) return false;
  int64_t channels = od.shape[size_t(axis)];
  std::vector<double> s = per_channel_values(g, other_input(mul, out), od.shape, axis, channels);
  if (s.empty() || !fold_channel_affine(g, p, s, std::vector<double>(s.size(), 0.0))) return false;
  absorb(p, mul);
  return true;
}

// batchNormalization of the conv's output along its channel axis, every parameter a
// constant: (y - mean) * scale / sqrt(variance + epsilon) + bias.
bool try_batch_norm(GraphIR& g, Node& p, Node& bn, OperandId out) {
  if (bn.op != OpId::batchNormalization || bn.inputs.empty() || bn.inputs[0] != out) return false;
  if (p.op != OpId::conv2d && p.op != OpId::convTranspose2d) return false;
  const OperandDescriptor& od = g.desc(out);
  int axis = channel_axis(p, od.shape.size());
  if (axis < 0 || bn.attrs.i_or("axis", 1) != axis || g.desc(bn.outputs[0]) != od) return false;
  int64_t channels = od.shape[size_t(axis)];
  auto param = [&](size_t k, double absent) -> std::vector<double> {
    if (k >= bn.inputs.size() || bn.inputs[k] == kNoOperand) return std::vector<double>(size_t(channels), absent);
    const OperandInfo& c = g.operands[size_t(bn.inputs[k])];
    if (c.role != OperandRole::constant || !c.data || int64_t(c.data->element_count()) != channels) return {};
    return c.data->to_doubles();
  };
  std::vector<double> mean = param(1, 0), var = param(2, 1), scale = param(3, 1), shift = param(4, 0);
  if (mean.empty() || var.empty() || scale.empty() || shift.empty()) return false;
  double eps = bn.attrs.f_or("epsilon", 1e-5);
  std::vector<double> s(static_cast<size_t>(channels)), t(static_cast<size_t>(channels));
  for (size_t k = 0; k < s.size(); ++k) {
    s[k] = scale[k] / std::sqrt(var[k] + eps);
    t[k] = shift[k] - mean[k] * s[k];
  }
  if (!fold_channel_affine(g, p, s, t)) return false;
  absorb(p, bn);
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

// A matched pattern becomes one element-wise node: the `dead` nodes go, `result` (the
// pattern's last node, whose output readers keep) computes `op` of `x`; `uses` is recounted.
void become_unary(GraphIR& g, const std::vector<Node*>& dead, Node& result, OpId op, OperandId x, Uses& uses) {
  for (Node* d : dead) d->op = OpId::none;
  result.op = op;
  result.inputs = {x};
  result.attrs = Attrs();
  uses = Uses(g);
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
      if (try_bias(g, p, next, out) || try_scale(g, p, next, out) || try_batch_norm(g, p, next, out) ||
          try_residual(g, p, int32_t(n), next, out, uses) || try_activation(p, next)) {
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
    become_unary(g, dead, *result, OpId::gelu, x, uses);
  }
}

// x * clamp(x + 3, 0, 6) / 6 (PP-LCNet's and MobileNetV3's hard-swish as Paddle and older
// exporters spell it: add, clip, mul, div, or the / 6 as * (1/6) or applied to the clamp
// first) -> hardSwish(x), which fuse_producers then puts into a conv's epilogue: four
// passes over the tensor become none.
void fuse_hard_swish(GraphIR& g) {
  Uses uses(g);
  auto is_sixth = [&](const Node& n, OperandId v) {  // n is v / 6 or v * (1/6)
    if (n.inputs.size() != 2) return false;
    if (n.op == OpId::div) return n.inputs[0] == v && near(scalar_constant(g, n.inputs[1]), 6.0);
    return n.op == OpId::mul && near(scalar_constant(g, other_input(n, v)), 1.0 / 6.0);
  };
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    Node& clamp = g.nodes[n];
    if (clamp.op != OpId::clamp || clamp.inputs.size() != 1 || clamp.outputs.size() != 1) continue;
    if (clamp.attrs.f_or("minValue", -1) != 0.0 || clamp.attrs.f_or("maxValue", -1) != 6.0) continue;
    OperandId a = clamp.inputs[0];
    int32_t ap = uses.producer[size_t(a)];
    if (ap < 0 || uses.count[size_t(a)] != 1) continue;
    Node& add = g.nodes[size_t(ap)];
    if (add.op != OpId::add || add.inputs.size() != 2) continue;
    OperandId x = kNoOperand;
    if (near(scalar_constant(g, add.inputs[1]), 3.0)) x = add.inputs[0];
    else if (near(scalar_constant(g, add.inputs[0]), 3.0)) x = add.inputs[1];
    if (x == kNoOperand || !is_f32_or_f16(g.desc(x).data_type) || g.desc(a) != g.desc(x)) continue;
    OperandId c = clamp.outputs[0];
    Node* first = sole_reader(g, uses, c);
    if (!first) continue;
    Node* result = nullptr;
    std::vector<Node*> dead = {&add, &clamp};
    if (first->op == OpId::mul && other_input(*first, c) == x) {
      // (x * clamp) / 6
      Node* last = sole_reader(g, uses, first->outputs[0]);
      if (!last || !is_sixth(*last, first->outputs[0])) continue;
      dead.push_back(first);
      result = last;
    } else if (is_sixth(*first, c)) {
      // x * (clamp / 6)
      Node* last = sole_reader(g, uses, first->outputs[0]);
      if (!last || last->op != OpId::mul || other_input(*last, first->outputs[0]) != x) continue;
      dead.push_back(first);
      result = last;
    } else {
      continue;
    }
    if (g.desc(result->outputs[0]) != g.desc(x)) continue;
    become_unary(g, dead, *result, OpId::hardSwish, x, uses);
  }
}

// mul(x, a) then add(., b), a and b scalar constants and the product read by the add
// alone -> linear(x, alpha a, beta b): one pass instead of two (PP-LCNet's learnable
// affine blocks after an activation).
void fuse_linear(GraphIR& g) {
  Uses uses(g);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    Node& mul = g.nodes[n];
    if (mul.op != OpId::mul || mul.inputs.size() != 2 || mul.outputs.size() != 1) continue;
    OperandId x = kNoOperand;
    Scalar a;
    if (Scalar s = scalar_constant(g, mul.inputs[1]); s.tolerance > 0) x = mul.inputs[0], a = s;
    else if (Scalar s0 = scalar_constant(g, mul.inputs[0]); s0.tolerance > 0) x = mul.inputs[1], a = s0;
    if (x == kNoOperand || !is_f32_or_f16(g.desc(x).data_type) || g.desc(mul.outputs[0]) != g.desc(x)) continue;
    if (g.operands[size_t(x)].role == OperandRole::constant) continue;
    Node* add = sole_reader(g, uses, mul.outputs[0]);
    if (!add || (add->op != OpId::add && add->op != OpId::sub) || add->inputs.size() != 2) continue;
    // x * a + b, b + x * a, or x * a - b.
    OperandId y = mul.outputs[0];
    if (add->op == OpId::sub && add->inputs[0] != y) continue;
    Scalar b = scalar_constant(g, other_input(*add, y));
    if (b.tolerance == 0 || g.desc(add->outputs[0]) != g.desc(x)) continue;
    const double beta = add->op == OpId::sub ? -b.value : b.value;
    become_unary(g, {&mul}, *add, OpId::linear, x, uses);
    add->attrs.set("alpha", a.value);
    add->attrs.set("beta", beta);
  }
}

void fuse_batch_norm_relu(GraphIR& g) {
  Uses uses(g);
  for (Node& bn : g.nodes) {
    if (bn.op != OpId::batchNormalization || bn.outputs.size() != 1 || bn.attrs.has("activation")) continue;
    Node* relu = sole_reader(g, uses, bn.outputs[0]);
    if (!relu || relu->op != OpId::relu || g.desc(relu->outputs[0]) != g.desc(bn.outputs[0])) continue;
    bn.attrs.set("activation", std::string("relu"));
    absorb(bn, *relu);
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
