// The builder's core: inputs, constants, node creation through the op table, and build().
// The op methods live with their families in src/graph/ops/.
#include <limits>
#include <set>
#include <sstream>

#include "graph/op_table.h"
#include "graph/validation.h"
#include "core/dispatch.h"

namespace cppnn {

namespace detail {

namespace {
void check_descriptor(const OperandDescriptor& desc, const std::string& what) {
  // bfloat16 is the storage type of bfloat16 precision, not a WebNN operand type
  // (cppnn/types.h): no input, constant or op result of a built graph has it.
  if (desc.data_type == DataType::bfloat16)
    type_error(what + ": bfloat16 is not a WebNN operand data type");
  for (int64_t d : desc.shape)
    if (d <= 0 || d > kMaxDimension)
      type_error(what + ": shape " + to_string(desc.shape) +
                 " has a dimension that is not a valid dimension (must be > 0)");
  size_t n = element_count(desc.shape);
  if (n > size_t(std::numeric_limits<int32_t>::max()) * 4)
    type_error(what + ": shape " + to_string(desc.shape) + " has too many elements");
}
}  // namespace

OperandId BuilderState::check(const Operand& operand, const std::string& op,
                              const std::string& what) const {
  if (!operand.valid()) type_error(op + ": " + operand_name(what) + " is not a valid operand");
  if (operand.owner() != this)
    type_error(op + ": " + operand_name(what) + " was created by another builder");
  return operand.id();
}

std::vector<OperandId> BuilderState::add_node(OpId id, const std::vector<Operand>& inputs,
                                              Attrs attrs, const std::string& label) {
  const std::string& op = op_name(id);
  if (built) fail(ErrorKind::InvalidStateError, op + ": the builder has already built a graph");
  const OpSchema* schema = OpTable::instance().find(id);
  if (!schema) fail(ErrorKind::NotSupportedError, "unknown op '" + op + "'");
  std::string where = label.empty() ? op : op + " '" + label + "'";
  auto input_name = [&](size_t i) {
    if (schema->input_names.empty()) return "input " + std::to_string(i);
    return i < schema->input_names.size() ? schema->input_names[i] : schema->input_names.back();
  };
  if (inputs.size() < schema->min_inputs ||
      (!schema->variadic && inputs.size() > std::max(schema->min_inputs, schema->input_names.size())))
    type_error(where + ": got " + std::to_string(inputs.size()) + " operands");

  std::vector<OperandId> ids;
  InputDescs descs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].valid() && i >= schema->min_inputs && !schema->variadic) {
      ids.push_back(kNoOperand);
      descs.push_back(nullptr);
      continue;
    }
    OperandId id = check(inputs[i], where, input_name(i));
    ids.push_back(id);
    descs.push_back(&ir.operands[size_t(id)].desc);
  }
  std::vector<OperandDescriptor> outs;
  try {
    outs = schema->infer(descs, attrs);
    for (auto& d : outs) check_descriptor(d, "output");
  } catch (const Error& e) {
    throw Error(e.kind(), where + ": " + e.what());
  }
  Node node{id, ids, {}, std::move(attrs), label};
  for (auto& d : outs) {
    node.outputs.push_back(OperandId(ir.operands.size()));
    ir.operands.push_back(OperandInfo{d, OperandRole::intermediate, {}, nullptr});
  }
  ir.nodes.push_back(std::move(node));
  return ir.nodes.back().outputs;
}

OperandId BuilderState::add_constant(std::shared_ptr<const Tensor> data) {
  if (built) fail(ErrorKind::InvalidStateError, "constant: the builder has already built a graph");
  OperandDescriptor desc{data->data_type(), data->shape()};
  check_descriptor(desc, "constant");
  ir.operands.push_back(OperandInfo{desc, OperandRole::constant, {}, std::move(data)});
  return OperandId(ir.operands.size() - 1);
}

Operand make_operand(GraphBuilder& builder, OperandId id) {
  return Operand(builder.state_, id);
}

std::vector<Operand> add_op(GraphBuilder& builder, OpId op,
                            const std::vector<Operand>& inputs, Attrs attrs,
                            const std::string& label) {
  std::vector<Operand> out;
  for (OperandId id : builder.state().add_node(op, inputs, std::move(attrs), label))
    out.push_back(make_operand(builder, id));
  return out;
}

}  // namespace detail

using namespace detail;

DataType Operand::data_type() const {
  if (!state_) fail(ErrorKind::InvalidStateError, "operand is not valid");
  return state_->ir.operands[size_t(id_)].desc.data_type;
}

const Dims& Operand::shape() const {
  if (!state_) fail(ErrorKind::InvalidStateError, "operand is not valid");
  return state_->ir.operands[size_t(id_)].desc.shape;
}

GraphBuilder::GraphBuilder() : state_(std::make_shared<BuilderState>()) {}

Operand GraphBuilder::input(const std::string& name, DataType type, const Dims& shape) {
  if (state_->built) fail(ErrorKind::InvalidStateError, "input: the builder has already built a graph");
  if (name.empty()) type_error("input: the name must not be empty");
  if (state_->ir.inputs.count(name)) type_error("input: duplicate input name '" + name + "'");
  OperandDescriptor desc{type, shape};
  check_descriptor(desc, "input '" + name + "'");
  OperandId id = OperandId(state_->ir.operands.size());
  state_->ir.operands.push_back(OperandInfo{desc, OperandRole::input, name, nullptr});
  state_->ir.inputs[name] = id;
  return Operand(state_, id);
}

Operand GraphBuilder::constant(DataType type, const Dims& shape, const void* data, size_t bytes) {
  OperandDescriptor desc{type, shape};
  check_descriptor(desc, "constant");
  size_t need = byte_size(type, element_count(shape));
  if (bytes != need)
    type_error("constant: " + std::string(to_string(type)) + " " + to_string(shape) + " needs " +
               std::to_string(need) + " bytes, the buffer has " + std::to_string(bytes));
  return Operand(state_, state_->add_constant(std::make_shared<Tensor>(type, shape, data, bytes)));
}

Operand GraphBuilder::constant(const Tensor& tensor) {
  if (tensor.empty()) type_error("constant: the tensor is empty");
  return Operand(state_, state_->add_constant(std::make_shared<Tensor>(tensor.clone())));
}

Operand GraphBuilder::constant(DataType type, double value) {
  check_descriptor({type, {}}, "constant");
  auto t = std::make_shared<Tensor>(type, Dims{});
  visit_type(type, [&]<typename T>() { *t->data_as<T>() = from_double<T>(value); });
  return Operand(state_, state_->add_constant(std::move(t)));
}

Graph GraphBuilder::build(const std::map<std::string, Operand>& outputs) {
  if (state_->built) fail(ErrorKind::InvalidStateError, "build: the builder has already built a graph");
  if (outputs.empty()) type_error("build: at least one output is required");
  const GraphIR& src = state_->ir;
  for (const auto& [name, operand] : outputs) {
    if (name.empty()) type_error("build: an output name is empty");
    OperandId id = state_->check(operand, "build", "output '" + name + "'");
    const OperandInfo& info = src.operands[size_t(id)];
    if (info.role != OperandRole::intermediate)
      type_error("build: output '" + name + "' is an input or a constant, not the result of an op");
  }

  // Keep only what the outputs need (the spec's graph is the outputs' ancestors).
  std::vector<bool> live(src.operands.size(), false);
  std::vector<int32_t> producer(src.operands.size(), -1);
  for (size_t n = 0; n < src.nodes.size(); ++n)
    for (OperandId o : src.nodes[n].outputs) producer[size_t(o)] = int32_t(n);
  std::vector<OperandId> stack;
  for (const auto& [_, operand] : outputs) stack.push_back(operand.id());
  std::vector<bool> node_live(src.nodes.size(), false);
  while (!stack.empty()) {
    OperandId id = stack.back();
    stack.pop_back();
    if (live[size_t(id)]) continue;
    live[size_t(id)] = true;
    int32_t p = producer[size_t(id)];
    if (p >= 0 && !node_live[size_t(p)]) {
      node_live[size_t(p)] = true;
      for (OperandId in : src.nodes[size_t(p)].inputs)
        if (in != kNoOperand) stack.push_back(in);
      for (OperandId out : src.nodes[size_t(p)].outputs) live[size_t(out)] = true, stack.push_back(out);
    }
  }

  auto ir = std::make_shared<GraphIR>();
  std::vector<OperandId> remap(src.operands.size(), kNoOperand);
  for (size_t i = 0; i < src.operands.size(); ++i) {
    if (!live[i]) continue;
    remap[i] = OperandId(ir->operands.size());
    ir->operands.push_back(src.operands[i]);
  }
  for (size_t n = 0; n < src.nodes.size(); ++n) {
    if (!node_live[n]) continue;
    Node node = src.nodes[n];
    for (OperandId& id : node.inputs)
      if (id != kNoOperand) id = remap[size_t(id)];
    for (OperandId& id : node.outputs) id = remap[size_t(id)];
    ir->nodes.push_back(std::move(node));
  }
  for (const auto& [name, id] : src.inputs)
    if (live[size_t(id)]) ir->inputs[name] = remap[size_t(id)];
  for (const auto& [name, operand] : outputs) ir->outputs[name] = remap[size_t(operand.id())];
  state_->built = true;
  return Graph(std::move(ir));
}

const GraphIR& Graph::ir() const {
  if (!ir_) fail(ErrorKind::InvalidStateError, "graph is not valid");
  return *ir_;
}

std::map<std::string, OperandDescriptor> Graph::inputs() const {
  std::map<std::string, OperandDescriptor> out;
  for (const auto& [name, id] : ir().inputs) out[name] = ir().desc(id);
  return out;
}

std::map<std::string, OperandDescriptor> Graph::outputs() const {
  std::map<std::string, OperandDescriptor> out;
  for (const auto& [name, id] : ir().outputs) out[name] = ir().desc(id);
  return out;
}

size_t Graph::node_count() const { return ir().nodes.size(); }

std::string Graph::summary() const {
  std::ostringstream s;
  for (const Node& node : ir().nodes) {
    s << op_name(node.op);
    if (!node.label.empty()) s << " '" << node.label << "'";
    s << " (";
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (i) s << ", ";
      s << (node.inputs[i] == kNoOperand ? "-" : to_string(ir().desc(node.inputs[i]).shape));
    }
    s << ") -> ";
    for (OperandId o : node.outputs)
      s << to_string(ir().desc(o).data_type) << to_string(ir().desc(o).shape) << " ";
    s << "\n";
  }
  return s.str();
}

}  // namespace cppnn
