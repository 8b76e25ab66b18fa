#pragma once
// The op table: for each op of include/cppnn/ops.def, its operands and the function that
// validates them (the WebNN spec's steps) and infers the outputs. Ops whose signature is
// U or B in ops.def get a generated schema; the others register theirs from their family
// file (src/graph/ops/*.cpp). The builder, ONNX import, the compiler and every backend
// read this table; traits are in graph/op_id.h.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace cppnn::detail {

// Inputs as passed to the op; nullptr marks an absent optional operand.
using InputDescs = std::vector<const OperandDescriptor*>;
// Validates inputs and attributes, fills attribute defaults, returns the output descriptors.
// Throws cppnn::Error; the builder prefixes the message with the op name and label.
using InferFn = std::function<std::vector<OperandDescriptor>(const InputDescs&, Attrs&)>;

struct OpSchema {
  OpId id = OpId::none;
  std::vector<std::string> input_names;  // spec names, for messages; last may repeat if variadic
  size_t min_inputs = 1;                 // required operands come first
  bool variadic = false;                 // concat: any number >= min_inputs
  InferFn infer;

  const std::string& name() const { return op_name(id); }  // WebNN name, e.g. "conv2d"
};

class OpTable {
 public:
  static const OpTable& instance();
  // nullptr if the op is unknown (or an internal pseudo-op).
  const OpSchema* find(OpId id) const;
  const OpSchema* find(const std::string& name) const;
  void add(OpSchema schema);
  // WebNN names of every op in the table, sorted.
  std::vector<std::string> names() const;

 private:
  std::map<OpId, OpSchema> ops_;
};

// One registration function per op family (src/graph/ops/*.cpp); elementwise.cpp also
// adds the generated schemas of the U and B ops.
void register_elementwise_ops(OpTable& table);
void register_reduction_ops(OpTable& table);
void register_movement_ops(OpTable& table);
void register_gather_ops(OpTable& table);
void register_conv_ops(OpTable& table);
void register_matmul_ops(OpTable& table);
void register_pooling_ops(OpTable& table);
void register_normalization_ops(OpTable& table);
void register_recurrent_ops(OpTable& table);
void register_quantization_ops(OpTable& table);

}  // namespace cppnn::detail
