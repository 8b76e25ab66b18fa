#pragma once
// OpId: the one list of ops (include/cppnn/ops.def) as an enum, with each op's traits.
// Passes and backends ask these traits instead of keeping their own lists of op names, and
// every per-layer table (CPU kernels, CUDA steps, ONNX import and export, Python) is keyed
// by OpId; tests/unit/test_op_table.cpp fails naming the op when a layer lacks an entry.
#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "cppnn/types.h"

namespace cppnn::detail {

enum class OpId : uint16_t {
  none,  // no op: a node a pass removed (remove_dead_code drops it)
#define CPPNN_OP(id, ...) id,
#include "cppnn/ops.def"
  count
};

// The kinds make the op families, the names of each op's files in every layer
// (docs/layers.md, "Op families"; tests/unit/test_op_table.cpp's family_of).
enum class OpKind : uint8_t {
  none,
  unary,       // element-wise math on one input
  binary,      // element-wise arithmetic on two broadcast inputs
  comparison,  // element-wise comparison, uint8 out
  logical,     // element-wise logic, uint8 out
  activation,  // element-wise activations (with scalar options)
  select,      // where
  cast,        // cast
  reduction,   // reduce*, argMin, argMax
  scan,        // cumulativeSum
  softmax,     // softmax
  movement,    // reshape, transpose, slice, pad ...: data movement
  gather,      // gather, gatherElements, gatherND, scatterElements, scatterND
  conv,        // conv2d, convTranspose2d
  matmul,      // matmul, gemm
  pool,        // averagePool2d, l2Pool2d, maxPool2d
  norm,        // batch, instance and layer normalization
  recurrent,   // lstm, lstmCell, gru, gruCell
  quantization,  // quantizeLinear, dequantizeLinear
  internal,    // pseudo-ops a plan creates (never built by users, never in an engine)
};

// How the op's builder method, Python binding and shape inference come to be.
enum class OpSig : uint8_t {
  U,  // generated: unary (x) -> same shape
  B,  // generated: broadcasting binary (a, b)
  X,  // written by hand in the op's family files
};

// The data types of an op's first input (see ops.def).
enum class OpTypes : uint8_t { Float, Signed, Sum, FloatInt8, Uint8, Quantized, Any };

enum OpTrait : uint32_t {
  None = 0,
  LayoutAgnostic = 1u << 0,      // the layout pass may sink a transpose through it
  EpilogueActivation = 1u << 1,  // may be fused into a conv / matmul epilogue
  KeepFloat32 = 1u << 2,         // computed in float32 when lowering to float16
  ExactOnHalf = 1u << 3,         // exact in half precision
};

struct OpInfo {
  OpId id;
  std::string name;    // WebNN name: "conv2d"
  std::string method;  // builder / Python method: "conv2d", "round_even"
  OpKind kind;
  OpSig sig;
  OpTypes types;
  uint32_t traits;
  std::string onnx;  // the ONNX op it maps to one to one, or ""
  std::string doc;   // Python docstring of U and B ops

  bool has(OpTrait t) const { return (traits & t) != 0; }
  // Element-wise: one output element from the same-index (broadcast) input elements.
  bool elementwise() const;
};

// Every op of ops.def, in its order (OpId::none and OpId::count excluded).
std::span<const OpInfo> all_ops();
const OpInfo& op_info(OpId id);
// The WebNN name ("" for OpId::none).
const std::string& op_name(OpId id);
// The op of a WebNN name; nullopt for a name ops.def does not have (and for "").
std::optional<OpId> find_op(std::string_view name);

inline bool op_has(OpId id, OpTrait t) { return op_info(id).has(t); }
inline OpKind op_kind(OpId id) { return op_info(id).kind; }
inline bool is_elementwise(OpId id) { return op_info(id).elementwise(); }

// Prints the WebNN name (test failures, logs).
inline std::ostream& operator<<(std::ostream& os, OpId id) {
  return os << (id == OpId::none ? std::string("(none)") : op_name(id));
}

// The allowed types of OpTypes (for checks and docs).
std::span<const DataType> op_types(OpTypes types);

}  // namespace cppnn::detail
