// Recurrent networks: lstm, lstmCell, gru, gruCell, validated with the spec's steps.
// Attributes use the spec's option names; infer fills every default: "hiddenSize", "steps"
// (lstm, gru), "direction" ("forward", "backward", "both"), "layout" ("iofg"/"ifgo",
// "zrn"/"rzn"), "activations" (comma-separated, e.g. "sigmoid,tanh,tanh"), "returnSequence"
// and "resetAfter" (gru, gruCell). Absent optional operands are kNoOperand inputs, at the
// spec's positions (input_names below), so that kernels find each by its index.
#include <limits>
#include <sstream>

#include "graph/op_table.h"
#include "graph/validation.h"

namespace cppnn {
namespace detail {

namespace {

const char* activation_name(RecurrentNetworkActivation a) {
  switch (a) {
    case RecurrentNetworkActivation::relu: return "relu";
    case RecurrentNetworkActivation::sigmoid: return "sigmoid";
    case RecurrentNetworkActivation::tanh: return "tanh";
  }
  return "?";
}

const char* direction_name(RecurrentNetworkDirection d) {
  switch (d) {
    case RecurrentNetworkDirection::forward: return "forward";
    case RecurrentNetworkDirection::backward: return "backward";
    case RecurrentNetworkDirection::both: return "both";
  }
  return "?";
}

// The "activations" attribute: `count` names of MLRecurrentNetworkActivation, comma-separated;
// absent: `fallback`. An engine or an ONNX import may hand any string: TypeError naming it.
std::string check_activations(Attrs& attrs, size_t count, const std::string& fallback) {
  std::string text = attrs.s_or("activations", fallback);
  std::vector<std::string> names;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) names.push_back(item);
  if (names.size() != count)
    type_error("activations must list " + std::to_string(count) + " activations, got " +
               std::to_string(names.size()) + " (\"" + text + "\")");
  for (const std::string& n : names)
    if (n != "relu" && n != "sigmoid" && n != "tanh")
      type_error("activation \"" + n + "\" is not one of relu, sigmoid, tanh");
  attrs.set("activations", text);
  return text;
}

std::string check_choice(Attrs& attrs, const std::string& name, const std::string& fallback,
                         std::initializer_list<const char*> allowed) {
  std::string v = attrs.s_or(name, fallback);
  std::string list;
  for (const char* a : allowed) {
    if (v == a) {
      attrs.set(name, v);
      return v;
    }
    list += (list.empty() ? "\"" : ", \"") + std::string(a) + "\"";
  }
  type_error(name + " must be one of " + list + ", got \"" + v + "\"");
}

// hiddenSize as the spec takes it: an unsigned long; `gates` * hiddenSize * 2 (the bias and
// the recurrent bias concatenated, as some platforms keep them) must be a valid dimension.
int64_t hidden_size_attr(const Attrs& attrs) {
  int64_t h = unsigned_attr(attrs, "hiddenSize");
  if (h > int64_t(UINT32_MAX)) type_error("hiddenSize " + std::to_string(h) + " is not an unsigned long");
  return h;
}

void check_hidden_size(const Attrs& attrs, int64_t gates) {
  int64_t h = hidden_size_attr(attrs);
  if (h == 0 || h * gates * 2 > kMaxDimension)
    type_error("hiddenSize " + std::to_string(h) + " * " + std::to_string(gates * 2) +
               " is not a valid dimension");
}

void check_shape(const OperandDescriptor* d, const std::string& name, const Dims& want,
                 const std::string& why) {
  if (!d) return;
  if (d->shape != want)
    type_error(operand_name(name) + " must have shape " + to_string(want) + " (" + why +
               "), got " + to_string(d->shape));
}

// An optional operand: the input's type, and the shape `want`.
void check_option(const InputDescs& in, size_t i, const std::string& name,
                  const OperandDescriptor& input, const Dims& want, const std::string& why) {
  const OperandDescriptor* d = i < in.size() ? in[i] : nullptr;
  if (!d) return;
  check_same_type(input, "input", *d, name);
  check_shape(d, name, want, why);
}

// lstm and gru: the steps both share. Returns numDirections; sets batch and input size.
struct Sequence {
  int64_t steps, batch, input_size, hidden, directions;
};

Sequence check_sequence(const InputDescs& in, Attrs& attrs, int64_t gates) {
  const OperandDescriptor& input = *in[0];
  std::string direction = check_choice(attrs, "direction", "forward", {"forward", "backward", "both"});
  int64_t dirs = direction == "both" ? 2 : 1;
  check_data_type(input, "input", kFloatTypes);
  check_same_type(input, "input", *in[1], "weight");
  check_same_type(input, "input", *in[2], "recurrentWeight");
  check_rank(input, "input", 3);
  check_rank(*in[1], "weight", 3);
  check_rank(*in[2], "recurrentWeight", 3);
  int64_t steps = unsigned_attr(attrs, "steps");
  if (steps == 0) type_error("steps must be greater than 0");
  if (input.shape[0] != steps)
    type_error(operand_name("input") + " has " + std::to_string(input.shape[0]) +
               " steps (dimension 0), but steps is " + std::to_string(steps));
  int64_t hidden = hidden_size_attr(attrs);
  int64_t batch = input.shape[1], input_size = input.shape[2];
  std::string g = std::to_string(gates) + " * hiddenSize";
  check_shape(in[1], "weight", {dirs, gates * hidden, input_size},
              "[numDirections, " + g + ", inputSize]");
  check_shape(in[2], "recurrentWeight", {dirs, gates * hidden, hidden},
              "[numDirections, " + g + ", hiddenSize]");
  check_hidden_size(attrs, gates);
  return {steps, batch, input_size, hidden, dirs};
}

std::vector<OperandDescriptor> infer_lstm(const InputDescs& in, Attrs& attrs) {
  Sequence s = check_sequence(in, attrs, 4);
  const OperandDescriptor& input = *in[0];
  std::string bias_why = "[numDirections, 4 * hiddenSize]";
  check_option(in, 3, "bias", input, {s.directions, 4 * s.hidden}, bias_why);
  check_option(in, 4, "recurrentBias", input, {s.directions, 4 * s.hidden}, bias_why);
  check_option(in, 5, "peepholeWeight", input, {s.directions, 3 * s.hidden},
               "[numDirections, 3 * hiddenSize]");
  std::string state_why = "[numDirections, batchSize, hiddenSize]";
  check_option(in, 6, "initialHiddenState", input, {s.directions, s.batch, s.hidden}, state_why);
  check_option(in, 7, "initialCellState", input, {s.directions, s.batch, s.hidden}, state_why);
  check_activations(attrs, 3, "sigmoid,tanh,tanh");
  check_choice(attrs, "layout", "iofg", {"iofg", "ifgo"});
  bool sequence = attrs.i_or("returnSequence", 0) != 0;
  attrs.set_bool("returnSequence", sequence);
  OperandDescriptor state{input.data_type, {s.directions, s.batch, s.hidden}};
  std::vector<OperandDescriptor> out = {state, state};
  if (sequence) out.push_back({input.data_type, {s.steps, s.directions, s.batch, s.hidden}});
  return out;
}

std::vector<OperandDescriptor> infer_gru(const InputDescs& in, Attrs& attrs) {
  Sequence s = check_sequence(in, attrs, 3);
  const OperandDescriptor& input = *in[0];
  std::string bias_why = "[numDirections, 3 * hiddenSize]";
  check_option(in, 3, "bias", input, {s.directions, 3 * s.hidden}, bias_why);
  check_option(in, 4, "recurrentBias", input, {s.directions, 3 * s.hidden}, bias_why);
  check_option(in, 5, "initialHiddenState", input, {s.directions, s.batch, s.hidden},
               "[numDirections, batchSize, hiddenSize]");
  check_activations(attrs, 2, "sigmoid,tanh");
  check_choice(attrs, "layout", "zrn", {"zrn", "rzn"});
  attrs.set_bool("resetAfter", attrs.i_or("resetAfter", 1) != 0);
  bool sequence = attrs.i_or("returnSequence", 0) != 0;
  attrs.set_bool("returnSequence", sequence);
  std::vector<OperandDescriptor> out = {{input.data_type, {s.directions, s.batch, s.hidden}}};
  if (sequence) out.push_back({input.data_type, {s.steps, s.directions, s.batch, s.hidden}});
  return out;
}

// lstmCell and gruCell: input, weight, recurrentWeight and the `states` state operands.
struct Cell {
  int64_t batch, input_size, hidden;
};

Cell check_cell(const InputDescs& in, Attrs& attrs, int64_t gates,
                std::initializer_list<const char*> states) {
  const OperandDescriptor& input = *in[0];
  check_data_type(input, "input", kFloatTypes);
  check_same_type(input, "input", *in[1], "weight");
  check_same_type(input, "input", *in[2], "recurrentWeight");
  size_t i = 3;
  for (const char* name : states) check_same_type(input, "input", *in[i++], name);
  check_rank(input, "input", 2);
  check_rank(*in[1], "weight", 2);
  check_rank(*in[2], "recurrentWeight", 2);
  i = 3;
  for (const char* name : states) check_rank(*in[i++], name, 2);
  int64_t hidden = hidden_size_attr(attrs);
  int64_t batch = input.shape[0], input_size = input.shape[1];
  std::string g = std::to_string(gates) + " * hiddenSize";
  check_shape(in[1], "weight", {gates * hidden, input_size}, "[" + g + ", inputSize]");
  check_shape(in[2], "recurrentWeight", {gates * hidden, hidden}, "[" + g + ", hiddenSize]");
  i = 3;
  for (const char* name : states)
    check_shape(in[i++], name, {batch, hidden}, "[batchSize, hiddenSize]");
  check_hidden_size(attrs, gates);
  return {batch, input_size, hidden};
}

std::vector<OperandDescriptor> infer_lstm_cell(const InputDescs& in, Attrs& attrs) {
  Cell c = check_cell(in, attrs, 4, {"hiddenState", "cellState"});
  const OperandDescriptor& input = *in[0];
  check_option(in, 5, "bias", input, {4 * c.hidden}, "[4 * hiddenSize]");
  check_option(in, 6, "recurrentBias", input, {4 * c.hidden}, "[4 * hiddenSize]");
  check_option(in, 7, "peepholeWeight", input, {3 * c.hidden}, "[3 * hiddenSize]");
  check_activations(attrs, 3, "sigmoid,tanh,tanh");
  check_choice(attrs, "layout", "iofg", {"iofg", "ifgo"});
  OperandDescriptor state{input.data_type, {c.batch, c.hidden}};
  return {state, state};
}

std::vector<OperandDescriptor> infer_gru_cell(const InputDescs& in, Attrs& attrs) {
  Cell c = check_cell(in, attrs, 3, {"hiddenState"});
  const OperandDescriptor& input = *in[0];
  check_option(in, 4, "bias", input, {3 * c.hidden}, "[3 * hiddenSize]");
  check_option(in, 5, "recurrentBias", input, {3 * c.hidden}, "[3 * hiddenSize]");
  check_activations(attrs, 2, "sigmoid,tanh");
  check_choice(attrs, "layout", "zrn", {"zrn", "rzn"});
  attrs.set_bool("resetAfter", attrs.i_or("resetAfter", 1) != 0);
  return {{input.data_type, {c.batch, c.hidden}}};
}

// The builder's activations: absent (empty) leaves the attribute to infer's default.
void set_activations(Attrs& attrs, const std::vector<RecurrentNetworkActivation>& list) {
  if (list.empty()) return;
  std::string s;
  for (RecurrentNetworkActivation a : list) {
    if (!s.empty()) s += ',';
    s += activation_name(a);
  }
  attrs.set("activations", s);
}

}  // namespace

void register_recurrent_ops(OpTable& table) {
  table.add(OpSchema{OpId::lstm,
                     {"input", "weight", "recurrentWeight", "bias", "recurrentBias",
                      "peepholeWeight", "initialHiddenState", "initialCellState"},
                     3,
                     false,
                     infer_lstm});
  table.add(OpSchema{OpId::lstmCell,
                     {"input", "weight", "recurrentWeight", "hiddenState", "cellState", "bias",
                      "recurrentBias", "peepholeWeight"},
                     5,
                     false,
                     infer_lstm_cell});
  table.add(OpSchema{OpId::gru,
                     {"input", "weight", "recurrentWeight", "bias", "recurrentBias",
                      "initialHiddenState"},
                     3,
                     false,
                     infer_gru});
  table.add(OpSchema{OpId::gruCell,
                     {"input", "weight", "recurrentWeight", "hiddenState", "bias",
                      "recurrentBias"},
                     4,
                     false,
                     infer_gru_cell});
}

}  // namespace detail

using namespace detail;

std::vector<Operand> GraphBuilder::lstm(const Operand& input, const Operand& weight,
                                        const Operand& recurrent_weight, uint32_t steps,
                                        uint32_t hidden_size, const LstmOptions& o) {
  Attrs attrs;
  attrs.set("steps", int64_t(steps));
  attrs.set("hiddenSize", int64_t(hidden_size));
  attrs.set_bool("returnSequence", o.return_sequence);
  attrs.set("direction", std::string(direction_name(o.direction)));
  attrs.set("layout", std::string(o.layout == LstmWeightLayout::iofg ? "iofg" : "ifgo"));
  set_activations(attrs, o.activations);
  return add_op(*this, OpId::lstm,
                {input, weight, recurrent_weight, o.bias, o.recurrent_bias, o.peephole_weight,
                 o.initial_hidden_state, o.initial_cell_state},
                std::move(attrs), o.label);
}

std::vector<Operand> GraphBuilder::lstm_cell(const Operand& input, const Operand& weight,
                                             const Operand& recurrent_weight,
                                             const Operand& hidden_state,
                                             const Operand& cell_state, uint32_t hidden_size,
                                             const LstmCellOptions& o) {
  Attrs attrs;
  attrs.set("hiddenSize", int64_t(hidden_size));
  attrs.set("layout", std::string(o.layout == LstmWeightLayout::iofg ? "iofg" : "ifgo"));
  set_activations(attrs, o.activations);
  return add_op(*this, OpId::lstmCell,
                {input, weight, recurrent_weight, hidden_state, cell_state, o.bias,
                 o.recurrent_bias, o.peephole_weight},
                std::move(attrs), o.label);
}

std::vector<Operand> GraphBuilder::gru(const Operand& input, const Operand& weight,
                                       const Operand& recurrent_weight, uint32_t steps,
                                       uint32_t hidden_size, const GruOptions& o) {
  Attrs attrs;
  attrs.set("steps", int64_t(steps));
  attrs.set("hiddenSize", int64_t(hidden_size));
  attrs.set_bool("resetAfter", o.reset_after);
  attrs.set_bool("returnSequence", o.return_sequence);
  attrs.set("direction", std::string(direction_name(o.direction)));
  attrs.set("layout", std::string(o.layout == GruWeightLayout::zrn ? "zrn" : "rzn"));
  set_activations(attrs, o.activations);
  return add_op(*this, OpId::gru,
                {input, weight, recurrent_weight, o.bias, o.recurrent_bias,
                 o.initial_hidden_state},
                std::move(attrs), o.label);
}

Operand GraphBuilder::gru_cell(const Operand& input, const Operand& weight,
                               const Operand& recurrent_weight, const Operand& hidden_state,
                               uint32_t hidden_size, const GruCellOptions& o) {
  Attrs attrs;
  attrs.set("hiddenSize", int64_t(hidden_size));
  attrs.set_bool("resetAfter", o.reset_after);
  attrs.set("layout", std::string(o.layout == GruWeightLayout::zrn ? "zrn" : "rzn"));
  set_activations(attrs, o.activations);
  return add_op(*this, OpId::gruCell,
                {input, weight, recurrent_weight, hidden_state, o.bias, o.recurrent_bias},
                std::move(attrs), o.label)[0];
}

}  // namespace cppnn
