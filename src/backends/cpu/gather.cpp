// CPU kernels of the gather family: gather, gatherElements and gatherND, and the scatters
// scatterElements and scatterND (a copy of the input, then the updates written at their
// indices, clamped alike: no write ever leaves the output). They move elements
// by size, so one instantiation per (element size, index type) serves every data type, and an
// index is only known at run time: a negative one counts from the end of its dimension and
// whatever is still out of range is clamped into [0, dim - 1], so no read ever leaves the
// input (the spec leaves out-of-range indices to the implementation; cppnn clamps everywhere,
// and the CUDA kernels do the same).
#include <algorithm>
#include <cstring>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/movement_kernels.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

using Kernel = std::unique_ptr<CpuKernel>;
using Ins = std::vector<const Tensor*>;
using Outs = std::vector<Tensor*>;

// Indices are only known at run time: a negative one counts from the end, and anything
// still outside the dimension is clamped into it so no read leaves the input.
std::vector<size_t> clamped_indices(const Tensor& indices, int64_t dim) {
  std::vector<size_t> result(indices.element_count());
  visit_type(indices.data_type(), [&]<typename I>() {
    if constexpr (std::is_integral_v<I>) {
      const I* p = indices.data_as<I>();
      for (size_t i = 0; i < result.size(); ++i) {
        int64_t v;
        if constexpr (std::is_unsigned_v<I> && sizeof(I) == 8)
          v = p[i] > uint64_t(dim) ? dim : int64_t(p[i]);
        else
          v = int64_t(p[i]);
        if (v < 0) v += dim;
        result[i] = size_t(std::clamp<int64_t>(v, 0, dim - 1));
      }
    }
  });
  return result;
}

Kernel gather_kernel(const KernelContext& cx) {
  const Dims& shape = cx.inputs[0]->shape;
  size_t axis = size_t(cx.node.attrs.i("axis"));
  size_t outer = product(shape, 0, axis), inner = product(shape, axis + 1, shape.size());
  int64_t dim = shape[axis];
  size_t esize = element_size(cx.inputs[0]->data_type);
  return make_kernel([=](const Ins& in, const Outs& out) {
    std::vector<size_t> idx = clamped_indices(*in[1], dim);
    size_t n = idx.size(), rows = outer * n;
    visit_element_size(esize, [&]<typename E>() {
      const E* src = static_cast<const E*>(in[0]->data());
      E* dst = static_cast<E*>(out[0]->data());
      size_t grain = std::max<size_t>(1, kCopyGrain / (inner * esize));
      parallel_for(rows, grain, [&](size_t begin, size_t end) {
        for (size_t r = begin; r < end; ++r) {
          const E* from = src + ((r / n) * size_t(dim) + idx[r % n]) * inner;
          if (inner == 1) dst[r] = *from;
          else std::memcpy(dst + r * inner, from, inner * sizeof(E));
        }
      });
    });
  });
}

// The spec allows int32, uint32 and int64 indices: each widens to int64 without loss.
template <typename I>
inline size_t clamp_index(I raw, int64_t dim) {
  int64_t v = int64_t(raw);
  if (v < 0) v += dim;
  return size_t(std::clamp<int64_t>(v, 0, dim - 1));
}

// Calls f.operator()<I>() with the C++ type of an index data type (validated in infer).
template <typename F>
void visit_index_type(DataType t, F&& f) {
  switch (t) {
    case DataType::int32:
      f.template operator()<int32_t>();
      break;
    case DataType::uint32:
      f.template operator()<uint32_t>();
      break;
    default:
      f.template operator()<int64_t>();
      break;
  }
}

// gatherElements' and scatterElements' geometry: the input [outer, dim, inner] around the
// axis, the indices [outer, n, inner].
struct ElementsGeometry {
  size_t outer, inner;
  int64_t dim;
  size_t n;
};

ElementsGeometry elements_geometry(const KernelContext& cx) {
  const Dims& shape = cx.inputs[0]->shape;
  size_t axis = size_t(cx.node.attrs.i("axis"));
  return {product(shape, 0, axis), product(shape, axis + 1, shape.size()), shape[axis],
          size_t(cx.inputs[1]->shape[axis])};
}

// Input and indices (and output, the indices' shape) seen as [outer, dim or n, inner]:
// out[o, j, k] = in[o, clamp(indices[o, j, k]), k].
Kernel gather_elements_kernel(const KernelContext& cx) {
  ElementsGeometry geo = elements_geometry(cx);
  size_t outer = geo.outer, inner = geo.inner, n = geo.n;
  int64_t dim = geo.dim;
  size_t esize = element_size(cx.inputs[0]->data_type);
  DataType itype = cx.inputs[1]->data_type;
  return make_kernel([=](const Ins& in, const Outs& out) {
    visit_index_type(itype, [&]<typename I>() {
      visit_element_size(esize, [&]<typename E>() {
        const E* src = static_cast<const E*>(in[0]->data());
        const I* idx = static_cast<const I*>(in[1]->data());
        E* dst = static_cast<E*>(out[0]->data());
        size_t grain = std::max<size_t>(1, kCopyGrain / (inner * sizeof(E)));
        parallel_for(outer * n, grain, [&](size_t begin, size_t end) {
          for (size_t r = begin; r < end; ++r) {
            const E* plane = src + (r / n) * size_t(dim) * inner;
            const I* ir = idx + r * inner;
            E* d = dst + r * inner;
            for (size_t k = 0; k < inner; ++k) d[k] = plane[clamp_index(ir[k], dim) * inner + k];
          }
        });
      });
    });
  });
}

// gatherND's and scatterND's geometry: indices as [m, c] coordinates into the input's
// first c axes, each naming a contiguous slice of `slice` elements of the remaining axes.
struct NdGeometry {
  size_t c, m, slice;
  std::vector<int64_t> dims;   // of the indexed axes
  std::vector<size_t> strides;  // in elements, of the indexed axes
};

NdGeometry nd_geometry(const Dims& shape, const Dims& ishape) {
  size_t c = size_t(ishape.back());
  NdGeometry g{c, product(ishape, 0, ishape.size() - 1), product(shape, c, shape.size()),
               std::vector<int64_t>(shape.begin(), shape.begin() + int64_t(c)),
               std::vector<size_t>(c)};
  for (size_t d = 0; d < c; ++d) g.strides[d] = product(shape, d + 1, shape.size());
  return g;
}

// indices as [m, c] coordinates into the input's first c axes; each picks a contiguous
// slice of the remaining axes (`slice` elements), so the output is [m, slice].
Kernel gather_nd_kernel(const KernelContext& cx) {
  // (Not a structured binding: clang 14 cannot capture those in the lambda below.)
  NdGeometry geo = nd_geometry(cx.inputs[0]->shape, cx.inputs[1]->shape);
  size_t c = geo.c, m = geo.m, slice = geo.slice;
  std::vector<int64_t> dims = std::move(geo.dims);
  std::vector<size_t> strides = std::move(geo.strides);
  size_t esize = element_size(cx.inputs[0]->data_type);
  DataType itype = cx.inputs[1]->data_type;
  return make_kernel([=](const Ins& in, const Outs& out) {
    visit_index_type(itype, [&]<typename I>() {
      visit_element_size(esize, [&]<typename E>() {
        const E* src = static_cast<const E*>(in[0]->data());
        const I* idx = static_cast<const I*>(in[1]->data());
        E* dst = static_cast<E*>(out[0]->data());
        size_t grain = std::max<size_t>(1, kCopyGrain / (slice * sizeof(E)));
        parallel_for(m, grain, [&](size_t begin, size_t end) {
          for (size_t r = begin; r < end; ++r) {
            size_t offset = 0;
            for (size_t d = 0; d < c; ++d)
              offset += clamp_index(idx[r * c + d], dims[d]) * strides[d];
            if (slice == 1)
              dst[r] = src[offset];
            else
              std::memcpy(dst + r * slice, src + offset, slice * sizeof(E));
          }
        });
      });
    });
  });
}

// The output starts as a copy of the input (in parallel; nothing to do if the plan gave the
// output the input's buffer).
void copy_input(const Tensor& in, Tensor& out) {
  if (in.data() == out.data()) return;
  const uint8_t* src = static_cast<const uint8_t*>(in.data());
  uint8_t* dst = static_cast<uint8_t*>(out.data());
  parallel_for(in.byte_size(), kCopyGrain, [&](size_t begin, size_t end) {
    std::memcpy(dst + begin, src + begin, end - begin);
  });
}

// scatterElements, the inverse of gatherElements: input and output [outer, dim, inner],
// indices and updates [outer, n, inner]; out[o, clamp(indices[o, j, k]), k] = updates[o, j, k].
// Each task owns whole columns (o, k) and walks j in order, so where indices repeat the last
// update wins, the same on every run and thread count (the spec leaves duplicates open).
Kernel scatter_elements_kernel(const KernelContext& cx) {
  ElementsGeometry geo = elements_geometry(cx);
  size_t outer = geo.outer, inner = geo.inner, n = geo.n;
  int64_t dim = geo.dim;
  size_t esize = element_size(cx.inputs[0]->data_type);
  DataType itype = cx.inputs[1]->data_type;
  return make_kernel([=](const Ins& in, const Outs& out) {
    copy_input(*in[0], *out[0]);
    if (out[0]->element_count() == 0) return;  // an empty input has no place to write to
    visit_index_type(itype, [&]<typename I>() {
      visit_element_size(esize, [&]<typename E>() {
        const I* idx = static_cast<const I*>(in[1]->data());
        const E* upd = static_cast<const E*>(in[2]->data());
        E* dst = static_cast<E*>(out[0]->data());
        size_t grain = std::max<size_t>(1, kCopyGrain / std::max<size_t>(1, n * sizeof(E)));
        parallel_for(outer * inner, grain, [&](size_t begin, size_t end) {
          for (size_t c = begin; c < end;) {
            size_t o = c / inner, k0 = c % inner;
            size_t k1 = std::min(inner, k0 + (end - c));
            E* plane = dst + o * size_t(dim) * inner;
            for (size_t j = 0; j < n; ++j) {
              size_t row = (o * n + j) * inner;
              for (size_t k = k0; k < k1; ++k)
                plane[clamp_index(idx[row + k], dim) * inner + k] = upd[row + k];
            }
            c += k1 - k0;
          }
        });
      });
    });
  });
}

// scatterND, the inverse of gatherND: indices as [m, c] coordinates into the input's first
// c axes, updates as [m, slice]; each tuple's slice is written at its clamped offset. Tasks
// split the slice, and each writes its part of every tuple in order (the last of repeated
// coordinates wins, as scatterElements').
Kernel scatter_nd_kernel(const KernelContext& cx) {
  // (Not a structured binding: clang 14 cannot capture those in the lambda below.)
  NdGeometry geo = nd_geometry(cx.inputs[0]->shape, cx.inputs[1]->shape);
  size_t c = geo.c, m = geo.m, slice = geo.slice;
  std::vector<int64_t> dims = std::move(geo.dims);
  std::vector<size_t> strides = std::move(geo.strides);
  size_t esize = element_size(cx.inputs[0]->data_type);
  DataType itype = cx.inputs[1]->data_type;
  return make_kernel([=](const Ins& in, const Outs& out) {
    copy_input(*in[0], *out[0]);
    if (out[0]->element_count() == 0) return;  // an empty input has no place to write to
    std::vector<size_t> offsets(m);
    visit_index_type(itype, [&]<typename I>() {
      const I* idx = static_cast<const I*>(in[1]->data());
      for (size_t r = 0; r < m; ++r) {
        size_t offset = 0;
        for (size_t d = 0; d < c; ++d) offset += clamp_index(idx[r * c + d], dims[d]) * strides[d];
        offsets[r] = offset;
      }
    });
    const uint8_t* upd = static_cast<const uint8_t*>(in[2]->data());
    uint8_t* dst = static_cast<uint8_t*>(out[0]->data());
    size_t row = slice * esize;  // bytes per tuple
    // Bytes move whole per tuple, so a task boundary inside an element is harmless.
    size_t grain = std::max<size_t>(1, kCopyGrain / std::max<size_t>(1, m));
    parallel_for(row, grain, [&](size_t begin, size_t end) {
      for (size_t r = 0; r < m; ++r)
        std::memcpy(dst + offsets[r] * esize + begin, upd + r * row + begin, end - begin);
    });
  });
}

}  // namespace

void register_gather_kernels(CpuKernelRegistry& r) {
  r.add(OpId::gather, gather_kernel);
  r.add(OpId::gatherElements, gather_elements_kernel);
  r.add(OpId::gatherND, gather_nd_kernel);
  r.add(OpId::scatterElements, scatter_elements_kernel);
  r.add(OpId::scatterND, scatter_nd_kernel);
}

CPPNN_ISA_END
}  // namespace cppnn::detail
