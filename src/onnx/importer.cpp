// ONNX import: parses a ModelProto, turns initializers and inputs into values, runs one
// converter per node (which calls the public GraphBuilder methods, so the op table validates
// every node) and builds the graph with the ONNX output names.
#include <algorithm>
#include <fstream>

#include "cppnn/onnx.h"
#include "graph/ir.h"
#include "graph/symbolic.h"
#include "onnx/host_ops.h"
#include "onnx/import_context.h"
#include "onnx/op_coverage.h"

namespace cppnn {

namespace onnx_import {

NodeContext::NodeContext(const onnx::NodeProto& node, ImportSession& session,
                         std::map<std::string, ValuePtr>& values, std::string label)
    : node_(node), session_(session), values_(values), label_(std::move(label)) {}

bool NodeContext::has_input(size_t i) const {
  return i < input_count() && !node_.input(int(i)).empty();
}

const ValuePtr& NodeContext::input(size_t i) const {
  if (!has_input(i)) bad_model("input " + std::to_string(i) + " is required but absent");
  auto it = values_.find(node_.input(int(i)));
  if (it == values_.end())
    bad_model("input '" + node_.input(int(i)) +
              "' is not defined by an initializer, a graph input or an earlier node");
  return it->second;
}

Operand shared_constant(GraphBuilder& builder, const Tensor& data) {
  return detail::make_operand(builder,
                              builder.state().add_constant(std::make_shared<const Tensor>(data)));
}

Operand NodeContext::operand_of(const ValuePtr& value) {
  if (!value->operand.valid()) value->operand = shared_constant(session_.builder, *value->data);
  return value->operand;
}

Operand NodeContext::operand(size_t i) { return operand_of(input(i)); }

const Tensor* NodeContext::constant(size_t i) const {
  if (!has_input(i)) return nullptr;
  const ValuePtr& v = input(i);
  return v->data ? &*v->data : nullptr;
}

const Tensor& NodeContext::require_constant(size_t i, const std::string& what) const {
  // input() first: an absent input is a DataError, and names no input past the node's end.
  const Tensor* t = input(i)->data ? &*input(i)->data : nullptr;
  if (!t)
    not_supported(what + " (input '" + node_.input(int(i)) +
                  "') is computed at run time; it must be an initializer or a constant");
  return *t;
}

bool NodeContext::all_inputs_constant() const {
  for (size_t i = 0; i < input_count(); ++i)
    if (has_input(i) && !input(i)->data) return false;
  return true;
}

const onnx::AttributeProto* NodeContext::find_attr(const std::string& name) const {
  for (const auto& a : node_.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

bool NodeContext::has_attr(const std::string& name) const { return find_attr(name) != nullptr; }

namespace {
// Old exporters leave `type` unset; then the filled field says what the attribute holds.
bool holds(const onnx::AttributeProto& a, onnx::AttributeProto::AttributeType type) {
  if (a.type() == type) return true;
  if (a.type() != onnx::AttributeProto::UNDEFINED) return false;
  switch (type) {
    case onnx::AttributeProto::INT:
      return a.has_i();
    case onnx::AttributeProto::FLOAT:
      return a.has_f();
    case onnx::AttributeProto::STRING:
      return a.has_s();
    case onnx::AttributeProto::TENSOR:
      return a.has_t();
    case onnx::AttributeProto::INTS:
      return a.ints_size() > 0;
    case onnx::AttributeProto::FLOATS:
      return a.floats_size() > 0;
    default:
      return false;
  }
}
}  // namespace

int64_t NodeContext::attr_int(const std::string& name, int64_t fallback) const {
  const auto* a = find_attr(name);
  if (!a) return fallback;
  if (!holds(*a, onnx::AttributeProto::INT)) bad_model("attribute '" + name + "' must be an int");
  return a->i();
}

float NodeContext::attr_float(const std::string& name, float fallback) const {
  const auto* a = find_attr(name);
  if (!a) return fallback;
  if (holds(*a, onnx::AttributeProto::FLOAT)) return a->f();
  if (holds(*a, onnx::AttributeProto::INT)) return float(a->i());
  bad_model("attribute '" + name + "' must be a float");
}

std::string NodeContext::attr_string(const std::string& name, const std::string& fallback) const {
  const auto* a = find_attr(name);
  if (!a) return fallback;
  if (!holds(*a, onnx::AttributeProto::STRING))
    bad_model("attribute '" + name + "' must be a string");
  return a->s();
}

std::optional<std::vector<int64_t>> NodeContext::attr_ints(const std::string& name) const {
  const auto* a = find_attr(name);
  if (!a) return std::nullopt;
  if (!holds(*a, onnx::AttributeProto::INTS))
    bad_model("attribute '" + name + "' must be a list of ints");
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::optional<std::vector<float>> NodeContext::attr_floats(const std::string& name) const {
  const auto* a = find_attr(name);
  if (!a) return std::nullopt;
  if (!holds(*a, onnx::AttributeProto::FLOATS))
    bad_model("attribute '" + name + "' must be a list of floats");
  return std::vector<float>(a->floats().begin(), a->floats().end());
}

const onnx::TensorProto* NodeContext::attr_tensor(const std::string& name) const {
  const auto* a = find_attr(name);
  if (!a) return nullptr;
  if (!holds(*a, onnx::AttributeProto::TENSOR))
    bad_model("attribute '" + name + "' must be a tensor");
  return &a->t();
}

const onnx::GraphProto* NodeContext::attr_graph(const std::string& name) const {
  const auto* a = find_attr(name);
  if (!a) return nullptr;
  if (!(a->type() == onnx::AttributeProto::GRAPH ||
        (a->type() == onnx::AttributeProto::UNDEFINED && a->has_g())))
    bad_model("attribute '" + name + "' must be a graph");
  return &a->g();
}

Tensor NodeContext::decode(const onnx::TensorProto& proto, const std::string& what,
                           bool* is_bool) const {
  return tensor_from_proto(proto, what, is_bool, session_.reading);
}

DataType NodeContext::onnx_type(int32_t elem_type, const std::string& what, bool* is_bool) const {
  return data_type_from_onnx(elem_type, what, is_bool, session_.reading.float64_as_float32);
}

bool NodeContext::output_used(size_t i) const {
  return i < output_count() && !node_.output(int(i)).empty();
}

void NodeContext::define(size_t i, ValuePtr value) {
  if (!output_used(i)) return;
  const std::string& name = node_.output(int(i));
  if (!values_.emplace(name, std::move(value)).second)
    bad_model("output '" + name + "' is already defined (ONNX graphs assign each name once)");
}

void NodeContext::set_output(size_t i, const Operand& operand, bool is_bool) {
  auto v = std::make_shared<Value>();
  v->type = operand.data_type();
  v->shape = operand.shape();
  v->is_bool = is_bool;
  v->operand = operand;
  define(i, std::move(v));
}

void NodeContext::check_host_bytes(size_t bytes, const std::string& what) const {
  if (bytes > session_.budget.limit || session_.budget.used > session_.budget.limit - bytes)
    bad_model(what + " needs " + std::to_string(bytes) + " bytes at import time; with the " +
              std::to_string(session_.budget.used) + " bytes the import already made that crosses " +
              "the import's memory limit, " + std::to_string(session_.budget.limit) +
              " bytes (max_import_bytes: load_onnx(max_import_bytes=...), OnnxImportOptions in C++)");
}

void NodeContext::count_host(const Tensor& data) {
  if (!data.data() || !session_.budget.counted.insert(data.data()).second) return;
  check_host_bytes(data.byte_size(), "the result");
  session_.budget.used += data.byte_size();
}

const Tensor& NodeContext::from_model(const Tensor& data) {
  session_.budget.counted.insert(data.data());
  return data;
}

Operand NodeContext::host_constant(Tensor data) {
  count_host(data);
  return shared_constant(session_.builder, data);
}

void NodeContext::set_output(size_t i, Tensor data, bool is_bool) {
  count_host(data);
  auto v = std::make_shared<Value>();
  v->type = data.data_type();
  v->shape = data.shape();
  v->is_bool = is_bool;
  v->data = std::move(data);
  define(i, std::move(v));
}

void NodeContext::alias_output(size_t i, const ValuePtr& value) { define(i, value); }

void NodeContext::reject_outputs_from(size_t first, const std::string& why) const {
  for (size_t i = first; i < output_count(); ++i)
    if (output_used(i))
      not_supported("output " + std::to_string(i) + " ('" + node_.output(int(i)) + "'): " + why);
}

void NodeContext::not_supported(const std::string& message) const {
  fail(ErrorKind::NotSupportedError, message);
}

void NodeContext::bad_model(const std::string& message) const {
  fail(ErrorKind::DataError, message);
}

int64_t normalize_axis(const NodeContext& ctx, int64_t axis, size_t rank, const std::string& what) {
  int64_t r = int64_t(rank);
  if (axis < -r || axis >= r)
    ctx.bad_model(what + " " + std::to_string(axis) + " is out of range for rank " +
                  std::to_string(rank));
  return axis < 0 ? axis + r : axis;
}

std::vector<uint32_t> to_u32(const NodeContext& ctx, const std::vector<int64_t>& v,
                             const std::string& what) {
  std::vector<uint32_t> out;
  for (int64_t x : v) {
    if (x < 0 || x > int64_t(UINT32_MAX))
      ctx.not_supported(what + " value " + std::to_string(x) +
                        " is not a non-negative 32-bit "
                        "integer");
    out.push_back(uint32_t(x));
  }
  return out;
}

namespace {
const ConverterTable& converters();
ValuePtr initializer_value(const onnx::TensorProto& init, const TensorReading& reading,
                           ImportBudget& budget);
}  // namespace

void import_nodes(ImportSession& session, const onnx::GraphProto& graph,
                  std::map<std::string, ValuePtr>& values, const std::string& prefix) {
  for (int n = 0; n < graph.node_size(); ++n) {
    const onnx::NodeProto& node = graph.node(n);
    std::string label =
        prefix + (node.name().empty() ? node.op_type() + "_" + std::to_string(n) : node.name());
    std::string where = "ONNX node '" + label + "' (" + node.op_type() + ")";
    try {
      NodeContext ctx(node, session, values, label);
      for (size_t i = 0; i < ctx.input_count(); ++i)
        if (ctx.has_input(i)) ctx.input(i);  // undefined names fail here, before converting
      bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
      auto it = converters().find(node.op_type());
      if (default_domain && session.opset < 0)
        ctx.bad_model("the model imports no version of the default ONNX opset");
      if (!default_domain || it == converters().end())
        ctx.not_supported("op type '" +
                          (default_domain ? node.op_type() : node.domain() + "." + node.op_type()) +
                          "' is not supported");
      it->second(ctx);
      for (size_t i = 0; i < ctx.output_count(); ++i)
        if (ctx.output_used(i) && !values.count(node.output(int(i))))
          ctx.not_supported("output " + std::to_string(i) + " ('" + node.output(int(i)) +
                            "') is not supported");
    } catch (const Error& e) {
      throw Error(e.kind(), where + ": " + e.what());
    } catch (const std::exception& e) {
      throw Error(ErrorKind::DataError, where + ": " + e.what());
    }
  }
}

std::vector<ValuePtr> NodeContext::import_subgraph(const onnx::GraphProto& graph,
                                                   const std::vector<ValuePtr>& inputs,
                                                   const std::string& scope) {
  if (size_t(graph.input_size()) != inputs.size())
    bad_model("the " + scope + " subgraph has " + std::to_string(graph.input_size()) +
              " inputs; " + std::to_string(inputs.size()) + " are expected");
  if (graph.sparse_initializer_size() > 0)
    not_supported("the " + scope + " subgraph has sparse initializers");
  // The outer scope stays visible; the subgraph's own names live in this copy only, so two
  // branches (or two unrolled iterations) may use the same names.
  std::map<std::string, ValuePtr> values = values_;
  for (int i = 0; i < graph.input_size(); ++i) values[graph.input(i).name()] = inputs[size_t(i)];
  for (const onnx::TensorProto& init : graph.initializer())
    values[init.name()] = initializer_value(init, session_.reading, session_.budget);
  import_nodes(session_, graph, values, label_ + "/" + scope + "/");
  std::vector<ValuePtr> outputs;
  for (const auto& out : graph.output()) {
    auto it = values.find(out.name());
    if (it == values.end())
      bad_model("the " + scope + " subgraph's output '" + out.name() + "' is not defined");
    outputs.push_back(it->second);
  }
  return outputs;
}

namespace {

const ConverterTable& converters() {
  static const ConverterTable table = [] {
    ConverterTable t;
    register_elementwise_converters(t);
    register_reduction_converters(t);
    register_movement_converters(t);
    register_gather_converters(t);
    register_conv_converters(t);
    register_matmul_converters(t);
    register_pooling_converters(t);
    register_normalization_converters(t);
    register_recurrent_converters(t);
    register_quantization_converters(t);
    register_onnx_only_converters(t);
    register_control_flow_converters(t);
    register_generated_converters(t);  // last: a hand-written converter wins
    return t;
  }();
  return table;
}

// -1 when the model imports no default-domain opset: then only a node of the default domain
// is an error (one of another domain is simply not supported).
int64_t default_opset(const onnx::ModelProto& model) {
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
  return -1;
}

// Symbolic dimensions. cppnn has no dynamic shapes: every dimension is fixed at load time.
// A named one (dim_param) takes its value from dim_values by that name; one the exporter
// left unnamed (no value, a dim_value of 0 or below such as -1, an empty dim_param, or "?")
// is called "<input name>:<index>" (e.g. "x:0"), and is set by that name the same way.
std::string symbolic_name(const std::string& input, int index,
                          const onnx::TensorShapeProto_Dimension& d) {
  if (d.has_dim_param() && !d.dim_param().empty() && d.dim_param() != "?") return d.dim_param();
  return input + ":" + std::to_string(index);
}

Dims input_dims(const onnx::ValueInfoProto& input, const OnnxImportOptions& options) {
  const std::string what = "graph input '" + input.name() + "'";
  if (!input.type().has_tensor_type())
    fail(ErrorKind::NotSupportedError, what + " is not a tensor");
  const auto& tt = input.type().tensor_type();
  if (!tt.has_shape())
    fail(ErrorKind::NotSupportedError,
         what + " has no shape (not even its rank); cppnn needs every input's shape at load time");
  Dims dims;
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto& d = tt.shape().dim(i);
    if (d.has_dim_value() && d.dim_value() > 0) {
      dims.push_back(d.dim_value());
      continue;
    }
    std::string name = symbolic_name(input.name(), i, d);
    auto it = options.dim_values.find(name);
    // A value for a literal "?" (which earlier versions took as a name) still sets every "?"
    // dimension that has no value of its own.
    if (it == options.dim_values.end() && d.has_dim_param() && d.dim_param() == "?")
      it = options.dim_values.find("?");
    if (it == options.dim_values.end()) {
      std::string written = d.has_dim_value() ? "written as " + std::to_string(d.dim_value())
                            : d.has_dim_param() && !d.dim_param().empty()
                                ? "written as '" + d.dim_param() + "'"
                                : "with no size";
      std::string kind = name == d.dim_param() ? "the symbolic '" + name + "'"
                                               : "symbolic (" + written +
                                                     ") and unnamed; cppnn calls it '" + name +
                                                     "'";
      fail(ErrorKind::DataError,
           what + ": dimension " + std::to_string(i) + " is " + kind +
               ". Give its value with --dim " + name + "=<value> (cppnn CLI) or dim_values={'" +
               name + "': value} (load_onnx), or keep it symbolic within a range with --dynamic " +
               name + "=MIN:OPT:MAX (cppnn build) or dynamic={'" + name + "': (min, opt, max)}");
    }
    if (it->second <= 0)
      fail(ErrorKind::DataError, what + ": the value " + std::to_string(it->second) +
                                     " given for dimension '" + name + "' must be > 0");
    dims.push_back(it->second);
  }
  return dims;
}

ValuePtr initializer_value(const onnx::TensorProto& init, const TensorReading& reading,
                           ImportBudget& budget) {
  if (init.name().empty()) fail(ErrorKind::DataError, "an initializer has no name");
  auto v = std::make_shared<Value>();
  v->data = tensor_from_proto(init, "initializer '" + init.name() + "'", &v->is_bool, reading);
  v->type = v->data->data_type();
  v->shape = v->data->shape();
  budget.counted.insert(v->data->data());
  return v;
}

// The model's initializers, decoded once: every import of the model (the probes of a
// dynamic-shape import) shares their storage.
struct Initializers {
  std::map<std::string, ValuePtr> values;
};

// Takes the model by reference to release each initializer's bytes once decoded, so a large
// model's weights are not held twice.
Initializers decode_initializers(onnx::GraphProto& graph, const TensorReading& reading) {
  if (graph.sparse_initializer_size() > 0)
    fail(ErrorKind::NotSupportedError, "sparse initializers are not supported");
  Initializers out;
  ImportBudget unused;
  for (onnx::TensorProto& init : *graph.mutable_initializer()) {
    if (!out.values.emplace(init.name(), initializer_value(init, reading, unused)).second)
      fail(ErrorKind::DataError, "initializer '" + init.name() + "' is defined twice");
    std::string name = init.name();
    init.Clear();
    init.set_name(name);
  }
  return out;
}

// One import of the graph at the dimension values of `options`.
Graph import_graph(const onnx::GraphProto& graph, int64_t opset, const Initializers& inits,
                   const TensorReading& reading, const OnnxImportOptions& options,
                   size_t fold_limit) {
  GraphBuilder builder;
  ImportBudget budget;
  budget.limit = options.max_import_bytes;
  ImportSession session{builder, opset, budget, reading};
  session.fold_limit = fold_limit;
  session.keep_shape_ops = !options.dynamic.empty();
  std::map<std::string, ValuePtr> values;
  for (const auto& [name, v] : inits.values) {
    // A fresh Value per import (its operand belongs to this import's builder); the
    // decoded bytes are shared and, being the model's own, not counted.
    auto copy = std::make_shared<Value>();
    copy->type = v->type;
    copy->shape = v->shape;
    copy->is_bool = v->is_bool;
    copy->data = v->data;
    budget.counted.insert(copy->data->data());
    values.emplace(name, std::move(copy));
  }
  for (const auto& input : graph.input()) {
    if (values.count(input.name())) continue;  // IR < 4 lists initializers as inputs too
    if (!input.type().has_tensor_type())
      fail(ErrorKind::NotSupportedError, "graph input '" + input.name() + "' is not a tensor");
    auto v = std::make_shared<Value>();
    const std::string what = "graph input '" + input.name() + "'";
    v->type = data_type_from_onnx(input.type().tensor_type().elem_type(), what, &v->is_bool,
                                  options.float64_as_float32);
    if (auto given = options.input_values.find(input.name());
        given != options.input_values.end()) {
      Tensor t = given->second;
      if (t.data_type() != v->type) {
        // Another type is converted (the CLI's --bind parses numbers as int64 or float32):
        // to a float type with rounding, to an integer type only where every value survives.
        Tensor converted = host_cast(t, v->type, v->is_bool);
        bool exact = is_float(v->type) ||
                     host_cast(converted, t.data_type(), false).to_doubles() == t.to_doubles();
        if (!exact)
          fail(ErrorKind::TypeError, what + " is " + std::string(to_string(v->type)) +
                                         "; the value given for it in input_values (" +
                                         std::string(to_string(t.data_type())) +
                                         ") does not fit that type");
        t = std::move(converted);
      }
      const auto& shape = input.type().tensor_type().shape();
      bool fits = input.type().tensor_type().has_shape() &&
                  size_t(shape.dim_size()) == t.shape().size();
      for (int i = 0; fits && i < shape.dim_size(); ++i)
        if (shape.dim(i).has_dim_value() && shape.dim(i).dim_value() > 0)
          fits = shape.dim(i).dim_value() == t.shape()[size_t(i)];
      if (!fits)
        fail(ErrorKind::TypeError, what + ": the value given in input_values has shape " +
                                       to_string(t.shape()) + ", which the input's does not match");
      v->data = t;
      v->shape = t.shape();
      if (v->is_bool)
        for (size_t i = 0; i < t.element_count(); ++i)
          if (t.data_as<uint8_t>()[i] > 1)
            fail(ErrorKind::TypeError, what + " is bool: its value must hold 0 or 1");
      values.emplace(input.name(), v);
      continue;
    }
    v->operand = builder.input(input.name(), v->type, input_dims(input, options));
    v->shape = v->operand.shape();
    values.emplace(input.name(), v);
  }

  import_nodes(session, graph, values, "");

  if (graph.output_size() == 0) fail(ErrorKind::DataError, "the graph has no outputs");
  std::map<std::string, Operand> outputs;
  for (const auto& out : graph.output()) {
    auto it = values.find(out.name());
    if (it == values.end())
      fail(ErrorKind::DataError, "graph output '" + out.name() + "' is not defined by any node");
    if (out.type().has_tensor_type() && out.type().tensor_type().elem_type() != 0)
      data_type_from_onnx(out.type().tensor_type().elem_type(), "graph output '" + out.name() + "'",
                          nullptr, options.float64_as_float32);
    Value& v = *it->second;
    // A graph output must be the result of an op; inputs and constants pass through identity.
    bool op_result = v.operand.valid() && !v.data &&
                     builder.state().ir.operands[size_t(v.operand.id())].role ==
                         detail::OperandRole::intermediate;
    if (!op_result) {
      if (!v.operand.valid()) v.operand = shared_constant(builder, *v.data);
      outputs[out.name()] = builder.identity(v.operand, {out.name()});
    } else {
      outputs[out.name()] = v.operand;
    }
  }
  return builder.build(outputs);
}


// The names of the graph inputs' symbolic dimensions, in order of appearance.
std::vector<std::string> symbolic_dims(const onnx::GraphProto& graph,
                                       const std::map<std::string, ValuePtr>& initializers) {
  std::vector<std::string> names;
  for (const auto& input : graph.input()) {
    if (initializers.count(input.name()) || !input.type().has_tensor_type() ||
        !input.type().tensor_type().has_shape())
      continue;
    const auto& shape = input.type().tensor_type().shape();
    for (int i = 0; i < shape.dim_size(); ++i) {
      const auto& d = shape.dim(i);
      if (d.has_dim_value() && d.dim_value() > 0) continue;
      std::string name = symbolic_name(input.name(), i, d);
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  return names;
}

Graph import_model(onnx::ModelProto& model, const OnnxImportOptions& options,
                   std::optional<std::filesystem::path> model_dir) {
  if (!model.has_graph()) fail(ErrorKind::DataError, "the model has no graph");
  onnx::GraphProto& graph = *model.mutable_graph();
  const int64_t opset = default_opset(model);
  TensorReading reading{std::move(model_dir), options.float64_as_float32, 0, {}};
  Initializers inits = decode_initializers(graph, reading);
  if (options.dynamic.empty())
    return import_graph(graph, opset, inits, reading, options, kFoldLimit);

  // Dynamic shapes: the graph imported at values around opt and at the ranges' corners,
  // the integers that differ fitted as polynomials of the symbols (graph/symbolic.h).
  std::vector<std::string> known = symbolic_dims(graph, inits.values);
  std::vector<std::string> names;
  std::vector<SymbolRange> ranges;
  for (const auto& [name, range] : options.dynamic) {
    if (options.dim_values.count(name))
      fail(ErrorKind::TypeError, "the symbolic dimension '" + name +
                                     "' is given both a value (dim_values) and a range (dynamic)");
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(ErrorKind::TypeError, "the model's inputs have no symbolic dimension '" + name +
                                     "' (they have: " + (list.empty() ? "none" : list) + ")");
    }
    names.push_back(name);
    ranges.push_back(range);
  }
  const size_t fold_limit = std::max(kFoldLimit, options.max_import_bytes / 8);
  detail::FittedGraph fitted = detail::fit_symbolic(
      names, ranges,
      [&](const std::vector<int64_t>& values) {
        OnnxImportOptions at = options;
        for (size_t i = 0; i < names.size(); ++i) at.dim_values[names[i]] = values[i];
        Graph g = import_graph(graph, opset, inits, reading, at, fold_limit);
        return std::make_shared<detail::GraphIR>(g.ir());
      },
      "ONNX import");
  return Graph(std::move(fitted.ir), std::move(fitted.symbolic));
}

}  // namespace
}  // namespace onnx_import

bool detail::onnx_imports(const std::string& onnx_type) {
  return onnx_import::converters().count(onnx_type) != 0;
}

Graph load_onnx_from_bytes(const std::string& bytes, const OnnxImportOptions& options) {
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes))
    fail(ErrorKind::DataError, "the bytes are not an ONNX model (protobuf parsing failed after " +
                                   std::to_string(bytes.size()) + " bytes)");
  return onnx_import::import_model(model, options, std::nullopt);
}

Graph load_onnx(const std::string& path, const OnnxImportOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail(ErrorKind::DataError, "cannot open ONNX file '" + path + "'");
  try {
    // Parsing from the stream keeps no second copy of the file in memory.
    onnx::ModelProto model;
    if (!model.ParseFromIstream(&file))
      fail(ErrorKind::DataError, "the file is not an ONNX model (protobuf parsing failed)");
    // External data is read from files beside the model.
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    return onnx_import::import_model(model, options, dir.empty() ? "." : dir);
  } catch (const Error& e) {
    throw Error(e.kind(), "ONNX file '" + path + "': " + e.what());
  }
}

}  // namespace cppnn
