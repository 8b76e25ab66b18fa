#pragma once
// Loop machinery shared by the element-wise kernel files: float16 block conversion, the
// unary map and the broadcasting walk. float16 is computed in float32: blocks of halves are
// widened with F16C, computed by the same float loop as float32, and narrowed back.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "backends/cpu/isa_target.h"
#include "backends/cpu/kernel.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

// Elements per parallel task: below this, threading costs more than it saves.
inline constexpr size_t kElementwiseGrain = 16384;
// float16 elements widened at a time (fits in L1 with its float copy).
inline constexpr size_t kHalfBlock = 512;

// Computes in float for half, in the type itself otherwise.
template <typename T>
using compute_t = std::conditional_t<std::is_same_v<T, half>, float, T>;

void halves_to_floats(const half* in, float* out, size_t n);
void floats_to_halves(const float* in, half* out, size_t n);

// Registration of the kernel files other than elementwise.cpp.
void register_elementwise_unary_kernels(CpuKernelRegistry& registry);
void register_elementwise_cast_kernels(CpuKernelRegistry& registry);

// Dispatch over the types an op's schema allows; any other type is a cppnn bug (the op
// table rejects it), reported before any parallel work starts.
[[noreturn]] void unexpected_type(DataType type);

template <typename F>
decltype(auto) visit_float_type(DataType type, F&& f) {
  switch (type) {
    case DataType::float32:
      return f.template operator()<float>();
    case DataType::float16:
      return f.template operator()<half>();
    default:
      unexpected_type(type);
  }
}

// float32, float16, int32, int64, int8: the types of abs, neg, sign, relu and prelu.
template <typename F>
decltype(auto) visit_signed_type(DataType type, F&& f) {
  switch (type) {
    case DataType::int32:
      return f.template operator()<int32_t>();
    case DataType::int64:
      return f.template operator()<int64_t>();
    case DataType::int8:
      return f.template operator()<int8_t>();
    default:
      return visit_float_type(type, std::forward<F>(f));
  }
}

// out[i] = f(in[i]) with f over compute_t<T>; f must be cheap to copy and must not throw.
template <typename T, typename F>
void map_unary(const Tensor& in, Tensor& out, F f) {
  const T* src = in.data_as<T>();
  T* dst = out.data_as<T>();
  parallel_for(in.element_count(), kElementwiseGrain, [=](size_t begin, size_t end) {
    if constexpr (std::is_same_v<T, half>) {
      float buf[kHalfBlock];
      for (size_t i = begin; i < end; i += kHalfBlock) {
        size_t m = std::min(kHalfBlock, end - i);
        halves_to_floats(src + i, buf, m);
        for (size_t j = 0; j < m; ++j) buf[j] = f(buf[j]);
        floats_to_halves(buf, dst + i, m);
      }
    } else {
      for (size_t i = begin; i < end; ++i) dst[i] = f(src[i]);
    }
  });
}

// How inputs broadcast to an output, with dimensions merged wherever every input stays
// contiguous (or stays broadcast) across them, so the innermost run is as long as possible.
// Each input's innermost step is 0 (broadcast) or 1.
struct BroadcastPlan {
  size_t total = 1;                                // output elements
  size_t inner = 1;                                // length of the innermost merged dimension
  std::vector<size_t> outer;                       // merged outer dimensions, outermost first
  std::vector<std::vector<size_t>> outer_strides;  // per input, per outer dimension
  std::vector<size_t> inner_step;                  // per input: 0 or 1

  // Element offset of input k at the start of row r (a row is one innermost run).
  size_t row_offset(size_t k, size_t r) const {
    size_t off = 0;
    for (size_t d = outer.size(); d-- > 0;) {
      off += (r % outer[d]) * outer_strides[k][d];
      r /= outer[d];
    }
    return off;
  }
};

BroadcastPlan make_broadcast_plan(const std::vector<Dims>& inputs, const Dims& out);

// Calls seg(row, first, count) for the pieces of [begin, end) that lie within single rows.
template <typename Seg>
void for_each_row_segment(const BroadcastPlan& plan, size_t begin, size_t end, Seg&& seg) {
  size_t row = begin / plan.inner, first = begin % plan.inner;
  while (begin < end) {
    size_t count = std::min(plan.inner - first, end - begin);
    seg(row, first, count);
    begin += count;
    ++row;
    first = 0;
  }
}

// Reads m values of T at p with step 0 or 1 into float buffer `buf` (T is half).
inline void widen_halves(const half* p, size_t step, float* buf, size_t m) {
  if (step) {
    halves_to_floats(p, buf, m);
  } else {
    float v = float(*p);
    std::fill(buf, buf + m, v);
  }
}

// out = f(a, b) with broadcasting; f maps compute_t<T> pairs to compute_t<R>. The inner
// loops are specialized on the steps so the common cases are plain vectorizable loops.
template <typename T, typename R, typename F>
void broadcast_binary(const BroadcastPlan& plan, const Tensor& a, const Tensor& b, Tensor& out,
                      F f) {
  const T* pa = a.data_as<T>();
  const T* pb = b.data_as<T>();
  R* po = out.data_as<R>();
  size_t sa = plan.inner_step[0], sb = plan.inner_step[1];
  parallel_for(plan.total, kElementwiseGrain, [&, f](size_t begin, size_t end) {
    for_each_row_segment(plan, begin, end, [&](size_t row, size_t first, size_t n) {
      const T* x = pa + plan.row_offset(0, row) + first * sa;
      const T* y = pb + plan.row_offset(1, row) + first * sb;
      R* o = po + row * plan.inner + first;
      if constexpr (std::is_same_v<T, half>) {
        float bx[kHalfBlock], by[kHalfBlock];
        for (size_t i = 0; i < n; i += kHalfBlock) {
          size_t m = std::min(kHalfBlock, n - i);
          widen_halves(x + i * sa, sa, bx, m);
          widen_halves(y + i * sb, sb, by, m);
          if constexpr (std::is_same_v<R, half>) {
            for (size_t j = 0; j < m; ++j) bx[j] = f(bx[j], by[j]);
            floats_to_halves(bx, o + i, m);
          } else {
            for (size_t j = 0; j < m; ++j) o[i + j] = f(bx[j], by[j]);
          }
        }
      } else if (sa && sb) {
        for (size_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
      } else if (sa) {
        T yv = *y;
        for (size_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
      } else if (sb) {
        T xv = *x;
        for (size_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
      } else {
        std::fill(o, o + n, R(f(*x, *y)));
      }
    });
  });
}

CPPNN_ISA_END
}  // namespace cppnn::detail
