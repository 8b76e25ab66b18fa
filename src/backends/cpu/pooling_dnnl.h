#pragma once
// float32 average and max pooling through oneDNN, whose JIT kernels pick the widest vector
// ISA of the machine at run time.
#include <memory>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/kernel.h"
#include "graph/op_math/window.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

// A oneDNN pooling kernel for the node (whose window is `w`), or nullptr when oneDNN cannot
// express it exactly.
// The caller makes sure every window has at least one tap inside the input (oneDNN's
// average would divide by zero otherwise).
std::unique_ptr<CpuKernel> make_dnnl_pool_kernel(const KernelContext& cx,
                                                 const op_math::PoolWindow& w, bool max);

CPPNN_ISA_END
}  // namespace cppnn::detail
