// TEMPORARY, for the onnx branch only: weak stand-ins for the GraphBuilder op methods that
// other branches define, so that the importer (which calls them all) links before those
// branches are merged. A weak definition loses to the real one at link time, so this file is
// harmless after the merge, but it should be deleted then. Each stand-in throws
// NotSupportedError, so a model using an op that is not built yet fails cleanly.
#include "cppnn/graph.h"

namespace cppnn {

namespace {
[[noreturn]] void not_built(const char* op) {
  fail(ErrorKind::NotSupportedError, std::string(op) + " is not built in this branch yet");
}
}  // namespace

#define CPPNN_WEAK __attribute__((weak))
#define CPPNN_STUB_BINARY(m)                                                                   \
  CPPNN_WEAK Operand GraphBuilder::m(const Operand&, const Operand&, const OperatorOptions&) { \
    not_built(#m);                                                                             \
  }
#define CPPNN_STUB_UNARY(m, Options) \
  CPPNN_WEAK Operand GraphBuilder::m(const Operand&, const Options&) { not_built(#m); }

CPPNN_STUB_BINARY(equal)
CPPNN_STUB_BINARY(not_equal)
CPPNN_STUB_BINARY(greater)
CPPNN_STUB_BINARY(greater_or_equal)
CPPNN_STUB_BINARY(lesser)
CPPNN_STUB_BINARY(lesser_or_equal)
CPPNN_STUB_BINARY(logical_and)
CPPNN_STUB_BINARY(logical_or)
CPPNN_STUB_BINARY(logical_xor)
CPPNN_STUB_BINARY(prelu)
CPPNN_STUB_BINARY(matmul)
CPPNN_STUB_UNARY(logical_not, OperatorOptions)
CPPNN_STUB_UNARY(abs, OperatorOptions)
CPPNN_STUB_UNARY(ceil, OperatorOptions)
CPPNN_STUB_UNARY(cos, OperatorOptions)
CPPNN_STUB_UNARY(erf, OperatorOptions)
CPPNN_STUB_UNARY(exp, OperatorOptions)
CPPNN_STUB_UNARY(floor, OperatorOptions)
CPPNN_STUB_UNARY(identity, OperatorOptions)
CPPNN_STUB_UNARY(log, OperatorOptions)
CPPNN_STUB_UNARY(neg, OperatorOptions)
CPPNN_STUB_UNARY(reciprocal, OperatorOptions)
CPPNN_STUB_UNARY(sin, OperatorOptions)
CPPNN_STUB_UNARY(sign, OperatorOptions)
CPPNN_STUB_UNARY(sqrt, OperatorOptions)
CPPNN_STUB_UNARY(tan, OperatorOptions)
CPPNN_STUB_UNARY(gelu, OperatorOptions)
CPPNN_STUB_UNARY(hard_swish, OperatorOptions)
CPPNN_STUB_UNARY(relu, OperatorOptions)
CPPNN_STUB_UNARY(sigmoid, OperatorOptions)
CPPNN_STUB_UNARY(softplus, OperatorOptions)
CPPNN_STUB_UNARY(softsign, OperatorOptions)
CPPNN_STUB_UNARY(tanh, OperatorOptions)
CPPNN_STUB_UNARY(clamp, ClampOptions)
CPPNN_STUB_UNARY(elu, EluOptions)
CPPNN_STUB_UNARY(hard_sigmoid, HardSigmoidOptions)
CPPNN_STUB_UNARY(leaky_relu, LeakyReluOptions)
CPPNN_STUB_UNARY(average_pool2d, Pool2dOptions)
CPPNN_STUB_UNARY(max_pool2d, Pool2dOptions)
CPPNN_STUB_UNARY(instance_normalization, InstanceNormalizationOptions)
CPPNN_STUB_UNARY(layer_normalization, LayerNormalizationOptions)
CPPNN_STUB_UNARY(reduce_l1, ReduceOptions)
CPPNN_STUB_UNARY(reduce_l2, ReduceOptions)
CPPNN_STUB_UNARY(reduce_log_sum, ReduceOptions)
CPPNN_STUB_UNARY(reduce_log_sum_exp, ReduceOptions)
CPPNN_STUB_UNARY(reduce_max, ReduceOptions)
CPPNN_STUB_UNARY(reduce_mean, ReduceOptions)
CPPNN_STUB_UNARY(reduce_min, ReduceOptions)
CPPNN_STUB_UNARY(reduce_product, ReduceOptions)
CPPNN_STUB_UNARY(reduce_sum, ReduceOptions)
CPPNN_STUB_UNARY(reduce_sum_square, ReduceOptions)
CPPNN_STUB_UNARY(transpose, TransposeOptions)
CPPNN_STUB_UNARY(reverse, ReverseOptions)
CPPNN_STUB_UNARY(triangular, TriangularOptions)

CPPNN_WEAK Operand GraphBuilder::softmax(const Operand&, uint32_t, const OperatorOptions&) {
  not_built("softmax");
}
CPPNN_WEAK Operand GraphBuilder::cast(const Operand&, DataType, const OperatorOptions&) {
  not_built("cast");
}
CPPNN_WEAK Operand GraphBuilder::where(const Operand&, const Operand&, const Operand&,
                                       const OperatorOptions&) {
  not_built("where");
}
CPPNN_WEAK Operand GraphBuilder::gemm(const Operand&, const Operand&, const GemmOptions&) {
  not_built("gemm");
}
CPPNN_WEAK Operand GraphBuilder::conv2d(const Operand&, const Operand&, const Conv2dOptions&) {
  not_built("conv2d");
}
CPPNN_WEAK Operand GraphBuilder::conv_transpose2d(const Operand&, const Operand&,
                                                  const ConvTranspose2dOptions&) {
  not_built("conv_transpose2d");
}
CPPNN_WEAK Operand GraphBuilder::batch_normalization(const Operand&, const Operand&, const Operand&,
                                                     const BatchNormalizationOptions&) {
  not_built("batch_normalization");
}
CPPNN_WEAK Operand GraphBuilder::arg_max(const Operand&, uint32_t, const ArgMinMaxOptions&) {
  not_built("arg_max");
}
CPPNN_WEAK Operand GraphBuilder::arg_min(const Operand&, uint32_t, const ArgMinMaxOptions&) {
  not_built("arg_min");
}
CPPNN_WEAK Operand GraphBuilder::cumulative_sum(const Operand&, uint32_t,
                                                const CumulativeSumOptions&) {
  not_built("cumulative_sum");
}
CPPNN_WEAK Operand GraphBuilder::reshape(const Operand&, const std::vector<uint32_t>&,
                                         const OperatorOptions&) {
  not_built("reshape");
}
CPPNN_WEAK Operand GraphBuilder::concat(const std::vector<Operand>&, uint32_t,
                                        const OperatorOptions&) {
  not_built("concat");
}
CPPNN_WEAK std::vector<Operand> GraphBuilder::split(const Operand&, const std::vector<uint32_t>&,
                                                    const SplitOptions&) {
  not_built("split");
}
CPPNN_WEAK Operand GraphBuilder::slice(const Operand&, const std::vector<uint32_t>&,
                                       const std::vector<uint32_t>&, const SliceOptions&) {
  not_built("slice");
}
CPPNN_WEAK Operand GraphBuilder::gather(const Operand&, const Operand&, const GatherOptions&) {
  not_built("gather");
}
CPPNN_WEAK Operand GraphBuilder::expand(const Operand&, const std::vector<uint32_t>&,
                                        const OperatorOptions&) {
  not_built("expand");
}
CPPNN_WEAK Operand GraphBuilder::tile(const Operand&, const std::vector<uint32_t>&,
                                      const OperatorOptions&) {
  not_built("tile");
}
CPPNN_WEAK Operand GraphBuilder::pad(const Operand&, const std::vector<uint32_t>&,
                                     const std::vector<uint32_t>&, const PadOptions&) {
  not_built("pad");
}

}  // namespace cppnn
