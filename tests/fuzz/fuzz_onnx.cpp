// An ONNX model from hostile bytes: import (protobuf parse, converters, shape folding,
// validation), then every later stage (fuzz_support.h). Any stage may refuse the model
// with cppnn::Error; every other outcome (a crash, a sanitizer report, another exception
// type, a hang, memory past the limit) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cppnn;
  OnnxImportOptions options;
  // Small values for the symbolic dimensions that exported models commonly name; any other
  // name is an import error, which is also worth reaching.
  for (const char* name : {"N", "batch", "batch_size", "B"}) options.dim_values[name] = 1;
  for (const char* name : {"S", "seq", "sequence", "sequence_length", "T"})
    options.dim_values[name] = 4;
  for (const char* name : {"H", "W", "height", "width"}) options.dim_values[name] = 8;
  Graph graph;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (!fuzz::guarded("load_onnx_from_bytes", [&] { graph = load_onnx_from_bytes(bytes, options); }))
    return 0;
  // The size's parity picks the precision, so both engine builders are fuzzed.
  fuzz::run_graph(graph, size % 2 ? Precision::float16 : Precision::float32);
  return 0;
}
