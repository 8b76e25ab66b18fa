#include "backends/cuda/kernel_steps.h"

#include "core/dims.h"

namespace cppnn::detail::cuda {

namespace k = kernels;
namespace mv = movement;

k::MathType math_type(DataType t) {
  switch (t) {
    case DataType::float32:
      return k::kF32;
    case DataType::float16:
      return k::kF16;
    case DataType::int32:
      return k::kI32;
    case DataType::uint32:
      return k::kU32;
    case DataType::int64:
      return k::kI64;
    case DataType::uint64:
      return k::kU64;
    case DataType::int8:
      return k::kI8;
    case DataType::uint8:
      return k::kU8;
    case DataType::bfloat16:
      return k::kBF16;  // softmax and layerNormalization only (decide_on_device)
  }
  fail(ErrorKind::OperationError, "cuda math: unknown data type");
}

namespace {

// bfloat16 reaches only the decisions decide_on_device lets it reach (softmax,
// layerNormalization: their kernels take it).
bool float_type(DataType t) {
  return t == DataType::float32 || t == DataType::float16 || t == DataType::bfloat16;
}

}  // namespace

bool has_input(const Node& node, size_t i) {
  return i < node.inputs.size() && node.inputs[i] != kNoOperand;
}

DeviceDecision basic_decision(const GraphIR& g, const Node& node, bool floats_only) {
  DeviceDecision d;
  const OperandDescriptor& in = g.desc(node.inputs[0]);
  const OperandDescriptor& out = g.desc(node.outputs[0]);
  if (element_count(in.shape) == 0 || element_count(out.shape) == 0) {
    d.why_not = "an empty tensor";
    return d;
  }
  if (floats_only && !float_type(in.data_type)) {
    d.why_not = "data type " + std::string(to_string(in.data_type));
    return d;
  }
  d.on_gpu = true;
  return d;
}

std::string type_text(DataType t) { return std::string(to_string(t)); }

const void* optional_input(const std::vector<Placement>& places, const Node& node, size_t i,
                           const char* what) {
  return has_input(node, i) ? device_address(places, node.inputs[i], node, what) : nullptr;
}

bool aligned(const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

const Dims& in_shape(const GraphIR& g, const Node& n, size_t i) {
  return g.desc(n.inputs[i]).shape;
}
const Dims& out_shape(const GraphIR& g, const Node& n, size_t i) {
  return g.desc(n.outputs[i]).shape;
}

DeviceDecision yes() {
  DeviceDecision d;
  d.on_gpu = true;
  return d;
}
DeviceDecision no(std::string why) {
  DeviceDecision d;
  d.why_not = std::move(why);
  return d;
}

bool any_empty(const GraphIR& g, const Node& n) {
  for (OperandId id : n.inputs)
    if (id != kNoOperand && element_count(g.desc(id).shape) == 0) return true;
  for (OperandId id : n.outputs)
    if (element_count(g.desc(id).shape) == 0) return true;
  return false;
}

void* address(const std::vector<Placement>& places, OperandId id, const Node& n, const char* what) {
  return device_address(places, id, n, what);
}

std::string head(const GraphIR& g, const Node& n) {
  std::string text = node_name(n) + " " + to_string(in_shape(g, n));
  if (n.outputs.size() == 1) text += " -> " + to_string(out_shape(g, n));
  else text += " -> " + std::to_string(n.outputs.size()) + " parts";
  return text + " " + std::string(to_string(g.desc(n.inputs[0]).data_type)) + ": cuda ";
}

mv::ElemType elem_type(DataType t) {
  switch (t) {
    case DataType::float32: return mv::ElemType::f32;
    case DataType::float16: return mv::ElemType::f16;
    case DataType::int32: return mv::ElemType::i32;
    case DataType::uint32: return mv::ElemType::u32;
    case DataType::int64: return mv::ElemType::i64;
    case DataType::uint64: return mv::ElemType::u64;
    case DataType::int8: return mv::ElemType::i8;
    case DataType::uint8: return mv::ElemType::u8;
    case DataType::bfloat16: break;  // no movement kernel takes it (decide_on_device)
  }
  fail(ErrorKind::OperationError, "cuda plan: unknown data type");
}

}  // namespace cppnn::detail::cuda
