#pragma once
// The one op table. Each op is described once: its name, its operands and the function
// that validates them (the WebNN spec's steps) and infers the outputs. The builder, ONNX
// import, the compiler and every backend read this table.
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
  std::string name;                      // WebNN name, e.g. "conv2d"
  std::vector<std::string> input_names;  // spec names, for messages; last may repeat if variadic
  size_t min_inputs = 1;                 // required operands come first
  bool variadic = false;                 // concat: any number >= min_inputs
  InferFn infer;
};

class OpTable {
 public:
  static const OpTable& instance();
  // nullptr if the op is unknown.
  const OpSchema* find(const std::string& name) const;
  void add(OpSchema schema);
  std::vector<std::string> names() const;

 private:
  std::map<std::string, OpSchema> ops_;
};

// One registration function per op family (src/graph/ops/*.cpp).
void register_elementwise_ops(OpTable& table);
void register_shape_ops(OpTable& table);
void register_reduction_ops(OpTable& table);
void register_conv_ops(OpTable& table);
void register_normalization_ops(OpTable& table);
void register_pooling_ops(OpTable& table);

}  // namespace cppnn::detail
