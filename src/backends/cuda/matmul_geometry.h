#pragma once
// A matmul or gemm node as the products its GPU step runs (lt_matmul.cpp, which hands a
// single-call one to our own kernels): row-major D = op(a) op(b), a strided batch per call,
// one call per combination of the batch dimensions outside it.
#include <cstdint>
#include <vector>

#include "graph/ir.h"

namespace cppnn::detail::cuda {

// The products one node needs, in row-major terms: D[m, n] = op(a)[m, k] * op(b)[k, n],
// `batch` of them per cuBLASLt call at the given strides (0: one matrix shared by all),
// one call per entry of `calls` (offsets in elements).
struct MatmulGeometry {
  int64_t m = 0, n = 0, k = 0;
  bool a_trans = false, b_trans = false;
  int64_t batch = 1;
  int64_t a_stride = 0, b_stride = 0;
  struct Offsets {
    int64_t a, b, d;
  };
  std::vector<Offsets> calls;
};

MatmulGeometry matmul_geometry(const Dims& a, const Dims& b, const Dims& out);
MatmulGeometry gemm_geometry(const Node& node, const Dims& a, const Dims& out);
// The same products with the strided batch unrolled into calls of one: for libraries that
// take no algorithm for a strided batch with a broadcast (stride 0) operand.
MatmulGeometry unbatched(const MatmulGeometry& geo);

}  // namespace cppnn::detail::cuda
