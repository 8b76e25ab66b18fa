#pragma once
// How the backends see a tensor for the reduce* ops and resample2d: groups of adjacent dims,
// worked out once on the host from the shapes (the kernels take the results as plain
// numbers: reduce.h's ops, resample.h's ResampleSplit).
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "cppnn/types.h"
#include "graph/op_math/resample.h"

namespace cppnn::detail::op_math {

// The reduce* ops' input as groups of adjacent dims that are all reduced or all kept (dims
// of size 1 dropped: they move no offset); the innermost group (`inner` elements, stride 1)
// is reduced or kept, and the loops over it are the tight ones.
struct ReduceLayout {
  // Innermost reduced: `kept` are all kept groups, `rows` the reduced groups but the
  // innermost. Innermost kept: `kept` are the kept groups but the innermost, `rows` all
  // reduced groups. Sizes and element strides, outermost first.
  std::vector<int64_t> kept_sizes, kept_strides;
  std::vector<int64_t> row_sizes, row_strides;
  int64_t inner = 1;
  bool inner_reduced = true;
  int64_t outer_count = 1;   // product of kept_sizes
  int64_t row_count = 1;     // product of row_sizes
  int64_t out_count = 1;     // output elements
  int64_t reduce_count = 1;  // input elements combined into each output
};

inline ReduceLayout reduce_layout(const Dims& shape, const std::vector<int64_t>& axes) {
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t axis : axes) reduced[size_t(axis)] = true;
  struct Group {
    int64_t size, stride;
    bool reduced;
  };
  std::vector<Group> groups;
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;  // moves no offset, reduced or not
    if (!groups.empty() && groups.back().reduced == reduced[i]) {
      groups.back().size *= shape[i];  // adjacent non-1 dims are contiguous with each other
      groups.back().stride = strides[i];
    } else {
      groups.push_back({shape[i], strides[i], bool(reduced[i])});
    }
  }
  ReduceLayout l;
  if (groups.empty()) return l;  // a single element
  l.inner = groups.back().size;
  l.inner_reduced = groups.back().reduced;
  groups.pop_back();
  for (const Group& g : groups) {
    (g.reduced ? l.row_sizes : l.kept_sizes).push_back(g.size);
    (g.reduced ? l.row_strides : l.kept_strides).push_back(g.stride);
    (g.reduced ? l.row_count : l.outer_count) *= g.size;
  }
  l.out_count = l.outer_count * (l.inner_reduced ? 1 : l.inner);
  l.reduce_count = l.row_count * (l.inner_reduced ? l.inner : 1);
  return l;
}

// resample2d's input seen as [outer, H, mid, W, inner], H and W being the two resampled
// axes (in either order in `axes`).
inline ResampleSplit resample_split(const Dims& in, const Dims& out, std::vector<int64_t> axes) {
  if (axes[0] > axes[1]) std::swap(axes[0], axes[1]);
  size_t a = size_t(axes[0]), b = size_t(axes[1]);
  ResampleSplit g;
  for (size_t d = 0; d < in.size(); ++d) {
    if (d < a)
      g.outer *= in[d];
    else if (d > a && d < b)
      g.mid *= in[d];
    else if (d > b)
      g.inner *= in[d];
  }
  g.in_h = in[a];
  g.in_w = in[b];
  g.out_h = out[a];
  g.out_w = out[b];
  return g;
}

}  // namespace cppnn::detail::op_math
