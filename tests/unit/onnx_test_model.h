#pragma once
// Builds small ONNX models in C++ with the onnx protobuf classes, for the importer tests.
// The library is compiled with these definitions; the test target does not set them.
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>

#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "cppnn/onnx.h"
#include "unit/test_support.h"

namespace cppnn::testing {

using OnnxDim = std::variant<int64_t, std::string>;

inline void attr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void attr(onnx::NodeProto& n, const std::string& name, double v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(float(v));
}
inline void attr(onnx::NodeProto& n, const std::string& name, const char* v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}
inline void attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}
inline void attr(onnx::NodeProto& n, const std::string& name, const onnx::TensorProto& t) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = t;
}

// A TensorProto with raw_data (the way torch.onnx.export writes initializers).
template <typename T>
onnx::TensorProto raw_tensor(const std::string& name, int32_t elem_type, const Dims& dims,
                             const std::vector<T>& values) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(elem_type);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
  return t;
}

class OnnxTestModel {
 public:
  explicit OnnxTestModel(int64_t opset = 17) {
    model_.set_ir_version(8);
    auto* o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }

  onnx::ModelProto& proto() { return model_; }
  onnx::GraphProto& graph() { return *model_.mutable_graph(); }

  void input(const std::string& name, int32_t elem_type, const std::vector<OnnxDim>& dims) {
    auto* v = graph().add_input();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem_type);
    auto* shape = tt->mutable_shape();
    for (const OnnxDim& d : dims) {
      auto* dim = shape->add_dim();
      if (std::holds_alternative<int64_t>(d))
        dim->set_dim_value(std::get<int64_t>(d));
      else
        dim->set_dim_param(std::get<std::string>(d));
    }
  }
  void output(const std::string& name) { graph().add_output()->set_name(name); }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = graph().add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(graph().node_size()) : name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  onnx::TensorProto& initializer(const onnx::TensorProto& t) {
    auto* i = graph().add_initializer();
    *i = t;
    return *i;
  }
  void floats(const std::string& name, const Dims& dims, const std::vector<float>& v) {
    initializer(raw_tensor(name, onnx::TensorProto::FLOAT, dims, v));
  }
  void int64s(const std::string& name, const Dims& dims, const std::vector<int64_t>& v) {
    initializer(raw_tensor(name, onnx::TensorProto::INT64, dims, v));
  }

  std::string bytes() const { return model_.SerializeAsString(); }
  Graph load(const OnnxImportOptions& options = {}) const {
    return load_onnx_from_bytes(bytes(), options);
  }

 private:
  onnx::ModelProto model_;
};

// Imports and runs a model. A harness may define CPPNN_ONNX_TEST_RUNNER and provide its own
// run_model (e.g. one running ONNX Runtime, to check the tests' references).
#ifdef CPPNN_ONNX_TEST_RUNNER
NamedTensors run_model(const OnnxTestModel& m, const NamedTensors& inputs,
                       const OnnxImportOptions& options = {});
#else
inline NamedTensors run_model(const OnnxTestModel& m, const NamedTensors& inputs,
                              const OnnxImportOptions& options = {}) {
  return run_cpu(m.load(options), inputs);
}
#endif

// Adds a random float32 initializer and returns its values.
inline Tensor weight(OnnxTestModel& m, const std::string& name, const Dims& dims, uint32_t seed,
                     double lo = -1, double hi = 1) {
  Tensor t = random_tensor(DataType::float32, dims, lo, hi, seed);
  std::vector<double> d = t.to_doubles();
  m.floats(name, dims, std::vector<float>(d.begin(), d.end()));
  return t;
}

}  // namespace cppnn::testing
