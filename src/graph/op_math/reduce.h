#pragma once
// The ten reduce* ops' arithmetic, for both backends' kernels (host and device, see
// host_device.h): each op maps an element (given its output's shift, used by logSumExp
// only), combines associatively from identity() and finishes the combined value. How the
// elements are walked (vector lanes on the CPU, thread blocks on the GPU) is the backend's;
// the order in which a backend combines is its own too.
//
// Floating-point sums accumulate in float (float16 is widened to float before map);
// integer sums, products and norms in 64-bit unsigned arithmetic, which wraps like the
// type itself and is truncated to it at the store; max and min stay in the element type
// and NaN never wins.
#include <cstdint>
#include <type_traits>

#include "graph/op_math/host_device.h"

namespace cppnn::detail::op_math {

// In the order of the ops' names (and of the CUDA launchers' ReduceKind).
enum ReduceKind : int {
  kReduceL1 = 0,
  kReduceL2,
  kReduceLogSum,
  kReduceLogSumExp,
  kReduceMax,
  kReduceMean,
  kReduceMin,
  kReduceProduct,
  kReduceSum,
  kReduceSumSquare
};

template <typename E>
using reduce_sum_acc_t = std::conditional_t<std::is_floating_point_v<E>, float, uint64_t>;

template <typename E>
struct ReduceSum {
  using Acc = reduce_sum_acc_t<E>;
  CPPNN_HOST_DEVICE Acc identity() const { return Acc(0); }
  CPPNN_HOST_DEVICE Acc map(E x, Acc) const { return Acc(x); }
  CPPNN_HOST_DEVICE Acc combine(Acc a, Acc b) const { return a + b; }
  CPPNN_HOST_DEVICE Acc finish(Acc a, Acc) const { return a; }
};

template <typename E>
struct ReduceL1 : ReduceSum<E> {
  using Acc = reduce_sum_acc_t<E>;
  CPPNN_HOST_DEVICE Acc map(E x, Acc) const {
    if constexpr (std::is_floating_point_v<E>)
      return fabs_f(x);
    else if constexpr (std::is_signed_v<E>)
      return x < 0 ? Acc(0) - Acc(x) : Acc(x);
    else
      return Acc(x);
  }
};

template <typename E>
struct ReduceSumSquare : ReduceSum<E> {
  using Acc = reduce_sum_acc_t<E>;
  CPPNN_HOST_DEVICE Acc map(E x, Acc) const { return Acc(x) * Acc(x); }
};

template <typename E>
struct ReduceProduct : ReduceSum<E> {
  using Acc = reduce_sum_acc_t<E>;
  CPPNN_HOST_DEVICE Acc identity() const { return Acc(1); }
  CPPNN_HOST_DEVICE Acc combine(Acc a, Acc b) const { return a * b; }
};

struct ReduceL2 : ReduceSumSquare<float> {
  CPPNN_HOST_DEVICE float finish(float a, float) const { return sqrt_f(a); }
};

struct ReduceMean : ReduceSum<float> {
  float count = 1;  // the elements combined into each output
  CPPNN_HOST_DEVICE float finish(float a, float) const { return a / count; }
};

struct ReduceLogSum : ReduceSum<float> {
  CPPNN_HOST_DEVICE float finish(float a, float) const { return log_f(a); }
};

// log(sum(e^(x - shift))) + shift, shift being the output's maximum (a first pass with
// ReduceMax) so that exp never overflows. map() here takes e^(x - shift) already computed:
// each backend derives its own op with the exp it uses (the CPU a vectorized polynomial over
// whole blocks, the GPU expf per element). An infinite maximum is the result itself.
struct ReduceLogSumExp : ReduceSum<float> {
  CPPNN_HOST_DEVICE float finish(float a, float shift) const {
    return isinf_f(shift) ? shift : log_f(a) + shift;
  }
};

template <typename E>
struct ReduceMax {
  using Acc = E;
  CPPNN_HOST_DEVICE E identity() const { return lowest_of<E>(); }
  CPPNN_HOST_DEVICE E map(E x, E) const { return x; }
  CPPNN_HOST_DEVICE E combine(E a, E b) const { return b > a ? b : a; }
  CPPNN_HOST_DEVICE E finish(E a, E) const { return a; }
};

template <typename E>
struct ReduceMin : ReduceMax<E> {
  CPPNN_HOST_DEVICE E identity() const { return highest_of<E>(); }
  CPPNN_HOST_DEVICE E combine(E a, E b) const { return b < a ? b : a; }
};

// argMin / argMax walking along the axis from position 0: whether `candidate` replaces the
// best so far. Strict, so the first of ties stays; a comparison with NaN is false either
// way, so NaN never wins (and a NaN at position 0 stays).
template <bool kMax, typename E>
CPPNN_HOST_DEVICE CPPNN_FORCE_INLINE constexpr bool arg_better(E candidate, E best) {
  if constexpr (kMax)
    return candidate > best;
  else
    return candidate < best;
}

// Calls f(op) with the op of `kind` for element type E (float16 computes as float), where
// the op table admits E to it: max and min every type, sum, l1, sumSquare and product the
// 32- and 64-bit types, the rest float only. `reduce_count` is the elements combined into
// each output (mean divides by it). False when E is not admitted. Host only (it chooses
// which kernel to run).
template <typename E, typename F>
bool with_reduce_op(ReduceKind kind, int64_t reduce_count, F&& f) {
  switch (kind) {
    case kReduceMax:
      f(ReduceMax<E>{});
      return true;
    case kReduceMin:
      f(ReduceMin<E>{});
      return true;
    default:
      break;
  }
  if constexpr (sizeof(E) >= 4) {
    switch (kind) {
      case kReduceSum:
        f(ReduceSum<E>{});
        return true;
      case kReduceL1:
        f(ReduceL1<E>{});
        return true;
      case kReduceSumSquare:
        f(ReduceSumSquare<E>{});
        return true;
      case kReduceProduct:
        f(ReduceProduct<E>{});
        return true;
      default:
        break;
    }
  }
  if constexpr (std::is_same_v<E, float>) {
    switch (kind) {
      case kReduceL2:
        f(ReduceL2{});
        return true;
      case kReduceLogSum:
        f(ReduceLogSum{});
        return true;
      case kReduceLogSumExp:
        f(ReduceLogSumExp{});
        return true;
      case kReduceMean: {
        ReduceMean op;
        op.count = float(reduce_count);
        f(op);
        return true;
      }
      default:
        break;
    }
  }
  return false;
}

}  // namespace cppnn::detail::op_math
