// CPU kernels of the quantization family: quantizeLinear and dequantizeLinear, for every data
// type the spec allows (float32 / float16 against int8, uint8, int32, uint32) and every
// blockwise broadcast of the scale and zero point (per-tensor, per-axis, block-wise). The
// per-element math is graph/op_math/quantize.h's, shared with the CUDA kernels.
#include <algorithm>

#include "backends/cpu/elementwise_loops.h"
#include "backends/cpu/isa_target.h"
#include "graph/op_math/quantize.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

using Kernel = std::unique_ptr<CpuKernel>;
using Ins = std::vector<const Tensor*>;
using Outs = std::vector<Tensor*>;
using op_math::BlockwiseShape;

// The walk over the input in row-major order with, for each run of elements that share one
// scale and zero point, f(first, count, scale_index): the input seen as merged dimensions
// (op_math::merge_blockwise), the last one cut into its blocks. Parallel over flat ranges.
struct BlockwiseWalk {
  BlockwiseShape g;
  std::vector<size_t> scale_strides;  // of the scale's dimensions, row-major
  size_t last = 1, block = 1, total = 0;

  BlockwiseWalk(const Dims& input, const Dims& scale)
      : g(op_math::merge_blockwise(input, scale)) {
    size_t r = g.dims.size();
    scale_strides.assign(r, 1);
    for (size_t d = r - 1; d-- > 0;)
      scale_strides[d] = scale_strides[d + 1] * size_t(g.dims[d + 1] / g.blocks[d + 1]);
    last = size_t(g.dims.back());
    block = size_t(g.blocks.back());
    total = size_t(element_count(input));
  }

  // The scale index of the first element of row `row` (a row: the last merged dimension).
  size_t row_base(size_t row) const {
    size_t base = 0;
    for (size_t d = g.dims.size() - 1; d-- > 0;) {
      size_t n = size_t(g.dims[d]);
      base += (row % n) / size_t(g.blocks[d]) * scale_strides[d];
      row /= n;
    }
    return base;
  }

  template <typename F>
  void run(F&& f) const {
    parallel_for(total, kElementwiseGrain, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end;) {
        size_t row = i / last, j = i % last;
        size_t base = row_base(row);
        size_t stop = std::min(end, (row + 1) * last);
        while (i < stop) {
          size_t sj = j / block;
          size_t n = std::min(stop - i, (sj + 1) * block - j);
          f(i, n, base + sj);
          i += n;
          j += n;
        }
      }
    });
  }
};

// Calls f.operator()<Q>() with the C++ type of a quantized data type (validated in infer).
template <typename F>
void visit_quantized_type(DataType t, F&& f) {
  switch (t) {
    case DataType::int8: f.template operator()<int8_t>(); break;
    case DataType::uint8: f.template operator()<uint8_t>(); break;
    case DataType::int32: f.template operator()<int32_t>(); break;
    case DataType::uint32: f.template operator()<uint32_t>(); break;
    default: unexpected_type(t);
  }
}

Kernel quantize_kernel(const KernelContext& cx) {
  BlockwiseWalk walk(cx.inputs[0]->shape, cx.inputs[1]->shape);
  DataType ftype = cx.inputs[0]->data_type, qtype = cx.inputs[2]->data_type;
  return make_kernel([walk, ftype, qtype](const Ins& in, const Outs& out) {
    visit_float_type(ftype, [&]<typename F>() {
      visit_quantized_type(qtype, [&]<typename Q>() {
        const F* x = in[0]->data_as<F>();
        const F* scale = in[1]->data_as<F>();
        const Q* zero = in[2]->data_as<Q>();
        Q* y = out[0]->data_as<Q>();
        walk.run([&](size_t first, size_t n, size_t s) {
          float sc = float(scale[s]);
          double zp = double(zero[s]);
          for (size_t k = first; k < first + n; ++k) {
            float q = float(x[k]) / sc;
            if constexpr (std::is_same_v<F, half>) q = float(half(q));  // float16's quotient
            y[k] = op_math::quantize_value<Q>(q, zp);
          }
        });
      });
    });
  });
}

Kernel dequantize_kernel(const KernelContext& cx) {
  BlockwiseWalk walk(cx.inputs[0]->shape, cx.inputs[1]->shape);
  DataType qtype = cx.inputs[0]->data_type, ftype = cx.inputs[1]->data_type;
  return make_kernel([walk, ftype, qtype](const Ins& in, const Outs& out) {
    visit_float_type(ftype, [&]<typename F>() {
      visit_quantized_type(qtype, [&]<typename Q>() {
        const Q* x = in[0]->data_as<Q>();
        const F* scale = in[1]->data_as<F>();
        const Q* zero = in[2]->data_as<Q>();
        F* y = out[0]->data_as<F>();
        walk.run([&](size_t first, size_t n, size_t s) {
          float sc = float(scale[s]);
          Q zp = zero[s];
          for (size_t k = first; k < first + n; ++k)
            y[k] = F(float(op_math::dequantize_value(x[k], zp, sc)));
        });
      });
    });
  });
}

}  // namespace

void register_quantization_kernels(CpuKernelRegistry& r) {
  r.add(OpId::quantizeLinear, quantize_kernel);
  r.add(OpId::dequantizeLinear, dequantize_kernel);
}

CPPNN_ISA_END
}  // namespace cppnn::detail
