#pragma once
// The ONNX importer's shared pieces: values (graph operands or tensors known at import time),
// the per-node context every op converter works through, and the converter table.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <unordered_set>
#include <string>
#include <vector>

#include "cppnn/graph.h"
#include "cppnn/tensor.h"

namespace cppnn::onnx_import {

// One ONNX tensor name. A value known at import time (an initializer, a Constant, or a
// result the importer folded) keeps its data on the host so shape arithmetic can be
// computed here; it becomes a graph constant only when an op needs it as an operand.
// ONNX bool is carried as uint8 (what WebNN's logical ops produce) with `is_bool` set.
struct Value {
  DataType type = DataType::float32;
  Dims shape;
  bool is_bool = false;
  std::optional<Tensor> data;  // known at import time
  Operand operand;             // the graph operand, made lazily for constants
};
using ValuePtr = std::shared_ptr<Value>;

// Folding makes host copies; above this many elements a result is left to the graph.
inline constexpr size_t kFoldLimit = size_t(1) << 22;
// A dynamic-shape import folds gathers only from tensors up to this size (convert_gather).
inline constexpr size_t kMaxShapeTableElements = 1024;
// Constants the model asks for by shape (ConstantOfShape) are refused above this.
inline constexpr size_t kMaxHostElements = size_t(1) << 28;

// The total of host memory the importer creates (OnnxImportOptions::max_import_bytes).
// Storage is counted once: a reshaped constant shares its source's bytes, and the model's
// initializers are not counted (the file's size bounds them).
struct ImportBudget {
  size_t limit = 0;
  size_t used = 0;
  std::unordered_set<const void*> counted;
};

// How the import reads tensors: external data from files in the model's folder (none for a
// model loaded from memory), and DOUBLE as float32 when OnnxImportOptions::float64_as_float32
// asks for it.
struct TensorReading {
  std::optional<std::filesystem::path> model_dir;  // nullopt: the model came as bytes
  bool float64_as_float32 = false;
  // Bytes read from external files so far, and the size of each file read: tensors that
  // together read more than their files hold (the same bytes again and again, so that a small
  // model would fill memory) are a DataError.
  mutable uint64_t external_read = 0;
  mutable std::map<std::filesystem::path, uint64_t> external_files;
};

// ONNX TensorProto element type -> cppnn type; bool -> uint8 with *is_bool = true; DOUBLE ->
// float32 when `float64_as_float32`. Throws NotSupportedError naming `what` for types WebNN
// lacks (double, string, ...).
DataType data_type_from_onnx(int32_t elem_type, const std::string& what, bool* is_bool,
                             bool float64_as_float32 = false);
std::string onnx_type_name(int32_t elem_type);
// Decodes an initializer or attribute tensor (raw_data, typed fields, or external data read
// as `reading` allows).
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what, bool* is_bool,
                         const TensorReading& reading = {});

// What every node of one import shares, subgraphs (If branches, Loop and Scan bodies)
// included. Unrolling is bounded (kMaxLoopIterations per loop, kMaxUnrolledNodes nodes for the
// whole import) so that a small file cannot make an unbounded graph.
inline constexpr int64_t kMaxLoopIterations = 1024;
inline constexpr size_t kMaxUnrolledNodes = 100000;
struct ImportSession {
  GraphBuilder& builder;
  int64_t opset;
  ImportBudget& budget;
  TensorReading reading;
  size_t unrolled_nodes = 0;
  // Results up to this many elements are folded on the host (kFoldLimit; no limit for a
  // dynamic-shape import, whose probes must fold alike at every size, max_import_bytes
  // still bounding the memory).
  size_t fold_limit = kFoldLimit;
  // A dynamic-shape import keeps a reshape, slice or expand whose result has its input's
  // shape, as a node: whether it does depends on the values (a slice of a 512-row table to S
  // rows is the whole table at S = 512), and every probe must have the same nodes.
  bool keep_shape_ops = false;
};

// A graph constant that shares `data`'s storage: the importer's tensors are never written
// after they are made, so the model's weights are held once, not copied again.
Operand shared_constant(GraphBuilder& builder, const Tensor& data);

class NodeContext {
 public:
  NodeContext(const onnx::NodeProto& node, ImportSession& session,
              std::map<std::string, ValuePtr>& values, std::string label);

  const onnx::NodeProto& node() const { return node_; }
  GraphBuilder& builder() { return session_.builder; }
  int64_t opset() const { return session_.opset; }
  ImportSession& session() { return session_; }
  const std::string& label() const { return label_; }
  OperatorOptions options() const { return OperatorOptions{label_}; }

  // Inputs. An input is absent when it is past the end or has an empty name.
  size_t input_count() const { return size_t(node_.input_size()); }
  bool has_input(size_t i) const;
  const ValuePtr& input(size_t i) const;  // DataError if absent
  Operand operand(size_t i);              // makes a constant operand when needed
  Operand operand_of(const ValuePtr& value);
  // Host data if known at import time, else nullptr.
  const Tensor* constant(size_t i) const;
  // Host data of an input the converter cannot handle as a graph operand (a shape, axes,
  // clip bounds...): NotSupportedError naming `what` if it is computed at run time.
  const Tensor& require_constant(size_t i, const std::string& what) const;
  bool all_inputs_constant() const;
  const Dims& shape(size_t i) const { return input(i)->shape; }
  size_t rank(size_t i) const { return input(i)->shape.size(); }
  DataType type(size_t i) const { return input(i)->type; }

  // Attributes. Getters check the attribute's type (DataError naming it).
  bool has_attr(const std::string& name) const;
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  float attr_float(const std::string& name, float fallback) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  std::optional<std::vector<int64_t>> attr_ints(const std::string& name) const;
  std::optional<std::vector<float>> attr_floats(const std::string& name) const;
  const onnx::TensorProto* attr_tensor(const std::string& name) const;
  const onnx::GraphProto* attr_graph(const std::string& name) const;
  // A tensor attribute decoded as the session reads tensors (external data, float64).
  Tensor decode(const onnx::TensorProto& proto, const std::string& what, bool* is_bool) const;
  // An ONNX element type (a Cast's `to`) as the session maps types.
  DataType onnx_type(int32_t elem_type, const std::string& what, bool* is_bool) const;

  // Imports a subgraph (an If branch, a loop body) into the same graph: its inputs bound to
  // `inputs`, this node's scope visible, its nodes labelled "<this label>/<scope>/...".
  // Returns its outputs.
  std::vector<ValuePtr> import_subgraph(const onnx::GraphProto& graph,
                                        const std::vector<ValuePtr>& inputs,
                                        const std::string& scope);

  // Outputs.
  size_t output_count() const { return size_t(node_.output_size()); }
  bool output_used(size_t i) const;
  // Whether a host result of this shape is folded (ImportSession::fold_limit).
  bool foldable(const Dims& shape) const { return element_count(shape) <= session_.fold_limit; }
  size_t fold_limit() const { return session_.fold_limit; }
  // Whether a shape op that changes nothing may be dropped (ImportSession::keep_shape_ops).
  bool may_drop_shape_op() const { return !session_.keep_shape_ops; }
  void set_output(size_t i, const Operand& operand, bool is_bool = false);
  void set_output(size_t i, Tensor data, bool is_bool = false);
  void alias_output(size_t i, const ValuePtr& value);
  // NotSupportedError if an optional output (a mask, saved statistics) is requested.
  void reject_outputs_from(size_t first, const std::string& why) const;

  // Import-time memory. Before allocating `bytes` on the host: DataError if the import's
  // total would cross OnnxImportOptions::max_import_bytes. count_host() adds a tensor's
  // storage to the total (once per storage); set_output(Tensor) and host_constant() count.
  void check_host_bytes(size_t bytes, const std::string& what) const;
  void count_host(const Tensor& data);
  // Data decoded from the model itself (a Constant node's tensor): bounded by the file's
  // size like the initializers, so it is not counted.
  const Tensor& from_model(const Tensor& data);
  // A graph constant of host data the importer made (counted against the budget).
  Operand host_constant(Tensor data);

  [[noreturn]] void not_supported(const std::string& message) const;
  [[noreturn]] void bad_model(const std::string& message) const;

 private:
  const onnx::AttributeProto* find_attr(const std::string& name) const;
  void define(size_t i, ValuePtr value);

  const onnx::NodeProto& node_;
  ImportSession& session_;
  std::map<std::string, ValuePtr>& values_;
  std::string label_;
};

using Converter = void (*)(NodeContext&);
using ConverterTable = std::map<std::string, Converter>;

// One registration function per op family, in convert_<family>.cpp; the ONNX ops that are
// no WebNN op are convert_onnx_only.cpp's.
void register_elementwise_converters(ConverterTable& table);
void register_reduction_converters(ConverterTable& table);
void register_movement_converters(ConverterTable& table);
void register_gather_converters(ConverterTable& table);
void register_conv_converters(ConverterTable& table);
void register_matmul_converters(ConverterTable& table);
void register_pooling_converters(ConverterTable& table);
void register_normalization_converters(ConverterTable& table);
void register_recurrent_converters(ConverterTable& table);
void register_quantization_converters(ConverterTable& table);
void register_onnx_only_converters(ConverterTable& table);
// If, Loop and Scan: inlined or unrolled at import time (convert_control_flow.cpp).
void register_control_flow_converters(ConverterTable& table);
// The generated converters: the ONNX op named by each U op of include/cppnn/ops.def maps to
// that op's builder method on the node's one input. Registered after the hand-written ones,
// which win for an ONNX type both have.
void register_generated_converters(ConverterTable& table);

// Imports the nodes of `graph` into `values` (which holds the outer scope and the graph's
// inputs and initializers), naming each node "<prefix><label>".
void import_nodes(ImportSession& session, const onnx::GraphProto& graph,
                  std::map<std::string, ValuePtr>& values, const std::string& prefix);

// Axis helpers: normalize a possibly negative ONNX axis against `rank` (DataError if out of
// range, naming the attribute).
int64_t normalize_axis(const NodeContext& ctx, int64_t axis, size_t rank, const std::string& what);
// `value` with another shape of the same size: a host reshape for constants, else a graph
// reshape (none when the shape is unchanged).
Operand reshape_value(NodeContext& ctx, const ValuePtr& value, const Dims& dims);
// Non-negative int64 values to the uint32 lists the builder takes.
std::vector<uint32_t> to_u32(const NodeContext& ctx, const std::vector<int64_t>& v,
                             const std::string& what);

}  // namespace cppnn::onnx_import
