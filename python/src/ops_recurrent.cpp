// Builder methods of the recurrent family: lstm, lstm_cell, gru, gru_cell. The spec's
// options are keyword arguments in snake_case; enums are their spec strings ("both",
// "ifgo", "relu"...), activations a list of them (None: the spec's default).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "builder.h"

namespace webnn_py {
namespace {

using namespace nb::literals;
using cppnn::Operand;
using OptOperand = std::optional<Operand>;
using Names = std::optional<std::vector<std::string>>;

std::vector<cppnn::RecurrentNetworkActivation> activations(const Names& names, const char* op) {
  std::vector<cppnn::RecurrentNetworkActivation> out;
  if (!names) return out;
  // An empty list is the spec's "a list of the wrong size", not the default.
  if (names->empty())
    cppnn::fail(cppnn::ErrorKind::TypeError, std::string(op) + ": activations must not be empty");
  for (const std::string& n : *names)
    out.push_back(parse_enum<cppnn::RecurrentNetworkActivation>(
        n,
        {{"relu", cppnn::RecurrentNetworkActivation::relu},
         {"sigmoid", cppnn::RecurrentNetworkActivation::sigmoid},
         {"tanh", cppnn::RecurrentNetworkActivation::tanh}},
        op, "activations"));
  return out;
}

cppnn::RecurrentNetworkDirection direction(const std::string& v, const char* op) {
  return parse_enum<cppnn::RecurrentNetworkDirection>(
      v,
      {{"forward", cppnn::RecurrentNetworkDirection::forward},
       {"backward", cppnn::RecurrentNetworkDirection::backward},
       {"both", cppnn::RecurrentNetworkDirection::both}},
      op, "direction");
}

cppnn::LstmWeightLayout lstm_layout(const std::string& v, const char* op) {
  return parse_enum<cppnn::LstmWeightLayout>(
      v, {{"iofg", cppnn::LstmWeightLayout::iofg}, {"ifgo", cppnn::LstmWeightLayout::ifgo}}, op,
      "layout");
}

cppnn::GruWeightLayout gru_layout(const std::string& v, const char* op) {
  return parse_enum<cppnn::GruWeightLayout>(
      v, {{"zrn", cppnn::GruWeightLayout::zrn}, {"rzn", cppnn::GruWeightLayout::rzn}}, op,
      "layout");
}

}  // namespace

void bind_recurrent_ops(BuilderClass& cls) {
  cls.def(
      "lstm",
      [](PyGraphBuilder& b, const Operand& input, const Operand& weight,
         const Operand& recurrent_weight, int64_t steps, int64_t hidden_size,
         const OptOperand& bias, const OptOperand& recurrent_bias,
         const OptOperand& peephole_weight, const OptOperand& initial_hidden_state,
         const OptOperand& initial_cell_state, bool return_sequence, const std::string& dir,
         const std::string& layout, const Names& acts, const std::string& label) {
        auto o = labelled<cppnn::LstmOptions>(label);
        o.bias = or_absent(bias);
        o.recurrent_bias = or_absent(recurrent_bias);
        o.peephole_weight = or_absent(peephole_weight);
        o.initial_hidden_state = or_absent(initial_hidden_state);
        o.initial_cell_state = or_absent(initial_cell_state);
        o.return_sequence = return_sequence;
        o.direction = direction(dir, "lstm");
        o.layout = lstm_layout(layout, "lstm");
        o.activations = activations(acts, "lstm");
        return b.builder.lstm(input, weight, recurrent_weight, to_u32(steps, "lstm", "steps"),
                              to_u32(hidden_size, "lstm", "hidden_size"), o);
      },
      "input"_a, "weight"_a, "recurrent_weight"_a, "steps"_a, "hidden_size"_a, nb::kw_only(),
      "bias"_a = nb::none(), "recurrent_bias"_a = nb::none(), "peephole_weight"_a = nb::none(),
      "initial_hidden_state"_a = nb::none(), "initial_cell_state"_a = nb::none(),
      "return_sequence"_a = false, "direction"_a = "forward", "layout"_a = "iofg",
      "activations"_a = nb::none(), "label"_a = "",
      "[hidden, cell] of the last step, and the sequence of hidden states when return_sequence.");
  cls.def(
      "lstm_cell",
      [](PyGraphBuilder& b, const Operand& input, const Operand& weight,
         const Operand& recurrent_weight, const Operand& hidden_state, const Operand& cell_state,
         int64_t hidden_size, const OptOperand& bias, const OptOperand& recurrent_bias,
         const OptOperand& peephole_weight, const std::string& layout, const Names& acts,
         const std::string& label) {
        auto o = labelled<cppnn::LstmCellOptions>(label);
        o.bias = or_absent(bias);
        o.recurrent_bias = or_absent(recurrent_bias);
        o.peephole_weight = or_absent(peephole_weight);
        o.layout = lstm_layout(layout, "lstm_cell");
        o.activations = activations(acts, "lstm_cell");
        return b.builder.lstm_cell(input, weight, recurrent_weight, hidden_state, cell_state,
                                   to_u32(hidden_size, "lstm_cell", "hidden_size"), o);
      },
      "input"_a, "weight"_a, "recurrent_weight"_a, "hidden_state"_a, "cell_state"_a,
      "hidden_size"_a, nb::kw_only(), "bias"_a = nb::none(), "recurrent_bias"_a = nb::none(),
      "peephole_weight"_a = nb::none(), "layout"_a = "iofg", "activations"_a = nb::none(),
      "label"_a = "", "[hidden, cell] after one step.");
  cls.def(
      "gru",
      [](PyGraphBuilder& b, const Operand& input, const Operand& weight,
         const Operand& recurrent_weight, int64_t steps, int64_t hidden_size,
         const OptOperand& bias, const OptOperand& recurrent_bias,
         const OptOperand& initial_hidden_state, bool reset_after, bool return_sequence,
         const std::string& dir, const std::string& layout, const Names& acts,
         const std::string& label) {
        auto o = labelled<cppnn::GruOptions>(label);
        o.bias = or_absent(bias);
        o.recurrent_bias = or_absent(recurrent_bias);
        o.initial_hidden_state = or_absent(initial_hidden_state);
        o.reset_after = reset_after;
        o.return_sequence = return_sequence;
        o.direction = direction(dir, "gru");
        o.layout = gru_layout(layout, "gru");
        o.activations = activations(acts, "gru");
        return b.builder.gru(input, weight, recurrent_weight, to_u32(steps, "gru", "steps"),
                             to_u32(hidden_size, "gru", "hidden_size"), o);
      },
      "input"_a, "weight"_a, "recurrent_weight"_a, "steps"_a, "hidden_size"_a, nb::kw_only(),
      "bias"_a = nb::none(), "recurrent_bias"_a = nb::none(),
      "initial_hidden_state"_a = nb::none(), "reset_after"_a = true, "return_sequence"_a = false,
      "direction"_a = "forward", "layout"_a = "zrn", "activations"_a = nb::none(), "label"_a = "",
      "[hidden] of the last step, and the sequence of hidden states when return_sequence.");
  cls.def(
      "gru_cell",
      [](PyGraphBuilder& b, const Operand& input, const Operand& weight,
         const Operand& recurrent_weight, const Operand& hidden_state, int64_t hidden_size,
         const OptOperand& bias, const OptOperand& recurrent_bias, bool reset_after,
         const std::string& layout, const Names& acts, const std::string& label) {
        auto o = labelled<cppnn::GruCellOptions>(label);
        o.bias = or_absent(bias);
        o.recurrent_bias = or_absent(recurrent_bias);
        o.reset_after = reset_after;
        o.layout = gru_layout(layout, "gru_cell");
        o.activations = activations(acts, "gru_cell");
        return b.builder.gru_cell(input, weight, recurrent_weight, hidden_state,
                                  to_u32(hidden_size, "gru_cell", "hidden_size"), o);
      },
      "input"_a, "weight"_a, "recurrent_weight"_a, "hidden_state"_a, "hidden_size"_a,
      nb::kw_only(), "bias"_a = nb::none(), "recurrent_bias"_a = nb::none(),
      "reset_after"_a = true, "layout"_a = "zrn", "activations"_a = nb::none(), "label"_a = "",
      "The hidden state after one step.");
}

}  // namespace webnn_py
