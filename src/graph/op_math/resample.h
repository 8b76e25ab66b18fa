#pragma once
// resample2d's sampling, for both backends (host and device, see host_device.h): the spec's
// half-pixel coordinate mapping (computed in double), the nearest-neighbour index and the
// linear taps derived from it, and the bilinear blend (in float). Both backends compute the
// per-row and per-column tables on the host; the kernels blend.
#include <cstdint>

#include "graph/op_math/host_device.h"

namespace cppnn::detail::op_math {

// The input seen as [outer, H, mid, W, inner], H and W the resampled axes (layout.h's
// resample_split fills it from the shapes).
struct ResampleSplit {
  int64_t outer = 1, mid = 1, inner = 1;
  int64_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
};

// The spec's mapping: scale = outputSize / inputSize,
// inputCoordinate = clamp((outputCoordinate + 0.5) / scale - 0.5, 0, inputSize - 1).
CPPNN_HOST_DEVICE inline double resample_input_coordinate(int64_t o, int64_t in_size,
                                                          int64_t out_size) {
  double scale = double(out_size) / double(in_size);
  double c = (double(o) + 0.5) / scale - 0.5;
  double hi = double(in_size - 1);
  return c < 0.0 ? 0.0 : hi < c ? hi : c;  // std::clamp(c, 0.0, hi)
}

// Nearest neighbour: the input index of output index `o` (ties round down).
CPPNN_HOST_DEVICE inline int64_t resample_nearest_index(int64_t o, int64_t in_size,
                                                        int64_t out_size) {
  return int64_t(ceil_d(resample_input_coordinate(o, in_size, out_size) - 0.5));
}

// Linear: output index `o` blends inputs i0 and i1 = i0 or i0 + 1, with weight t of i1.
struct ResampleTap {
  int64_t i0, i1;
  float t;
};

CPPNN_HOST_DEVICE inline ResampleTap resample_linear_tap(int64_t o, int64_t in_size,
                                                         int64_t out_size) {
  double c = resample_input_coordinate(o, in_size, out_size);
  double f = floor_d(c);
  return {int64_t(f), int64_t(ceil_d(c)), float(c - f)};
}

// The bilinear value of a0 = (y0, x0), a1 = (y0, x1), b0 = (y1, x0), b1 = (y1, x1) with
// weights tx (of x1) and ty (of y1). Two forms of the same blend, rounded differently, as
// the CPU kernel has always computed them: `lerp` (a + (b - a) t) where the resampled W is
// the innermost axis (inner == 1), `weighted` (a (1 - t) + b t) otherwise.
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float resample_blend_lerp(float a0, float a1, float b0,
                                                               float b1, float tx, float ty) {
  float vy0 = a0 + (a1 - a0) * tx;
  float vy1 = b0 + (b1 - b0) * tx;
  return vy0 + (vy1 - vy0) * ty;
}

CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE float resample_blend_weighted(float a0, float a1, float b0,
                                                                   float b1, float tx, float ty) {
  float vy0 = a0 * (1 - tx) + a1 * tx;
  float vy1 = b0 * (1 - tx) + b1 * tx;
  return vy0 * (1 - ty) + vy1 * ty;
}

}  // namespace cppnn::detail::op_math
