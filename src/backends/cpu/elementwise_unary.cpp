// CPU kernels of the one-input element-wise ops: unary math, activations, clamp, identity.
// float32 loops call the float overloads of <cmath> directly so they stay simple loops;
// float16 runs the same float loop on widened blocks (see map_unary).
#include <cmath>
#include <cstring>
#include <limits>

#include "backends/cpu/elementwise_loops.h"
#include "backends/cpu/isa_target.h"
#include "graph/op_math/activation.h"

namespace cppnn::detail {
CPPNN_ISA_BEGIN

namespace {

// A kernel for an op defined on float32 and float16: op maps float to float.
template <typename Op>
std::unique_ptr<CpuKernel> float_kernel(Op op) {
  return make_kernel([op](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
    visit_float_type(in[0]->data_type(), [&]<typename T>() { map_unary<T>(*in[0], *out[0], op); });
  });
}

template <typename Op>
KernelFactory float_factory(Op op) {
  return [op](const KernelContext&) { return float_kernel(op); };
}

// isNaN and isInfinite: uint8 out[i] = pred(bits of in[i] without the sign) for float32
// (Bits = uint32_t) and float16 (uint16_t). Testing the bits needs no conversion of halves,
// vectorizes, and stays right under any floating-point compiler flags.
template <typename Bits>
void classify(const Tensor& in, Tensor& out, Bits exponent_mask, bool nan) {
  const Bits* src = static_cast<const Bits*>(in.data());
  uint8_t* dst = out.data_as<uint8_t>();
  Bits magnitude = std::numeric_limits<Bits>::max() >> 1;
  parallel_for(in.element_count(), kElementwiseGrain, [=](size_t begin, size_t end) {
    if (nan)
      for (size_t i = begin; i < end; ++i) dst[i] = uint8_t((src[i] & magnitude) > exponent_mask);
    else
      for (size_t i = begin; i < end; ++i) dst[i] = uint8_t((src[i] & magnitude) == exponent_mask);
  });
}

KernelFactory classify_factory(bool nan) {
  return [nan](const KernelContext&) {
    return make_kernel(
        [nan](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
          if (in[0]->data_type() == DataType::float32)
            classify<uint32_t>(*in[0], *out[0], 0x7f800000u, nan);
          else if (in[0]->data_type() == DataType::float16)
            classify<uint16_t>(*in[0], *out[0], uint16_t(0x7c00), nan);
          else
            unexpected_type(in[0]->data_type());
        });
  };
}

// A kernel for abs, neg, sign, relu: op is a generic lambda over the compute type.
template <typename Op>
KernelFactory signed_factory(Op op) {
  return [op](const KernelContext&) {
    return make_kernel([op](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
      visit_signed_type(in[0]->data_type(), [&]<typename T>() {
        using C = compute_t<T>;
        map_unary<T>(*in[0], *out[0], [op](C x) { return op.template operator()<C>(x); });
      });
    });
  };
}

// Integer negation wraps (-INT_MIN is INT_MIN), as two's complement hardware does.
template <typename C>
C negate(C x) {
  if constexpr (std::is_integral_v<C>)
    return C(std::make_unsigned_t<C>(0) - std::make_unsigned_t<C>(x));
  else
    return -x;
}

// A clamp bound (a double attribute, already cast to the type by the op's validation,
// infinite when absent) as a value of compute type C, saturating where C cannot hold it.
template <typename C>
C bound_as(double v) {
  if constexpr (std::is_floating_point_v<C>) {
    return C(v);
  } else {
    if (v <= double(std::numeric_limits<C>::lowest())) return std::numeric_limits<C>::lowest();
    if (v >= double(std::numeric_limits<C>::max())) return std::numeric_limits<C>::max();
    return C(v);
  }
}

void register_math(CpuKernelRegistry& r) {
  r.add(OpId::ceil, float_factory([](float x) { return std::ceil(x); }));
  r.add(OpId::floor, float_factory([](float x) { return std::floor(x); }));
  r.add(OpId::cos, float_factory([](float x) { return std::cos(x); }));
  r.add(OpId::sin, float_factory([](float x) { return std::sin(x); }));
  r.add(OpId::tan, float_factory([](float x) { return std::tan(x); }));
  r.add(OpId::erf, float_factory([](float x) { return std::erf(x); }));
  r.add(OpId::exp, float_factory([](float x) { return std::exp(x); }));
  r.add(OpId::log, float_factory([](float x) { return std::log(x); }));
  r.add(OpId::sqrt, float_factory([](float x) { return std::sqrt(x); }));
  r.add(OpId::reciprocal, float_factory([](float x) { return 1.0f / x; }));
  // nearbyint rounds in the current mode, which cppnn never changes from to-nearest-even.
  r.add(OpId::roundEven, float_factory([](float x) { return std::nearbyint(x); }));
  r.add(OpId::isNaN, classify_factory(true));
  r.add(OpId::isInfinite, classify_factory(false));

  r.add(OpId::abs, signed_factory([]<typename C>(C x) {
          if constexpr (std::is_floating_point_v<C>)
            return std::abs(x);  // clears the sign of -0 too
          else
            return x < 0 ? negate(x) : x;
        }));
  r.add(OpId::neg, signed_factory([]<typename C>(C x) { return negate(x); }));
  // The spec: 1 if > 0, -1 if < 0, and 0 otherwise (so NaN gives 0).
  r.add(OpId::sign, signed_factory([]<typename C>(C x) { return C(int(x > 0) - int(x < 0)); }));

  r.add(OpId::identity, [](const KernelContext&) {
    return make_kernel([](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
      std::memcpy(out[0]->data(), in[0]->data(), in[0]->byte_size());
    });
  });
}

void register_activations(CpuKernelRegistry& r) {
  // The epilogue activations' formulas are op_math's (graph/op_math/activation.h), which the
  // CUDA convolution epilogues use too. relu also takes integers: x < 0 rather than
  // max(x, 0), so a NaN input stays NaN.
  r.add(OpId::relu, signed_factory([]<typename C>(C x) { return x < 0 ? C(0) : x; }));
  r.add(OpId::sigmoid, float_factory([](float x) { return op_math::sigmoid_f(x); }));
  r.add(OpId::tanh, float_factory([](float x) { return op_math::tanh_f(x); }));
  r.add(OpId::gelu, float_factory([](float x) { return op_math::gelu_f(x); }));
  // ln(1 + e^x) rewritten so large |x| neither overflows nor loses the small term. For a
  // NaN only the log term is NaN (std::max(NaN, 0) is NaN too, and which of two NaNs a sum
  // returns is the compiler's choice), so the result's NaN is the same with every compiler
  // and matches the generated CUDA kernel's.
  r.add(OpId::softplus, float_factory([](float x) {
          return (x > 0 ? x : 0.0f) + std::log1p(std::exp(-std::abs(x)));
        }));
  r.add(OpId::softsign, float_factory([](float x) { return x / (1.0f + std::abs(x)); }));
  r.add(OpId::hardSwish, float_factory([](float x) { return op_math::hard_swish_f(x); }));
  r.add(OpId::elu, [](const KernelContext& cx) {
    float alpha = float(cx.node.attrs.f("alpha"));
    return float_kernel([alpha](float x) { return op_math::elu_f(x, alpha); });
  });
  r.add(OpId::leakyRelu, [](const KernelContext& cx) {
    float alpha = float(cx.node.attrs.f("alpha"));
    return float_kernel([alpha](float x) { return op_math::leaky_relu_f(x, alpha); });
  });
  r.add(OpId::hardSigmoid, [](const KernelContext& cx) {
    float alpha = float(cx.node.attrs.f("alpha")), beta = float(cx.node.attrs.f("beta"));
    return float_kernel(
        // NaN stays NaN, as the spec's max(min(v, 1), 0) with NaN-propagating min and max.
        [alpha, beta](float x) {
          float v = alpha * x + beta;
          return v != v ? v : std::max(0.0f, std::min(1.0f, v));
        });
  });
  r.add(OpId::linear, [](const KernelContext& cx) {
    float alpha = float(cx.node.attrs.f("alpha")), beta = float(cx.node.attrs.f("beta"));
    return float_kernel([alpha, beta](float x) { return alpha * x + beta; });
  });
  r.add(OpId::clamp, [](const KernelContext& cx) {
    double lo = cx.node.attrs.f("minValue"), hi = cx.node.attrs.f("maxValue");
    return make_kernel(
        [lo, hi](const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) {
          visit_type(in[0]->data_type(), [&]<typename T>() {
            using C = compute_t<T>;
            C l = bound_as<C>(lo), h = bound_as<C>(hi);
            map_unary<T>(*in[0], *out[0], [l, h](C x) { return op_math::clamp_to(x, l, h); });
          });
        });
  });
}

}  // namespace

void register_elementwise_unary_kernels(CpuKernelRegistry& r) {
  register_math(r);
  register_activations(r);
}

CPPNN_ISA_END
}  // namespace cppnn::detail
