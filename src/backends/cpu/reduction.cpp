// CPU kernels of the ten reduce* ops. The input is seen as groups of adjacent dims that are
// all reduced or all kept; the innermost group is contiguous and gets the tight loop:
// - innermost reduced (layer-norm statistics, global pooling over H,W of NCHW): each output
//   combines contiguous runs, spread over many accumulator lanes so the loop vectorizes;
// - innermost kept (reducing N or H,W of NHWC): each output tile accumulates whole rows.
#include "backends/cpu/isa_target.h"
#include "backends/cpu/reduction_math.h"
#include "graph/op_math/layout.h"
#include "graph/op_math/reduce.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

// op_math::reduce_layout's groups with the CPU loops' index type.
struct ReduceLayout {
  // Innermost reduced: `kept` are all kept groups, `rows` the reduced groups but the innermost.
  // Innermost kept: `kept` are the kept groups but the innermost, `rows` all reduced groups.
  std::vector<size_t> kept_sizes, kept_strides;
  std::vector<size_t> row_sizes, row_strides;
  size_t inner = 1;  // size of the innermost group, stride 1
  bool inner_reduced = true;
  size_t outer_count = 1;   // product of kept_sizes
  size_t row_count = 1;     // product of row_sizes
  size_t out_count = 1;     // output elements
  size_t reduce_count = 1;  // input elements combined into each output
};

ReduceLayout make_layout(const Dims& shape, const std::vector<int64_t>& axes) {
  op_math::ReduceLayout s = op_math::reduce_layout(shape, axes);
  auto sizes = [](const std::vector<int64_t>& v) {
    return std::vector<size_t>(v.begin(), v.end());
  };
  ReduceLayout l;
  l.kept_sizes = sizes(s.kept_sizes);
  l.kept_strides = sizes(s.kept_strides);
  l.row_sizes = sizes(s.row_sizes);
  l.row_strides = sizes(s.row_strides);
  l.inner = size_t(s.inner);
  l.inner_reduced = s.inner_reduced;
  l.outer_count = size_t(s.outer_count);
  l.row_count = size_t(s.row_count);
  l.out_count = size_t(s.out_count);
  l.reduce_count = size_t(s.reduce_count);
  return l;
}

size_t offset_of(const std::vector<size_t>& sizes, const std::vector<size_t>& strides,
                 size_t index) {
  size_t offset = 0;
  for (size_t d = sizes.size(); d-- > 0;) {
    offset += (index % sizes[d]) * strides[d];
    index /= sizes[d];
  }
  return offset;
}

// The ops (graph/op_math/reduce.h, shared with the CUDA kernels). logSumExp's exp is
// applied to whole blocks beforehand (exp_shifted vectorizes, a per-element call would
// not); map sees its results.
struct LogSumExpOp : op_math::ReduceLogSumExp {
  static constexpr bool kExpShifted = true;
};

template <typename O, typename Acc>
void store_results(const Acc* src, O* dst, size_t n) {
  if constexpr (std::is_same_v<O, half>)
    narrow(src, dst, n);
  else
    for (size_t i = 0; i < n; ++i) dst[i] = O(src[i]);
}

// Independent accumulators: enough for two to four vector registers whatever the type.
template <typename Op>
inline constexpr size_t kLanes = 128 / sizeof(typename Op::Acc);

template <typename Op>
using Lanes = typename Op::Acc[kLanes<Op>];

template <typename Op>
inline constexpr bool kExpShifted = requires {
  Op::kExpShifted;
};

// Where exp_shifted writes a block for ops that want it.
template <typename Op, size_t N>
using Mapped = float[kExpShifted<Op> ? N : 1];

template <typename T, typename Op>
void accumulate_run(Lanes<Op>& lanes, const T* p, size_t n, const Op& op, typename Op::Acc shift,
                    elem_t<T>* scratch, float* mapped) {
  constexpr size_t W = kLanes<Op>;
  for (size_t c0 = 0; c0 < n; c0 += kRowBlock) {
    size_t cn = std::min(kRowBlock, n - c0);
    const elem_t<T>* q = load_block(p + c0, cn, scratch);
    if constexpr (kExpShifted<Op>) {
      exp_shifted(q, &shift, 0, mapped, cn);
      q = mapped;
    }
    size_t i = 0;
    for (; i + W <= cn; i += W)
      for (size_t j = 0; j < W; ++j) lanes[j] = op.combine(lanes[j], op.map(q[i + j], shift));
    for (; i < cn; ++i) lanes[i % W] = op.combine(lanes[i % W], op.map(q[i], shift));
  }
}

template <typename Op>
typename Op::Acc fold(Lanes<Op>& lanes, const Op& op) {
  for (size_t w = kLanes<Op> / 2; w >= 1; w /= 2)
    for (size_t j = 0; j < w; ++j) lanes[j] = op.combine(lanes[j], lanes[j + w]);
  return lanes[0];
}

template <typename Op>
void reset(Lanes<Op>& lanes, const Op& op) {
  for (auto& lane : lanes) lane = op.identity();
}

// Scratch to widen float16 blocks into; other types are read in place and need none.
template <typename T>
using Scratch = elem_t<T>[std::is_same_v<T, half> ? kRowBlock : 1];

// A contiguous run this long is worth splitting between threads when outputs are few.
constexpr size_t kSplitRun = 16384;

// Innermost group reduced: every output combines row_count contiguous runs of `inner`.
template <typename T, typename O, typename Op>
void reduce_inner_reduced(const T* in, O* out, const ReduceLayout& l, const Op& op,
                          const typename Op::Acc* shift, int threads) {
  using Acc = typename Op::Acc;
  size_t parts = 1;
  if (l.row_count == 1 && l.out_count < size_t(threads) && l.inner >= 2 * kSplitRun)
    parts = std::max<size_t>(1, std::min(l.inner / kSplitRun, 4 * size_t(threads) / l.out_count));
  if (parts > 1) {
    std::vector<Acc> partial(l.out_count * parts);
    parallel_for(l.out_count * parts, 1, [&](size_t begin, size_t end) {
      Scratch<T> scratch;
      Mapped<Op, kRowBlock> mapped;
      Lanes<Op> lanes;
      for (size_t t = begin; t < end; ++t) {
        size_t o = t / parts, part = t % parts;
        size_t lo = l.inner * part / parts, hi = l.inner * (part + 1) / parts;
        reset(lanes, op);
        accumulate_run(lanes, in + offset_of(l.kept_sizes, l.kept_strides, o) + lo, hi - lo, op,
                       shift ? shift[o] : Acc(0), scratch, mapped);
        partial[t] = fold(lanes, op);
      }
    });
    for (size_t o = 0; o < l.out_count; ++o) {
      Acc acc = partial[o * parts];
      for (size_t part = 1; part < parts; ++part) acc = op.combine(acc, partial[o * parts + part]);
      acc = op.finish(acc, shift ? shift[o] : Acc(0));
      store_results(&acc, out + o, 1);
    }
    return;
  }
  size_t grain = std::max<size_t>(1, 32768 / l.reduce_count);
  parallel_for(l.out_count, grain, [&](size_t begin, size_t end) {
    Scratch<T> scratch;
    Mapped<Op, kRowBlock> mapped;
    Lanes<Op> lanes;
    Odometer outs(l.kept_sizes, l.kept_strides, begin);
    // Wraps back to offset 0 after the last row, so one walker serves every output.
    Odometer rows(l.row_sizes, l.row_strides, 0);
    for (size_t o = begin; o < end; ++o, outs.next()) {
      Acc s = shift ? shift[o] : Acc(0);
      reset(lanes, op);
      for (size_t r = 0; r < l.row_count; ++r, rows.next())
        accumulate_run(lanes, in + outs.offset() + rows.offset(), l.inner, op, s, scratch, mapped);
      Acc acc = op.finish(fold(lanes, op), s);
      store_results(&acc, out + o, 1);
    }
  });
}

// Innermost group kept: a tile of outputs accumulates the matching slice of every row.
template <typename T, typename O, typename Op>
void reduce_inner_kept(const T* in, O* out, const ReduceLayout& l, const Op& op,
                       const typename Op::Acc* shift, int threads) {
  using Acc = typename Op::Acc;
  size_t tile = tile_width(l.outer_count, l.inner, threads);
  size_t tiles = (l.inner + tile - 1) / tile;
  size_t grain = std::max<size_t>(1, 32768 / (tile * l.row_count));
  parallel_for(l.outer_count * tiles, grain, [&](size_t begin, size_t end) {
    elem_t<T> scratch[std::is_same_v<T, half> ? kMaxTile : 1];
    Mapped<Op, kMaxTile> mapped;
    Acc acc[kMaxTile], sh[kMaxTile];
    Odometer rows(l.row_sizes, l.row_strides, 0);
    for (size_t t = begin; t < end; ++t) {
      size_t outer = t / tiles, t0 = (t % tiles) * tile;
      size_t tn = std::min(tile, l.inner - t0);
      const T* base = in + offset_of(l.kept_sizes, l.kept_strides, outer) + t0;
      size_t o0 = outer * l.inner + t0;
      for (size_t i = 0; i < tn; ++i) {
        acc[i] = op.identity();
        sh[i] = shift ? shift[o0 + i] : Acc(0);
      }
      for (size_t r = 0; r < l.row_count; ++r, rows.next()) {
        const elem_t<T>* q = load_block(base + rows.offset(), tn, scratch);
        if constexpr (kExpShifted<Op>) {
          exp_shifted(q, sh, 1, mapped, tn);
          q = mapped;
        }
        for (size_t i = 0; i < tn; ++i) acc[i] = op.combine(acc[i], op.map(q[i], sh[i]));
      }
      for (size_t i = 0; i < tn; ++i) acc[i] = op.finish(acc[i], sh[i]);
      store_results(acc, out + o0, tn);
    }
  });
}

template <typename T, typename O, typename Op>
void reduce(const T* in, O* out, const ReduceLayout& l, const Op& op, int threads,
            const typename Op::Acc* shift = nullptr) {
  if (l.inner_reduced)
    reduce_inner_reduced(in, out, l, op, shift, threads);
  else
    reduce_inner_kept(in, out, l, op, shift, threads);
}

using op_math::ReduceKind;

template <typename T>
void run_reduce(ReduceKind kind, const T* in, T* out, const ReduceLayout& l, int threads) {
  bool admitted = op_math::with_reduce_op<elem_t<T>>(kind, int64_t(l.reduce_count), [&](auto op) {
    if constexpr (std::is_same_v<decltype(op), op_math::ReduceLogSumExp>) {
      std::vector<float> max(l.out_count);
      reduce(in, max.data(), l, op_math::ReduceMax<float>{}, threads);
      reduce(in, out, l, LogSumExpOp{}, threads, max.data());
    } else {
      reduce(in, out, l, op, threads);
    }
  });
  if (!admitted) fail(ErrorKind::NotSupportedError, "reduction kernel: unsupported data type");
}

KernelFactory reduce_kernel(ReduceKind kind) {
  return [kind](const KernelContext& cx) {
    ReduceLayout layout = make_layout(cx.inputs[0]->shape, cx.node.attrs.ints("axes"));
    int threads = cx.num_threads;
    return make_kernel([kind, layout, threads](const std::vector<const Tensor*>& in,
                                               const std::vector<Tensor*>& out) {
      visit_type(in[0]->data_type(), [&]<typename T>() {
        run_reduce<T>(kind, in[0]->data_as<T>(), out[0]->data_as<T>(), layout, threads);
      });
    });
  };
}

}  // namespace

void register_reduction_kernels(CpuKernelRegistry& r) {
  r.add(OpId::reduceL1, reduce_kernel(op_math::kReduceL1));
  r.add(OpId::reduceL2, reduce_kernel(op_math::kReduceL2));
  r.add(OpId::reduceLogSum, reduce_kernel(op_math::kReduceLogSum));
  r.add(OpId::reduceLogSumExp, reduce_kernel(op_math::kReduceLogSumExp));
  r.add(OpId::reduceMax, reduce_kernel(op_math::kReduceMax));
  r.add(OpId::reduceMean, reduce_kernel(op_math::kReduceMean));
  r.add(OpId::reduceMin, reduce_kernel(op_math::kReduceMin));
  r.add(OpId::reduceProduct, reduce_kernel(op_math::kReduceProduct));
  r.add(OpId::reduceSum, reduce_kernel(op_math::kReduceSum));
  r.add(OpId::reduceSumSquare, reduce_kernel(op_math::kReduceSumSquare));
  register_axis_reduction_kernels(r);
}

CPPNN_ISA_END
}  // namespace cppnn::detail
