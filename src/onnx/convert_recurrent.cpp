// Converters of ONNX's recurrent networks: LSTM and GRU become WebNN's lstm and gru, RNN
// a gru with pinned gates (rnn() says how).
//
// - Gate orders: ONNX's LSTM packs i, o, f, c (WebNN's "iofg") and GRU z, r, h (WebNN's
//   "zrn"), so weights pass unchanged. ONNX's B is the input and recurrent biases
//   concatenated; it is sliced in two.
// - layout 1 (batch first) is transposed to and from WebNN's time-first operands.
// - linear_before_reset is GRU's resetAfter (ONNX's default 0, WebNN's true).
// - activations: Sigmoid, Tanh and Relu, the same for both directions (WebNN has one list);
//   anything else, clip and input_forget are NotSupportedError naming the node.
// - sequence_lens: only absent or a constant equal to the full length for every batch
//   entry (WebNN has no per-sequence lengths).
// - LSTM's peepholes (P): ONNX's output gate looks at the new cell state, WebNN's lstm at
//   the previous one (the spec's lstmCell decomposition). They agree when the output
//   gate's peephole is zero: a P with a nonzero or non-constant output part is refused.
#include <algorithm>
#include <cctype>
#include <tuple>

#include "core/dispatch.h"

#include "onnx/import_context.h"

namespace cppnn::onnx_import {

namespace {

struct Common {
  uint32_t steps = 0, hidden = 0, directions = 1;
  RecurrentNetworkDirection direction = RecurrentNetworkDirection::forward;
  bool batch_first = false;
};

Common read_common(NodeContext& ctx) {
  Common c;
  std::string dir = ctx.attr_string("direction", "forward");
  if (dir == "forward") {
    c.direction = RecurrentNetworkDirection::forward;
  } else if (dir == "reverse") {
    c.direction = RecurrentNetworkDirection::backward;
  } else if (dir == "bidirectional") {
    c.direction = RecurrentNetworkDirection::both;
    c.directions = 2;
  } else {
    ctx.bad_model("attribute 'direction' value '" + dir + "' is not forward, reverse or bidirectional");
  }
  if (ctx.has_attr("clip")) ctx.not_supported("attribute 'clip' is not supported (WebNN has no cell clip)");
  int64_t layout = ctx.attr_int("layout", 0);
  if (layout != 0 && layout != 1)
    ctx.bad_model("attribute 'layout' value " + std::to_string(layout) + " is not 0 or 1");
  c.batch_first = layout == 1;
  if (ctx.rank(0) != 3) ctx.bad_model("input X must have rank 3, got " + to_string(ctx.shape(0)));
  if (ctx.rank(2) != 3) ctx.bad_model("input R must have rank 3, got " + to_string(ctx.shape(2)));
  int64_t steps = ctx.shape(0)[c.batch_first ? 1 : 0];
  int64_t hidden = ctx.attr_int("hidden_size", ctx.shape(2)[2]);
  if (hidden <= 0 || hidden > int64_t(UINT32_MAX))
    ctx.bad_model("attribute 'hidden_size' value " + std::to_string(hidden) + " is not valid");
  c.steps = uint32_t(steps);
  c.hidden = uint32_t(hidden);
  // sequence_lens: WebNN runs every batch entry over the full sequence.
  if (ctx.has_input(4)) {
    const Tensor* lens = ctx.constant(4);
    if (!lens)
      ctx.not_supported("input sequence_lens is computed at run time: only the full length (" +
                        std::to_string(steps) + ") for every batch entry is supported");
    for (double v : lens->to_doubles())
      if (v != double(steps))
        ctx.not_supported("input sequence_lens holds " + std::to_string(int64_t(v)) +
                          ": only the full length (" + std::to_string(steps) +
                          ") for every batch entry is supported");
  }
  return c;
}

// ONNX's activations attribute: `per_direction` names for each direction; WebNN's list.
std::vector<RecurrentNetworkActivation> read_activations(NodeContext& ctx, size_t per_direction,
                                                         uint32_t directions) {
  std::vector<std::string> names;
  for (const auto& a : ctx.node().attribute())
    if (a.name() == "activations")
      for (const std::string& s : a.strings()) names.push_back(s);
  if (names.empty()) return {};
  if (names.size() != per_direction * directions)
    ctx.bad_model("attribute 'activations' has " + std::to_string(names.size()) + " names, expected " +
                  std::to_string(per_direction * directions));
  for (size_t i = 0; directions == 2 && i < per_direction; ++i)
    if (names[i] != names[i + per_direction])
      ctx.not_supported("attribute 'activations' differs between the directions (" + names[i] +
                        ", " + names[i + per_direction] + "): WebNN has one list for both");
  std::vector<RecurrentNetworkActivation> out;
  for (size_t i = 0; i < per_direction; ++i) {
    std::string n = names[i];
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
    if (n == "sigmoid")
      out.push_back(RecurrentNetworkActivation::sigmoid);
    else if (n == "tanh")
      out.push_back(RecurrentNetworkActivation::tanh);
    else if (n == "relu")
      out.push_back(RecurrentNetworkActivation::relu);
    else
      ctx.not_supported("activation '" + names[i] + "' is not supported (WebNN's are Sigmoid, Tanh, Relu)");
  }
  return out;
}

Operand transposed(NodeContext& ctx, const Operand& x, const std::vector<uint32_t>& perm) {
  TransposeOptions o;
  o.label = ctx.label();
  o.permutation = perm;
  return ctx.builder().transpose(x, o);
}

// Time-first input, and states [dirs, batch, hidden], from layout 1's batch-first forms.
Operand input_x(NodeContext& ctx, const Common& c) {
  Operand x = ctx.operand(0);
  return c.batch_first ? transposed(ctx, x, {1, 0, 2}) : x;
}
Operand state_in(NodeContext& ctx, size_t i, const Common& c) {
  if (!ctx.has_input(i)) return {};
  Operand s = ctx.operand(i);
  return c.batch_first ? transposed(ctx, s, {1, 0, 2}) : s;
}
void set_state(NodeContext& ctx, size_t i, const Operand& s, const Common& c) {
  if (i < ctx.output_count() && ctx.output_used(i))
    ctx.set_output(i, c.batch_first ? transposed(ctx, s, {1, 0, 2}) : s);
}
void set_sequence(NodeContext& ctx, const Operand& y, const Common& c) {
  // [steps, dirs, batch, hidden]; layout 1: [batch, steps, dirs, hidden].
  ctx.set_output(0, c.batch_first ? transposed(ctx, y, {2, 0, 1, 3}) : y);
}

// B [dirs, 2 * gates * hidden] -> {bias, recurrentBias}.
std::pair<Operand, Operand> split_bias(NodeContext& ctx, const Common& c, uint32_t gates) {
  if (!ctx.has_input(3)) return {};
  Dims want{int64_t(c.directions), int64_t(2 * gates * c.hidden)};
  if (ctx.shape(3) != want)
    ctx.bad_model("input B must have shape " + to_string(want) + ", got " + to_string(ctx.shape(3)));
  SplitOptions o;
  o.label = ctx.label();
  o.axis = 1;
  std::vector<Operand> parts = ctx.builder().split(ctx.operand(3), 2, o);
  return {parts[0], parts[1]};
}

bool wants_sequence(NodeContext& ctx) { return ctx.output_count() > 0 && ctx.output_used(0); }

void lstm(NodeContext& ctx) {
  Common c = read_common(ctx);
  if (ctx.attr_int("input_forget", 0) != 0)
    ctx.not_supported("attribute 'input_forget' value 1 is not supported (WebNN has no coupled input-forget gate)");
  LstmOptions o;
  o.label = ctx.label();
  o.direction = c.direction;
  o.layout = LstmWeightLayout::iofg;  // ONNX's iofc
  o.activations = read_activations(ctx, 3, c.directions);
  std::tie(o.bias, o.recurrent_bias) = split_bias(ctx, c, 4);
  o.initial_hidden_state = state_in(ctx, 5, c);
  o.initial_cell_state = state_in(ctx, 6, c);
  if (ctx.has_input(7)) {
    const Tensor* p = ctx.constant(7);
    if (!p)
      ctx.not_supported("input P (peepholes) is computed at run time: ONNX's output-gate peephole "
                        "sees the new cell state, WebNN's the previous one, so only a P whose "
                        "output part is known to be zero can be imported");
    std::vector<double> v = p->to_doubles();
    size_t H = c.hidden;
    for (size_t d = 0; d < c.directions; ++d)
      for (size_t k = 0; k < H && d * 3 * H + 2 * H <= v.size(); ++k)
        if (v[d * 3 * H + H + k] != 0)
          ctx.not_supported("input P has a nonzero output-gate peephole: ONNX's output gate sees "
                            "the new cell state, WebNN's lstm the previous one");
    o.peephole_weight = ctx.operand(7);
  }
  o.return_sequence = wants_sequence(ctx);
  std::vector<Operand> out =
      ctx.builder().lstm(input_x(ctx, c), ctx.operand(1), ctx.operand(2), c.steps, c.hidden, o);
  if (o.return_sequence) set_sequence(ctx, out[2], c);
  set_state(ctx, 1, out[0], c);
  set_state(ctx, 2, out[1], c);
}

void gru(NodeContext& ctx) {
  Common c = read_common(ctx);
  GruOptions o;
  o.label = ctx.label();
  o.direction = c.direction;
  o.layout = GruWeightLayout::zrn;  // ONNX's zrh
  o.reset_after = ctx.attr_int("linear_before_reset", 0) != 0;
  o.activations = read_activations(ctx, 2, c.directions);
  std::tie(o.bias, o.recurrent_bias) = split_bias(ctx, c, 3);
  o.initial_hidden_state = state_in(ctx, 5, c);
  o.return_sequence = wants_sequence(ctx);
  std::vector<Operand> out =
      ctx.builder().gru(input_x(ctx, c), ctx.operand(1), ctx.operand(2), c.steps, c.hidden, o);
  if (o.return_sequence) set_sequence(ctx, out[1], c);
  set_state(ctx, 1, out[0], c);
}

// A constant of the input's type filled with `value` (host memory, counted).
Operand filled(NodeContext& ctx, const Dims& shape, float value) {
  DataType type = ctx.type(0);
  if (type != DataType::float32 && type != DataType::float16)
    ctx.not_supported("input X of type " + std::string(to_string(type)) + " (float32 or float16 only)");
  ctx.check_host_bytes(byte_size(type, element_count(shape)), "the RNN's GRU form");
  Tensor t(type, shape);
  for (size_t i = 0; i < t.element_count(); ++i) {
    if (type == DataType::float16)
      t.data_as<half>()[i] = half(value);
    else
      t.data_as<float>()[i] = value;
  }
  return ctx.host_constant(std::move(t));
}

Operand concat1(NodeContext& ctx, const std::vector<Operand>& parts) {
  return ctx.builder().concat(parts, 1, ctx.options());
}

// RNN (Ht = f(Xt Wi^T + Ht-1 Ri^T + Wbi + Rbi)) as a gru whose update gate is always 0 and
// reset gate always 1: its new gate, with resetAfter, is then RNN's equation, and the new
// state is the new gate. The two gates get zero weights and biases of -/+ 10000, where
// sigmoid is exactly 0 and 1 in float32 and float16 (exp overflows or underflows). Costs
// three gates' products for one, but runs on the recurrent kernel (and the GPU's
// lowering) like any gru.
void rnn(NodeContext& ctx) {
  Common c = read_common(ctx);
  std::vector<RecurrentNetworkActivation> acts = read_activations(ctx, 1, c.directions);
  RecurrentNetworkActivation f = acts.empty() ? RecurrentNetworkActivation::tanh : acts[0];
  int64_t D = c.directions, H = c.hidden;
  if (ctx.rank(1) != 3) ctx.bad_model("input W must have rank 3, got " + to_string(ctx.shape(1)));
  int64_t I = ctx.shape(1)[2];
  GruOptions o;
  o.label = ctx.label();
  o.direction = c.direction;
  o.layout = GruWeightLayout::zrn;
  o.reset_after = true;
  o.activations = {RecurrentNetworkActivation::sigmoid, f};
  Operand W = concat1(ctx, {filled(ctx, {D, 2 * H, I}, 0), ctx.operand(1)});
  Operand R = concat1(ctx, {filled(ctx, {D, 2 * H, H}, 0), ctx.operand(2)});
  Operand wb, rb;
  std::tie(wb, rb) = split_bias(ctx, c, 1);
  Operand gates = concat1(ctx, {filled(ctx, {D, H}, -1e4f), filled(ctx, {D, H}, 1e4f)});
  o.bias = concat1(ctx, {gates, wb.valid() ? wb : filled(ctx, {D, H}, 0)});
  if (rb.valid()) o.recurrent_bias = concat1(ctx, {filled(ctx, {D, 2 * H}, 0), rb});
  o.initial_hidden_state = state_in(ctx, 5, c);
  o.return_sequence = wants_sequence(ctx);
  std::vector<Operand> out = ctx.builder().gru(input_x(ctx, c), W, R, c.steps, c.hidden, o);
  if (o.return_sequence) set_sequence(ctx, out[1], c);
  set_state(ctx, 1, out[0], c);
}

}  // namespace

void register_recurrent_converters(ConverterTable& t) {
  t["LSTM"] = lstm;
  t["GRU"] = gru;
  t["RNN"] = rnn;
}

}  // namespace cppnn::onnx_import
