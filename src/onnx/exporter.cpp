// ONNX export: names every operand, runs one converter per WebNN node (export_*.cpp), declares
// the graph's inputs and outputs with their shapes and element types, checks the model with
// onnx::checker and ONNX shape inference (so a converter's mistake fails here, not in a
// consumer) and serializes it.
#include <fcntl.h>
#include <onnx/checker.h>
#include <onnx/defs/data_type_utils.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/checked.h"
#include "core/dispatch.h"
#include "cppnn/onnx.h"

#include "core/file_io.h"
#include "onnx/export_context.h"
#include "onnx/host_ops.h"
#include "onnx/op_coverage.h"

#ifndef CPPNN_VERSION_STRING
#define CPPNN_VERSION_STRING "unknown"
#endif

namespace cppnn {

namespace onnx_export {

using detail::OperandId;
using detail::OperandRole;

ElemType elem_type(DataType type) {
  switch (type) {
    case DataType::float32:
      return onnx::TensorProto::FLOAT;
    case DataType::float16:
      return onnx::TensorProto::FLOAT16;
    case DataType::int32:
      return onnx::TensorProto::INT32;
    case DataType::uint32:
      return onnx::TensorProto::UINT32;
    case DataType::int64:
      return onnx::TensorProto::INT64;
    case DataType::uint64:
      return onnx::TensorProto::UINT64;
    case DataType::int8:
      return onnx::TensorProto::INT8;
    case DataType::uint8:
      return onnx::TensorProto::UINT8;
    case DataType::bfloat16:
      // A bfloat16 engine's graph: ONNX has BFLOAT16, but import does not take it (no WebNN
      // type), so an export could not be read back.
      fail(ErrorKind::NotSupportedError,
           "export: a bfloat16 graph (a bfloat16 engine's) has no ONNX export; export the "
           "float32 model instead");
  }
  fail(ErrorKind::OperationError, "export: unknown data type");
}

namespace {

std::string type_name(ElemType type) {
  std::string s = onnx::TensorProto_DataType_Name(onnx::TensorProto_DataType(type));
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The type's value nearest to `v`: attribute values are already cast to the operand's type
// by the op table, except the infinities of an absent bound and 2^63 / 2^64 for the largest
// 64-bit integers.
Tensor scalar_tensor(DataType type, double v) {
  Tensor t(type, {});
  visit_type(type, [&]<typename T>() {
    T r;
    if constexpr (std::is_same_v<T, half>) {
      r = half(float(v));
    } else if constexpr (std::is_floating_point_v<T>) {
      r = T(v);
    } else {
      using L = std::numeric_limits<T>;
      if (std::isnan(v))
        r = 0;
      else if (v <= double(L::min()))
        r = L::min();
      else if (v >= double(L::max()))
        r = L::max();
      else
        r = T(v);
    }
    t.data_as<T>()[0] = r;
  });
  return t;
}

void fill_type(onnx::TypeProto& proto, const OperandDescriptor& desc) {
  auto* tensor = proto.mutable_tensor_type();
  tensor->set_elem_type(elem_type(desc.data_type));
  auto* shape = tensor->mutable_shape();
  for (int64_t d : desc.shape) shape->add_dim()->set_dim_value(d);
}

}  // namespace

GraphWriter::GraphWriter(const detail::GraphIR& ir, onnx::GraphProto& graph, int64_t opset)
    : ir_(ir), graph_(graph), opset_(opset) {}

bool GraphWriter::reserve(const std::string& name) { return taken_.insert(name).second; }

std::string GraphWriter::new_value(const std::string& hint, ElemType type) {
  std::string name = hint;
  for (int k = 2; !reserve(name); ++k) name = hint + "_" + std::to_string(k);
  types_[name] = type;
  return name;
}

ElemType GraphWriter::type_of(const std::string& name) const {
  auto it = types_.find(name);
  if (it == types_.end())
    fail(ErrorKind::OperationError, "export: value '" + name + "' has no known type");
  return it->second;
}

std::string GraphWriter::operand(OperandId id) {
  auto it = names_.find(id);
  if (it != names_.end()) return it->second;
  const detail::OperandInfo& info = ir_.operands.at(size_t(id));
  if (info.role != OperandRole::constant || !info.data)
    fail(ErrorKind::OperationError,
         "export: operand " + std::to_string(id) + " is read before any node writes it");
  std::string name = initializer(*info.data, "const_" + std::to_string(id));
  names_[id] = name;
  return name;
}

std::string GraphWriter::initializer(const Tensor& data, const std::string& hint) {
  std::string name = new_value(hint, elem_type(data.data_type()));
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(name);
  t->set_data_type(elem_type(data.data_type()));
  for (int64_t d : data.shape()) t->add_dims(d);
  t->set_raw_data(data.data(), data.byte_size());
  return name;
}

std::string GraphWriter::int64s(const std::vector<int64_t>& values, const std::string& hint) {
  return initializer(Tensor::from(DataType::int64, {int64_t(values.size())}, values), hint);
}

std::string GraphWriter::int64_scalar(int64_t value, const std::string& hint) {
  return initializer(Tensor::from(DataType::int64, {}, std::vector<int64_t>{value}), hint);
}

std::string GraphWriter::scalar(DataType type, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  auto key = std::make_pair(type, bits);
  auto it = scalars_.find(key);
  if (it != scalars_.end()) return it->second;
  std::string name = initializer(scalar_tensor(type, value), "scalar");
  scalars_[key] = name;
  return name;
}

const std::string* GraphWriter::bool_twin(const std::string& uint8_name) const {
  auto it = bool_twins_.find(uint8_name);
  return it == bool_twins_.end() ? nullptr : &it->second;
}

onnx::NodeProto& GraphWriter::add_node(const std::string& op_type, const std::string& name,
                                       const std::vector<std::string>& inputs,
                                       const std::vector<std::string>& outputs) {
  onnx::NodeProto* n = graph_.add_node();
  n->set_op_type(op_type);
  n->set_name(name);
  for (const auto& i : inputs) n->add_input(i);
  for (const auto& o : outputs) n->add_output(o);
  return *n;
}

NodeContext::NodeContext(GraphWriter& writer, const detail::Node& node, size_t index)
    : writer_(writer), node_(node) {
  base_ = node.label.empty() ? detail::op_name(node.op) + "_" + std::to_string(index) : node.label;
}

bool NodeContext::has_input(size_t i) const {
  return i < node_.inputs.size() && node_.inputs[i] != detail::kNoOperand;
}

std::string NodeContext::input(size_t i) {
  if (!has_input(i))
    fail(ErrorKind::OperationError, "export: input " + std::to_string(i) + " is absent");
  return writer_.operand(node_.inputs[i]);
}

const OperandDescriptor& NodeContext::input_desc(size_t i) const {
  return writer_.ir().desc(node_.inputs.at(i));
}

const Tensor* NodeContext::constant(size_t i) const {
  if (!has_input(i)) return nullptr;
  const detail::OperandInfo& info = writer_.ir().operands.at(size_t(node_.inputs[i]));
  return info.role == OperandRole::constant && info.data ? info.data.get() : nullptr;
}

std::string NodeContext::output(size_t i) { return writer_.operand(node_.outputs.at(i)); }

const OperandDescriptor& NodeContext::output_desc(size_t i) const {
  return writer_.ir().desc(node_.outputs.at(i));
}

std::string NodeContext::temp(ElemType type) { return writer_.new_value(base_ + "_t", type); }

onnx::NodeProto& NodeContext::emit(const std::string& op_type,
                                   const std::vector<std::string>& inputs,
                                   const std::vector<std::string>& outputs) {
  const onnx::OpSchema* schema =
      onnx::OpSchemaRegistry::Schema(op_type, int(writer_.opset()), onnx::ONNX_DOMAIN);
  if (!schema)
    fail(ErrorKind::OperationError,
         "export: ONNX opset " + std::to_string(writer_.opset()) + " has no op " + op_type);
  const auto& params = schema->inputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) continue;
    if (params.empty() ||
        (i >= params.size() && params.back().GetOption() != onnx::OpSchema::Variadic))
      fail(ErrorKind::OperationError, "export: too many inputs for ONNX's " + op_type);
    const auto& param = params[std::min(i, params.size() - 1)];
    ElemType type = writer_.type_of(inputs[i]);
    auto wanted = onnx::Utils::DataTypeUtils::ToType("tensor(" + type_name(type) + ")");
    if (!param.GetTypes().count(wanted))
      not_supported("ONNX's " + op_type + " (opset " + std::to_string(writer_.opset()) +
                    ") does not take " + type_name(type) + " for its input '" + param.GetName() +
                    "'");
  }
  std::string name = emitted_++ == 0 ? base_ : base_ + "_" + std::to_string(emitted_);
  return writer_.add_node(op_type, name, inputs, outputs);
}

std::string NodeContext::emit_value(const std::string& op_type,
                                    const std::vector<std::string>& inputs, ElemType type) {
  std::string out = temp(type);
  emit(op_type, inputs, {out});
  return out;
}

std::string NodeContext::cast(const std::string& value, ElemType to) {
  if (writer_.type_of(value) == to) return value;
  std::string out = temp(to);
  set_attr(emit("Cast", {value}, {out}), "to", int64_t(to));
  return out;
}

std::string NodeContext::bool_input(size_t i) {
  std::string name = input(i);
  if (const std::string* twin = writer_.bool_twin(name)) return *twin;
  std::string b = cast(name, kBool);
  writer_.set_bool_twin(name, b);
  return b;
}

void NodeContext::set_bool_output(size_t i, const std::string& bool_value) {
  std::string out = output(i);
  set_attr(emit("Cast", {bool_value}, {out}), "to", int64_t(onnx::TensorProto::UINT8));
  writer_.set_bool_twin(out, bool_value);
}

void NodeContext::not_supported(const std::string& message) const {
  fail(ErrorKind::NotSupportedError, message);
}

void set_attr(onnx::NodeProto& node, const std::string& name, int64_t value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void set_attr(onnx::NodeProto& node, const std::string& name, double value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(float(value));
}

void set_attr(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

void set_attr(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : value) a->add_ints(v);
}

std::string transpose(NodeContext& ctx, const std::string& value,
                      const std::vector<int64_t>& perm) {
  std::string out = ctx.temp(ctx.writer().type_of(value));
  set_attr(ctx.emit("Transpose", {value}, {out}), "perm", perm);
  return out;
}

std::string transposed_input(NodeContext& ctx, size_t i, const std::vector<int64_t>& perm) {
  if (const Tensor* data = ctx.constant(i))
    return ctx.writer().initializer(onnx_import::host_transpose(*data, perm), "const_t");
  return transpose(ctx, ctx.input(i), perm);
}

std::vector<int64_t> onnx_pads(const std::vector<int64_t>& webnn) {
  return {webnn[0], webnn[2], webnn[1], webnn[3]};
}

int64_t window_span(int64_t window, int64_t dilation) {
  // Validation bounds a node's sizes (graphs come from the builder or an engine file);
  // checked all the same, so that a bound loosened there cannot become a wrapped size here.
  return detail::checked_dilated_size(window, dilation, "export: the output size",
                                      ErrorKind::DataError);
}

namespace {

const ConverterTable& converters() {
  static const ConverterTable table = [] {
    ConverterTable t;
    register_elementwise_exporters(t);
    register_reduction_exporters(t);
    register_movement_exporters(t);
    register_gather_exporters(t);
    register_conv_exporters(t);
    register_matmul_exporters(t);
    register_pooling_exporters(t);
    register_normalization_exporters(t);
    register_recurrent_exporters(t);
    register_quantization_exporters(t);
    register_generated_exporters(t);  // last: a hand-written exporter wins
    return t;
  }();
  return table;
}

std::string node_what(const detail::Node& node, size_t index) {
  return "node " + (node.label.empty() ? "#" + std::to_string(index) : "'" + node.label + "'") +
         " (" + detail::op_name(node.op) + ")";
}

onnx::ModelProto build_model(const detail::GraphIR& ir, const OnnxExportOptions& options) {
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name(options.producer);
  model.set_producer_version(CPPNN_VERSION_STRING);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name("cppnn");
  GraphWriter writer(ir, graph, options.opset);

  for (const auto& [name, id] : ir.inputs) {
    writer.reserve(name);
    writer.set_type(name, elem_type(ir.desc(id).data_type));
    writer.name_operand(id, name);
    auto* vi = graph.add_input();
    vi->set_name(name);
    fill_type(*vi->mutable_type(), ir.desc(id));
  }
  // An output names its operand's value directly when it can; the others (a second name
  // for one operand, an input or a constant) become Identity nodes at the end.
  std::vector<std::pair<std::string, OperandId>> identities;
  for (const auto& [name, id] : ir.outputs) {
    if (!writer.reserve(name))
      fail(ErrorKind::NotSupportedError,
           "output '" + name + "' has the name of an input; ONNX names each value once");
    bool op_result = ir.operands.at(size_t(id)).role == OperandRole::intermediate;
    if (op_result && !writer.has_name(id)) {
      writer.set_type(name, elem_type(ir.desc(id).data_type));
      writer.name_operand(id, name);
    } else {
      identities.emplace_back(name, id);
    }
  }

  for (size_t n = 0; n < ir.nodes.size(); ++n) {
    const detail::Node& node = ir.nodes[n];
    if (node.op == detail::OpId::none) continue;
    try {
      for (OperandId out : node.outputs)
        if (!writer.has_name(out))
          writer.name_operand(out,
                              writer.new_value(detail::op_name(node.op) + "_" + std::to_string(out),
                                               elem_type(ir.desc(out).data_type)));
      auto it = converters().find(node.op);
      if (it == converters().end())
        fail(ErrorKind::NotSupportedError, "the op has no ONNX converter");
      NodeContext ctx(writer, node, n);
      it->second(ctx);
    } catch (const Error& e) {
      throw Error(e.kind(), node_what(node, n) + ": " + e.what());
    }
  }

  for (const auto& [name, id] : identities) {
    writer.set_type(name, elem_type(ir.desc(id).data_type));
    writer.add_node("Identity", name + "_identity", {writer.operand(id)}, {name});
  }
  for (const auto& [name, id] : ir.outputs) {
    auto* vi = graph.add_output();
    vi->set_name(name);
    fill_type(*vi->mutable_type(), ir.desc(id));
  }
  return model;
}

// The checker validates the structure; strict shape inference also proves that every
// value's type and shape is what the WebNN graph says (the outputs are declared with
// theirs, and a conflict throws).
void check(onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ShapeInferenceOptions strict(/*check_type=*/true, /*error_mode=*/1,
                                       /*enable_data_propagation=*/false);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), strict);
    model.mutable_graph()->clear_value_info();
  } catch (const std::exception& e) {
    fail(ErrorKind::OperationError,
         std::string("the exported model fails the ONNX checker: ") + e.what());
  }
}

}  // namespace

}  // namespace onnx_export

bool detail::onnx_exports(OpId id) { return onnx_export::converters().count(id) != 0; }

std::string export_onnx_bytes(const Graph& graph, const OnnxExportOptions& options) {
  if (!graph.valid()) fail(ErrorKind::InvalidStateError, "export_onnx: the graph is not valid");
  if (options.opset != 17)
    fail(ErrorKind::NotSupportedError,
         "export_onnx: opset " + std::to_string(options.opset) +
             " is not supported; only 17 is written (the linked ONNX checker knows no later "
             "opset, and earlier ones lack LayerNormalization)");
  try {
    onnx::ModelProto model = onnx_export::build_model(graph.ir(), options);
    onnx_export::check(model);
    if (model.ByteSizeLong() > size_t(INT_MAX))
      fail(ErrorKind::NotSupportedError,
           "the model is " + std::to_string(model.ByteSizeLong()) +
               " bytes; a protobuf ModelProto holds at most 2 GiB (external data is not "
               "written)");
    std::string bytes;
    if (!model.SerializeToString(&bytes))
      fail(ErrorKind::OperationError, "serializing the ModelProto failed");
    return bytes;
  } catch (const Error& e) {
    throw Error(e.kind(), std::string("export_onnx: ") + e.what());
  }
}

void export_onnx(const Graph& graph, const std::string& path, const OnnxExportOptions& options) {
  std::string bytes = export_onnx_bytes(graph, options);
  detail::write_file_atomically(path, bytes.data(), bytes.size(), "cannot write ONNX file");
}

}  // namespace cppnn
