#pragma once
// ONNX import: a model file becomes a validated cppnn Graph.
#include <cstdint>
#include <map>
#include <string>

#include "cppnn/graph.h"

namespace cppnn {

struct OnnxImportOptions {
  // Values for symbolic dimensions, by name (e.g. {"N", 1}, {"S", 128}). A symbolic
  // dimension without a value here is an error naming the input and the dimension.
  std::map<std::string, int64_t> dim_values;
};

Graph load_onnx(const std::string& path, const OnnxImportOptions& options = {});
Graph load_onnx_from_bytes(const std::string& bytes, const OnnxImportOptions& options = {});

}  // namespace cppnn
