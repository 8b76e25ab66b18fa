#include "cppnn/onnx.h"

namespace cppnn {
Graph load_onnx(const std::string& path, const OnnxImportOptions&) {
  fail(ErrorKind::NotSupportedError, "ONNX import is not built yet: " + path);
}
Graph load_onnx_from_bytes(const std::string&, const OnnxImportOptions&) {
  fail(ErrorKind::NotSupportedError, "ONNX import is not built yet");
}
}  // namespace cppnn
