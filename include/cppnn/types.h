#pragma once
// WebNN data types and shapes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cppnn {

enum class DataType : uint8_t {
  float32,
  float16,
  int32,
  uint32,
  int64,
  uint64,
  int8,
  uint8,
  // Not a WebNN operand type: the storage type of bfloat16 precision (lower_to_bfloat16),
  // found only in lowered graphs and the engines that store them. The builder, the Python
  // module and ONNX import never accept it, and kAllDataTypes (the WebNN types) leaves it
  // out; graph validation accepts it wherever float16 is accepted.
  bfloat16,
};

inline constexpr DataType kAllDataTypes[] = {DataType::float32, DataType::float16, DataType::int32,
                                            DataType::uint32,  DataType::int64,   DataType::uint64,
                                            DataType::int8,    DataType::uint8};

using Dims = std::vector<int64_t>;

// What a graph's float32 operands are computed in: an Engine's build option
// (EngineBuildOptions::precision) and a context's (ContextOptions::precision). float16 runs
// them in float16 behind the graph's unchanged float32 inputs and outputs (the compiler's
// lower_to_float16); bfloat16 the same in bfloat16 (lower_to_bfloat16: 8 mantissa bits,
// float32's range), each op computing in float32 and rounding its result to bfloat16.
// auto_ is a context's only: float16 on a high-performance GPU context, float32 otherwise.
enum class Precision : uint32_t { float32, float16, bfloat16, auto_ };

// "float32", "float16", "bfloat16", "auto".
std::string_view to_string(Precision precision);
// Throws TypeError for another name.
Precision precision_from_string(std::string_view name);

// WebNN spelling: "float32", "uint8", ...
std::string_view to_string(DataType type);
// Throws TypeError for an unknown name; "bfloat16" is one (not a WebNN type).
DataType data_type_from_string(std::string_view name);
// The same, also accepting "bfloat16": for graphs inside cppnn (lowered graphs, engines).
DataType internal_data_type_from_string(std::string_view name);
size_t element_size(DataType type);
bool is_float(DataType type);
bool is_signed(DataType type);
// Bytes that `elements` elements of `type` occupy; throws TypeError on overflow.
size_t byte_size(DataType type, size_t elements);

// Product of the dims; throws TypeError on overflow or a negative dimension.
size_t element_count(const Dims& dims);
std::string to_string(const Dims& dims);

// IEEE half precision conversion (round to nearest even).
uint16_t float_to_half(float value);
float half_to_float(uint16_t bits);
// bfloat16 (float32's upper 16 bits) conversion: round to nearest even; NaN stays a quiet
// NaN of the same sign, values past the largest bfloat16 round to infinity.
uint16_t float_to_bfloat16(float value);
float bfloat16_to_float(uint16_t bits);

}  // namespace cppnn
