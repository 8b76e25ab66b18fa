// CPU kernels of the broadcasting element-wise ops: binary arithmetic, comparisons, logical
// ops, prelu and where; plus the loop machinery of elementwise_loops.h.
#include <cmath>

#include "backends/cpu/elementwise_loops.h"
#include "backends/cpu/half_runs.h"
#include "backends/cpu/isa_target.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

void halves_to_floats(const half* in, float* out, size_t n) { widen_half_run(in, out, n); }

void floats_to_halves(const float* in, half* out, size_t n) { narrow_float_run(in, out, n); }

void unexpected_type(DataType type) {
  fail(ErrorKind::OperationError, "CPU kernel called with data type " +
                                      std::string(to_string(type)) +
                                      ", which the op's validation should have rejected");
}

BroadcastPlan make_broadcast_plan(const std::vector<Dims>& inputs, const Dims& out) {
  BroadcastPlan plan;
  plan.total = element_count(out);
  size_t k_count = inputs.size();
  // Per output dimension (size > 1 only; size-1 dimensions never move an index): its size
  // and each input's stride, 0 where the input broadcasts.
  std::vector<size_t> sizes;
  std::vector<std::vector<size_t>> strides(k_count);
  std::vector<std::vector<size_t>> own(k_count);
  for (size_t k = 0; k < k_count; ++k) own[k] = strides_of(inputs[k]);
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;
    sizes.push_back(size_t(out[d]));
    for (size_t k = 0; k < k_count; ++k) {
      size_t off = out.size() - inputs[k].size();
      bool present = d >= off && inputs[k][d - off] != 1;
      strides[k].push_back(present ? own[k][d - off] : 0);
    }
  }
  // Merge from the innermost outwards.
  std::vector<size_t> msizes;
  std::vector<std::vector<size_t>> mstrides(k_count);
  for (size_t d = sizes.size(); d-- > 0;) {
    bool merge = !msizes.empty();
    for (size_t k = 0; merge && k < k_count; ++k)
      merge = strides[k][d] == mstrides[k].back() * msizes.back();
    if (merge) {
      msizes.back() *= sizes[d];
    } else {
      msizes.push_back(sizes[d]);
      for (size_t k = 0; k < k_count; ++k) mstrides[k].push_back(strides[k][d]);
    }
  }
  plan.inner_step.assign(k_count, 0);
  plan.outer_strides.resize(k_count);
  if (msizes.empty()) return plan;  // a single element
  plan.inner = msizes[0];
  for (size_t k = 0; k < k_count; ++k) plan.inner_step[k] = mstrides[k][0];
  for (size_t d = msizes.size(); d-- > 1;) {
    plan.outer.push_back(msizes[d]);
    for (size_t k = 0; k < k_count; ++k) plan.outer_strides[k].push_back(mstrides[k][d]);
  }
  return plan;
}

namespace {

std::vector<Dims> input_shapes(const KernelContext& cx) {
  std::vector<Dims> shapes;
  for (const OperandDescriptor* d : cx.inputs) shapes.push_back(d->shape);
  return shapes;
}

// A kernel over the types `Visit` dispatches: out = f(a, b) with broadcasting, where f is a
// generic lambda over the compute type and `Logical` selects a uint8 output.
template <bool Logical, typename Visit, typename Op>
KernelFactory binary_kernel(Visit visit, Op op) {
  return [visit, op](const KernelContext& cx) {
    BroadcastPlan plan = make_broadcast_plan(input_shapes(cx), cx.outputs[0]->shape);
    return make_kernel(
        [plan, visit, op](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
          visit(in[0]->data_type(), [&]<typename T>() {
            using C = compute_t<T>;
            using R = std::conditional_t<Logical, uint8_t, T>;
            broadcast_binary<T, R>(plan, *in[0], *in[1], *out[0],
                                   [op](C a, C b) { return op.template operator()<C>(a, b); });
          });
        });
  };
}

const auto kVisitAny = [](DataType t, auto&& f) { visit_type(t, f); };
const auto kVisitSigned = [](DataType t, auto&& f) { visit_signed_type(t, f); };
const auto kVisitUint8 = [](DataType t, auto&& f) {
  if (t != DataType::uint8) unexpected_type(t);
  f.template operator()<uint8_t>();
};

// Integer arithmetic is done in the unsigned type of the same width, so it wraps around in
// two's complement (as WebNN implementations do) instead of overflowing, which is undefined.
template <typename C>
struct wrapping {
  using type = C;
};
template <typename C>
requires std::is_integral_v<C>
struct wrapping<C> {
  using type = std::make_unsigned_t<C>;
};
template <typename C>
using wrap_t = typename wrapping<C>::type;

template <typename C>
C safe_div(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    if (b == 0) return 0;  // defined as 0 rather than a trap
    if constexpr (std::is_signed_v<C>)
      if (b == C(-1)) return C(wrap_t<C>(0) - wrap_t<C>(a));  // INT_MIN / -1 wraps
    return a / b;  // truncates toward zero, as the spec asks
  } else {
    return a / b;
  }
}

template <typename C>
C int_pow(C base, C exp) {
  if constexpr (std::is_integral_v<C>) {
    if constexpr (std::is_signed_v<C>)
      if (exp < 0) return base == 1 ? 1 : (base == C(-1) ? ((exp & 1) ? C(-1) : C(1)) : 0);
    using U = std::make_unsigned_t<C>;
    U result = 1, b = U(base), e = U(exp);
    while (e) {
      if (e & 1) result = U(result * b);
      b = U(b * b);
      e >>= 1;
    }
    return C(result);
  } else {
    return C(std::pow(base, exp));
  }
}

template <typename C>
C prelu_value(C x, C slope) {
  if constexpr (std::is_integral_v<C>)
    return x < 0 ? C(wrap_t<C>(x) * wrap_t<C>(slope)) : x;
  else
    return x < 0 ? x * slope : x;
}

void register_arithmetic(CpuKernelRegistry& r) {
  r.add(OpId::add, binary_kernel<false>(
                   kVisitAny, []<typename C>(C a, C b) { return C(wrap_t<C>(a) + wrap_t<C>(b)); }));
  r.add(OpId::sub, binary_kernel<false>(
                   kVisitAny, []<typename C>(C a, C b) { return C(wrap_t<C>(a) - wrap_t<C>(b)); }));
  r.add(OpId::mul, binary_kernel<false>(
                   kVisitAny, []<typename C>(C a, C b) { return C(wrap_t<C>(a) * wrap_t<C>(b)); }));
  r.add(OpId::div,
        binary_kernel<false>(kVisitAny, []<typename C>(C a, C b) { return safe_div(a, b); }));
  // max/min propagate a NaN in either operand, as IEEE maximum/minimum do.
  r.add(OpId::max, binary_kernel<false>(kVisitAny, []<typename C>(C a, C b) -> C {
          if constexpr (std::is_floating_point_v<C>)
            if (b != b) return b;
          return a < b ? b : a;
        }));
  r.add(OpId::min, binary_kernel<false>(kVisitAny, []<typename C>(C a, C b) -> C {
          if constexpr (std::is_floating_point_v<C>)
            if (b != b) return b;
          return b < a ? b : a;
        }));
  r.add(OpId::pow, binary_kernel<false>(kVisitAny, []<typename C>(C a, C b) { return int_pow(a, b); }));
  r.add(OpId::prelu,
        binary_kernel<false>(kVisitSigned, []<typename C>(C x, C s) { return prelu_value(x, s); }));
}

void register_logical(CpuKernelRegistry& r) {
  r.add(OpId::equal,
        binary_kernel<true>(kVisitAny, []<typename C>(C a, C b) { return uint8_t(a == b); }));
  r.add(OpId::notEqual,
        binary_kernel<true>(kVisitAny, []<typename C>(C a, C b) { return uint8_t(a != b); }));
  r.add(OpId::greater,
        binary_kernel<true>(kVisitAny, []<typename C>(C a, C b) { return uint8_t(a > b); }));
  r.add(OpId::greaterOrEqual,
        binary_kernel<true>(kVisitAny, []<typename C>(C a, C b) { return uint8_t(a >= b); }));
  r.add(OpId::lesser,
        binary_kernel<true>(kVisitAny, []<typename C>(C a, C b) { return uint8_t(a < b); }));
  r.add(OpId::lesserOrEqual,
        binary_kernel<true>(kVisitAny, []<typename C>(C a, C b) { return uint8_t(a <= b); }));
  r.add(OpId::logicalAnd, binary_kernel<true>(kVisitUint8, []<typename C>(C a, C b) {
          return uint8_t((a != 0) & (b != 0));
        }));
  r.add(OpId::logicalOr, binary_kernel<true>(kVisitUint8, []<typename C>(C a, C b) {
          return uint8_t((a != 0) | (b != 0));
        }));
  r.add(OpId::logicalXor, binary_kernel<true>(kVisitUint8, []<typename C>(C a, C b) {
          return uint8_t((a != 0) ^ (b != 0));
        }));
  r.add(OpId::logicalNot, [](const KernelContext&) {
    return make_kernel([](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
      if (in[0]->data_type() != DataType::uint8) unexpected_type(in[0]->data_type());
      map_unary<uint8_t>(*in[0], *out[0], [](uint8_t a) { return uint8_t(a == 0); });
    });
  });
}

// where only selects, so values are moved as raw bits of their size (half needs no math).
template <typename V>
void select_values(const BroadcastPlan& plan, const Tensor& cond, const Tensor& t, const Tensor& f,
                   Tensor& out) {
  const uint8_t* pc = cond.data_as<uint8_t>();
  const V* pt = static_cast<const V*>(t.data());
  const V* pf = static_cast<const V*>(f.data());
  V* po = static_cast<V*>(out.data());
  size_t sc = plan.inner_step[0], st = plan.inner_step[1], sf = plan.inner_step[2];
  parallel_for(plan.total, kElementwiseGrain, [&](size_t begin, size_t end) {
    for_each_row_segment(plan, begin, end, [&](size_t row, size_t first, size_t n) {
      const uint8_t* c = pc + plan.row_offset(0, row) + first * sc;
      const V* x = pt + plan.row_offset(1, row) + first * st;
      const V* y = pf + plan.row_offset(2, row) + first * sf;
      V* o = po + row * plan.inner + first;
      // Both values are loaded and blended by a mask: a conditional load (c ? x[i] : y[i])
      // would vectorize only as slow masked loads.
      if (sc && st && sf) {
        for (size_t i = 0; i < n; ++i) {
          V m = V(V(0) - V(c[i] != 0));
          o[i] = V((x[i] & m) | (y[i] & V(~m)));
        }
      } else {
        for (size_t i = 0; i < n; ++i) {
          V m = V(V(0) - V(c[i * sc] != 0));
          o[i] = V((x[i * st] & m) | (y[i * sf] & V(~m)));
        }
      }
    });
  });
}

void register_where(CpuKernelRegistry& r) {
  r.add(OpId::where, [](const KernelContext& cx) {
    BroadcastPlan plan = make_broadcast_plan(input_shapes(cx), cx.outputs[0]->shape);
    return make_kernel(
        [plan](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
          switch (element_size(in[1]->data_type())) {
            case 1:
              return select_values<uint8_t>(plan, *in[0], *in[1], *in[2], *out[0]);
            case 2:
              return select_values<uint16_t>(plan, *in[0], *in[1], *in[2], *out[0]);
            case 4:
              return select_values<uint32_t>(plan, *in[0], *in[1], *in[2], *out[0]);
            default:
              return select_values<uint64_t>(plan, *in[0], *in[1], *in[2], *out[0]);
          }
        });
  });
}

}  // namespace

void register_elementwise_kernels(CpuKernelRegistry& r) {
  register_arithmetic(r);
  register_logical(r);
  register_where(r);
  register_elementwise_unary_kernels(r);
  register_elementwise_cast_kernels(r);
}

CPPNN_ISA_END
}  // namespace cppnn::detail
