#pragma once
// ONNX import (a model file becomes a validated cppnn Graph) and export (a Graph, including
// an Engine's optimized graph, becomes an ONNX ModelProto any ONNX consumer can run).
#include <cstdint>
#include <map>
#include <string>

#include "cppnn/graph.h"
#include "cppnn/tensor.h"

namespace cppnn {

struct OnnxImportOptions {
  // Values for symbolic dimensions, by name (e.g. {"N", 1}, {"S", 128}): each such
  // dimension is fixed at load time (see `dynamic` for ranges instead). A dimension the exporter left
  // unnamed (a dim_value of 0 or below such as -1, an empty dim_param, "?", or nothing) is
  // named "<input name>:<index>", e.g. "x:0" for the first dimension of input "x" (a value
  // for "?" itself, as earlier versions took, still sets each "?" without its own). A symbolic
  // dimension without a value here is a DataError naming it and saying how to set it
  // (`cppnn --dim NAME=N`, Python `load_onnx(dim_values={NAME: N})`).
  std::map<std::string, int64_t> dim_values{};
  // Dynamic shapes: symbolic dimensions that stay symbolic, each with its range (min, opt,
  // max), e.g. {"N", {1, 8, 32}}, {"S", {16, 128, 512}}. The Graph is built at the opt values
  // and runs at any values in the ranges (Graph::dynamic(), docs/dynamic-shapes.md). The
  // importer probes the model at several values (opt, opt +- 1, the corners) and fits how
  // each dimension and shape argument depends on the symbols; a model whose graph changes
  // otherwise with a symbol (another structure, a dependence no multilinear polynomial
  // fits) is a NotSupportedError naming the node: give that symbol a value instead. A name
  // here must be one of the inputs' symbolic dimensions and not also in dim_values.
  std::map<std::string, SymbolRange> dynamic{};
  // Graph inputs whose values are fixed at load time: each becomes a constant, not an input
  // of the graph, so what depends on it folds (an If on a sample-rate input imports one
  // branch). Its type must be the input's (uint8 for bool; float32 for float64 with
  // float64_as_float32) and its shape the input's, symbolic dimensions matching anything.
  std::map<std::string, Tensor> input_values{};
  // WebNN has no float64. By default a DOUBLE graph input, output, initializer, constant or
  // Cast is a NotSupportedError naming it; with this set, each becomes float32 instead (values
  // rounded to float32 at load time, inputs and outputs exchanged as float32), as exporters
  // that write float64 for no numerical reason usually allow.
  bool float64_as_float32 = false;
  // Memory the importer itself creates, beyond the model's own initializers: constants it
  // folds on the host (the shape arithmetic of PyTorch's exports), ConstantOfShape results,
  // constants expanded to a normalized shape. A model that needs more is a DataError naming
  // the node that crossed it, so that a small crafted file cannot exhaust memory.
  size_t max_import_bytes = size_t(1) << 30;
};

// Tensors stored outside the model (data_location EXTERNAL, the format of models over 2 GB)
// are read from files in the model's folder: a location that leaves that folder (an
// absolute path, "..", a symbolic link pointing out) or an offset/length past the file's
// end is a DataError naming the tensor.
Graph load_onnx(const std::string& path, const OnnxImportOptions& options = {});
// A model given as bytes has no folder: external data is a DataError naming the tensor.
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
