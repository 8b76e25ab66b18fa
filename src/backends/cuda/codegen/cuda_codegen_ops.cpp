// The CUDA C++ text of each element-wise op. Every expression mirrors the CPU kernel of
// the op (src/backends/cpu/elementwise*.cpp) operation by operation, in the same order, so
// that with --fmad=false the GPU rounds where the CPU rounds: the only differences left
// are those of the math library's transcendental functions.
#include "backends/cuda/codegen/cuda_codegen_ops.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/dispatch.h"

namespace cppnn::detail {

namespace {

// Helper sources in bit order. float16 conversions are single PTX instructions (the ones
// cuda_fp16.h's __half2float and __float2half_rn use): NVRTC 13 has no built-in
// cuda_fp16.h, and not including it keeps JIT free of include paths and ~40 ms faster.
const char* const kHelperSources[] = {
    "__device__ __forceinline__ float cg_h2f(unsigned short h) {\n"
    "  float f;\n"
    "  asm(\"cvt.f32.f16 %0, %1;\" : \"=f\"(f) : \"h\"(h));\n"
    "  return f;\n"
    "}\n"
    "__device__ __forceinline__ unsigned short cg_f2h(float f) {\n"
    "  unsigned short h;\n"
    "  asm(\"cvt.rn.f16.f32 %0, %1;\" : \"=h\"(h) : \"f\"(f));\n"
    "  return h;\n"
    "}\n"
    "__device__ __forceinline__ float cg_rh(float f) { return cg_h2f(cg_f2h(f)); }\n",

    "template <typename T> __device__ __forceinline__ T cg_max(T a, T b) {\n"
    "  return a < b ? b : a;\n"
    "}\n"
    "template <typename T> __device__ __forceinline__ T cg_min(T a, T b) {\n"
    "  return b < a ? b : a;\n"
    "}\n",

    "__device__ __forceinline__ float cg_fmax(float a, float b) {\n"
    "  return b != b ? b : (a < b ? b : a);\n"
    "}\n"
    "__device__ __forceinline__ float cg_fmin(float a, float b) {\n"
    "  return b != b ? b : (b < a ? b : a);\n"
    "}\n",

    "template <typename C, typename U> __device__ __forceinline__ C cg_sdiv(C a, C b) {\n"
    "  return b == C(0) ? C(0) : (b == C(-1) ? C(U(0) - U(a)) : C(a / b));\n"
    "}\n"
    "template <typename C> __device__ __forceinline__ C cg_udiv(C a, C b) {\n"
    "  return b == C(0) ? C(0) : C(a / b);\n"
    "}\n",

    "template <typename U> __device__ __forceinline__ U cg_upow(U b, U e) {\n"
    "  U r = 1;\n"
    "  while (e) {\n"
    "    if (e & U(1)) r = U(r * b);\n"
    "    b = U(b * b);\n"
    "    e = U(e >> 1);\n"
    "  }\n"
    "  return r;\n"
    "}\n"
    "template <typename C, typename U> __device__ __forceinline__ C cg_ipow(C b, C e) {\n"
    "  if (e < C(0)) return b == C(1) ? C(1) : (b == C(-1) ? ((e & C(1)) ? C(-1) : C(1)) : C(0));\n"
    "  return C(cg_upow<U>(U(b), U(e)));\n"
    "}\n",

    "template <typename T>\n"
    "__device__ __forceinline__ T cg_f2i(float f, float lo, float hi, T min, T max) {\n"
    "  return f != f ? T(0) : (f <= lo ? min : (f >= hi ? max : T(f)));\n"
    "}\n",

    "template <typename S> struct alignas(4 * sizeof(S)) cg_vec4 {\n"
    "  S v[4];\n"
    "};\n",

    // bfloat16 is float32's upper half: widening is a shift; narrowing rounds to nearest
    // even with integer arithmetic, bit for bit what the CPU's float_to_bfloat16 does (NaN
    // stays a quiet NaN; past the largest finite value, infinity).
    "__device__ __forceinline__ float cg_b2f(unsigned short b) {\n"
    "  return __uint_as_float(((unsigned)b) << 16);\n"
    "}\n"
    "__device__ __forceinline__ unsigned short cg_f2b(float f) {\n"
    "  unsigned u = __float_as_uint(f);\n"
    "  if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);\n"
    "  return (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);\n"
    "}\n"
    "__device__ __forceinline__ float cg_rb(float f) { return cg_b2f(cg_f2b(f)); }\n",
};

const char* unsigned_type(DataType type) {
  switch (type) {
    case DataType::int32:
    case DataType::uint32:
      return "unsigned";
    case DataType::int64:
    case DataType::uint64:
      return "unsigned long long";
    case DataType::int8:
    case DataType::uint8:
      return "unsigned char";
    default:
      return "float";  // never asked: floats do not wrap
  }
}

std::string float_literal(float f) {
  if (std::isnan(f)) return "__int_as_float(2143289344)";
  if (std::isinf(f)) return f > 0 ? "__int_as_float(2139095040)" : "__int_as_float(-8388608)";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);  // shortest exact, no locale
  std::string s(buf, end);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  s += "f";
  return s[0] == '-' ? "(" + s + ")" : s;
}

template <typename T>
std::string integer_literal(T v) {
  std::string digits = std::to_string(v);
  if constexpr (std::is_same_v<T, int8_t>) {
    return "((signed char)" + digits + ")";
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    return "((unsigned char)" + digits + ")";
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    return digits + "u";
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    return digits + "ull";
  } else {
    // The most negative value has no literal: its magnitude does not fit the type.
    if (v == std::numeric_limits<T>::min())
      return std::is_same_v<T, int64_t> ? "(-9223372036854775807ll - 1ll)" : "(-2147483647 - 1)";
    std::string s = std::is_same_v<T, int64_t> ? digits + "ll" : digits;
    return v < 0 ? "(" + s + ")" : s;
  }
}

// The CPU's bound_as: a clamp bound (an integer value or an infinity) saturated to C.
template <typename C>
C saturated(double v) {
  if (v <= double(std::numeric_limits<C>::lowest())) return std::numeric_limits<C>::lowest();
  if (v >= double(std::numeric_limits<C>::max())) return std::numeric_limits<C>::max();
  return C(v);
}

template <typename F>
decltype(auto) visit_integer(DataType type, F&& f) {
  return visit_type(type, [&]<typename T>() -> std::string {
    if constexpr (std::is_integral_v<T>)
      return f.template operator()<T>();
    else
      return "";
  });
}

std::string wrap_int(const std::string& c, const std::string& u, const std::string& a,
                     const char* op, const std::string& b) {
  return "((" + c + ")((" + u + ")(" + a + ") " + op + " (" + u + ")(" + b + ")))";
}

std::string cast_expression(DataType from, DataType to, const std::string& x, unsigned& helpers) {
  if (from == to || (from == DataType::float16 && to == DataType::float32)) return x;
  if (is_float(to)) return is_float(from) ? x : "((float)(" + x + "))";
  std::string c = cuda_compute_type(to);
  if (!is_float(from)) return "((" + c + ")(" + x + "))";
  // Saturation as the CPU's float_to_int: the bounds are powers of two, exact in float.
  helpers |= kCudaHelperFloatToInt;
  return visit_integer(to, [&]<typename T>() {
    using L = std::numeric_limits<T>;
    float lo = float(L::min()), hi = 2.0f * float(T(1) << (L::digits - 1));
    return "cg_f2i<" + c + ">(" + x + ", " + float_literal(lo) + ", " + float_literal(hi) + ", " +
           integer_literal(L::min()) + ", " + integer_literal(L::max()) + ")";
  });
}

std::string clamp_expression(const Node& node, DataType type, const std::string& x,
                             unsigned& helpers) {
  double lo = node.attrs.f("minValue"), hi = node.attrs.f("maxValue");
  std::string c = cuda_compute_type(type), e = x;
  helpers |= kCudaHelperMinMax;
  // A bound at the type's end (or an infinity) leaves every value, NaN too, unchanged.
  if (is_float(type)) {
    if (!std::isinf(lo)) e = "cg_max<float>(" + e + ", " + float_literal(float(lo)) + ")";
    if (!std::isinf(hi)) e = "cg_min<float>(" + e + ", " + float_literal(float(hi)) + ")";
    return e;
  }
  return visit_integer(type, [&]<typename T>() {
    T l = saturated<T>(lo), h = saturated<T>(hi);
    std::string r = e;
    if (l != std::numeric_limits<T>::lowest())
      r = "cg_max<" + c + ">(" + r + ", " + integer_literal(l) + ")";
    if (h != std::numeric_limits<T>::max())
      r = "cg_min<" + c + ">(" + r + ", " + integer_literal(h) + ")";
    return r;
  });
}

std::string float_unary(const Node& node, const std::string& x, unsigned& helpers) {
  auto attr = [&](const char* name) { return float_literal(float(node.attrs.f(name))); };
  switch (node.op) {
    case OpId::ceil:
      return "ceilf(" + x + ")";
    case OpId::floor:
      return "floorf(" + x + ")";
    case OpId::roundEven:
      // rintf rounds in the default mode, to nearest with ties to even, as the CPU's nearbyint.
      return "rintf(" + x + ")";
    case OpId::cos:
      return "cosf(" + x + ")";
    case OpId::sin:
      return "sinf(" + x + ")";
    case OpId::tan:
      return "tanf(" + x + ")";
    case OpId::erf:
      return "erff(" + x + ")";
    case OpId::exp:
      return "expf(" + x + ")";
    case OpId::log:
      return "logf(" + x + ")";
    case OpId::sqrt:
      return "sqrtf(" + x + ")";
    case OpId::reciprocal:
      return "(1.0f / " + x + ")";
    case OpId::tanh:
      return "tanhf(" + x + ")";
    case OpId::sigmoid:
      return "(1.0f / (1.0f + expf(-" + x + ")))";
    case OpId::gelu:
      return "(0.5f * " + x + " * (1.0f + erff(" + x + " * 0.70710678118654752f)))";
    case OpId::softsign:
      return "(" + x + " / (1.0f + fabsf(" + x + ")))";
    case OpId::softplus:
      // A NaN input reaches the sum through the log term only: were both terms NaN (x's
      // own, and the sign-flipped one of -|x|), which of the two the sum returns would be
      // the compiler's choice of operand order, and so would the result's sign bit.
      return "((" + x + " > 0.0f ? " + x + " : 0.0f) + log1pf(expf(-fabsf(" + x + "))))";
    case OpId::hardSwish:
      helpers |= kCudaHelperMinMax;
      return "(" + x + " * cg_max<float>(0.0f, cg_min<float>(6.0f, " + x + " + 3.0f)) * " +
             float_literal(1.0f / 6.0f) + ")";
    case OpId::elu:
      return "(" + x + " > 0.0f ? " + x + " : " + attr("alpha") + " * expm1f(" + x + "))";
    case OpId::leakyRelu:
      return "(" + x + " < 0.0f ? " + attr("alpha") + " * " + x + " : " + x + ")";
    case OpId::linear: {
      // The attributes as named strings first: "(" + a temporary trips GCC 12's false
      // -Wrestrict warning here.
      std::string alpha = attr("alpha"), beta = attr("beta");
      return "(" + alpha + " * " + x + " + " + beta + ")";
    }
    case OpId::hardSigmoid: {
      helpers |= kCudaHelperMinMax;
      // NaN must stay NaN: NVCC turns a clamp to [0, 1] into a saturating instruction,
      // which maps NaN to 0, so the NaN case is decided before the clamp.
      std::string alpha = attr("alpha"), beta = attr("beta");
      std::string v = "(" + alpha + " * " + x + " + " + beta + ")";
      return "(" + v + " != " + v + " ? " + v + " : cg_max<float>(0.0f, cg_min<float>(1.0f, " + v +
             ")))";
    }
    default:
      return "";
  }
}

std::string signed_unary(OpId op, DataType type, const std::string& x) {
  std::string c = cuda_compute_type(type), u = unsigned_type(type);
  bool f = is_float(type);
  std::string zero = f ? "0.0f" : "(" + c + ")0";
  std::string negated = f ? "(-" + x + ")" : wrap_int(c, u, "0", "-", x);
  switch (op) {
    case OpId::neg:
      return negated;
    case OpId::abs:
      return f ? "fabsf(" + x + ")" : "(" + x + " < 0 ? " + negated + " : " + x + ")";
    case OpId::sign:
      return "((" + c + ")((" + x + " > 0) - (" + x + " < 0)))";
    case OpId::relu:
      return "(" + x + " < 0 ? " + zero + " : " + x + ")";
    default:
      return "";
  }
}

std::string binary(OpId op, DataType type, const std::string& a, const std::string& b,
                   unsigned& helpers) {
  std::string c = cuda_compute_type(type), u = unsigned_type(type);
  bool f = is_float(type), s = is_signed(type);
  auto arithmetic = [&](const char* sym) {
    return f ? "(" + a + " " + sym + " " + b + ")" : wrap_int(c, u, a, sym, b);
  };
  auto compare = [&](const char* sym) {
    return "((unsigned char)(" + a + " " + sym + " " + b + "))";
  };
  auto logical = [&](const char* sym) {
    return "((unsigned char)((" + a + " != 0) " + sym + " (" + b + " != 0)))";
  };
  switch (op) {
    case OpId::add:
      return arithmetic("+");
    case OpId::sub:
      return arithmetic("-");
    case OpId::mul:
      return arithmetic("*");
    case OpId::div:
      if (f) return "(" + a + " / " + b + ")";
      helpers |= kCudaHelperDiv;
      return s ? "cg_sdiv<" + c + ", " + u + ">(" + a + ", " + b + ")"
               : "cg_udiv<" + c + ">(" + a + ", " + b + ")";
    case OpId::max:
    case OpId::min: {
      helpers |= f ? kCudaHelperNanMinMax : kCudaHelperMinMax;
      // cg_fmax / cg_fmin for floats, cg_max<T> / cg_min<T> for integers.
      const std::string& name = op_name(op);
      std::string fn = f ? "cg_f" + name : "cg_" + name + "<" + c + ">";
      return fn + "(" + a + ", " + b + ")";
    }
    case OpId::pow:
      if (f) return "powf(" + a + ", " + b + ")";
      helpers |= kCudaHelperPow;
      return s ? "cg_ipow<" + c + ", " + u + ">(" + a + ", " + b + ")"
               : "cg_upow<" + c + ">(" + a + ", " + b + ")";
    case OpId::prelu: {
      std::string product = f ? a + " * " + b : wrap_int(c, u, a, "*", b);
      return "(" + a + " < 0 ? " + product + " : " + a + ")";
    }
    case OpId::equal:
      return compare("==");
    case OpId::notEqual:
      return compare("!=");
    case OpId::greater:
      return compare(">");
    case OpId::greaterOrEqual:
      return compare(">=");
    case OpId::lesser:
      return compare("<");
    case OpId::lesserOrEqual:
      return compare("<=");
    case OpId::logicalAnd:
      return logical("&");
    case OpId::logicalOr:
      return logical("|");
    case OpId::logicalXor:
      return logical("^");
    default:
      return "";
  }
}

}  // namespace

std::string cuda_helper_source(unsigned mask) {
  std::string s;
  for (size_t i = 0; i < std::size(kHelperSources); ++i)
    if (mask & (1u << i)) s += kHelperSources[i];
  return s;
}

const char* cuda_storage_type(DataType type) {
  switch (type) {
    case DataType::float32:
      return "float";
    case DataType::float16:
    case DataType::bfloat16:
      return "unsigned short";
    case DataType::int32:
      return "int";
    case DataType::uint32:
      return "unsigned";
    case DataType::int64:
      return "long long";
    case DataType::uint64:
      return "unsigned long long";
    case DataType::int8:
      return "signed char";
    case DataType::uint8:
      return "unsigned char";
  }
  return "void";
}

const char* cuda_compute_type(DataType type) {
  return type == DataType::float16 || type == DataType::bfloat16 ? "float"
                                                                  : cuda_storage_type(type);
}

std::string cuda_literal(double value, DataType type) {
  if (is_float(type)) return float_literal(float(value));
  return visit_integer(type, [&]<typename T>() { return integer_literal(saturated<T>(value)); });
}

std::string cuda_tensor_literal(const Tensor& tensor, size_t index) {
  if (tensor.data_type() == DataType::bfloat16)  // no templated type (core/dispatch.h)
    return float_literal(bfloat16_to_float(tensor.data_as<uint16_t>()[index]));
  return visit_type(tensor.data_type(), [&]<typename T>() {
    T v = tensor.data_as<T>()[index];
    if constexpr (std::is_integral_v<T>)
      return integer_literal(v);
    else
      return float_literal(float(v));
  });
}

std::string cuda_storage_literal(const Tensor& tensor, size_t index) {
  if (tensor.data_type() == DataType::float32) {
    uint32_t bits;
    std::memcpy(&bits, tensor.data_as<float>() + index, 4);
    char buf[16];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, bits, 16);
    return "0x" + std::string(buf, end) + "u";
  }
  if (tensor.data_type() == DataType::float16)
    return std::to_string(tensor.data_as<half>()[index].bits) + "u";
  if (tensor.data_type() == DataType::bfloat16)
    return std::to_string(tensor.data_as<uint16_t>()[index]) + "u";
  return cuda_tensor_literal(tensor, index);
}

std::string cuda_load(DataType type, const std::string& expr, unsigned& helpers) {
  if (type == DataType::bfloat16) {
    helpers |= kCudaHelperBfloat16;
    return "cg_b2f(" + expr + ")";
  }
  if (type != DataType::float16) return expr;
  helpers |= kCudaHelperHalf;
  return "cg_h2f(" + expr + ")";
}

std::string cuda_store(DataType type, const std::string& expr, unsigned& helpers) {
  if (type == DataType::bfloat16) {
    helpers |= kCudaHelperBfloat16;
    return "cg_f2b(" + expr + ")";
  }
  if (type != DataType::float16) return expr;
  helpers |= kCudaHelperHalf;
  return "cg_f2h(" + expr + ")";
}

std::string cuda_op_expression(const Node& node, const std::vector<DataType>& input_types,
                               DataType output_type, const std::vector<std::string>& args,
                               unsigned& helpers, bool round_half) {
  OpId op = node.op;
  DataType type = input_types.at(0);
  std::string e;
  switch (op) {
    case OpId::identity:
      e = args[0];
      break;
    case OpId::cast:
      e = cast_expression(type, output_type, args[0], helpers);
      break;
    case OpId::clamp:
      e = clamp_expression(node, type, args[0], helpers);
      break;
    case OpId::logicalNot:
      e = "((unsigned char)(" + args[0] + " == 0))";
      break;
    case OpId::isNaN:
    case OpId::isInfinite:
      // Comparisons rather than isnan/isinf: they are IEEE in device code under any flags
      // NVRTC is given (fast math flushes subnormals, never changes NaN compares) and need
      // no header, so the host emulation compiles them too. float16 loads widen exactly.
      // Integer inputs have no kernel (the op table takes floats only).
      if (!is_float(type)) break;
      e = op == OpId::isNaN
              ? "((unsigned char)(" + args[0] + " != " + args[0] + "))"
              : "((unsigned char)(fabsf(" + args[0] +
                    ") == " + float_literal(std::numeric_limits<float>::infinity()) + "))";
      break;
    case OpId::where:
      e = "(" + args[0] + " != 0 ? " + args[1] + " : " + args[2] + ")";
      break;
    default:
      if (args.size() == 2) {
        e = binary(op, type, args[0], args[1], helpers);
      } else {
        e = signed_unary(op, type, args[0]);
        if (e.empty() && is_float(type)) e = float_unary(node, args[0], helpers);
      }
      break;
  }
  if (e.empty())
    fail(ErrorKind::NotSupportedError, "CUDA code generation has no kernel for op '" + op_name(op) +
                                           "' on " + std::string(to_string(type)));
  // Ops whose float16 result is an exact float16 value when their inputs are (they select,
  // negate or round to integers), and casts to the same type: rounding again would change
  // nothing.
  bool exact = op_has(op, OpTrait::ExactOnHalf) || (op == OpId::cast && type == output_type);
  // bfloat16 the same. (An int32 / int64 cast to bfloat16 rounds through float: twice, so
  // an integer past 2^24 that float rounds onto a bfloat16 tie may land one bfloat16 step
  // from the CPU's once-rounded value.)
  if (output_type == DataType::float16 && !exact && round_half) {
    helpers |= kCudaHelperHalf;
    e = "cg_rh(" + e + ")";
  } else if (output_type == DataType::bfloat16 && !exact && round_half) {
    helpers |= kCudaHelperBfloat16;
    e = "cg_rb(" + e + ")";
  }
  return e;
}

}  // namespace cppnn::detail
