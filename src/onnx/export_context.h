#pragma once
// The ONNX exporter's shared pieces: the graph being written (unique value names, their
// element types, initializers, nodes) and the per-node context each WebNN op's converter
// writes through. Every ONNX node a converter emits is checked against the ONNX schema of
// the target opset, so a data type ONNX does not allow for an op is reported against the
// WebNN node that needed it, not found later by a consumer.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace cppnn::onnx_export {

// An ONNX TensorProto element type (onnx::TensorProto_DataType): a cppnn type, or BOOL for
// the results of ONNX's comparisons and logical ops.
using ElemType = int32_t;
inline constexpr ElemType kBool = onnx::TensorProto::BOOL;
inline constexpr ElemType kInt64 = onnx::TensorProto::INT64;

ElemType elem_type(DataType type);

// The graph under construction.
class GraphWriter {
 public:
  GraphWriter(const detail::GraphIR& ir, onnx::GraphProto& graph, int64_t opset);

  const detail::GraphIR& ir() const { return ir_; }
  int64_t opset() const { return opset_; }

  // Reserves `hint`, or `hint_2`, `hint_3`... if it is taken, and records its type.
  std::string new_value(const std::string& hint, ElemType type);
  // Reserves a name exactly (graph inputs and outputs); false if it is taken.
  bool reserve(const std::string& name);
  void set_type(const std::string& name, ElemType type) { types_[name] = type; }
  ElemType type_of(const std::string& name) const;

  // The value name of a WebNN operand; a constant becomes an initializer on first use.
  std::string operand(detail::OperandId id);
  void name_operand(detail::OperandId id, const std::string& name) { names_[id] = name; }
  bool has_name(detail::OperandId id) const { return names_.count(id) != 0; }

  // Initializers (raw_data, little-endian as every target machine).
  std::string initializer(const Tensor& data, const std::string& hint);
  std::string int64s(const std::vector<int64_t>& values, const std::string& hint);
  std::string int64_scalar(int64_t value, const std::string& hint);
  // A 0-D constant of `type` holding `value`, saturated to the type's range.
  std::string scalar(DataType type, double value);

  // A bool value whose Cast to uint8 gave `uint8_name`, so a logical result feeding another
  // logical op or a where needs no Cast back.
  void set_bool_twin(const std::string& uint8_name, const std::string& bool_name) {
    bool_twins_[uint8_name] = bool_name;
  }
  const std::string* bool_twin(const std::string& uint8_name) const;

  onnx::NodeProto& add_node(const std::string& op_type, const std::string& name,
                            const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs);

 private:
  const detail::GraphIR& ir_;
  onnx::GraphProto& graph_;
  int64_t opset_;
  std::set<std::string> taken_;
  std::map<std::string, ElemType> types_;
  std::map<detail::OperandId, std::string> names_;
  std::map<std::pair<DataType, uint64_t>, std::string> scalars_;
  std::map<std::string, std::string> bool_twins_;
};

// What a converter sees of the WebNN node it translates.
class NodeContext {
 public:
  NodeContext(GraphWriter& writer, const detail::Node& node, size_t index);

  GraphWriter& writer() { return writer_; }
  const detail::Node& node() const { return node_; }
  const detail::Attrs& attrs() const { return node_.attrs; }

  bool has_input(size_t i) const;
  std::string input(size_t i);
  const OperandDescriptor& input_desc(size_t i) const;
  // The data of a constant input, else nullptr.
  const Tensor* constant(size_t i) const;
  size_t output_count() const { return node_.outputs.size(); }
  std::string output(size_t i);
  const OperandDescriptor& output_desc(size_t i) const;

  // A fresh intermediate value of this node.
  std::string temp(ElemType type);
  // Emits an ONNX node; its input types are checked against the ONNX schema first
  // (NotSupportedError naming the type and the ONNX op).
  onnx::NodeProto& emit(const std::string& op_type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs);
  // Emits a one-output node into a fresh value of `type` and returns its name.
  std::string emit_value(const std::string& op_type, const std::vector<std::string>& inputs,
                         ElemType type);
  std::string cast(const std::string& value, ElemType to);
  // ONNX's bool view of a uint8 operand (nonzero is true, as in WebNN's logical ops).
  std::string bool_input(size_t i);
  // Writes output i (uint8) as the Cast of a bool value, remembering the pair.
  void set_bool_output(size_t i, const std::string& bool_value);

  [[noreturn]] void not_supported(const std::string& message) const;

 private:
  GraphWriter& writer_;
  const detail::Node& node_;
  std::string base_;  // ONNX node names: base_, base_/1, ...
  int emitted_ = 0;
};

// Attributes of emitted nodes.
void set_attr(onnx::NodeProto& node, const std::string& name, int64_t value);
void set_attr(onnx::NodeProto& node, const std::string& name, double value);  // FLOAT
void set_attr(onnx::NodeProto& node, const std::string& name, const std::string& value);
void set_attr(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& value);

using Converter = void (*)(NodeContext&);
using ConverterTable = std::map<detail::OpId, Converter>;

// One registration function per op family, in export_<family>.cpp.
void register_elementwise_exporters(ConverterTable& table);
void register_reduction_exporters(ConverterTable& table);
void register_movement_exporters(ConverterTable& table);
void register_gather_exporters(ConverterTable& table);
void register_conv_exporters(ConverterTable& table);
void register_matmul_exporters(ConverterTable& table);
void register_pooling_exporters(ConverterTable& table);
void register_normalization_exporters(ConverterTable& table);
void register_recurrent_exporters(ConverterTable& table);
void register_quantization_exporters(ConverterTable& table);
// The generated exporters: each U or B op of include/cppnn/ops.def with an ONNX name becomes
// that ONNX op on its inputs (logical and comparison results as bool, cast back to uint8).
// Registered after the hand-written ones, which win.
void register_generated_exporters(ConverterTable& table);

// The element-wise activation `op` (a standalone node's op, or a fused "activation"
// attribute's op) from `x` into `out`; `alpha`, `lo` and `hi` are its parameters where it
// has them.
void emit_activation(NodeContext& ctx, detail::OpId op, const std::string& x,
                     const std::string& out, DataType type, double alpha = 0, double beta = 0,
                     double lo = 0, double hi = 0);
// The end of a producer the fusion pass may have extended (conv2d, convTranspose2d, matmul,
// gemm): `result` plus the fused residual (`residual` empty if none), then the fused
// activation, written to output 0.
void finish_fused(NodeContext& ctx, const std::string& result, const std::string& residual);

// Layout helpers shared by converters.
// Input i transposed: a transposed initializer when it is a constant (the original is then
// not written), else a Transpose node.
std::string transposed_input(NodeContext& ctx, size_t i, const std::vector<int64_t>& perm);
std::string transpose(NodeContext& ctx, const std::string& value, const std::vector<int64_t>& perm);

// The spatial ops (conv, pooling, instanceNormalization): ONNX's are NCHW.
inline const std::vector<int64_t> kToNchw = {0, 3, 1, 2};
inline const std::vector<int64_t> kToNhwc = {0, 2, 3, 1};

// Runs `body` on the NCHW view of input 0 and writes its NCHW result to `target` (NHWC when
// the op's layout is nhwc): body(x_nchw, out_nchw).
template <typename Body>
void in_nchw(NodeContext& ctx, bool nhwc, const std::string& target, Body body) {
  ElemType type = elem_type(ctx.input_desc(0).data_type);
  if (!nhwc) {
    body(ctx.input(0), target);
    return;
  }
  std::string x = transpose(ctx, ctx.input(0), kToNchw);
  std::string y = ctx.temp(type);
  body(x, y);
  set_attr(ctx.emit("Transpose", {y}, {target}), "perm", kToNhwc);
}

// WebNN's padding [beginH, endH, beginW, endW] as ONNX's pads [beginH, beginW, endH, endW].
std::vector<int64_t> onnx_pads(const std::vector<int64_t>& webnn);
// The extent of a window of `window` taps `dilation` apart (conv and pooling output sizes):
// a DataError past int64, a graph no builder made.
int64_t window_span(int64_t window, int64_t dilation);

}  // namespace cppnn::onnx_export
