#pragma once
// ONNX import (a model file becomes a validated cppnn Graph) and export (a Graph, including
// an Engine's optimized graph, becomes an ONNX ModelProto any ONNX consumer can run).
#include <cstdint>
#include <map>
#include <string>

#include "cppnn/graph.h"

namespace cppnn {

struct OnnxImportOptions {
  // Values for symbolic dimensions, by name (e.g. {"N", 1}, {"S", 128}). A symbolic
  // dimension without a value here is an error naming the input and the dimension.
  std::map<std::string, int64_t> dim_values;
  // Memory the importer itself creates, beyond the model's own initializers: constants it
  // folds on the host (the shape arithmetic of PyTorch's exports), ConstantOfShape results,
  // constants expanded to a normalized shape. A model that needs more is a DataError naming
  // the node that crossed it, so that a small crafted file cannot exhaust memory.
  size_t max_import_bytes = size_t(1) << 30;
};

Graph load_onnx(const std::string& path, const OnnxImportOptions& options = {});
Graph load_onnx_from_bytes(const std::string& bytes, const OnnxImportOptions& options = {});

struct OnnxExportOptions {
  // The default-domain opset the model imports. Only 17 is written: the linked ONNX
  // checker knows no later opset, and earlier ones lack LayerNormalization.
  int64_t opset = 17;
  std::string producer = "cppnn";
};

// The serialized ModelProto, checked with onnx::checker. An op with no faithful ONNX
// mapping is a NotSupportedError naming the node; a model the checker rejects is an
// OperationError with the checker's message.
std::string export_onnx_bytes(const Graph& graph, const OnnxExportOptions& options = {});
// Writes atomically (a temporary file beside `path`, then a rename); a failure to write
// leaves no file behind and is a DataError naming the path.
void export_onnx(const Graph& graph, const std::string& path,
                 const OnnxExportOptions& options = {});

}  // namespace cppnn
