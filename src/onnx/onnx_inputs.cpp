// read_onnx_decl: a model's graph inputs as declared, for tools that check --dim names
// and show symbolic shapes before (or without) importing the model.
#include <algorithm>
#include <fstream>
#include <set>

#include "cppnn/onnx.h"
#include "onnx/import_context.h"

namespace cppnn {

OnnxModelDecl read_onnx_decl(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) fail(ErrorKind::DataError, "cannot open ONNX file '" + path + "'");
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&file) || !model.has_graph())
    fail(ErrorKind::DataError,
         "ONNX file '" + path + "': the file is not an ONNX model (protobuf parsing failed)");
  OnnxModelDecl decl_out;
  decl_out.ir_version = model.ir_version();
  for (const auto& o : model.opset_import())
    decl_out.opsets[o.domain() == "ai.onnx" ? "" : o.domain()] = o.version();
  decl_out.producer = model.producer_name();
  if (!model.producer_version().empty()) decl_out.producer += " " + model.producer_version();
  const onnx::GraphProto& graph = model.graph();
  std::set<std::string> initializers;
  for (const auto& init : graph.initializer()) initializers.insert(init.name());
  std::vector<OnnxInputDecl>& out = decl_out.inputs;
  for (const auto& input : graph.input()) {
    if (initializers.count(input.name())) continue;  // IR < 4 lists initializers as inputs
    OnnxInputDecl decl;
    decl.name = input.name();
    const bool shaped = input.type().has_tensor_type() && input.type().tensor_type().has_shape();
    decl.has_shape = shaped;
    if (shaped) {
      const auto& shape = input.type().tensor_type().shape();
      for (int i = 0; i < shape.dim_size(); ++i) {
        const auto& d = shape.dim(i);
        // The naming of the importer's symbolic_name (importer.cpp), which dim_values keys
        // on; tests/unit/test_onnx_inputs.cpp checks the two agree.
        if (d.has_dim_value() && d.dim_value() > 0)
          decl.dims.push_back(std::to_string(d.dim_value()));
        else if (d.has_dim_param() && !d.dim_param().empty() && d.dim_param() != "?")
          decl.dims.push_back(d.dim_param());
        else
          decl.dims.push_back(input.name() + ":" + std::to_string(i));
      }
    }
    out.push_back(std::move(decl));
  }
  return decl_out;
}

std::vector<std::string> OnnxModelDecl::symbolic_dims() const {
  std::set<std::string> names;
  for (const OnnxInputDecl& in : inputs)
    for (const std::string& d : in.dims)
      if (d.empty() ||
          !std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }))
        names.insert(d);
  return {names.begin(), names.end()};
}

}  // namespace cppnn
