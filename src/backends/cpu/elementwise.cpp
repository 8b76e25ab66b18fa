// CPU kernels of the element-wise ops.
#include <cmath>

#include "backends/cpu/kernel.h"

namespace cppnn::detail {

namespace {

// Strides of `shape` broadcast to `out` (0 where a dimension is broadcast).
std::vector<size_t> broadcast_strides(const Dims& shape, const Dims& out) {
  std::vector<size_t> s(out.size(), 0);
  std::vector<size_t> own = strides_of(shape);
  size_t off = out.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) s[off + i] = shape[i] == 1 ? 0 : own[i];
  return s;
}

// Applies f(a, b) element-wise with broadcasting; the innermost dimension is a tight loop.
template <typename T, typename R, typename F>
void broadcast_binary(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const T* pa = a.data_as<T>();
  const T* pb = b.data_as<T>();
  R* po = out.data_as<R>();
  const Dims& shape = out.shape();
  size_t n = out.element_count();
  if (a.shape() == shape && b.shape() == shape) {
    parallel_for(n, 16384, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) po[i] = f(pa[i], pb[i]);
    });
    return;
  }
  if (shape.empty()) {
    po[0] = f(pa[0], pb[0]);
    return;
  }
  std::vector<size_t> sa = broadcast_strides(a.shape(), shape);
  std::vector<size_t> sb = broadcast_strides(b.shape(), shape);
  size_t rank = shape.size();
  size_t inner = size_t(shape[rank - 1]);
  size_t rows = n / std::max<size_t>(inner, 1);
  size_t ia = sa[rank - 1], ib = sb[rank - 1];
  parallel_for(rows, std::max<size_t>(1, 16384 / std::max<size_t>(inner, 1)),
               [&](size_t begin, size_t end) {
                 for (size_t r = begin; r < end; ++r) {
                   size_t rem = r, oa = 0, ob = 0;
                   for (size_t d = rank - 1; d-- > 0;) {
                     size_t idx = rem % size_t(shape[d]);
                     rem /= size_t(shape[d]);
                     oa += idx * sa[d];
                     ob += idx * sb[d];
                   }
                   R* o = po + r * inner;
                   for (size_t i = 0; i < inner; ++i) o[i] = f(pa[oa + i * ia], pb[ob + i * ib]);
                 }
               });
}

// Computes in float for half, in the type itself otherwise.
template <typename T>
using compute_t = std::conditional_t<std::is_same_v<T, half>, float, T>;

template <typename Op>
KernelFactory binary_kernel(Op op) {
  return [op](const KernelContext&) {
    return make_kernel([op](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
      visit_type(in[0]->data_type(), [&]<typename T>() {
        using C = compute_t<T>;
        broadcast_binary<T, T>(*in[0], *in[1], *out[0], [&](T a, T b) {
          return static_cast<T>(op(static_cast<C>(a), static_cast<C>(b)));
        });
      });
    });
  };
}

template <typename C>
C safe_div(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    if (b == 0) return 0;  // integer division by zero is defined as 0 rather than a trap
    if constexpr (std::is_signed_v<C>)
      if (b == C(-1)) return C(0) - a;
    return a / b;
  } else {
    return a / b;
  }
}

template <typename C>
C int_pow(C base, C exp) {
  if constexpr (std::is_integral_v<C>) {
    if constexpr (std::is_signed_v<C>)
      if (exp < 0) return base == 1 ? 1 : (base == C(-1) ? ((exp & 1) ? C(-1) : C(1)) : 0);
    C result = 1;
    using U = std::make_unsigned_t<C>;
    U e = U(exp);
    C b = base;
    while (e) {
      if (e & 1) result = C(U(result) * U(b));
      b = C(U(b) * U(b));
      e >>= 1;
    }
    return result;
  } else {
    return C(std::pow(base, exp));
  }
}

}  // namespace

void register_elementwise_kernels(CpuKernelRegistry& r) {
  // Integer add/sub/mul wrap around in two's complement, as WebNN implementations do.
  r.add("add", binary_kernel([]<typename C>(C a, C b) -> C {
          if constexpr (std::is_integral_v<C>) return C(std::make_unsigned_t<C>(a) + std::make_unsigned_t<C>(b));
          else return a + b;
        }));
  r.add("sub", binary_kernel([]<typename C>(C a, C b) -> C {
          if constexpr (std::is_integral_v<C>) return C(std::make_unsigned_t<C>(a) - std::make_unsigned_t<C>(b));
          else return a - b;
        }));
  r.add("mul", binary_kernel([]<typename C>(C a, C b) -> C {
          if constexpr (std::is_integral_v<C>) return C(std::make_unsigned_t<C>(a) * std::make_unsigned_t<C>(b));
          else return a * b;
        }));
  r.add("div", binary_kernel([]<typename C>(C a, C b) -> C { return safe_div(a, b); }));
  r.add("max", binary_kernel([]<typename C>(C a, C b) -> C { return a > b ? a : b; }));
  r.add("min", binary_kernel([]<typename C>(C a, C b) -> C { return a < b ? a : b; }));
  r.add("pow", binary_kernel([]<typename C>(C a, C b) -> C { return int_pow(a, b); }));
}

}  // namespace cppnn::detail
