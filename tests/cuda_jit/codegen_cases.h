#pragma once
// Graphs that together use every element-wise op on every data type the op allows, with
// inputs in each op's domain. The NVRTC tests compile their generated kernels; the GPU value
// tests (tests/gpu) run them and compare with the CPU backend.
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "test_support.h"

namespace cppnn::testing {

struct CodegenCase {
  std::string name;
  Graph graph;
  NamedTensors inputs;
  bool bfloat16 = false;  // a bfloat16 engine's graph (codegen_tolerance)
};

inline const std::vector<DataType>& float_types() {
  static const std::vector<DataType> v = {DataType::float32, DataType::float16};
  return v;
}
inline const std::vector<DataType>& integer_types() {
  static const std::vector<DataType> v = {DataType::int32,  DataType::uint32, DataType::int64,
                                          DataType::uint64, DataType::int8,   DataType::uint8};
  return v;
}

// Overwrites the first elements with NaN, infinities, signed zeros and halves (roundEven's
// ties), which every float op must treat as the CPU does.
inline Tensor with_specials(Tensor t) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> specials = {std::nan(""), inf, -inf, -0.0, 0.0,  1e4,
                                        -1e4,         0.5, -0.5, 1.5,  -2.5, 2.5};
  visit_type(t.data_type(), [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, half>)
      for (size_t i = 0; i < specials.size() && i < t.element_count(); ++i)
        t.data_as<T>()[i] = from_double<T>(specials[i]);
  });
  return t;
}

// One graph per float type: each unary op of the family applied to an input in its domain,
// each result a graph output (so one kernel per op).
inline CodegenCase float_unary_case(DataType type) {
  GraphBuilder b;
  Dims shape = {2, 3, 37};
  // s covers the signed range with special values; p is positive and short of tan's pole.
  Operand s = b.input("s", type, shape), p = b.input("p", type, shape);
  std::map<std::string, Operand> out;
  out["log"] = b.log(p);
  out["sqrt"] = b.sqrt(p);
  out["reciprocal"] = b.reciprocal(p);
  out["tan"] = b.tan(p);
  for (auto [name, op] :
       std::vector<std::pair<std::string,
                             Operand (GraphBuilder::*)(const Operand&, const OperatorOptions&)>>{
           {"abs", &GraphBuilder::abs},
           {"ceil", &GraphBuilder::ceil},
           {"cos", &GraphBuilder::cos},
           {"erf", &GraphBuilder::erf},
           {"exp", &GraphBuilder::exp},
           {"floor", &GraphBuilder::floor},
           {"roundEven", &GraphBuilder::round_even},
           {"isNaN", &GraphBuilder::is_nan},
           {"isInfinite", &GraphBuilder::is_infinite},
           {"identity", &GraphBuilder::identity},
           {"neg", &GraphBuilder::neg},
           {"sin", &GraphBuilder::sin},
           {"sign", &GraphBuilder::sign},
           {"gelu", &GraphBuilder::gelu},
           {"hardSwish", &GraphBuilder::hard_swish},
           {"relu", &GraphBuilder::relu},
           {"sigmoid", &GraphBuilder::sigmoid},
           {"softplus", &GraphBuilder::softplus},
           {"softsign", &GraphBuilder::softsign},
           {"tanh", &GraphBuilder::tanh}})
    out[name] = (b.*op)(s, {});
  EluOptions elu;
  elu.alpha = 0.7;
  out["elu"] = b.elu(s, elu);
  LeakyReluOptions leaky;
  leaky.alpha = 0.03;
  out["leakyRelu"] = b.leaky_relu(s, leaky);
  LinearOptions linear;
  linear.alpha = 1.5, linear.beta = 0.25;
  out["linear"] = b.linear(s, linear);
  HardSigmoidOptions hs;
  hs.alpha = 0.3, hs.beta = 0.4;
  out["hardSigmoid"] = b.hard_sigmoid(s, hs);
  ClampOptions both, low;
  both.min_value = -1.25, both.max_value = 2.5;
  low.min_value = 0.5;
  out["clamp"] = b.clamp(s, both);
  out["clampLow"] = b.clamp(s, low);
  return {"float_unary_" + std::string(to_string(type)),
          b.build(out),
          {{"s", with_specials(random_tensor(type, shape, -3, 3, 11))},
           {"p", random_tensor(type, shape, 0.1, 1.5, 12)}}};
}

// Binary ops, comparisons, prelu and where on float inputs that broadcast both ways.
inline CodegenCase float_binary_case(DataType type) {
  GraphBuilder b;
  Operand a = b.input("a", type, {2, 3, 4, 5}), c = b.input("c", type, {3, 1, 5});
  Operand cond = b.input("cond", DataType::uint8, {4, 1});
  std::map<std::string, Operand> out = {
      {"add", b.add(a, c)},          {"sub", b.sub(a, c)},
      {"mul", b.mul(a, c)},          {"div", b.div(a, c)},
      {"max", b.max(a, c)},          {"min", b.min(c, a)},
      {"pow", b.pow(b.abs(a), c)},   {"prelu", b.prelu(a, c)},
      {"equal", b.equal(a, c)},      {"notEqual", b.not_equal(a, c)},
      {"greater", b.greater(a, c)},  {"greaterOrEqual", b.greater_or_equal(a, c)},
      {"lesser", b.lesser(a, c)},    {"lesserOrEqual", b.lesser_or_equal(a, c)},
      {"where", b.where(cond, a, c)}};
  Tensor ct = random_tensor(type, {3, 1, 5}, -2, 2, 22);
  return {"float_binary_" + std::string(to_string(type)),
          b.build(out),
          {{"a", with_specials(random_tensor(type, {2, 3, 4, 5}, -3, 3, 21))},
           {"c", ct},
           {"cond", random_tensor(DataType::uint8, {4, 1}, 0, 1, 23)}}};
}

// Arithmetic (wrapping at the type's limits), comparisons, unary ops of signed types,
// clamp and where on one integer type.
inline CodegenCase integer_case(DataType type) {
  GraphBuilder b;
  bool is_signed_type = is_signed(type);
  Dims shape = {3, 4, 6}, small = {4, 1};
  Operand a = b.input("a", type, shape), c = b.input("c", type, small);
  Operand e = b.input("e", type, {6});  // exponents and divisors, along the last axis
  std::map<std::string, Operand> out = {{"add", b.add(a, c)},
                                        {"sub", b.sub(c, a)},
                                        {"mul", b.mul(a, c)},
                                        {"div", b.div(a, e)},
                                        {"max", b.max(a, c)},
                                        {"min", b.min(a, c)},
                                        {"pow", b.pow(a, e)},
                                        {"equal", b.equal(a, c)},
                                        {"notEqual", b.not_equal(a, c)},
                                        {"greater", b.greater(a, c)},
                                        {"greaterOrEqual", b.greater_or_equal(a, c)},
                                        {"lesser", b.lesser(a, c)},
                                        {"lesserOrEqual", b.lesser_or_equal(a, c)},
                                        {"identity", b.identity(a)},
                                        {"where", b.where(b.greater(a, c), a, c)}};
  ClampOptions clamp;
  clamp.min_value = is_signed_type ? -20 : 3;
  clamp.max_value = 100;
  out["clamp"] = b.clamp(a, clamp);
  if (is_signed_type) {
    out["abs"] = b.abs(a);
    out["neg"] = b.neg(a);
    out["sign"] = b.sign(a);
    out["relu"] = b.relu(a);
    out["prelu"] = b.prelu(a, c);
  }
  // Wide values so that add, sub and mul wrap; divisors and exponents include 0 and -1.
  double lo = 0, hi = 0;
  switch (type) {
    case DataType::int8:
      lo = -128, hi = 127;
      break;
    case DataType::uint8:
      lo = 0, hi = 255;
      break;
    case DataType::int32:
      lo = -2147483648.0, hi = 2147483647.0;
      break;
    case DataType::uint32:
      lo = 0, hi = 4294967295.0;
      break;
    case DataType::int64:
      lo = -4e18, hi = 4e18;
      break;
    default:
      lo = 0, hi = 1.8e19;
      break;
  }
  // a starts with the type's lowest value divided by 0 and by -1 (which wraps) and its
  // highest; the divisors include 0, 1 and -1.
  Tensor at = random_tensor(type, shape, lo, hi, 31);
  visit_type(type, [&]<typename T>() {
    if constexpr (std::is_integral_v<T>) {
      at.data_as<T>()[0] = at.data_as<T>()[1] = std::numeric_limits<T>::lowest();
      at.data_as<T>()[2] = std::numeric_limits<T>::max();
    }
  });
  std::vector<double> ev = is_signed_type ? std::vector<double>{0, -1, 2, -3, 5, 1}
                                          : std::vector<double>{0, 1, 2, 3, 5, 7};
  return {"integer_" + std::string(to_string(type)),
          b.build(out),
          {{"a", at},
           {"c", random_tensor(type, small, lo, hi, 32)},
           {"e", tensor_from_doubles(type, {6}, ev)}}};
}

// Logical ops on uint8 (non-zero is true, including values other than 1).
inline CodegenCase logical_case() {
  GraphBuilder b;
  Operand a = b.input("a", DataType::uint8, {5, 7}), c = b.input("c", DataType::uint8, {7});
  return {"logical",
          b.build({{"and", b.logical_and(a, c)},
                   {"or", b.logical_or(a, c)},
                   {"xor", b.logical_xor(a, c)},
                   {"not", b.logical_not(a)}}),
          {{"a", random_tensor(DataType::uint8, {5, 7}, 0, 3, 41)},
           {"c", random_tensor(DataType::uint8, {7}, 0, 2, 42)}}};
}

// cast from `from` to every data type, with values beyond every target's range.
inline CodegenCase cast_case(DataType from) {
  GraphBuilder b;
  Dims shape = {4, 33};
  Operand x = b.input("x", from, shape);
  std::map<std::string, Operand> out;
  for (DataType to : kAllDataTypes) out[std::string(to_string(to))] = b.cast(x, to);
  double lo = 0, hi = 0;
  switch (from) {
    case DataType::float32:
      lo = -1e20, hi = 1e20;
      break;
    case DataType::float16:
      lo = -60000, hi = 60000;
      break;
    case DataType::int32:
      lo = -2.1e9, hi = 2.1e9;
      break;
    case DataType::uint32:
      lo = 0, hi = 4.2e9;
      break;
    case DataType::int64:
      lo = -4e18, hi = 4e18;
      break;
    case DataType::uint64:
      lo = 0, hi = 1.8e19;
      break;
    case DataType::int8:
      lo = -128, hi = 127;
      break;
    default:
      lo = 0, hi = 255;
      break;
  }
  Tensor xt = random_tensor(from, shape, lo, hi, 51);
  // Half the values small, so in-range conversions are exercised too.
  if (is_float(from)) {
    Tensor smaller = random_tensor(from, {2, 33}, -300, 300, 52);
    std::memcpy(xt.data(), smaller.data(), smaller.byte_size());
  }
  return {"cast_from_" + std::string(to_string(from)), b.build(out), {{"x", with_specials(xt)}}};
}

// Fusion: a chain over broadcast inputs, inlined scalar and small constants, a constant too
// large to inline, a float16 round trip and a diamond through a shared intermediate. (The
// round trip comes after correctly rounded ops only, so a float32 ulp of difference in a
// transcendental function cannot move a value across a float16 rounding boundary.)
inline CodegenCase fused_case(DataType type) {
  GraphBuilder b;
  Dims shape = {2, 24, 5, 7};
  Operand x = b.input("x", type, shape), y = b.input("y", type, {24, 1, 1});
  Operand scale = b.constant(type, 0.5);
  Operand bias = b.constant(random_tensor(type, {24, 1, 1}, -1, 1, 61));  // argument
  Operand small = b.constant(random_tensor(type, {1, 1, 7}, -1, 1, 62));  // inlined array
  Operand t = b.add(b.mul(x, scale), bias);
  Operand u = b.cast(b.cast(b.mul(t, y), DataType::float16), type);  // u feeds both branches
  Operand branch = b.sigmoid(u);
  Operand diamond = b.add(branch, b.mul(b.tanh(u), small));
  ClampOptions relu6;
  relu6.min_value = 0, relu6.max_value = 6;
  Operand decay = b.exp(b.neg(b.abs(x)));
  Operand out = b.clamp(b.sub(diamond, decay), relu6);
  return {"fused_" + std::string(to_string(type)),
          b.build({{"out", out}}),
          {{"x", random_tensor(type, shape, -3, 3, 63)},
           {"y", random_tensor(type, {24, 1, 1}, -2, 2, 64)}}};
}

// Same-shape inputs whose element count is a multiple of 4: the vectorized kernels.
inline CodegenCase vector_case(DataType type) {
  GraphBuilder b;
  Dims shape = {3, 5, 64};
  Operand x = b.input("x", type, shape), y = b.input("y", type, shape);
  Operand s = b.input("s", type, {});  // a one-element input read once per thread
  Operand out = is_float(type) ? b.hard_swish(b.add(b.mul(x, y), s)) : b.max(b.mul(x, y), s);
  return {"vector_" + std::string(to_string(type)),
          b.build({{"out", out}}),
          {{"x", random_tensor(type, shape, -3, 3, 71)},
           {"y", random_tensor(type, shape, -3, 3, 72)},
           {"s", random_tensor(type, {}, -1, 1, 73)}}};
}

// bfloat16 is no builder type: a float32 case's bfloat16 engine graph (casts at the float32
// interface, every op between stored in bfloat16) runs the kernels' bfloat16 loads, stores
// and roundings.
inline CodegenCase bfloat16_case(CodegenCase c) {
  EngineBuildOptions o;
  o.precision = Precision::bfloat16;
  c.name = "bfloat16_" + c.name;
  c.graph = Engine::build(c.graph, o).graph();
  c.bfloat16 = true;
  return c;
}

inline std::vector<CodegenCase> codegen_cases() {
  std::vector<CodegenCase> cases;
  for (DataType t : float_types()) {
    cases.push_back(float_unary_case(t));
    cases.push_back(float_binary_case(t));
    cases.push_back(fused_case(t));
    cases.push_back(vector_case(t));
  }
  for (DataType t : integer_types()) cases.push_back(integer_case(t));
  cases.push_back(logical_case());
  cases.push_back(vector_case(DataType::int8));
  for (DataType t : kAllDataTypes) cases.push_back(cast_case(t));
  cases.push_back(bfloat16_case(float_unary_case(DataType::float32)));
  cases.push_back(bfloat16_case(float_binary_case(DataType::float32)));
  cases.push_back(bfloat16_case(fused_case(DataType::float32)));
  cases.push_back(bfloat16_case(vector_case(DataType::float32)));
  cases.push_back(bfloat16_case(cast_case(DataType::float32)));
  return cases;
}

// How close generated kernels must come to the CPU backend on these cases,
// |kernel - cpu| <= rtol * |cpu| + atol (NaN matches NaN, infinities match exactly):
//   float32: rtol 1e-6, atol 1e-6. The kernels round every op where the CPU does
//            (--fmad=false); what is left is the few-ulp difference between CUDA's and
//            glibc's transcendental functions, an FMA the CPU compiler may contract in
//            linear and hardSigmoid, and atol for results that cancel to near zero.
//   float16: rtol 1e-3, atol 1e-3: both round to float16 after every op, so a difference
//            is a float32 ulp that moved a value across a float16 rounding boundary: one
//            float16 ulp, at most 2^-10 relative.
//   integers and uint8 booleans: exact (callers compare the bytes too).
//   bfloat16 cases (float32 outputs of bfloat16 values): rtol 8e-3, atol 8e-3, by the
//            float16 argument two bfloat16 ulps (2^-8 relative each): a flipped rounding
//            may feed one more rounding in the fused chains.
inline Tolerance codegen_tolerance(DataType type, bool bfloat16 = false) {
  if (bfloat16 && is_float(type)) return {8e-3, 8e-3};
  if (type == DataType::float32) return {1e-6, 1e-6};
  if (type == DataType::float16) return {1e-3, 1e-3};
  return {0, 0};
}

// Compares a kernel result with the CPU backend's result for one graph output.
inline void expect_codegen_match(const Tensor& got, const Tensor& want, const std::string& what,
                                 bool bfloat16 = false) {
  ASSERT_EQ(got.data_type(), want.data_type()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  expect_close(got, want.to_doubles(), codegen_tolerance(want.data_type(), bfloat16), what);
  if (!is_float(want.data_type())) {  // bit-exact, beyond what doubles show
    EXPECT_EQ(std::memcmp(got.data(), want.data(), want.byte_size()), 0) << what;
  }
}

// A MobileNetV2-sized set of kernels: `count` independent scale, bias, relu6 chains over
// per-channel constants too large to inline.
inline Graph mobilenet_like_graph(size_t count) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {1, 32, 56, 56});
  std::map<std::string, Operand> out;
  for (size_t i = 0; i < count; ++i) {
    Operand s = b.constant(random_tensor(DataType::float32, {32, 1, 1}, 0.5, 1.5, uint32_t(i)));
    Operand c = b.constant(random_tensor(DataType::float32, {32, 1, 1}, -1, 1, uint32_t(i + 100)));
    ClampOptions relu6;
    relu6.min_value = 0, relu6.max_value = 6;
    out[std::string("y").append(std::to_string(i))] = b.clamp(b.add(b.mul(x, s), c), relu6);
  }
  return b.build(out);
}

}  // namespace cppnn::testing
