// CPU kernels of the ops that are one strided read of their input: transpose, slice, expand,
// tile and reverse. Each becomes, at prepare time, a view (output dims, input offset, signed
// input strides) that is simplified once; run() then copies bytes by element size, so one
// code path serves every data type.
#include <algorithm>
#include <cstring>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/movement_kernels.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

struct StridedView {
  std::vector<int64_t> dims;     // output dims, row-major; the output is contiguous
  std::vector<int64_t> strides;  // input stride (elements) per output dim; may be 0 or < 0
  int64_t offset = 0;            // input element of output element 0
};

// Drops unit dims and merges neighbours whose input strides nest, so that contiguous runs
// become one long innermost dimension (a whole transpose of [1, C] becomes one memcpy).
StridedView simplify(const StridedView& v) {
  StridedView s;
  s.offset = v.offset;
  for (size_t i = 0; i < v.dims.size(); ++i) {
    if (v.dims[i] == 1) continue;
    if (!s.dims.empty() && s.strides.back() == v.strides[i] * v.dims[i]) {
      s.dims.back() *= v.dims[i];
      s.strides.back() = v.strides[i];
      continue;
    }
    s.dims.push_back(v.dims[i]);
    s.strides.push_back(v.strides[i]);
  }
  return s;
}

// Iterates the outer dims (all but the innermost) of a view from a given row on, keeping
// the input offset up to date without a division per row.
class RowCursor {
 public:
  RowCursor(const StridedView& v, size_t row) : v_(v), idx_(v.dims.size(), 0), offset_(v.offset) {
    size_t rank = v.dims.size();
    for (size_t d = rank - 1; d-- > 0;) {
      idx_[d] = int64_t(row % size_t(v.dims[d]));
      row /= size_t(v.dims[d]);
      offset_ += idx_[d] * v.strides[d];
    }
  }
  int64_t offset() const { return offset_; }
  void next() {
    for (size_t d = v_.dims.size() - 1; d-- > 0;) {
      offset_ += v_.strides[d];
      if (++idx_[d] < v_.dims[d]) return;
      offset_ -= v_.strides[d] * v_.dims[d];
      idx_[d] = 0;
    }
  }

 private:
  const StridedView& v_;
  std::vector<int64_t> idx_;
  int64_t offset_;
};

// Row by row: memcpy when the innermost input stride is 1, fill when it is 0 (broadcast),
// a strided element loop otherwise. Threads split the output's elements, not its rows, so a
// view of a few long rows (a 1-D reverse, an expand of [1, N]) is still shared out.
template <typename E>
void copy_rows(const E* in, E* out, const StridedView& v) {
  size_t rank = v.dims.size();
  size_t inner = size_t(v.dims[rank - 1]);
  int64_t step = v.strides[rank - 1];
  size_t total = inner;
  for (size_t d = 0; d + 1 < rank; ++d) total *= size_t(v.dims[d]);
  parallel_for(total, (64 << 10) / sizeof(E), [&](size_t begin, size_t end) {
    RowCursor cursor(v, begin / inner);
    size_t col = begin % inner;
    for (size_t p = begin; p < end; cursor.next(), col = 0) {
      size_t n = std::min(inner - col, end - p);
      const E* src = in + cursor.offset() + int64_t(col) * step;
      E* dst = out + p;
      if (step == 1) {
        std::memcpy(dst, src, n * sizeof(E));
      } else if (step == 0) {
        E value = *src;
        for (size_t i = 0; i < n; ++i) dst[i] = value;
      } else {
        for (size_t i = 0; i < n; ++i) dst[i] = src[int64_t(i) * step];
      }
      p += n;
    }
  });
}

// When the input's contiguous dim is not the output's innermost one (a transpose), copies
// tiles of (that dim x the innermost dim) so reads and writes both stay within cache lines.
template <typename E>
void copy_blocked(const E* in, E* out, const StridedView& v, size_t k) {
  constexpr size_t kBlock = 64 / sizeof(E) < 16 ? 16 : 64 / sizeof(E);
  size_t rank = v.dims.size();
  std::vector<size_t> out_strides(rank, 1);
  for (size_t d = rank - 1; d-- > 0;) out_strides[d] = out_strides[d + 1] * size_t(v.dims[d + 1]);
  size_t kdim = size_t(v.dims[k]), jdim = size_t(v.dims[rank - 1]);
  int64_t jstep = v.strides[rank - 1];
  size_t kout = out_strides[k];
  size_t kblocks = (kdim + kBlock - 1) / kBlock;
  size_t outer = 1;
  for (size_t d = 0; d + 1 < rank; ++d)
    if (d != k) outer *= size_t(v.dims[d]);
  size_t grain = std::max<size_t>(1, (16 << 10) / (kBlock * jdim));
  parallel_for(outer * kblocks, grain, [&](size_t begin, size_t end) {
    for (size_t item = begin; item < end; ++item) {
      size_t kb = item % kblocks, rest = item / kblocks;
      int64_t in_off = v.offset;
      size_t out_off = 0;
      for (size_t d = rank - 1; d-- > 0;) {
        if (d == k) continue;
        size_t i = rest % size_t(v.dims[d]);
        rest /= size_t(v.dims[d]);
        in_off += int64_t(i) * v.strides[d];
        out_off += i * out_strides[d];
      }
      size_t k0 = kb * kBlock, k1 = std::min(kdim, k0 + kBlock);
      for (size_t j0 = 0; j0 < jdim; j0 += kBlock) {
        size_t j1 = std::min(jdim, j0 + kBlock);
        for (size_t kk = k0; kk < k1; ++kk) {
          const E* src = in + in_off + int64_t(kk);
          E* dst = out + out_off + kk * kout;
          for (size_t j = j0; j < j1; ++j) dst[j] = src[int64_t(j) * jstep];
        }
      }
    }
  });
}

// dst[k * jdim + j] = src[k + j * jstep] for k < kdim, j < jdim: the J source rows
// interleaved. J = 2 and 4 (the channel shuffle's groups) unrolled, so that the compiler
// keeps the rows in registers and writes in order.
template <typename E, size_t J>
void interleave_fixed(const E* __restrict src, int64_t jstep, E* __restrict dst, size_t kdim) {
  const E* rows[J];
  for (size_t j = 0; j < J; ++j) rows[j] = src + int64_t(j) * jstep;
  for (size_t k = 0; k < kdim; ++k)
    for (size_t j = 0; j < J; ++j) dst[k * J + j] = rows[j][k];
}

template <typename E>
void interleave_rows(const E* __restrict src, int64_t jstep, E* __restrict dst, size_t kdim, size_t jdim) {
  if (jdim == 2) return interleave_fixed<E, 2>(src, jstep, dst, kdim);
  if (jdim == 3) return interleave_fixed<E, 3>(src, jstep, dst, kdim);
  if (jdim == 4) return interleave_fixed<E, 4>(src, jstep, dst, kdim);
  for (size_t j = 0; j < jdim; ++j) {  // one source row at a time, written at stride jdim
    const E* row = src + int64_t(j) * jstep;
    E* d = dst + j;
    for (size_t k = 0; k < kdim; ++k) d[k * jdim] = row[k];
  }
}

// out[..., k, j] = in[... + k + j * jstep]: the input's contiguous dim is the output's
// second-innermost and the innermost is short (ShuffleNet's channel shuffle channels-last,
// [pixels, 58, 2] from [pixels, 2, 58]). Per outer item the J input rows are read as
// contiguous streams and the output is written in order; copy_blocked's tiles of a 2-wide
// dim spent their time on index arithmetic (17 such transposes took 22% of ShuffleNet V2
// at batch 1 on 2 cores).
template <typename E>
void copy_interleaved(const E* in, E* out, const StridedView& v) {
  size_t rank = v.dims.size();
  size_t kdim = size_t(v.dims[rank - 2]), jdim = size_t(v.dims[rank - 1]);
  int64_t jstep = v.strides[rank - 1];
  StridedView outer_view;  // the outer dims, and a unit innermost one for RowCursor
  outer_view.offset = v.offset;
  size_t outer = 1;
  for (size_t d = 0; d + 2 < rank; ++d) {
    outer_view.dims.push_back(v.dims[d]);
    outer_view.strides.push_back(v.strides[d]);
    outer *= size_t(v.dims[d]);
  }
  outer_view.dims.push_back(1);
  outer_view.strides.push_back(0);
  // Items are (outer index, chunk of k), so that one large item (an image's NCHW -> NHWC)
  // is still shared out.
  constexpr size_t kChunk = 1024;
  size_t chunks = (kdim + kChunk - 1) / kChunk;
  size_t grain = std::max<size_t>(1, (16 << 10) / (std::min(kdim, kChunk) * jdim));
  parallel_for(outer * chunks, grain, [&](size_t begin, size_t end) {
    RowCursor cursor(outer_view, begin / chunks);
    for (size_t item = begin; item < end; ++item) {
      size_t o = item / chunks, c = item % chunks;
      if (item != begin && c == 0) cursor.next();
      size_t k0 = c * kChunk, k1 = std::min(kdim, k0 + kChunk);
      const E* src = in + cursor.offset() + int64_t(k0);
      E* dst = out + (o * kdim + k0) * jdim;
      interleave_rows(src, jstep, dst, k1 - k0, jdim);
    }
  });
}

void copy_view(const Tensor& input, Tensor& output, const StridedView& v) {
  size_t esize = element_size(input.data_type());
  if (v.dims.empty()) {  // a single element
    std::memcpy(output.data(), static_cast<const uint8_t*>(input.data()) + v.offset * int64_t(esize),
                esize);
    return;
  }
  visit_element_size(esize, [&]<typename E>() {
    const E* in = static_cast<const E*>(input.data());
    E* out = static_cast<E*>(output.data());
    size_t rank = v.dims.size();
    int64_t step = v.strides[rank - 1];
    if (step != 0 && step != 1 && rank >= 2) {
      if (v.strides[rank - 2] == 1 && v.dims[rank - 1] <= 16 && v.dims[rank - 2] >= 4)
        return copy_interleaved(in, out, v);
      for (size_t k = rank - 1; k-- > 0;)
        if (v.strides[k] == 1 && v.dims[k] >= 4) return copy_blocked(in, out, v, k);
    }
    copy_rows(in, out, v);
  });
}

std::vector<int64_t> input_strides(const Dims& shape) {
  std::vector<size_t> s = strides_of(shape);
  return std::vector<int64_t>(s.begin(), s.end());
}

// A factory from a function that builds the node's view once at prepare time.
KernelFactory view_kernel(StridedView (*make_view)(const KernelContext&)) {
  return [make_view](const KernelContext& cx) {
    StridedView view = simplify(make_view(cx));
    return make_kernel([view](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
      copy_view(*in[0], *out[0], view);
    });
  };
}

StridedView transpose_view(const KernelContext& cx) {
  const Dims& shape = cx.inputs[0]->shape;
  std::vector<int64_t> strides = input_strides(shape);
  const std::vector<int64_t>& perm = cx.node.attrs.ints("permutation");
  StridedView v;
  v.dims = cx.outputs[0]->shape;
  for (int64_t p : perm) v.strides.push_back(strides[size_t(p)]);
  return v;
}

StridedView slice_view(const KernelContext& cx) {
  std::vector<int64_t> strides = input_strides(cx.inputs[0]->shape);
  const std::vector<int64_t>& starts = cx.node.attrs.ints("starts");
  const std::vector<int64_t>& steps = cx.node.attrs.ints("strides");
  StridedView v;
  v.dims = cx.outputs[0]->shape;
  for (size_t d = 0; d < strides.size(); ++d) {
    v.strides.push_back(strides[d] * steps[d]);
    v.offset += starts[d] * strides[d];
  }
  return v;
}

StridedView expand_view(const KernelContext& cx) {
  const Dims& shape = cx.inputs[0]->shape;
  std::vector<int64_t> strides = input_strides(shape);
  StridedView v;
  v.dims = cx.outputs[0]->shape;
  size_t lead = v.dims.size() - shape.size();
  v.strides.assign(v.dims.size(), 0);
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1) v.strides[lead + d] = strides[d];
  return v;
}

// Output dim d of size reps*n is the row-major pair (repeat, index): stride 0, then the
// input's stride.
StridedView tile_view(const KernelContext& cx) {
  const Dims& shape = cx.inputs[0]->shape;
  std::vector<int64_t> strides = input_strides(shape);
  const std::vector<int64_t>& reps = cx.node.attrs.ints("repetitions");
  StridedView v;
  for (size_t d = 0; d < shape.size(); ++d) {
    v.dims.insert(v.dims.end(), {reps[d], shape[d]});
    v.strides.insert(v.strides.end(), {0, strides[d]});
  }
  return v;
}

StridedView reverse_view(const KernelContext& cx) {
  const Dims& shape = cx.inputs[0]->shape;
  StridedView v;
  v.dims = shape;
  v.strides = input_strides(shape);
  for (int64_t axis : cx.node.attrs.ints("axes")) {
    size_t a = size_t(axis);
    v.offset += (shape[a] - 1) * v.strides[a];
    v.strides[a] = -v.strides[a];
  }
  return v;
}

}  // namespace

void register_strided_movement_kernels(CpuKernelRegistry& r) {
  r.add(OpId::transpose, view_kernel(transpose_view));
  r.add(OpId::slice, view_kernel(slice_view));
  r.add(OpId::expand, view_kernel(expand_view));
  r.add(OpId::tile, view_kernel(tile_view));
  r.add(OpId::reverse, view_kernel(reverse_view));
}

CPPNN_ISA_END
}  // namespace cppnn::detail
