// CPU kernels of the ops that work along one axis: argMin/argMax, cumulativeSum, softmax.
// The input is seen as [outer, length, inner]. With inner == 1 (the last axis: attention
// softmax, most argMax) each row is contiguous; otherwise a tile of `inner` positions moves
// along the axis together, which keeps the inner loop contiguous too.
#include <limits>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/reduction_math.h"
#include "graph/op_math/reduce.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

// Work units over [outer, inner tiles] and their grain, shared by the three kernels.
struct Tiling {
  size_t tile, tiles, grain;
};

Tiling tiling(const AxisSplit& s, int threads) {
  Tiling t;
  t.tile = tile_width(s.outer, s.inner, threads);
  t.tiles = (s.inner + t.tile - 1) / t.tile;
  t.grain = std::max<size_t>(1, 32768 / (t.tile * s.length));
  return t;
}

// ---- argMin / argMax ------------------------------------------------------------------

// Strict comparison keeps the first occurrence of ties (shared with the CUDA kernel).
using op_math::arg_better;

template <bool kMax, typename T, typename I>
void arg_reduce(const T* in, I* out, const AxisSplit& s, int threads) {
  using E = elem_t<T>;
  if (s.inner == 1) {
    size_t grain = std::max<size_t>(1, 32768 / s.length);
    parallel_for(s.outer, grain, [&](size_t begin, size_t end) {
      E scratch[std::is_same_v<T, half> ? kRowBlock : 1];
      // Two passes vectorize where one would not: the extreme value with many lanes, then
      // the first position holding it (also the rule for ties), a block at a time.
      constexpr size_t W = 128 / sizeof(E);
      E lanes[W];
      for (size_t o = begin; o < end; ++o) {
        const T* row = in + o * s.length;
        std::fill(lanes, lanes + W, E(row[0]));
        for (size_t c0 = 0; c0 < s.length; c0 += kRowBlock) {
          size_t cn = std::min(kRowBlock, s.length - c0);
          const E* q = load_block(row + c0, cn, scratch);
          size_t i = 0;
          for (; i + W <= cn; i += W)
            for (size_t j = 0; j < W; ++j)
              lanes[j] = arg_better<kMax>(q[i + j], lanes[j]) ? q[i + j] : lanes[j];
          for (; i < cn; ++i) lanes[0] = arg_better<kMax>(q[i], lanes[0]) ? q[i] : lanes[0];
        }
        E extreme = lanes[0];
        for (size_t j = 1; j < W; ++j)
          extreme = arg_better<kMax>(lanes[j], extreme) ? lanes[j] : extreme;
        size_t found = 0;  // stays 0 if the row is all NaN
        for (size_t c0 = 0; c0 < s.length; c0 += kRowBlock) {
          size_t cn = std::min(kRowBlock, s.length - c0);
          const E* q = load_block(row + c0, cn, scratch);
          size_t i = 0;
          for (; i + W <= cn; i += W) {
            int hits = 0;
            for (size_t j = 0; j < W; ++j) hits += q[i + j] == extreme;
            if (hits) break;
          }
          while (i < cn && !(q[i] == extreme)) ++i;
          if (i < cn) {
            found = c0 + i;
            break;
          }
        }
        out[o] = I(found);
      }
    });
    return;
  }
  Tiling t = tiling(s, threads);
  parallel_for(s.outer * t.tiles, t.grain, [&](size_t begin, size_t end) {
    E scratch[std::is_same_v<T, half> ? kMaxTile : 1];
    E best[kMaxTile];
    I index[kMaxTile];
    for (size_t w = begin; w < end; ++w) {
      size_t o = w / t.tiles, t0 = (w % t.tiles) * t.tile;
      size_t tn = std::min(t.tile, s.inner - t0);
      const T* base = in + o * s.length * s.inner + t0;
      const E* q = load_block(base, tn, scratch);
      for (size_t i = 0; i < tn; ++i) {
        best[i] = q[i];
        index[i] = 0;
      }
      for (size_t l = 1; l < s.length; ++l) {
        q = load_block(base + l * s.inner, tn, scratch);
        for (size_t i = 0; i < tn; ++i) {
          bool b = arg_better<kMax>(q[i], best[i]);
          best[i] = b ? q[i] : best[i];
          index[i] = b ? I(l) : index[i];
        }
      }
      std::copy(index, index + tn, out + o * s.inner + t0);
    }
  });
}

template <bool kMax>
KernelFactory arg_kernel() {
  return [](const KernelContext& cx) {
    AxisSplit split = split_at_axis(cx.inputs[0]->shape, size_t(cx.node.attrs.i("axis")));
    int threads = cx.num_threads;
    return make_kernel(
        [split, threads](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
          visit_type(in[0]->data_type(), [&]<typename T>() {
            if (out[0]->data_type() == DataType::int64)
              arg_reduce<kMax>(in[0]->data_as<T>(), out[0]->data_as<int64_t>(), split, threads);
            else
              arg_reduce<kMax>(in[0]->data_as<T>(), out[0]->data_as<int32_t>(), split, threads);
          });
        });
  };
}

// ---- cumulativeSum --------------------------------------------------------------------

// Floats sum in float; integers in the unsigned type of their width, which wraps.
template <typename E>
struct ScanAcc {
  using type = std::make_unsigned_t<E>;
};
template <>
struct ScanAcc<float> {
  using type = float;
};
template <typename E>
using scan_acc_t = typename ScanAcc<E>::type;

template <typename T>
void cumulative_sum(const T* in, T* out, const AxisSplit& s, bool exclusive, bool reversed,
                    int threads) {
  using E = elem_t<T>;
  using Acc = scan_acc_t<E>;
  // Position `step` along the axis in summation order.
  auto position = [&](size_t step) { return reversed ? s.length - 1 - step : step; };
  if (s.inner == 1) {
    parallel_for(s.outer, std::max<size_t>(1, 32768 / s.length), [&](size_t begin, size_t end) {
      std::vector<float> row(std::is_same_v<T, half> ? s.length : 0);
      for (size_t o = begin; o < end; ++o) {
        const E* x;
        E* y;
        if constexpr (std::is_same_v<T, half>) {
          widen(in + o * s.length, row.data(), s.length);
          x = y = row.data();
        } else {
          x = in + o * s.length;
          y = out + o * s.length;
        }
        Acc acc(0);
        for (size_t step = 0; step < s.length; ++step) {
          size_t i = position(step);
          Acc next = acc + Acc(x[i]);
          y[i] = E(exclusive ? acc : next);
          acc = next;
        }
        if constexpr (std::is_same_v<T, half>) narrow(row.data(), out + o * s.length, s.length);
      }
    });
    return;
  }
  Tiling t = tiling(s, threads);
  parallel_for(s.outer * t.tiles, t.grain, [&](size_t begin, size_t end) {
    E scratch[std::is_same_v<T, half> ? kMaxTile : 1];
    E result[kMaxTile];
    Acc acc[kMaxTile];
    for (size_t w = begin; w < end; ++w) {
      size_t o = w / t.tiles, t0 = (w % t.tiles) * t.tile;
      size_t tn = std::min(t.tile, s.inner - t0);
      size_t base = o * s.length * s.inner + t0;
      std::fill(acc, acc + tn, Acc(0));
      for (size_t step = 0; step < s.length; ++step) {
        size_t off = base + position(step) * s.inner;
        const E* q = load_block(in + off, tn, scratch);
        for (size_t i = 0; i < tn; ++i) {
          Acc next = acc[i] + Acc(q[i]);
          result[i] = E(exclusive ? acc[i] : next);
          acc[i] = next;
        }
        store_block<T>(result, out + off, tn);
      }
    }
  });
}

KernelFactory cumulative_sum_kernel() {
  return [](const KernelContext& cx) {
    AxisSplit split = split_at_axis(cx.inputs[0]->shape, size_t(cx.node.attrs.i("axis")));
    bool exclusive = cx.node.attrs.b("exclusive"), reversed = cx.node.attrs.b("reversed");
    int threads = cx.num_threads;
    return make_kernel([=](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
      visit_type(in[0]->data_type(), [&]<typename T>() {
        // The op table admits only 32- and 64-bit integers.
        if constexpr (sizeof(elem_t<T>) >= 4)
          cumulative_sum(in[0]->data_as<T>(), out[0]->data_as<T>(), split, exclusive, reversed,
                         threads);
      });
    });
  };
}

// ---- softmax --------------------------------------------------------------------------

// Softmax of one contiguous row (y may be x): subtract the max, exponentiate, divide by the sum.
void softmax_row(const float* x, float* y, size_t n) {
  constexpr size_t W = 32;
  float lanes[W];
  std::fill(lanes, lanes + W, -std::numeric_limits<float>::infinity());
  size_t i = 0;
  for (; i + W <= n; i += W)
    for (size_t j = 0; j < W; ++j) lanes[j] = x[i + j] > lanes[j] ? x[i + j] : lanes[j];
  for (; i < n; ++i) lanes[0] = x[i] > lanes[0] ? x[i] : lanes[0];
  float max = lanes[0];
  for (size_t j = 1; j < W; ++j) max = lanes[j] > max ? lanes[j] : max;
  exp_shifted(x, &max, 0, y, n);
  std::fill(lanes, lanes + W, 0.0f);
  for (i = 0; i + W <= n; i += W)
    for (size_t j = 0; j < W; ++j) lanes[j] += y[i + j];
  for (; i < n; ++i) lanes[0] += y[i];
  float sum = 0;
  for (size_t j = 0; j < W; ++j) sum += lanes[j];
  float scale = 1.0f / sum;
  for (i = 0; i < n; ++i) y[i] *= scale;
}

template <typename T>
void softmax(const T* in, T* out, const AxisSplit& s, int threads) {
  constexpr bool kHalf = std::is_same_v<T, half>;
  if (s.inner == 1) {
    size_t grain = std::max<size_t>(1, 16384 / s.length);
    parallel_for(s.outer, grain, [&](size_t begin, size_t end) {
      std::vector<float> row(kHalf ? s.length : 0);
      for (size_t o = begin; o < end; ++o) {
        const T* x = in + o * s.length;
        T* y = out + o * s.length;
        if constexpr (kHalf) {
          widen(x, row.data(), s.length);
          softmax_row(row.data(), row.data(), s.length);
          narrow(row.data(), y, s.length);
        } else {
          softmax_row(x, y, s.length);
        }
      }
    });
    return;
  }
  // A [length, tile] block at a time; float16 blocks are computed in a float copy.
  Tiling t = tiling(s, threads);
  parallel_for(s.outer * t.tiles, t.grain, [&](size_t begin, size_t end) {
    std::vector<float> block(kHalf ? s.length * t.tile : 0);
    float max[kMaxTile], sum[kMaxTile];
    for (size_t w = begin; w < end; ++w) {
      size_t o = w / t.tiles, t0 = (w % t.tiles) * t.tile;
      size_t tn = std::min(t.tile, s.inner - t0);
      size_t base = o * s.length * s.inner + t0;
      // Row l of the block is y + l * stride.
      float* y;
      size_t stride;
      if constexpr (kHalf) {
        for (size_t l = 0; l < s.length; ++l)
          widen(in + base + l * s.inner, block.data() + l * tn, tn);
        y = block.data();
        stride = tn;
      } else {
        for (size_t l = 0; l < s.length; ++l)
          std::copy(in + base + l * s.inner, in + base + l * s.inner + tn,
                    out + base + l * s.inner);
        y = out + base;
        stride = s.inner;
      }
      std::fill(max, max + tn, -std::numeric_limits<float>::infinity());
      std::fill(sum, sum + tn, 0.0f);
      for (size_t l = 0; l < s.length; ++l)
        for (size_t i = 0; i < tn; ++i)
          max[i] = y[l * stride + i] > max[i] ? y[l * stride + i] : max[i];
      for (size_t l = 0; l < s.length; ++l) {
        float* row = y + l * stride;
        exp_shifted(row, max, 1, row, tn);
        for (size_t i = 0; i < tn; ++i) sum[i] += row[i];
      }
      for (size_t i = 0; i < tn; ++i) sum[i] = 1.0f / sum[i];
      for (size_t l = 0; l < s.length; ++l)
        for (size_t i = 0; i < tn; ++i) y[l * stride + i] *= sum[i];
      if constexpr (kHalf)
        for (size_t l = 0; l < s.length; ++l)
          narrow(block.data() + l * tn, out + base + l * s.inner, tn);
    }
  });
}

KernelFactory softmax_kernel() {
  return [](const KernelContext& cx) {
    AxisSplit split = split_at_axis(cx.inputs[0]->shape, size_t(cx.node.attrs.i("axis")));
    int threads = cx.num_threads;
    return make_kernel(
        [split, threads](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
          if (in[0]->data_type() == DataType::float16)
            softmax(in[0]->data_as<half>(), out[0]->data_as<half>(), split, threads);
          else
            softmax(in[0]->data_as<float>(), out[0]->data_as<float>(), split, threads);
        });
  };
}

}  // namespace

void register_axis_reduction_kernels(CpuKernelRegistry& r) {
  r.add(OpId::argMax, arg_kernel<true>());
  r.add(OpId::argMin, arg_kernel<false>());
  r.add(OpId::cumulativeSum, cumulative_sum_kernel());
  r.add(OpId::softmax, softmax_kernel());
}

CPPNN_ISA_END
}  // namespace cppnn::detail
