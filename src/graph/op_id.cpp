#include "graph/op_id.h"

#include <array>
#include <map>

#include "cppnn/error.h"

namespace cppnn::detail {
namespace {

constexpr size_t kOpCount = size_t(OpId::count) - 1;

const std::array<OpInfo, kOpCount>& table() {
  static const std::array<OpInfo, kOpCount> ops = {{
#define CPPNN_OP(id, method, kind, sig, types, traits, onnx, doc)                      \
  OpInfo{OpId::id, #id, #method, OpKind::kind, OpSig::sig, OpTypes::types, uint32_t(traits), \
         onnx, doc},
#define None OpTrait::None
#define LayoutAgnostic OpTrait::LayoutAgnostic
#define EpilogueActivation OpTrait::EpilogueActivation
#define KeepFloat32 OpTrait::KeepFloat32
#define ExactOnHalf OpTrait::ExactOnHalf
#include "cppnn/ops.def"
#undef None
#undef LayoutAgnostic
#undef EpilogueActivation
#undef KeepFloat32
#undef ExactOnHalf
  }};
  return ops;
}

const OpInfo& none_info() {
  static const OpInfo info{OpId::none, "", "", OpKind::none, OpSig::X, OpTypes::Any, 0, "", ""};
  return info;
}

}  // namespace

bool OpInfo::elementwise() const {
  switch (kind) {
    case OpKind::unary:
    case OpKind::binary:
    case OpKind::comparison:
    case OpKind::logical:
    case OpKind::activation:
    case OpKind::select:
    case OpKind::cast:
      return true;
    default:
      return false;
  }
}

std::span<const OpInfo> all_ops() { return table(); }

const OpInfo& op_info(OpId id) {
  size_t i = size_t(id);
  if (i == 0 || i > kOpCount) return none_info();
  return table()[i - 1];
}

const std::string& op_name(OpId id) { return op_info(id).name; }

std::optional<OpId> find_op(std::string_view name) {
  static const std::map<std::string, OpId, std::less<>> by_name = [] {
    std::map<std::string, OpId, std::less<>> m;
    for (const OpInfo& op : table()) m.emplace(op.name, op.id);
    return m;
  }();
  auto it = by_name.find(name);
  if (it == by_name.end()) return std::nullopt;
  return it->second;
}

std::span<const DataType> op_types(OpTypes types) {
  static constexpr DataType kFloat[] = {DataType::float32, DataType::float16};
  static constexpr DataType kSigned[] = {DataType::float32, DataType::float16, DataType::int32,
                                         DataType::int64, DataType::int8};
  static constexpr DataType kSum[] = {DataType::float32, DataType::float16, DataType::int32,
                                      DataType::uint32,  DataType::int64,   DataType::uint64};
  static constexpr DataType kFloatInt8[] = {DataType::float32, DataType::float16, DataType::uint8,
                                            DataType::int8};
  static constexpr DataType kUint8[] = {DataType::uint8};
  static constexpr DataType kQuantized[] = {DataType::int32, DataType::uint32, DataType::int8,
                                            DataType::uint8};
  switch (types) {
    case OpTypes::Float: return kFloat;
    case OpTypes::Signed: return kSigned;
    case OpTypes::Sum: return kSum;
    case OpTypes::FloatInt8: return kFloatInt8;
    case OpTypes::Uint8: return kUint8;
    case OpTypes::Quantized: return kQuantized;
    case OpTypes::Any: break;
  }
  return kAllDataTypes;
}

}  // namespace cppnn::detail
