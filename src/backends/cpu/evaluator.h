#pragma once
// The CPU kernels as the passes' constant evaluator (compiler/passes.h): the CPU backend,
// the engine builder and the CUDA plan fold constants with it, so all fold alike.
#include "compiler/passes.h"

namespace cppnn::detail {

// Runs one node on host tensors with its CPU kernel, on one thread; ops without a CPU
// kernel are not folded.
ConstantEvaluator cpu_node_evaluator();

// The pass options every consumer starts from: the defaults, folding with the CPU kernels.
PassOptions cpu_pass_options();

}  // namespace cppnn::detail
