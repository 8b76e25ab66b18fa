// Precision lowering: a float32 graph computed in float16 or bfloat16 behind an unchanged
// float32 interface (EngineBuildOptions::precision = float16 / bfloat16). What follows says
// float16; bfloat16 is lowered the same way, to the internal bfloat16 type (cppnn/types.h),
// with these differences: its constants saturate at bfloat16's largest finite value
// (float32's -max would round to -inf), and the reductions keep float32 all the same (a
// bfloat16 sum loses everything past 8 bits).
//
//   - float32 graph inputs stay float32: a cast to float16 follows each one;
//   - float32 outputs stay float32: a cast back follows the float16 value;
//     (keep_io_types false: both become float16 operands instead, with no cast: the caller
//     passes and receives float16, as a float16 PyTorch model takes it);
//   - float32 constants become float16, clamped to float16's finite range (+-65504) rather
//     than overflowing to infinity: masks built as (1 - mask) * float32-min would otherwise
//     turn 0 * -inf into NaN;
//   - every other float32 operand becomes float16;
//   - reductions and cumulativeSum run in float32 between casts (their sums would overflow
//     or lose the small terms in float16). Softmax and the normalizations keep float16
//     operands: their kernels compute the statistics in float32 on every backend.
// Integer and bool operands are untouched. Every node is re-validated through the op table,
// so the lowered graph is exactly as valid as one built in float16 by hand.
#include <algorithm>
#include <cmath>
#include <map>

#include "compiler/passes.h"
#include "core/dispatch.h"
#include "graph/op_table.h"

namespace cppnn::detail {

namespace {

std::shared_ptr<const Tensor> lowered_constant(const Tensor& t, DataType type) {
  auto out = std::make_shared<Tensor>(Tensor::uninitialized(type, t.shape()));
  const float* src = t.data_as<float>();
  size_t n = element_count(t.shape());
  if (type == DataType::bfloat16) {
    // 0x7f7f: bfloat16's largest finite value, 3.3895e38.
    const float max = bfloat16_to_float(0x7f7f);
    uint16_t* dst = out->data_as<uint16_t>();
    for (size_t i = 0; i < n; ++i) {
      float v = src[i];
      if (std::isfinite(v)) v = std::clamp(v, -max, max);
      dst[i] = float_to_bfloat16(v);
    }
    return out;
  }
  half* dst = out->data_as<half>();
  for (size_t i = 0; i < n; ++i) {
    float v = src[i];
    if (std::isfinite(v)) v = std::clamp(v, -65504.0f, 65504.0f);
    dst[i] = half(v);
  }
  return out;
}

class Lowering {
 public:
  // `low`: float16 or bfloat16.
  Lowering(GraphIR& g, DataType low, LoweredConstants* cache, bool keep_io_types)
      : g_(g), low_(low), cache_(cache), keep_io_types_(keep_io_types) {}

  void run() {
    size_t original = g_.operands.size();
    std::vector<OperandId> half_of(original, kNoOperand);  // float32 operand -> its fp16 twin
    std::vector<Node> prologue, nodes;
    std::map<OperandId, OperandId> float32_of;  // a reduction's float32 result, by its fp16 copy

    for (size_t i = 0; i < original; ++i) {
      OperandInfo& info = g_.operands[i];
      if (info.desc.data_type != DataType::float32) continue;
      OperandDescriptor d16{low_, info.desc.shape};
      if (info.role == OperandRole::input && !keep_io_types_) {
        info.desc.data_type = low_;  // the caller passes float16
        half_of[i] = OperandId(i);
      } else if (info.role == OperandRole::input) {
        half_of[i] = add_operand(d16);
        prologue.push_back(cast_node(OperandId(i), half_of[i]));
      } else if (info.role == OperandRole::constant) {
        half_of[i] = add_operand(d16, OperandRole::constant);
        g_.operands[size_t(half_of[i])].data = lowered(g_.operands[i].data);
      } else {
        // Produced by a node, which now produces float16 into this same id; a graph output
        // gets a float32 copy after it (below).
        info.desc.data_type = low_;
        half_of[i] = OperandId(i);
      }
    }

    for (Node& node : g_.nodes) {
      // The ops that stay float32 (reductions, cumulativeSum) are marked in ops.def.
      bool keep32 = op_has(node.op, OpTrait::KeepFloat32) &&
                    !node.inputs.empty() && node.inputs[0] != kNoOperand &&
                    half_of[size_t(node.inputs[0])] != kNoOperand;
      if (keep32) {
        // The node keeps its float32 operands; casts bring them in and out.
        for (OperandId& in : node.inputs) {
          if (in == kNoOperand || half_of[size_t(in)] == kNoOperand) continue;
          // Constants (and graph inputs kept float32) are still there in float32.
          if (g_.operands[size_t(in)].role == OperandRole::constant) continue;
          if (g_.operands[size_t(in)].role == OperandRole::input && keep_io_types_) continue;
          if (auto f = float32_of.find(in); f != float32_of.end()) {
            in = f->second;
            continue;
          }
          OperandId fp16 = half_of[size_t(in)];
          OperandId fp32 = add_operand({DataType::float32, g_.desc(fp16).shape});
          nodes.push_back(cast_node(fp16, fp32));
          in = fp32;
        }
        std::vector<Node> after;
        for (OperandId& out : node.outputs) {
          if (size_t(out) >= original || half_of[size_t(out)] == kNoOperand) continue;
          OperandId fp16 = out;  // already lowered above
          OperandId fp32 = add_operand({DataType::float32, g_.desc(fp16).shape});
          out = fp32;
          float32_of[fp16] = fp32;
          after.push_back(cast_node(fp32, fp16));
        }
        nodes.push_back(std::move(node));
        for (Node& n : after) nodes.push_back(std::move(n));
        continue;
      }
      for (OperandId& in : node.inputs)
        if (in != kNoOperand && size_t(in) < original && half_of[size_t(in)] != kNoOperand)
          in = half_of[size_t(in)];
      if (node.op == OpId::cast && node.attrs.s("dataType") == "float32")
        node.attrs.set("dataType", std::string(to_string(low_)));
      nodes.push_back(std::move(node));
    }

    // Float32 outputs: a cast back from the float16 value. An output that is a graph input
    // or a constant is still its untouched float32 operand. Without keep_io_types they are
    // all float16: a constant output is its lowered copy, a reduction's float32 result its
    // float16 cast.
    for (auto& [name, id] : g_.outputs) {
      size_t i = size_t(id);
      if (!keep_io_types_) {
        if (i < original && half_of[i] != kNoOperand) id = half_of[i];
        continue;
      }
      if (i >= original || half_of[i] != id) continue;
      if (auto f = float32_of.find(id); f != float32_of.end()) {
        id = f->second;
        continue;
      }
      OperandId fp32 = add_operand({DataType::float32, g_.desc(id).shape});
      nodes.push_back(cast_node(id, fp32));
      id = fp32;
    }

    prologue.insert(prologue.end(), std::make_move_iterator(nodes.begin()),
                    std::make_move_iterator(nodes.end()));
    g_.nodes = std::move(prologue);
    revalidate();
  }

 private:
  OperandId add_operand(const OperandDescriptor& desc, OperandRole role = OperandRole::intermediate) {
    g_.operands.push_back(OperandInfo{desc, role, {}, nullptr});
    return OperandId(g_.operands.size() - 1);
  }

  Node cast_node(OperandId from, OperandId to) {
    Node n;
    n.op = OpId::cast;
    n.inputs = {from};
    n.outputs = {to};
    n.attrs.set("dataType", std::string(to_string(g_.desc(to).data_type)));
    return n;
  }

  // Runs every node's inference again: its attributes get the defaults of the new type, and
  // a node the lowering left inconsistent is caught here, not in a kernel.
  void revalidate() {
    for (Node& node : g_.nodes) {
      const OpSchema* schema = OpTable::instance().find(node.op);
      if (!schema)
        fail(ErrorKind::OperationError, what() + ": unknown op " + op_name(node.op));
      InputDescs descs;
      for (OperandId id : node.inputs) descs.push_back(id == kNoOperand ? nullptr : &g_.desc(id));
      std::vector<OperandDescriptor> outs;
      try {
        outs = schema->infer(descs, node.attrs);
      } catch (const Error& e) {
        fail(ErrorKind::OperationError,
             "internal: " + what() + " left " + op_name(node.op) + " invalid: " + e.what());
      }
      for (size_t k = 0; k < node.outputs.size() && k < outs.size(); ++k)
        if (!(outs[k] == g_.desc(node.outputs[k])))
          fail(ErrorKind::OperationError,
               "internal: " + what() + " changed the output type of " + op_name(node.op));
    }
  }

  std::string what() const { return std::string(to_string(low_)) + " lowering"; }

  std::shared_ptr<const Tensor> lowered(const std::shared_ptr<const Tensor>& source) {
    if (!cache_) return lowered_constant(*source, low_);
    auto key = std::make_pair(source->data(), low_);
    auto it = cache_->entries.find(key);
    if (it != cache_->entries.end() && it->second.source->shape() == source->shape() &&
        it->second.source->data_type() == source->data_type())
      return it->second.lowered;
    auto out = lowered_constant(*source, low_);
    cache_->entries[key] = {source, out};
    return out;
  }

  GraphIR& g_;
  DataType low_;
  LoweredConstants* cache_;
  bool keep_io_types_;
};

}  // namespace

void lower_to_float16(GraphIR& graph, LoweredConstants* cache, bool keep_io_types) {
  // Lowered once: a second run would cast the float16 casts' float32 sides again.
  if (graph.precision != Precision::float32) return;
  Lowering(graph, DataType::float16, cache, keep_io_types).run();
  graph.precision = Precision::float16;
  remove_dead_code(graph);  // the float32 constants the nodes no longer read
}

void lower_to_bfloat16(GraphIR& graph, LoweredConstants* cache) {
  if (graph.precision != Precision::float32) return;
  Lowering(graph, DataType::bfloat16, cache, true).run();
  graph.precision = Precision::bfloat16;
  remove_dead_code(graph);
}

}  // namespace cppnn::detail
