#pragma once
// Validation steps shared by the op families, phrased as in the WebNN spec.
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "cppnn/error.h"
#include "graph/ir.h"

namespace cppnn::detail {

[[noreturn]] void type_error(const std::string& message);

// "input 'filter'": names an operand in messages.
std::string operand_name(const std::string& name);

// Throws TypeError unless desc's type is one of `allowed`.
void check_data_type(const OperandDescriptor& desc, const std::string& what,
                     std::span<const DataType> allowed);
inline void check_data_type(const OperandDescriptor& desc, const std::string& what,
                            std::initializer_list<DataType> allowed) {
  check_data_type(desc, what, std::span<const DataType>(allowed.begin(), allowed.size()));
}
// Throws TypeError unless both have the same data type.
void check_same_type(const OperandDescriptor& a, const std::string& a_name,
                     const OperandDescriptor& b, const std::string& b_name);
void check_rank(const OperandDescriptor& desc, const std::string& what, size_t rank);
void check_rank_range(const OperandDescriptor& desc, const std::string& what, size_t lo,
                      size_t hi);
// Spec's "bidirectionally broadcasting" of two shapes; throws TypeError if incompatible.
Dims broadcast_shapes(const Dims& a, const Dims& b);
// Spec's "unidirectionally broadcastable": can `from` be broadcast to `to`?
bool unidirectionally_broadcastable(const Dims& from, const Dims& to);
// Throws TypeError unless every axis is < rank and none repeats.
void check_axes(const std::vector<int64_t>& axes, size_t rank, const std::string& what);
// WebNN's sequence<[EnforceRange] unsigned long>: a value past 2^32 - 1 is a TypeError.
// Only an engine or ONNX file can hold one; the builder's own arguments are uint32.
void check_unsigned_long(const std::vector<int64_t>& values, const std::string& what);
// Checks a dims list from an attribute: each > 0 (TypeError otherwise).
Dims checked_dims(const std::vector<int64_t>& values, const std::string& what);
// An unsigned-long attribute (an axis, a count): TypeError when negative, which only a
// non-builder caller (ONNX import, an engine file) can produce.
int64_t unsigned_attr(const Attrs& attrs, const std::string& name);
// The fused activation of the fusion contract (attribute "activation", absent or "" for
// none) on conv2d, convTranspose2d, matmul and gemm: TypeError unless it names an
// EpilogueActivation op; fills its parameters' defaults.
void check_fused_activation(Attrs& attrs);

// The spec's "valid dimension": an integer > 0 in the range of `long`, which caps it here.
inline constexpr int64_t kMaxDimension = std::numeric_limits<int32_t>::max();

inline constexpr std::initializer_list<DataType> kFloatTypes = {DataType::float32,
                                                                DataType::float16};
inline constexpr std::initializer_list<DataType> kSignedTypes = {
    DataType::float32, DataType::float16, DataType::int32, DataType::int64, DataType::int8};
inline constexpr std::initializer_list<DataType> kNumericTypes = {
    DataType::float32, DataType::float16, DataType::int32, DataType::uint32,
    DataType::int64,   DataType::uint64,  DataType::int8,  DataType::uint8};

}  // namespace cppnn::detail
