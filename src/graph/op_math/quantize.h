#pragma once
// quantizeLinear and dequantizeLinear, per element, for host and device (see host_device.h):
// the CPU kernels (backends/cpu/quantization.cpp) and the CUDA kernels
// (backends/cuda/kernels/quantization.cu) compute with these, so both give the same bits.
//
//   quantize:   saturate(roundEven(x / scale) + zeroPoint). The quotient is the input type's
//               (float32, or float16: the float32 quotient rounded to float16 is the correctly
//               rounded float16 quotient, as the spec's emulation computes it); the rounded
//               quotient and the zero point are added exactly (in double) and saturated to the
//               output type's range, so an int32 / uint32 zero point loses nothing. The spec
//               leaves zero, negative and NaN scales to the implementation: x / 0 is +-inf and
//               saturates, NaN becomes 0 (as cast does for float -> integer).
//   dequantize: (x - zeroPoint) * scale in double, rounded once to the output type (exact
//               for 8-bit inputs; 32-bit ones may round twice, float64 then float32).
//
// The blockwise geometry: the scale (and zero point) of input element i is the one at
// i[d] / block[d] in every dimension d, block[d] = input[d] / scale[d] (the spec's blockwise
// broadcast). merge_blockwise() folds neighbouring dimensions that index the scale alike.
#include <vector>

#include "graph/op_math/host_device.h"

namespace cppnn::detail::op_math {

// Out: int8_t, uint8_t, int32_t or uint32_t. `quotient` is x / scale in the input's type.
template <typename Out>
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE Out quantize_value(float quotient, double zero_point) {
  if (quotient != quotient) return Out(0);
  double v = round_even_d(double(quotient)) + zero_point;
  constexpr double lo = double(std::numeric_limits<Out>::min());
  constexpr double hi = double(std::numeric_limits<Out>::max());
  if (v <= lo) return std::numeric_limits<Out>::min();
  if (v >= hi) return std::numeric_limits<Out>::max();
  return Out(v);  // a whole number in range: exact
}

template <typename In>
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE double dequantize_value(In x, In zero_point, float scale) {
  return (double(x) - double(zero_point)) * double(scale);
}

// The input's dimensions and block sizes (input / scale), after folding neighbours: two
// dimensions fold when both have block 1 (the scale follows the input element by element)
// or both have a single scale value (block = the whole dimension). Dimensions of 1 are
// dropped. The result has at least one dimension; the scale's dimensions are dims / blocks.
struct BlockwiseShape {
  std::vector<int64_t> dims, blocks;
};

inline BlockwiseShape merge_blockwise(const std::vector<int64_t>& input,
                                      const std::vector<int64_t>& scale) {
  BlockwiseShape out;
  for (size_t d = 0; d < input.size(); ++d) {
    int64_t n = input[d], s = scale[d];
    if (n == 1) continue;
    int64_t block = s > 0 && n > 0 ? n / s : 1;
    if (!out.dims.empty()) {
      int64_t& pn = out.dims.back();
      int64_t& pb = out.blocks.back();
      bool both_elementwise = pb == 1 && block == 1;
      bool both_single = pb == pn && block == n;
      if (both_elementwise || both_single) {
        pn *= n;
        pb = both_single ? pn : 1;
        continue;
      }
    }
    out.dims.push_back(n);
    out.blocks.push_back(block < 1 ? 1 : block);
  }
  if (out.dims.empty()) {
    out.dims.push_back(1);
    out.blocks.push_back(1);
  }
  return out;
}

}  // namespace cppnn::detail::op_math
