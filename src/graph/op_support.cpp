// op_support_limits(): the spec's MLOpSupportLimits, built from the op table (so it lives
// in the graph layer). Each op's schema names its operands (the spec's names); ops.def gives
// the data types of the first one (OpTypes). The other operands and the outputs follow from
// the op's kind, as the spec's constraint tables say: operands of the same type as the first
// (filter, bias, mean, b, c, slope ...), except the indices of the gather family, the
// condition of where, and the uint8 outputs of comparisons and logical ops, cast's and
// argMin/argMax's chosen output types.
#include "cppnn/op_support.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "graph/op_id.h"
#include "graph/op_table.h"

namespace cppnn {

using namespace detail;

namespace {

// Operands the compiler's fusion pass adds to a node (graph/ops/conv.cpp, matmul.cpp): the
// schema takes them, the builder never does.
bool fusion_only(OpId id, const std::string& operand) {
  return (id == OpId::conv2d && operand == "residual") || (id == OpId::matmul && operand == "bias");
}

// Ranks: the table records none (each op's infer function checks its own); every backend
// runs ranks 0 to 8 (the CUDA backend's strided kernels' limit; the CPU has none).
constexpr uint32_t kMaxRank = 8;

TensorLimits limits(std::span<const DataType> types) {
  return TensorLimits{std::vector<DataType>(types.begin(), types.end()), 0, kMaxRank};
}

TensorLimits limits(std::initializer_list<DataType> types) {
  return TensorLimits{std::vector<DataType>(types), 0, kMaxRank};
}

}  // namespace

OpSupportLimits op_support_limits() {
  OpSupportLimits out;
  out.preferred_input_layout = InputLayout::nchw;
  out.max_tensor_byte_length = uint64_t(std::numeric_limits<int64_t>::max());
  out.input = out.constant = out.output = limits(std::span<const DataType>(kAllDataTypes));

  const OpTable& table = OpTable::instance();
  for (const OpInfo& info : all_ops()) {
    const OpSchema* schema = table.find(info.id);
    if (!schema || info.kind == OpKind::internal) continue;
    std::map<std::string, TensorLimits> operands;
    TensorLimits first = limits(op_types(info.types));
    for (size_t i = 0; i < schema->input_names.size(); ++i) {
      const std::string& name = schema->input_names[i];
      if (fusion_only(info.id, name)) continue;
      TensorLimits l = first;
      if (i > 0 && info.kind == OpKind::gather && name == "indices")
        l = limits({DataType::int32, DataType::uint32, DataType::int64});
      else if (i > 0 && info.kind == OpKind::select)  // where: trueValue, falseValue
        l = limits(std::span<const DataType>(kAllDataTypes));
      operands[name] = std::move(l);
    }
    TensorLimits output = first;
    switch (info.kind) {
      case OpKind::comparison:
      case OpKind::logical:
        output = limits({DataType::uint8});
        break;
      case OpKind::cast:
      case OpKind::select:
        output = limits(std::span<const DataType>(kAllDataTypes));
        break;
      default:
        if (info.id == OpId::argMin || info.id == OpId::argMax)
          output = limits({DataType::int32, DataType::int64});
        break;
    }
    operands[info.id == OpId::split ? "outputs" : "output"] = std::move(output);
    out.ops[info.name] = std::move(operands);
  }
  return out;
}

}  // namespace cppnn
