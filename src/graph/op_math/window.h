#pragma once
// The sliding window of conv2d, convTranspose2d and the pooling ops along one spatial axis:
// output sizes, which taps of a window land inside the input, and how pooling combines them.
// Host and device (see host_device.h); window_attrs.h reads a node's windows from its
// attributes.
//
// These are the plain (unchecked) forms the backends compute with: the graph layer
// (src/graph/ops/conv.cpp, pooling.cpp) computes the same sizes with overflow-checked
// arithmetic (core/checked.h) before any backend sees the node.
#include <cstdint>

#include "graph/op_math/host_device.h"

namespace cppnn::detail::op_math {

// a / b rounded toward negative infinity, for b > 0 (core/checked.h's floor_div, which the
// graph layer uses, in a form kernels can call).
CPPNN_HOST_DEVICE constexpr int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return a % b != 0 && a < 0 ? q - 1 : q;
}

// The extent of a window of `window` taps `dilation` apart.
CPPNN_HOST_DEVICE constexpr int64_t dilated_size(int64_t window, int64_t dilation) {
  return (window - 1) * dilation + 1;
}

// The spec's conv output size, floor((input - dilated window + padding) / stride) + 1.
CPPNN_HOST_DEVICE constexpr int64_t conv_output_size(int64_t input, int64_t window,
                                                     int64_t dilation, int64_t pad_begin,
                                                     int64_t pad_end, int64_t stride) {
  return floor_div(input + pad_begin + pad_end - dilated_size(window, dilation), stride) + 1;
}

// convTranspose2d's output size without output padding: (input - 1) * stride + dilated
// window - padding.
CPPNN_HOST_DEVICE constexpr int64_t conv_transpose_output_size(int64_t input, int64_t window,
                                                               int64_t dilation, int64_t pad_begin,
                                                               int64_t pad_end, int64_t stride) {
  return (input - 1) * stride + dilated_size(window, dilation) - pad_begin - pad_end;
}

// Window taps [first, end) that land inside an input of `in` elements, for output position
// `out`. I: the index type (the CUDA pooling kernel uses int32_t where everything fits).
template <typename I>
struct WindowTaps {
  I first = 0, end = 0;
  CPPNN_HOST_DEVICE constexpr I count() const { return end - first; }
};

template <typename I>
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE constexpr WindowTaps<I> window_taps(I out, I stride, I pad,
                                                                         I dilation, I window,
                                                                         I in) {
  I start = out * stride - pad;  // input index of tap 0
  WindowTaps<I> t{};
  t.first = start >= 0 ? I(0) : (-start + dilation - 1) / dilation;
  if (start > in - 1) {
    t.end = 0;
  } else {
    I last = (in - 1 - start) / dilation + 1;
    t.end = window < last ? window : last;
  }
  if (t.first > t.end) t.first = t.end;
  return t;
}

// 1 / the number of taps a window averages; 0 for none (the average of nothing is 0).
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE constexpr float inverse_count(int64_t count) {
  return count > 0 ? 1.0f / float(count) : 0.0f;
}

// ---- Pooling --------------------------------------------------------------------------

enum PoolKind : int { kPoolAverage = 0, kPoolL2, kPoolMax };

// An averagePool2d / l2Pool2d / maxPool2d node's window, as both backends' kernels take it
// (window_attrs.h's pool_window fills it).
struct PoolWindow {
  int64_t batches = 0, channels = 0, height = 0, width = 0, out_h = 0, out_w = 0;
  int64_t window_h = 1, window_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1,
          pad_top = 0, pad_left = 0;
  bool nhwc = false;
};

// Whether output position 0 of an axis with one output position takes every input element
// once, in order: no padding before, all `in` elements inside, and no gaps between them.
CPPNN_HOST_DEVICE constexpr bool window_covers_axis(int64_t out_size, int64_t pad, int64_t dilation,
                                                    int64_t window, int64_t in) {
  return out_size == 1 && pad == 0 &&
         window_taps<int64_t>(0, 1, 0, dilation, window, in).count() == in &&
         (in == 1 || dilation == 1);
}

// One window over the whole unpadded plane: global pooling, a plain reduction of each plane
// (the backends then divide an average by height * width at once).
CPPNN_HOST_DEVICE constexpr bool pool_covers_plane(const PoolWindow& w) {
  return window_covers_axis(w.out_h, w.pad_top, w.dilation_h, w.window_h, w.height) &&
         window_covers_axis(w.out_w, w.pad_left, w.dilation_w, w.window_w, w.width);
}

// The accumulator a window starts from: 0 for sums, the lowest value for max (the maximum
// of nothing; -infinity for floats).
template <PoolKind K, typename A>
CPPNN_HOST_DEVICE constexpr A pool_identity() {
  if constexpr (K == kPoolMax)
    return lowest_of<A>();
  else
    return A(0);
}

// One tap into the accumulator: a sum, a sum of squares, or a maximum that NaN never wins.
template <PoolKind K, typename A>
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE constexpr A pool_combine(A acc, A v) {
  if constexpr (K == kPoolAverage)
    return acc + v;
  else if constexpr (K == kPoolL2)
    return acc + v * v;
  else
    return v > acc ? v : acc;
}

}  // namespace cppnn::detail::op_math
