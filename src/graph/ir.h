#pragma once
// The graph IR: operands (descriptor + role), nodes (OpId, inputs, outputs, attributes).
// Builder calls and ONNX import produce it; compiler passes and backends consume it.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "cppnn/graph.h"
#include "cppnn/tensor.h"
#include "graph/op_id.h"

namespace cppnn::detail {

using OperandId = int32_t;
inline constexpr OperandId kNoOperand = -1;

using AttrValue = std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

// Attributes of a node. The op's infer function fills every default, so kernels read a
// complete set and never repeat the spec's defaults.
class Attrs {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  void set(const std::string& name, AttrValue value) { values_[name] = std::move(value); }
  void set_bool(const std::string& name, bool value) { values_[name] = int64_t(value); }
  void set_ints(const std::string& name, const std::vector<uint32_t>& v) {
    values_[name] = std::vector<int64_t>(v.begin(), v.end());
  }
  void erase(const std::string& name) { values_.erase(name); }

  // Throws OperationError if missing or of another type: a kernel asked for an attribute
  // that the op's infer function did not set, which is a cppnn bug, not a user error.
  int64_t i(const std::string& name) const;
  double f(const std::string& name) const;  // accepts an int too
  const std::string& s(const std::string& name) const;
  const std::vector<int64_t>& ints(const std::string& name) const;
  const std::vector<double>& floats(const std::string& name) const;
  bool b(const std::string& name) const { return i(name) != 0; }

  int64_t i_or(const std::string& name, int64_t fallback) const;
  double f_or(const std::string& name, double fallback) const;
  std::string s_or(const std::string& name, const std::string& fallback) const;

  const std::map<std::string, AttrValue>& all() const { return values_; }
  bool operator==(const Attrs&) const = default;

 private:
  std::map<std::string, AttrValue> values_;
};

enum class OperandRole : uint8_t { input, constant, intermediate };

struct OperandInfo {
  OperandDescriptor desc;
  OperandRole role = OperandRole::intermediate;
  std::string name;                   // for inputs
  std::shared_ptr<const Tensor> data;  // for constants
};

struct Node {
  OpId op = OpId::none;            // OpId::none: removed by a pass (remove_dead_code drops it)
  std::vector<OperandId> inputs;   // kNoOperand marks an absent optional operand
  std::vector<OperandId> outputs;
  Attrs attrs;
  std::string label;
};

struct GraphIR {
  std::vector<OperandInfo> operands;
  std::vector<Node> nodes;  // in topological order
  std::map<std::string, OperandId> inputs;
  std::map<std::string, OperandId> outputs;
  // What the graph's float32 operands are computed in: float32 as built; float16 once
  // lower_to_float16 ran (the engine builder's, or a float16 context's before its backend
  // compiles), which it then never does again. A graph read from an engine file takes its
  // engine's precision.
  Precision precision = Precision::float32;
  // Set on the graph a context specializes a dynamic graph to when it runs at a shape other
  // than the opt shape (Context, specialize): backends then choose its kernels without
  // timing, taking the choices made at the opt shape where they know them (as TensorRT
  // chooses at a profile's opt shape), so that a new shape costs no timing runs. A graph a
  // user specializes (Graph::specialize, to build a fixed-shape engine) is not marked.
  bool run_time_shape = false;

  const OperandDescriptor& desc(OperandId id) const { return operands.at(size_t(id)).desc; }
};

// The mutable state behind a GraphBuilder and its Operands.
struct BuilderState {
  GraphIR ir;
  bool built = false;

  // Checks that `operand` is valid and belongs to this builder; `what` names it in errors.
  OperandId check(const Operand& operand, const std::string& op, const std::string& what) const;
  // Validates with the op table, infers outputs and appends the node. Absent optional
  // operands are passed as invalid Operands. Returns the output operand ids.
  std::vector<OperandId> add_node(OpId op, const std::vector<Operand>& inputs,
                                  Attrs attrs, const std::string& label);
  OperandId add_constant(std::shared_ptr<const Tensor> data);
};

// Wraps ids of `builder` as public Operands (used by builder methods and the ONNX importer).
Operand make_operand(GraphBuilder& builder, OperandId id);
// Adds a node through the op table and returns its outputs as Operands.
std::vector<Operand> add_op(GraphBuilder& builder, OpId op,
                            const std::vector<Operand>& inputs, Attrs attrs,
                            const std::string& label);

}  // namespace cppnn::detail
