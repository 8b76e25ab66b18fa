// Re-validation of a graph read from an engine file. The checksum only proves the bytes
// are the ones written; a file can still be crafted or written by a buggy producer, so the
// graph must pass the same checks the builder applied when it was made: every node through
// the op table, with its stored outputs equal to what the op infers.
#include <exception>

#include "engine/engine_format.h"
#include "graph/op_table.h"

namespace cppnn::detail {

namespace {

[[noreturn]] void invalid(const std::string& message) {
  fail(ErrorKind::DataError, "engine graph is invalid: " + message);
}

std::string describe(const OperandDescriptor& d) {
  return std::string(to_string(d.data_type)) + " " + to_string(d.shape);
}

std::string node_name(size_t index, const std::string& op, const Node& node) {
  std::string s = "node " + std::to_string(index) + " (" + op;
  if (!node.label.empty()) s += " '" + node.label + "'";
  return s + ")";
}

// The op's name as the file spells it: the reader keeps the names that map to no op.
std::string stored_name(size_t index, const Node& node, const UnknownOps& unknown_ops) {
  if (node.op != OpId::none) return op_name(node.op);
  auto it = unknown_ops.find(index);
  return it == unknown_ops.end() ? std::string() : it->second;
}

void check_node(const GraphIR& g, size_t index, Node& node, const UnknownOps& unknown_ops,
                std::vector<bool>& defined) {
  const std::string op = stored_name(index, node, unknown_ops);
  const std::string where = node_name(index, op, node);
  // OpId::none (and an internal pseudo-op, which the table does not hold) has no schema.
  const OpSchema* schema = OpTable::instance().find(node.op);
  if (!schema) invalid(where + ": unknown op '" + op + "'");
  size_t max_inputs = std::max(schema->min_inputs, schema->input_names.size());
  if (node.inputs.size() < schema->min_inputs ||
      (!schema->variadic && node.inputs.size() > max_inputs))
    invalid(where + ": has " + std::to_string(node.inputs.size()) + " inputs");

  InputDescs descs;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    OperandId id = node.inputs[i];
    if (id == kNoOperand) {
      if (i < schema->min_inputs || schema->variadic)
        invalid(where + ": required input " + std::to_string(i) + " is absent");
      descs.push_back(nullptr);
      continue;
    }
    if (id < 0 || size_t(id) >= g.operands.size())
      invalid(where + ": input operand id " + std::to_string(id) + " is out of range");
    if (!defined[size_t(id)])
      invalid(where + ": reads operand " + std::to_string(id) +
              " before any node produces it (nodes are not in topological order)");
    descs.push_back(&g.operands[size_t(id)].desc);
  }

  std::vector<OperandDescriptor> inferred;
  Attrs attrs = node.attrs;
  try {
    inferred = schema->infer(descs, attrs);
  } catch (const Error& e) {
    invalid(where + ": " + e.what());
  } catch (const std::exception& e) {
    // Attributes no builder call could produce may upset an infer function in ways it
    // does not phrase as cppnn::Error (a huge list, an index past the end).
    invalid(where + ": its attributes cannot be validated (" + e.what() + ")");
  }
  if (inferred.size() != node.outputs.size())
    invalid(where + ": stores " + std::to_string(node.outputs.size()) + " outputs, the op has " +
            std::to_string(inferred.size()));
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    OperandId id = node.outputs[i];
    if (id < 0 || size_t(id) >= g.operands.size())
      invalid(where + ": output operand id " + std::to_string(id) + " is out of range");
    const OperandInfo& out = g.operands[size_t(id)];
    if (out.role != OperandRole::intermediate)
      invalid(where + ": writes operand " + std::to_string(id) +
              ", which is an input or a constant");
    if (defined[size_t(id)])
      invalid(where + ": writes operand " + std::to_string(id) +
              ", which another node already wrote");
    if (out.desc != inferred[i])
      invalid(where + ": output " + std::to_string(i) + " is stored as " + describe(out.desc) +
              " but the op infers " + describe(inferred[i]));
    defined[size_t(id)] = true;
  }
  node.attrs = std::move(attrs);
}

}  // namespace

void validate_engine_graph(GraphIR& g, const UnknownOps& unknown_ops) {
  const size_t n = g.operands.size();
  auto in_range = [&](OperandId id) { return id >= 0 && size_t(id) < n; };

  std::vector<int> input_names(n, 0);
  for (const auto& [name, id] : g.inputs) {
    if (name.empty()) invalid("a graph input has an empty name");
    if (!in_range(id))
      invalid("graph input '" + name + "' refers to operand " + std::to_string(id) +
              ", out of range");
    const OperandInfo& op = g.operands[size_t(id)];
    if (op.role != OperandRole::input || op.name != name)
      invalid("graph input '" + name + "' refers to operand " + std::to_string(id) +
              ", which is not the input of that name");
    ++input_names[size_t(id)];
  }

  // Inputs and constants exist before the first node; everything else when produced.
  std::vector<bool> defined(n, false);
  for (size_t i = 0; i < n; ++i) {
    const OperandInfo& op = g.operands[i];
    if (op.role == OperandRole::input && input_names[i] != 1)
      invalid("input operand " + std::to_string(i) + " is not listed as a graph input");
    if (op.role == OperandRole::constant && !op.data)
      invalid("constant operand " + std::to_string(i) + " has no data");
    if (op.role == OperandRole::constant &&
        op.data->byte_size() != byte_size(op.desc.data_type, element_count(op.desc.shape)))
      invalid("constant operand " + std::to_string(i) + " has the wrong byte size");
    defined[i] = op.role != OperandRole::intermediate;
  }

  for (size_t k = 0; k < g.nodes.size(); ++k) check_node(g, k, g.nodes[k], unknown_ops, defined);

  for (size_t i = 0; i < n; ++i)
    if (!defined[i]) invalid("operand " + std::to_string(i) + " is never produced by a node");
  if (g.outputs.empty()) invalid("the graph has no outputs");
  for (const auto& [name, id] : g.outputs) {
    if (name.empty()) invalid("a graph output has an empty name");
    if (!in_range(id))
      invalid("graph output '" + name + "' refers to operand " + std::to_string(id) +
              ", out of range");
    if (g.operands[size_t(id)].role == OperandRole::input)
      invalid("graph output '" + name + "' is a graph input, not the result of an op");
  }
}

}  // namespace cppnn::detail
