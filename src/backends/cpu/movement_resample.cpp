// CPU kernel of resample2d: nearest-neighbor and bilinear sampling over any two axes of a
// 4-D tensor, with the spec's half-pixel coordinate mapping.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/movement_kernels.h"
#include "graph/op_math/layout.h"
#include "graph/op_math/resample.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

// The tensor seen as [outer, H, mid, W, inner], H and W being the resampled axes in order.
struct Geometry {
  size_t outer = 1, mid = 1, inner = 1;
  size_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
};

Geometry geometry_of(const Dims& in, const Dims& out, const std::vector<int64_t>& axes) {
  op_math::ResampleSplit split = op_math::resample_split(in, out, axes);
  Geometry g;
  g.outer = size_t(split.outer);
  g.mid = size_t(split.mid);
  g.inner = size_t(split.inner);
  g.in_h = size_t(split.in_h);
  g.in_w = size_t(split.in_w);
  g.out_h = size_t(split.out_h);
  g.out_w = size_t(split.out_w);
  return g;
}

// The spec's half-pixel mapping (graph/op_math/resample.h, shared with the CUDA backend).
std::vector<size_t> nearest_indices(size_t in_size, size_t out_size) {
  std::vector<size_t> idx(out_size);
  for (size_t o = 0; o < out_size; ++o)
    idx[o] = size_t(
        op_math::resample_nearest_index(int64_t(o), int64_t(in_size), int64_t(out_size)));
  return idx;
}

using LinearTap = op_math::ResampleTap;

std::vector<LinearTap> linear_taps(size_t in_size, size_t out_size) {
  std::vector<LinearTap> taps(out_size);
  for (size_t o = 0; o < out_size; ++o)
    taps[o] = op_math::resample_linear_tap(int64_t(o), int64_t(in_size), int64_t(out_size));
  return taps;
}

// Nearest-neighbor is a gather of whole elements: bytes move, values are not touched.
void run_nearest(const Geometry& g, const std::vector<size_t>& ys, const std::vector<size_t>& xs,
                 size_t esize, const void* input, void* output) {
  visit_element_size(esize, [&]<typename E>() {
    const E* src = static_cast<const E*>(input);
    E* dst = static_cast<E*>(output);
    size_t rows = g.outer * g.out_h * g.mid, row = g.out_w * g.inner;
    parallel_for(rows, std::max<size_t>(1, 16384 / row), [&](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) {
        size_t m = r % g.mid, y = (r / g.mid) % g.out_h, o = r / (g.mid * g.out_h);
        const E* line = src + ((o * g.in_h + ys[y]) * g.mid + m) * g.in_w * g.inner;
        E* out = dst + r * row;
        // Upsampling maps neighbouring output rows to one input row: copy the row made already.
        if (y > 0 && ys[y] == ys[y - 1] && r >= begin + g.mid) {
          std::memcpy(out, out - g.mid * row, row * sizeof(E));
        } else if (g.inner == 1) {
          for (size_t x = 0; x < g.out_w; ++x) out[x] = line[xs[x]];
        } else {
          for (size_t x = 0; x < g.out_w; ++x)
            std::memcpy(out + x * g.inner, line + xs[x] * g.inner, g.inner * sizeof(E));
        }
      }
    });
  });
}

template <typename T>
T store(float v) {
  if constexpr (std::is_integral_v<T>) {
    // Integer results round to nearest; a blend of in-range values stays in range.
    return T(std::nearbyint(v));
  } else {
    return T(v);
  }
}

template <typename T>
void run_linear(const Geometry& g, const std::vector<LinearTap>& ys,
                const std::vector<LinearTap>& xs, const T* src, T* dst) {
  size_t rows = g.outer * g.out_h * g.mid, row = g.out_w * g.inner;
  size_t line_size = g.in_w * g.inner;
  parallel_for(rows, std::max<size_t>(1, 4096 / row), [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      size_t m = r % g.mid, y = (r / g.mid) % g.out_h, o = r / (g.mid * g.out_h);
      const LinearTap& ty = ys[y];
      const T* l0 = src + ((o * g.in_h + ty.i0) * g.mid + m) * line_size;
      const T* l1 = src + ((o * g.in_h + ty.i1) * g.mid + m) * line_size;
      T* out = dst + r * row;
      float wy = ty.t;
      if (g.inner == 1) {  // the common NCHW case: no channel loop
        for (size_t x = 0; x < g.out_w; ++x) {
          const LinearTap& tx = xs[x];
          out[x] = store<T>(op_math::resample_blend_lerp(float(l0[tx.i0]), float(l0[tx.i1]),
                                                         float(l1[tx.i0]), float(l1[tx.i1]), tx.t,
                                                         wy));
        }
        continue;
      }
      for (size_t x = 0; x < g.out_w; ++x) {
        const LinearTap& tx = xs[x];
        const T* a0 = l0 + tx.i0 * g.inner;
        const T* a1 = l0 + tx.i1 * g.inner;
        const T* b0 = l1 + tx.i0 * g.inner;
        const T* b1 = l1 + tx.i1 * g.inner;
        for (size_t c = 0; c < g.inner; ++c) {
          out[x * g.inner + c] = store<T>(op_math::resample_blend_weighted(
              float(a0[c]), float(a1[c]), float(b0[c]), float(b1[c]), tx.t, ty.t));
        }
      }
    }
  });
}

std::unique_ptr<CpuKernel> resample2d_kernel(const KernelContext& cx) {
  const Dims& in_shape = cx.inputs[0]->shape;
  const Dims& out_shape = cx.outputs[0]->shape;
  DataType type = cx.inputs[0]->data_type;
  Geometry g = geometry_of(in_shape, out_shape, cx.node.attrs.ints("axes"));
  if (cx.node.attrs.s("mode") == "nearest-neighbor") {
    std::vector<size_t> ys = nearest_indices(g.in_h, g.out_h);
    std::vector<size_t> xs = nearest_indices(g.in_w, g.out_w);
    size_t esize = element_size(type);
    return make_kernel([=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
      run_nearest(g, ys, xs, esize, in[0]->data(), out[0]->data());
    });
  }
  std::vector<LinearTap> ys = linear_taps(g.in_h, g.out_h);
  std::vector<LinearTap> xs = linear_taps(g.in_w, g.out_w);
  return make_kernel([=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
    visit_type(type, [&]<typename T>() {
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, half> ||
                    std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>)
        run_linear<T>(g, ys, xs, in[0]->data_as<T>(), out[0]->data_as<T>());
    });
  });
}

}  // namespace

void register_resample_kernels(CpuKernelRegistry& r) { r.add(OpId::resample2d, resample2d_kernel); }

CPPNN_ISA_END
}  // namespace cppnn::detail
