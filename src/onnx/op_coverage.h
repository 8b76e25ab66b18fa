#pragma once
// What the ONNX importer and exporter cover, for the test that every op of
// include/cppnn/ops.def has its ONNX entries (tests/unit/test_op_table.cpp). Both count the
// converters generated for U ops with an ONNX name as well as the hand-written ones.
#include <string>

#include "graph/op_id.h"

namespace cppnn::detail {

// Whether export_onnx can write a node of op `id`: a hand-written exporter, or the generated
// one of a U op whose ONNX name is not empty.
bool onnx_exports(OpId id);

// Whether load_onnx converts nodes of the ONNX op type `onnx_type` (default domain): a
// hand-written converter, or the generated one of the U op whose ONNX name it is. Ask it of
// op_info(id).onnx to check an op's import.
bool onnx_imports(const std::string& onnx_type);

}  // namespace cppnn::detail
