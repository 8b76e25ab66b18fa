#include "backends/cpu/evaluator.h"

#include "backends/cpu/kernel.h"

namespace cppnn::detail {

ConstantEvaluator cpu_node_evaluator() {
  ConstantEvaluator e;
  e.can_evaluate = [](OpId op) { return CpuKernelRegistry::instance().has(op); };
  e.evaluate = [](const GraphIR& graph, const Node& node,
                  const std::vector<const Tensor*>& inputs, const std::vector<Tensor*>& outputs) {
    if (!CpuKernelRegistry::instance().has(node.op))
      fail(ErrorKind::OperationError, "internal: no CPU kernel folds " + op_name(node.op));
    make_node_kernel(graph, node, 1)->run(inputs, outputs);
  };
  return e;
}

PassOptions cpu_pass_options() {
  PassOptions options;
  options.evaluator = cpu_node_evaluator();
  return options;
}

}  // namespace cppnn::detail
