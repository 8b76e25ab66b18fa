// CPU kernels of the movement family that are not one strided view: reshape, concat, split,
// pad, triangular. They move bytes by element size, so every data type shares one code path;
// the strided ops and resample2d live in movement_strided.cpp and movement_resample.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/movement_kernels.h"
#include "core/number_cast.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

using Kernel = std::unique_ptr<CpuKernel>;
using Ins = std::vector<const Tensor*>;
using Outs = std::vector<Tensor*>;

// A reshape between two intermediates is a view (the plan gives both the same bytes:
// plan_memory's `views`), so it copies only where an input or an output has its own bytes.
Kernel reshape_kernel(const KernelContext&) {
  return make_kernel([](const Ins& in, const Outs& out) {
    const uint8_t* src = static_cast<const uint8_t*>(in[0]->data());
    uint8_t* dst = static_cast<uint8_t*>(out[0]->data());
    if (src == dst) return;
    parallel_for(in[0]->byte_size(), kCopyGrain, [&](size_t begin, size_t end) {
      std::memcpy(dst + begin, src + begin, end - begin);
    });
  });
}

// Concat and split move the same bytes in opposite directions: the joined tensor is `rows`
// rows, each the sequence of one segment per part (segment i = part i's row).
struct Segments {
  std::vector<size_t> bytes;   // per part, bytes of one row
  std::vector<size_t> starts;  // per part, offset of its segment in a joined row
  size_t row_bytes = 0;
  size_t rows = 0;
};

Segments segments_of(const std::vector<const OperandDescriptor*>& parts, const Dims& joined,
                     size_t axis) {
  Segments s;
  size_t esize = element_size(parts[0]->data_type);
  size_t inner = product(joined, axis + 1, joined.size());
  s.rows = product(joined, 0, axis);
  for (const OperandDescriptor* p : parts) {
    s.starts.push_back(s.row_bytes);
    s.bytes.push_back(size_t(p->shape[axis]) * inner * esize);
    s.row_bytes += s.bytes.back();
  }
  return s;
}

// Splits the joined tensor's bytes evenly among threads, whatever the shape of the parts;
// move(part, part_offset, joined_offset, n) copies one run of n bytes either way.
template <typename Move>
void move_segments(const Segments& s, Move move) {
  parallel_for(s.rows * s.row_bytes, kCopyGrain, [&](size_t begin, size_t end) {
    size_t row = begin / s.row_bytes, q = begin % s.row_bytes;
    size_t part = size_t(std::upper_bound(s.starts.begin(), s.starts.end(), q) - s.starts.begin()) - 1;
    for (size_t p = begin; p < end;) {
      size_t within = q - s.starts[part];
      size_t n = std::min(s.bytes[part] - within, end - p);
      move(part, row * s.bytes[part] + within, p, n);
      p += n;
      q += n;
      if (q == s.starts[part] + s.bytes[part] && ++part == s.bytes.size()) {
        part = 0;
        q = 0;
        ++row;
      }
    }
  });
}

Kernel concat_kernel(const KernelContext& cx) {
  Segments s = segments_of(cx.inputs, cx.outputs[0]->shape, size_t(cx.node.attrs.i("axis")));
  return make_kernel([s](const Ins& in, const Outs& out) {
    uint8_t* joined = static_cast<uint8_t*>(out[0]->data());
    move_segments(s, [&](size_t part, size_t part_offset, size_t offset, size_t n) {
      std::memcpy(joined + offset, static_cast<const uint8_t*>(in[part]->data()) + part_offset, n);
    });
  });
}

Kernel split_kernel(const KernelContext& cx) {
  Segments s = segments_of(cx.outputs, cx.inputs[0]->shape, size_t(cx.node.attrs.i("axis")));
  return make_kernel([s](const Ins& in, const Outs& out) {
    const uint8_t* joined = static_cast<const uint8_t*>(in[0]->data());
    move_segments(s, [&](size_t part, size_t part_offset, size_t offset, size_t n) {
      std::memcpy(static_cast<uint8_t*>(out[part]->data()) + part_offset, joined + offset, n);
    });
  });
}

// Maps an index in the padded dimension to one in the input; -1 means "the pad value".
int64_t source_index(int64_t o, int64_t begin, int64_t n, int mode) {
  int64_t i = o - begin;
  if (i >= 0 && i < n) return i;
  if (mode == 0) return -1;
  if (mode == 1) return i < 0 ? 0 : n - 1;
  return i < 0 ? -i : 2 * (n - 1) - i;
}

Kernel pad_kernel(const KernelContext& cx) {
  const Dims& in_shape = cx.inputs[0]->shape;
  const Dims& out_shape = cx.outputs[0]->shape;
  const Attrs& a = cx.node.attrs;
  std::vector<int64_t> begin = a.ints("beginningPadding");
  const std::string& mode_name = a.s("mode");
  int mode = mode_name == "constant" ? 0 : mode_name == "edge" ? 1 : 2;
  DataType type = cx.inputs[0]->data_type;
  uint64_t value_bits = 0;
  visit_type(type, [&]<typename T>() {
    T v = cast_number<T>(a.f("value"));
    std::memcpy(&value_bits, &v, sizeof(T));
  });
  return make_kernel([=](const Ins& in, const Outs& out) {
    size_t rank = in_shape.size();
    visit_element_size(element_size(type), [&]<typename E>() {
      E value;
      std::memcpy(&value, &value_bits, sizeof(E));
      const E* src = static_cast<const E*>(in[0]->data());
      E* dst = static_cast<E*>(out[0]->data());
      if (rank == 0) {
        dst[0] = src[0];
        return;
      }
      size_t n = size_t(in_shape[rank - 1]), width = size_t(out_shape[rank - 1]);
      size_t b = size_t(begin[rank - 1]), e = width - n - b;
      std::vector<size_t> in_strides = strides_of(in_shape);
      size_t rows = product(out_shape, 0, rank - 1);
      parallel_for(rows, std::max<size_t>(1, kCopyGrain / (width * sizeof(E))),
                   [&](size_t r0, size_t r1) {
        for (size_t r = r0; r < r1; ++r) {
          E* row = dst + r * width;
          size_t rest = r, offset = 0;
          bool padded = false;
          for (size_t d = rank - 1; d-- > 0;) {
            int64_t o = int64_t(rest % size_t(out_shape[d]));
            rest /= size_t(out_shape[d]);
            int64_t i = source_index(o, begin[d], in_shape[d], mode);
            if (i < 0) padded = true;
            else offset += size_t(i) * in_strides[d];
          }
          if (padded) {
            std::fill(row, row + width, value);
            continue;
          }
          const E* line = src + offset;
          std::memcpy(row + b, line, n * sizeof(E));
          if (mode == 0) {
            std::fill(row, row + b, value);
            std::fill(row + b + n, row + width, value);
          } else if (mode == 1) {
            std::fill(row, row + b, line[0]);
            std::fill(row + b + n, row + width, line[n - 1]);
          } else {
            for (size_t j = 0; j < b; ++j) row[j] = line[b - j];
            for (size_t t = 0; t < e; ++t) row[b + n + t] = line[n - 2 - t];
          }
        }
      });
    });
  });
}

Kernel triangular_kernel(const KernelContext& cx) {
  const Dims& shape = cx.inputs[0]->shape;
  size_t rank = shape.size();
  int64_t h = shape[rank - 2], w = shape[rank - 1];
  bool upper = cx.node.attrs.b("upper");
  int64_t diagonal = cx.node.attrs.i("diagonal");
  size_t esize = element_size(cx.inputs[0]->data_type);
  return make_kernel([=](const Ins& in, const Outs& out) {
    const uint8_t* src = static_cast<const uint8_t*>(in[0]->data());
    uint8_t* dst = static_cast<uint8_t*>(out[0]->data());
    size_t rows = in[0]->element_count() / size_t(w), row_bytes = size_t(w) * esize;
    parallel_for(rows, std::max<size_t>(1, kCopyGrain / row_bytes), [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) {
        // Row i keeps columns j with j - i >= diagonal (upper) or j - i <= diagonal (lower);
        // zero bits are zero in every data type.
        int64_t i = int64_t(r % size_t(h));
        int64_t lo = upper ? std::clamp<int64_t>(i + diagonal, 0, w) : 0;
        int64_t hi = upper ? w : std::clamp<int64_t>(i + diagonal + 1, 0, w);
        const uint8_t* s = src + r * row_bytes;
        uint8_t* d = dst + r * row_bytes;
        std::memset(d, 0, size_t(lo) * esize);
        if (hi > lo) std::memcpy(d + lo * int64_t(esize), s + lo * int64_t(esize), size_t(hi - lo) * esize);
        std::memset(d + std::max(hi, lo) * int64_t(esize), 0, size_t(w - std::max(hi, lo)) * esize);
      }
    });
  });
}

}  // namespace

void register_movement_kernels(CpuKernelRegistry& r) {
  r.add(OpId::reshape, reshape_kernel);
  r.add(OpId::concat, concat_kernel);
  r.add(OpId::split, split_kernel);
  r.add(OpId::pad, pad_kernel);
  r.add(OpId::triangular, triangular_kernel);
  register_strided_movement_kernels(r);
  register_resample_kernels(r);
}

CPPNN_ISA_END
}  // namespace cppnn::detail
