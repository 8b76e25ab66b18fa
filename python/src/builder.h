#pragma once
// The Python graph builder: a cppnn::GraphBuilder plus the context it builds for.
#include <optional>

#include "convert.h"

namespace webnn_py {

struct PyGraphBuilder {
  cppnn::GraphBuilder builder;
  // Set when made by a context: build() compiles for it, so that an op its backend cannot
  // run fails at build rather than at the first compute.
  std::optional<cppnn::Context> context;
};

// Options of an op with only its label set; the rest keep the spec's defaults.
template <typename Options>
Options labelled(const std::string& label) {
  Options o;
  o.label = label;
  return o;
}

// An optional operand argument (None: absent).
inline cppnn::Operand or_absent(const std::optional<cppnn::Operand>& o) {
  return o ? *o : cppnn::Operand();
}

using BuilderClass = nb::class_<PyGraphBuilder>;

// One per binding file, called by the module definition: bind_builder (builder.cpp) and one
// per op family (ops_<family>.cpp).
void bind_builder(nb::module_& m, BuilderClass& cls);
void bind_elementwise_ops(BuilderClass& cls);
void bind_reduction_ops(BuilderClass& cls);
void bind_movement_ops(BuilderClass& cls);
void bind_gather_ops(BuilderClass& cls);
void bind_conv_ops(BuilderClass& cls);
void bind_matmul_ops(BuilderClass& cls);
void bind_pooling_ops(BuilderClass& cls);
void bind_normalization_ops(BuilderClass& cls);
void bind_recurrent_ops(BuilderClass& cls);
void bind_quantization_ops(BuilderClass& cls);
// MLTensor and the context's tensor methods (tensors.cpp).
void bind_device_tensors(nb::module_& m, nb::class_<cppnn::Context>& context_class);
// rustnn's (pywebnn's) names beside the spec's (compat.cpp); called after every op family,
// so that its overloads come after the spec's.
void bind_rustnn_compat(nb::class_<cppnn::Context>& context_class, BuilderClass& cls);

}  // namespace webnn_py
