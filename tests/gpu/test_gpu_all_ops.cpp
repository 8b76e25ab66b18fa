// Every op of the op table on the CUDA backend against the CPU backend, on fresh random
// inputs, in float32, float16 and (for ops that take them) an integer type.
//
// Each case is one small graph around one op (labelled kLabel) with options that exercise
// it. The test passes whether the op ran on the GPU or fell back to the CPU (both must match
// the CPU backend); where it ran is read from the plan report and printed in one summary
// table at the end, with the line "[ op coverage ] N of M op cases ran on the GPU".
//
// The inputs change every run: the seed is printed; CPPNN_TEST_SEED=<seed> reproduces a run
// (each case's seed derives from the base seed and the case's name, so a --gtest_filter run
// of one case draws the same values as the full run did).
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "gpu/gpu_test_support.h"
#include "graph/ir.h"
#include "graph/op_table.h"

namespace cppnn {
namespace {

using gpu_testing::cpu_context;
using gpu_testing::cuda_context;
using testing::random_tensor;
using testing::tensor_from_doubles;

constexpr DataType F32 = DataType::float32, F16 = DataType::float16, I32 = DataType::int32,
                   U32 = DataType::uint32, I64 = DataType::int64, U64 = DataType::uint64,
                   I8 = DataType::int8, U8 = DataType::uint8;

// ---- tolerances ----------------------------------------------------------------------------
// Relative to max(|want|, rms(want)) element by element, as gpu_testing::expect_rel_close.
// Data movement, selections (max, relu, clamp, pooling's max...) and every integer result
// must match exactly: the same input values are copied or compared, no rounding happens.
// float32 arithmetic: one op rounds once, but the GPU may contract a*b+c into an FMA or
// order a few operations differently, so a few ulp (1e-5) are allowed.
constexpr double kFp32Rtol = 1e-5;
// float32 transcendentals (exp, erf, tanh, pow... as CUDA's libdevice computes them, a few
// ulp apart from glibc's) and reductions (sums, dot products, normalizations, whose
// summation order differs between a GPU's parallel tree and the CPU's loops).
constexpr double kFp32TranscendentalRtol = 1e-4;
// float16: both backends compute in float32 and round once, but one float16 ulp is ~1e-3
// and a result near a rounding boundary may round either way after the float32 difference
// above; a reduction's order differences are then magnified by float16's 11-bit mantissa.
constexpr double kFp16Rtol = 1e-2;

// float32 products (conv2d, convTranspose2d, matmul, gemm) when CPPNN_CUDA_TF32=1 lets
// cuBLASLt / cuDNN round their operands to TF32 (10-bit mantissa, as float16's).
constexpr double kTf32Rtol = 1e-2;

enum class Tol { exact, plain, transcendental };

bool tf32_allowed() {
  const char* env = std::getenv("CPPNN_CUDA_TF32");
  return env && std::string(env) == "1";
}

double rtol_for(Tol tol, const std::string& op, DataType case_type, DataType out_type) {
  if (tol == Tol::exact || !is_float(out_type)) return 0;
  if (case_type == F16 || out_type == F16) return kFp16Rtol;
  // Convolutions and matrix products: TF32 rounds their inputs.
  detail::OpKind kind = detail::op_kind(detail::find_op(op).value_or(detail::OpId::none));
  bool product = kind == detail::OpKind::conv || kind == detail::OpKind::matmul;
  if (tf32_allowed() && product) return kTf32Rtol;
  return tol == Tol::plain ? kFp32Rtol : kFp32TranscendentalRtol;
}

// ---- seeds and random inputs --------------------------------------------------------------
uint32_t base_seed() {
  static const uint32_t seed = [] {
    const char* env = std::getenv("CPPNN_TEST_SEED");
    uint32_t s = env && *env ? uint32_t(std::strtoul(env, nullptr, 0)) : uint32_t(std::random_device{}());
    std::printf("GpuAllOps: random seed %u (CPPNN_TEST_SEED=%u reproduces this run)\n", s, s);
    return s;
  }();
  return seed;
}

uint32_t case_seed(const std::string& name) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return base_seed() ^ h;
}

enum class Draw { uniform, whole, away_from_zero };
// Values in [lo, hi): uniform; `whole` numbers in [lo, hi] (also for float types, to make
// ties for comparisons); `away_from_zero`: |v| in [lo, hi) with a random sign (a positive one
// for unsigned types). Integer types always get whole numbers in [lo, hi].
struct Dist {
  double lo, hi;
  Draw draw = Draw::uniform;
};
Dist U(double lo, double hi) { return {lo, hi, Draw::uniform}; }
Dist Whole(double lo, double hi) { return {lo, hi, Draw::whole}; }
Dist AwayFromZero(double lo, double hi) { return {lo, hi, Draw::away_from_zero}; }

Dist default_dist(DataType t) {
  if (is_float(t)) return U(-1, 1);
  if (t == I8) return Whole(-100, 100);
  if (t == U8) return Whole(0, 250);
  return is_signed(t) ? Whole(-1000, 1000) : Whole(0, 2000);
}

Dist dist_for(DataType t, const std::optional<Dist>& d) {
  if (!d || (!is_float(t) && d->draw == Draw::uniform)) return default_dist(t);
  Dist out = *d;
  if (!is_signed(t)) out.lo = std::max(out.lo, 0.0);
  return out;
}

Tensor draw(DataType t, const Dims& shape, const Dist& d, uint32_t seed) {
  if (d.draw == Draw::uniform && is_float(t)) return random_tensor(t, shape, d.lo, d.hi, seed);
  std::mt19937 gen(seed);
  bool whole = d.draw == Draw::whole || !is_float(t);
  std::uniform_int_distribution<int64_t> ints(int64_t(std::ceil(d.lo)), int64_t(std::floor(d.hi)));
  std::uniform_real_distribution<double> reals(d.lo, d.hi);
  std::vector<double> v(element_count(shape));
  for (double& x : v) {
    x = whole ? double(ints(gen)) : reals(gen);
    if (d.draw == Draw::away_from_zero && is_signed(t) && (gen() & 1u)) x = -x;
  }
  return tensor_from_doubles(t, shape, v);
}

// ---- cases ---------------------------------------------------------------------------------
// The op under test carries this label, so that its step is found in the plan report.
constexpr const char* kLabel = "op_under_test";

// Builds one case's graph: inputs are drawn fresh for every compute, constants (weights)
// once when the graph is built.
class CaseBuilder {
 public:
  explicit CaseBuilder(uint32_t seed) : seed_(seed) {}

  GraphBuilder b;

  // A graph input. Integer types take a uniform Dist (meant for floats) as their default
  // range.
  Operand in(DataType t, const Dims& shape, std::optional<Dist> d = std::nullopt) {
    std::string name = "x";
    name += std::to_string(inputs_.size());
    inputs_.push_back({name, t, shape, dist_for(t, d)});
    return b.input(name, t, shape);
  }
  Operand weight(DataType t, const Dims& shape, std::optional<Dist> d = std::nullopt) {
    return b.constant(draw(t, shape, dist_for(t, d), seed_ + 7919u * ++constants_));
  }
  NamedTensors draw_inputs(uint32_t seed) const {
    NamedTensors out;
    for (size_t i = 0; i < inputs_.size(); ++i)
      out[inputs_[i].name] = draw(inputs_[i].type, inputs_[i].shape, inputs_[i].dist,
                                  seed + 1009u * uint32_t(i + 1));
    return out;
  }
  // Options of the op under test: its label set.
  template <typename O = OperatorOptions>
  O opt() const {
    O o;
    o.label = kLabel;
    return o;
  }

 private:
  struct InputSpec {
    std::string name;
    DataType type;
    Dims shape;
    Dist dist;
  };
  uint32_t seed_;
  uint32_t constants_ = 0;
  std::vector<InputSpec> inputs_;
};

using BuildFn = std::function<std::vector<Operand>(CaseBuilder&)>;

struct OpCase {
  std::string name;  // the gtest name: <op>_<variant>_<type>
  std::string op;    // the op table's name
  DataType type;     // the op's main input type
  Tol tol;
  BuildFn build;
};

void PrintTo(const OpCase& c, std::ostream* os) { *os << c.name; }

std::string type_suffix(DataType t) {
  switch (t) {
    case F32: return "f32";
    case F16: return "f16";
    case I32: return "i32";
    case U32: return "u32";
    case I64: return "i64";
    case U64: return "u64";
    case I8: return "i8";
    case U8: return "u8";
    case DataType::bfloat16: return "bf16";  // internal: no op case has it
  }
  return "unknown";
}

std::vector<Operand> as_list(Operand o) { return {o}; }
std::vector<Operand> as_list(std::vector<Operand> o) { return o; }

class CaseList {
 public:
  // One case per type, named <stem>_<type>; `f(CaseBuilder&, DataType)` returns the
  // op's output(s).
  template <typename F>
  void add(const std::string& stem, const std::string& op, const std::vector<DataType>& types,
           Tol tol, F f) {
    for (DataType t : types)
      cases_.push_back({stem + "_" + type_suffix(t), op, t, tol,
                        [f, t](CaseBuilder& c) { return as_list(f(c, t)); }});
  }
  std::vector<OpCase> take() { return std::move(cases_); }

 private:
  std::vector<OpCase> cases_;
};

const Dims kShape = {2, 3, 5, 7};

void elementwise_cases(CaseList& v) {
  // Binary arithmetic, with broadcasting (trailing, middle, scalar) in some cases. Integer
  // cases use values that overflow: the CPU wraps (two's complement), so must the GPU.
  v.add("add_bcast", "add", {F32, F16}, Tol::plain, [](CaseBuilder& c, DataType t) {
    return c.b.add(c.in(t, kShape), c.in(t, {3, 1, 7}), c.opt());
  });
  v.add("add_wrap", "add", {I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.add(c.in(t, kShape, Whole(-2e9, 2e9)), c.in(t, kShape, Whole(-2e9, 2e9)), c.opt());
  });
  v.add("add_same", "add", {F16, U8}, Tol::plain, [](CaseBuilder& c, DataType t) {
    return c.b.add(c.in(t, kShape), c.in(t, kShape), c.opt());
  });
  v.add("sub", "sub", {F32, F16, I64}, Tol::plain, [](CaseBuilder& c, DataType t) {
    return c.b.sub(c.in(t, {2, 1, 5, 7}), c.in(t, {3, 1, 1}), c.opt());
  });
  v.add("mul_scalar", "mul", {F32, F16}, Tol::plain, [](CaseBuilder& c, DataType t) {
    return c.b.mul(c.in(t, kShape), c.in(t, {}), c.opt());
  });
  v.add("mul_wrap", "mul", {I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.mul(c.in(t, kShape, Whole(-1e6, 1e6)), c.in(t, {7}, Whole(-1e5, 1e5)), c.opt());
  });
  v.add("div", "div", {F32, F16}, Tol::plain, [](CaseBuilder& c, DataType t) {
    return c.b.div(c.in(t, kShape, U(-4, 4)), c.in(t, {5, 7}, AwayFromZero(0.25, 4)), c.opt());
  });
  // Integer division truncates toward zero: negative operands on both sides.
  v.add("div", "div", {I32, U32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.div(c.in(t, kShape), c.in(t, kShape, AwayFromZero(1, 40)), c.opt());
  });
  v.add("max", "max", {F32, F16, I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.max(c.in(t, kShape), c.in(t, {3, 5, 1}), c.opt());
  });
  v.add("min", "min", {F32, F16, U8}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.min(c.in(t, kShape), c.in(t, kShape), c.opt());
  });
  // Positive bases (negative ones give NaN for fractional exponents).
  v.add("pow", "pow", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    return c.b.pow(c.in(t, kShape, U(0.25, 3)), c.in(t, kShape, U(-3, 3)), c.opt());
  });
  v.add("pow", "pow", {I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.pow(c.in(t, kShape, Whole(-5, 5)), c.in(t, {7}, Whole(0, 6)), c.opt());
  });

  // Comparisons: whole numbers in a small range, so that equal values occur.
  using Cmp = Operand (GraphBuilder::*)(const Operand&, const Operand&, const OperatorOptions&);
  struct Compare {
    const char* op;
    Cmp fn;
    DataType int_type;
  };
  const Compare compares[] = {{"equal", &GraphBuilder::equal, I32},
                              {"notEqual", &GraphBuilder::not_equal, U8},
                              {"greater", &GraphBuilder::greater, U32},
                              {"greaterOrEqual", &GraphBuilder::greater_or_equal, I64},
                              {"lesser", &GraphBuilder::lesser, I8},
                              {"lesserOrEqual", &GraphBuilder::lesser_or_equal, I32}};
  for (const Compare& cmp : compares) {
    Cmp fn = cmp.fn;
    v.add(cmp.op, cmp.op, {F32, F16, cmp.int_type}, Tol::exact, [fn](CaseBuilder& c, DataType t) {
      Dist d = is_signed(t) ? Whole(-3, 3) : Whole(0, 4);
      return (c.b.*fn)(c.in(t, kShape, d), c.in(t, {5, 1}, d), c.opt());
    });
    // Fractional values too (a comparison must not round).
    v.add(std::string(cmp.op) + "_fractions", cmp.op, {F32}, Tol::exact,
          [fn](CaseBuilder& c, DataType t) { return (c.b.*fn)(c.in(t, kShape), c.in(t, kShape), c.opt()); });
  }

  // Logical ops: uint8, any non-zero value is true.
  using Logical = Operand (GraphBuilder::*)(const Operand&, const Operand&, const OperatorOptions&);
  const std::pair<const char*, Logical> logicals[] = {{"logicalAnd", &GraphBuilder::logical_and},
                                                      {"logicalOr", &GraphBuilder::logical_or},
                                                      {"logicalXor", &GraphBuilder::logical_xor}};
  for (const auto& [op, fn_] : logicals) {
    Logical fn = fn_;
    v.add(op, op, {U8}, Tol::exact, [fn](CaseBuilder& c, DataType t) {
      return (c.b.*fn)(c.in(t, kShape, Whole(0, 3)), c.in(t, {3, 1, 7}, Whole(0, 2)), c.opt());
    });
  }
  v.add("logicalNot", "logicalNot", {U8}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.logical_not(c.in(t, kShape, Whole(0, 3)), c.opt());
  });

  // Unary float ops, each on its domain.
  using Unary = Operand (GraphBuilder::*)(const Operand&, const OperatorOptions&);
  struct UnaryCase {
    const char* op;
    Unary fn;
    Dist dist;
    Tol tol;
  };
  const UnaryCase unaries[] = {
      {"ceil", &GraphBuilder::ceil, U(-5, 5), Tol::exact},
      {"floor", &GraphBuilder::floor, U(-5, 5), Tol::exact},
      {"roundEven", &GraphBuilder::round_even, U(-5, 5), Tol::exact},
      {"cos", &GraphBuilder::cos, U(-6.3, 6.3), Tol::transcendental},
      {"sin", &GraphBuilder::sin, U(-6.3, 6.3), Tol::transcendental},
      {"tan", &GraphBuilder::tan, U(-1.2, 1.2), Tol::transcendental},  // away from pi/2
      {"erf", &GraphBuilder::erf, U(-3, 3), Tol::transcendental},
      {"exp", &GraphBuilder::exp, U(-5, 5), Tol::transcendental},
      {"log", &GraphBuilder::log, U(0.01, 20), Tol::transcendental},  // positive
      {"reciprocal", &GraphBuilder::reciprocal, AwayFromZero(0.1, 8), Tol::plain},
      {"sqrt", &GraphBuilder::sqrt, U(0, 20), Tol::plain},  // not negative
      {"gelu", &GraphBuilder::gelu, U(-5, 5), Tol::transcendental},
      {"hardSwish", &GraphBuilder::hard_swish, U(-5, 5), Tol::plain},
      {"sigmoid", &GraphBuilder::sigmoid, U(-8, 8), Tol::transcendental},
      {"softplus", &GraphBuilder::softplus, U(-8, 8), Tol::transcendental},
      {"softsign", &GraphBuilder::softsign, U(-5, 5), Tol::plain},
      {"tanh", &GraphBuilder::tanh, U(-4, 4), Tol::transcendental},
  };
  for (const UnaryCase& u : unaries) {
    Unary fn = u.fn;
    Dist d = u.dist;
    v.add(u.op, u.op, {F32, F16}, u.tol,
          [fn, d](CaseBuilder& c, DataType t) { return (c.b.*fn)(c.in(t, kShape, d), c.opt()); });
  }
  // Exact halves, where roundEven differs from rounding half away from zero.
  v.add("roundEven_halves", "roundEven", {F32, F16}, Tol::exact, [](CaseBuilder& c, DataType t) {
    Operand whole = c.in(t, kShape, Whole(-9, 9));
    return c.b.round_even(c.b.mul(whole, c.b.constant(t, 0.5)), c.opt());
  });
  // Whole numbers over {-1, 0, 1}: x / 0 is an infinity, 0 / 0 a NaN.
  v.add("isNaN", "isNaN", {F32, F16}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.is_nan(c.b.div(c.in(t, kShape, Whole(-2, 2)), c.in(t, {7}, Whole(-1, 1))), c.opt());
  });
  v.add("isInfinite", "isInfinite", {F32, F16}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.is_infinite(c.b.div(c.in(t, kShape, Whole(-2, 2)), c.in(t, {7}, Whole(-1, 1))),
                           c.opt());
  });
  // Signed ops: float and integer. sign gets whole numbers, so that 0 occurs.
  const std::tuple<const char*, Unary, DataType, Dist> signed_ops[] = {
      {"abs", &GraphBuilder::abs, I32, U(-3, 3)},
      {"neg", &GraphBuilder::neg, I64, U(-3, 3)},
      {"sign", &GraphBuilder::sign, I8, Whole(-2, 2)},
      {"relu", &GraphBuilder::relu, I32, U(-3, 3)}};
  for (const auto& [op, fn_, int_type, dist] : signed_ops) {
    Unary fn = fn_;
    Dist d = dist;
    v.add(op, op, {F32, F16, int_type}, Tol::exact, [fn, d](CaseBuilder& c, DataType t) {
      return (c.b.*fn)(c.in(t, kShape, d), c.opt());
    });
  }
  v.add("identity", "identity", {F32, F16, I32}, Tol::exact,
        [](CaseBuilder& c, DataType t) { return c.b.identity(c.in(t, kShape), c.opt()); });

  // Activations with options.
  v.add("elu", "elu", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<EluOptions>();
    o.alpha = 0.7;
    return c.b.elu(c.in(t, kShape, U(-4, 4)), o);
  });
  v.add("hardSigmoid", "hardSigmoid", {F32, F16}, Tol::plain, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<HardSigmoidOptions>();
    o.alpha = 0.3, o.beta = 0.4;
    return c.b.hard_sigmoid(c.in(t, kShape, U(-4, 4)), o);
  });
  v.add("leakyRelu", "leakyRelu", {F32, F16}, Tol::plain, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<LeakyReluOptions>();
    o.alpha = 0.15;
    return c.b.leaky_relu(c.in(t, kShape), o);
  });
  v.add("linear", "linear", {F32, F16}, Tol::plain, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<LinearOptions>();
    o.alpha = 1.75, o.beta = -0.25;
    return c.b.linear(c.in(t, kShape), o);
  });
  v.add("clamp", "clamp", {F32, F16, I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<ClampOptions>();
    o.min_value = is_float(t) ? -0.5 : -300.0;
    o.max_value = is_float(t) ? 0.75 : 400.0;
    return c.b.clamp(c.in(t, kShape), o);
  });
  v.add("clamp_min_only", "clamp", {F32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<ClampOptions>();
    o.min_value = 0.25;
    return c.b.clamp(c.in(t, kShape), o);
  });
  v.add("prelu", "prelu", {F32, F16, I32}, Tol::plain, [](CaseBuilder& c, DataType t) {
    return c.b.prelu(c.in(t, kShape), c.in(t, {5, 1}, is_float(t) ? U(-1, 1) : Whole(-3, 3)), c.opt());
  });
  v.add("prelu_const_slope", "prelu", {F32}, Tol::plain, [](CaseBuilder& c, DataType t) {
    return c.b.prelu(c.in(t, kShape), c.weight(t, {7}, U(0, 0.5)), c.opt());
  });

  // cast: float -> integer truncates toward zero (values kept in range: out of range is
  // the implementation's choice), integer -> integer keeps the lowest bits.
  struct CastCase {
    DataType from, to;
    Dist dist;
  };
  const CastCase casts[] = {
      {F32, F16, U(-70000, 70000)},  // beyond float16's range: infinities
      {F32, F16, U(-2, 2)},
      {F16, F32, U(-1000, 1000)},
      {F32, I32, U(-1e6, 1e6)},
      {F16, I8, U(-127, 127)},
      {F32, U8, U(0, 255)},
      {F32, I64, U(-1e9, 1e9)},
      {I32, F32, Whole(-2e9, 2e9)},  // rounds to nearest
      {I32, F16, Whole(-60000, 60000)},
      {I64, I32, Whole(-1e12, 1e12)},  // wraps
      {U8, F32, Whole(0, 255)},
      {I32, U8, Whole(-1000, 1000)},  // wraps
  };
  std::set<std::string> cast_names;
  for (const CastCase& cc : casts) {
    std::string stem = "cast_to_" + type_suffix(cc.to);
    if (!cast_names.insert(stem + "_" + type_suffix(cc.from)).second) stem += "_small";
    DataType to = cc.to;
    Dist d = cc.dist;
    v.add(stem, "cast", {cc.from}, Tol::exact,
          [to, d](CaseBuilder& c, DataType t) { return c.b.cast(c.in(t, kShape, d), to, c.opt()); });
  }

  v.add("where", "where", {F32, F16, I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.where(c.in(U8, kShape, Whole(0, 2)), c.in(t, {3, 5, 7}), c.in(t, {7}), c.opt());
  });
  v.add("where_bcast_condition", "where", {F32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.where(c.in(U8, {5, 1}, Whole(0, 1)), c.in(t, kShape), c.in(t, kShape), c.opt());
  });
}

void reduction_cases(CaseList& v) {
  using Reduce = Operand (GraphBuilder::*)(const Operand&, const ReduceOptions&);
  struct ReduceCase {
    const char* op;
    Reduce fn;
    std::optional<std::vector<uint32_t>> axes;
    bool keep;
    std::vector<DataType> types;
    Dist dist;
    Tol tol;
  };
  const std::vector<ReduceCase> reduces = {
      {"reduceSum", &GraphBuilder::reduce_sum, std::vector<uint32_t>{1, 3}, false, {F32, F16}, U(-1, 1), Tol::transcendental},
      {"reduceSum", &GraphBuilder::reduce_sum, std::nullopt, true, {I32, U32}, Whole(-1000, 1000), Tol::exact},
      {"reduceMean", &GraphBuilder::reduce_mean, std::vector<uint32_t>{0, 2}, true, {F32, F16}, U(-1, 1), Tol::transcendental},
      {"reduceL1", &GraphBuilder::reduce_l1, std::vector<uint32_t>{3}, false, {F32, F16}, U(-1, 1), Tol::transcendental},
      {"reduceL1", &GraphBuilder::reduce_l1, std::vector<uint32_t>{1}, true, {I64}, Whole(-1000, 1000), Tol::exact},
      {"reduceL2", &GraphBuilder::reduce_l2, std::vector<uint32_t>{1, 2}, false, {F32, F16}, U(-1, 1), Tol::transcendental},
      {"reduceLogSum", &GraphBuilder::reduce_log_sum, std::vector<uint32_t>{3}, false, {F32, F16}, U(0.05, 2), Tol::transcendental},
      {"reduceLogSumExp", &GraphBuilder::reduce_log_sum_exp, std::vector<uint32_t>{1}, true, {F32, F16}, U(-4, 4), Tol::transcendental},
      {"reduceMax", &GraphBuilder::reduce_max, std::vector<uint32_t>{2, 3}, true, {F32, F16, I8}, U(-1, 1), Tol::exact},
      {"reduceMin", &GraphBuilder::reduce_min, std::vector<uint32_t>{0}, false, {F32, F16, U32}, U(-1, 1), Tol::exact},
      {"reduceProduct", &GraphBuilder::reduce_product, std::vector<uint32_t>{1}, false, {F32, F16}, AwayFromZero(0.5, 1.5), Tol::transcendental},
      {"reduceProduct", &GraphBuilder::reduce_product, std::vector<uint32_t>{2}, false, {I32}, Whole(-6, 6), Tol::exact},
      {"reduceSumSquare", &GraphBuilder::reduce_sum_square, std::vector<uint32_t>{3}, true, {F32, F16}, U(-1, 1), Tol::transcendental},
      {"reduceSumSquare", &GraphBuilder::reduce_sum_square, std::vector<uint32_t>{1, 3}, false, {U64}, Whole(0, 1000), Tol::exact},
  };
  std::set<std::string> seen;
  for (const ReduceCase& r : reduces) {
    std::string stem = r.op;
    if (!r.axes) stem += "_all";
    else
      for (uint32_t a : *r.axes) stem += "_" + std::to_string(a);
    if (r.keep) stem += "_keep";
    Reduce fn = r.fn;
    auto axes = r.axes;
    bool keep = r.keep;
    Dist d = r.dist;
    v.add(stem, r.op, r.types, r.tol, [fn, axes, keep, d](CaseBuilder& c, DataType t) {
      auto o = c.opt<ReduceOptions>();
      o.axes = axes, o.keep_dimensions = keep;
      return (c.b.*fn)(c.in(t, kShape, d), o);
    });
  }
  // Empty axes: no dimension is reduced, the op's per-element function still applies.
  v.add("reduceL1_no_axes", "reduceL1", {F32}, Tol::plain, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<ReduceOptions>();
    o.axes = std::vector<uint32_t>{};
    return c.b.reduce_l1(c.in(t, kShape), o);
  });

  // argMin / argMax: integer inputs in a small range make ties (the first index wins).
  for (bool is_max : {true, false}) {
    const char* op = is_max ? "argMax" : "argMin";
    auto arg = [is_max](CaseBuilder& c, const Operand& x, uint32_t axis, const ArgMinMaxOptions& o) {
      return is_max ? c.b.arg_max(x, axis, o) : c.b.arg_min(x, axis, o);
    };
    v.add(std::string(op) + "_axis1", op, {F32, F16}, Tol::exact, [arg](CaseBuilder& c, DataType t) {
      return arg(c, c.in(t, kShape), 1, c.opt<ArgMinMaxOptions>());
    });
    v.add(std::string(op) + "_axis3_keep_i64", op, {F32, I32}, Tol::exact, [arg](CaseBuilder& c, DataType t) {
      auto o = c.opt<ArgMinMaxOptions>();
      o.keep_dimensions = true, o.output_data_type = I64;
      return arg(c, c.in(t, kShape, Whole(-3, 3)), 3, o);
    });
  }

  v.add("cumulativeSum_axis1", "cumulativeSum", {F32, F16, I32}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) { return c.b.cumulative_sum(c.in(t, kShape), 1, c.opt<CumulativeSumOptions>()); });
  v.add("cumulativeSum_exclusive_axis3", "cumulativeSum", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<CumulativeSumOptions>();
    o.exclusive = true;
    return c.b.cumulative_sum(c.in(t, kShape), 3, o);
  });
  v.add("cumulativeSum_reversed_axis2", "cumulativeSum", {F32, I64}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<CumulativeSumOptions>();
    o.reversed = true;
    return c.b.cumulative_sum(c.in(t, kShape), 2, o);
  });
  v.add("cumulativeSum_both_axis0", "cumulativeSum", {F32}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<CumulativeSumOptions>();
    o.exclusive = o.reversed = true;
    return c.b.cumulative_sum(c.in(t, kShape), 0, o);
  });

  v.add("softmax_axis3", "softmax", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) { return c.b.softmax(c.in(t, kShape, U(-6, 6)), 3, c.opt()); });
  v.add("softmax_axis1", "softmax", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) { return c.b.softmax(c.in(t, kShape, U(-6, 6)), 1, c.opt()); });
  v.add("softmax_2d", "softmax", {F32}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) { return c.b.softmax(c.in(t, {6, 1000}, U(-10, 10)), 1, c.opt()); });
}

void conv_cases(CaseList& v) {
  // conv2d: every filter layout, both input layouts, padding, strides, dilations, groups,
  // bias; weights are constants as in a model, and one case has the filter as an input.
  v.add("conv2d_nchw_oihw_pad_bias", "conv2d", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<Conv2dOptions>();
    o.padding = {1, 1, 1, 1};
    o.bias = c.weight(t, {8});
    return c.b.conv2d(c.in(t, {2, 3, 9, 11}), c.weight(t, {8, 3, 3, 3}), o);
  });
  v.add("conv2d_nhwc_ohwi_stride2", "conv2d", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<Conv2dOptions>();
    o.input_layout = InputLayout::nhwc, o.filter_layout = Conv2dFilterLayout::ohwi;
    o.padding = {1, 0, 1, 2}, o.strides = {2, 2};
    o.bias = c.weight(t, {16});
    return c.b.conv2d(c.in(t, {2, 9, 11, 4}), c.weight(t, {16, 3, 3, 4}), o);
  });
  v.add("conv2d_nhwc_hwio_dilated", "conv2d", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<Conv2dOptions>();
    o.input_layout = InputLayout::nhwc, o.filter_layout = Conv2dFilterLayout::hwio;
    o.padding = {2, 2, 2, 2}, o.dilations = {2, 2};
    return c.b.conv2d(c.in(t, {1, 10, 8, 3}), c.weight(t, {3, 3, 3, 5}), o);
  });
  v.add("conv2d_nchw_ihwo_grouped", "conv2d", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<Conv2dOptions>();
    o.filter_layout = Conv2dFilterLayout::ihwo, o.groups = 2;
    o.strides = {1, 2}, o.padding = {0, 1, 1, 0};
    o.bias = c.weight(t, {6});
    return c.b.conv2d(c.in(t, {2, 4, 7, 9}), c.weight(t, {2, 3, 3, 6}), o);
  });
  v.add("conv2d_nhwc_depthwise", "conv2d", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<Conv2dOptions>();
    o.input_layout = InputLayout::nhwc, o.filter_layout = Conv2dFilterLayout::ihwo, o.groups = 8;
    o.padding = {1, 1, 1, 1}, o.strides = {2, 2};
    o.bias = c.weight(t, {8});
    return c.b.conv2d(c.in(t, {2, 9, 9, 8}), c.weight(t, {1, 3, 3, 8}), o);
  });
  v.add("conv2d_nchw_pointwise", "conv2d", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    return c.b.conv2d(c.in(t, {2, 16, 5, 7}), c.weight(t, {12, 16, 1, 1}), c.opt<Conv2dOptions>());
  });
  v.add("conv2d_filter_input", "conv2d", {F32}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<Conv2dOptions>();
    o.padding = {1, 1, 1, 1};
    return c.b.conv2d(c.in(t, {2, 3, 6, 6}), c.in(t, {4, 3, 3, 3}), o);
  });

  // convTranspose2d: every filter layout, strides with output padding, output sizes, groups.
  v.add("convTranspose2d_nchw_iohw_stride2", "convTranspose2d", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<ConvTranspose2dOptions>();
          o.strides = {2, 2}, o.padding = {1, 1, 1, 1}, o.output_padding = {1, 1};
          o.bias = c.weight(t, {5});
          return c.b.conv_transpose2d(c.in(t, {2, 4, 5, 6}), c.weight(t, {4, 5, 3, 3}), o);
        });
  v.add("convTranspose2d_nhwc_hwoi_dilated", "convTranspose2d", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<ConvTranspose2dOptions>();
          o.input_layout = InputLayout::nhwc, o.filter_layout = ConvTranspose2dFilterLayout::hwoi;
          o.dilations = {2, 1}, o.padding = {0, 1, 2, 0};
          return c.b.conv_transpose2d(c.in(t, {2, 5, 4, 3}), c.weight(t, {3, 3, 6, 3}), o);
        });
  // Padding cuDNN's symmetric form cannot express (the whole transposed output, cropped), with
  // a top padding over the stride and output padding past the whole output's end.
  v.add("convTranspose2d_nchw_asymmetric_pad", "convTranspose2d", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<ConvTranspose2dOptions>();
          o.strides = {2, 2}, o.padding = {3, 0, 0, 2}, o.output_padding = {1, 1};
          o.bias = c.weight(t, {5});
          return c.b.conv_transpose2d(c.in(t, {2, 4, 5, 6}), c.weight(t, {4, 5, 3, 3}), o);
        });
  v.add("convTranspose2d_nchw_ohwi_groups_sizes", "convTranspose2d", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<ConvTranspose2dOptions>();
          o.filter_layout = ConvTranspose2dFilterLayout::ohwi, o.groups = 2;
          o.strides = {3, 2}, o.output_sizes = {15, 12};  // computed 13 x 11: +2, +1
          o.bias = c.weight(t, {6});
          return c.b.conv_transpose2d(c.in(t, {1, 4, 5, 6}), c.weight(t, {3, 1, 1, 4}), o);
        });

  // matmul: batch broadcasting, a constant right operand; gemm: transposes, alpha, beta, c.
  v.add("matmul_batched", "matmul", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    return c.b.matmul(c.in(t, kShape), c.in(t, {3, 7, 6}), c.opt());
  });
  v.add("matmul_const_b", "matmul", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    return c.b.matmul(c.in(t, {6, 33}), c.weight(t, {33, 17}), c.opt());
  });
  v.add("gemm_c_vector", "gemm", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<GemmOptions>();
    o.c = c.in(t, {6}), o.alpha = 0.5, o.beta = 2;
    return c.b.gemm(c.in(t, {5, 7}), c.in(t, {7, 6}), o);
  });
  // A computed c that is neither the output's shape nor a row the epilogue can add as it is.
  v.add("gemm_c_column", "gemm", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<GemmOptions>();
    o.c = c.in(t, {5, 1}), o.alpha = 1.25, o.beta = 0.75;
    return c.b.gemm(c.in(t, {5, 7}), c.in(t, {7, 6}), o);
  });
  v.add("gemm_c_scalar_transposed", "gemm", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<GemmOptions>();
    o.a_transpose = true;
    o.c = c.in(t, {}), o.beta = -1;
    return c.b.gemm(c.in(t, {7, 5}), c.weight(t, {7, 6}), o);
  });
  v.add("gemm_transposed", "gemm", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<GemmOptions>();
    o.a_transpose = o.b_transpose = true;
    o.c = c.in(t, {5, 6}), o.alpha = -1.5, o.beta = 0.25;
    return c.b.gemm(c.in(t, {7, 5}), c.weight(t, {6, 7}), o);
  });
}

void norm_pool_cases(CaseList& v) {
  v.add("batchNormalization_axis1", "batchNormalization", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<BatchNormalizationOptions>();
          o.scale = c.weight(t, {3}), o.bias = c.weight(t, {3}), o.epsilon = 1e-3;
          return c.b.batch_normalization(c.in(t, kShape), c.weight(t, {3}), c.weight(t, {3}, U(0.5, 2)), o);
        });
  v.add("batchNormalization_axis3_inputs", "batchNormalization", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<BatchNormalizationOptions>();
          o.axis = 3, o.bias = c.in(t, {7});
          return c.b.batch_normalization(c.in(t, kShape), c.in(t, {7}), c.in(t, {7}, U(0.5, 2)), o);
        });
  v.add("instanceNormalization_nchw", "instanceNormalization", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<InstanceNormalizationOptions>();
          o.scale = c.weight(t, {3}), o.bias = c.weight(t, {3});
          return c.b.instance_normalization(c.in(t, kShape), o);
        });
  v.add("instanceNormalization_nhwc", "instanceNormalization", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<InstanceNormalizationOptions>();
          o.layout = InputLayout::nhwc, o.scale = c.weight(t, {7}), o.epsilon = 1e-3;
          return c.b.instance_normalization(c.in(t, kShape), o);
        });
  v.add("layerNormalization_default_axes", "layerNormalization", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<LayerNormalizationOptions>();
          o.scale = c.weight(t, {3, 5, 7}), o.bias = c.weight(t, {3, 5, 7});
          return c.b.layer_normalization(c.in(t, kShape), o);
        });
  v.add("layerNormalization_last_axis", "layerNormalization", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<LayerNormalizationOptions>();
          o.axes = std::vector<uint32_t>{2};
          o.scale = c.weight(t, {48}), o.bias = c.weight(t, {48});
          return c.b.layer_normalization(c.in(t, {2, 5, 48}), o);
        });
  v.add("layerNormalization_axes_0_2", "layerNormalization", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<LayerNormalizationOptions>();
          o.axes = std::vector<uint32_t>{0, 2};
          o.scale = c.weight(t, {2, 5}), o.bias = c.weight(t, {2, 5});
          return c.b.layer_normalization(c.in(t, kShape), o);
        });
  v.add("layerNormalization_axes_3_1_no_scale", "layerNormalization", {F32}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<LayerNormalizationOptions>();
          o.axes = std::vector<uint32_t>{3, 1}, o.bias = c.weight(t, {7, 3});
          return c.b.layer_normalization(c.in(t, kShape), o);
        });

  // Pools: both layouts, padding, strides, dilations, ceil rounding, output sizes, global.
  using Pool = Operand (GraphBuilder::*)(const Operand&, const Pool2dOptions&);
  struct PoolOp {
    const char* op;
    Pool fn;
    Tol tol;
    std::vector<DataType> extra_types;
  };
  const PoolOp pools[] = {{"averagePool2d", &GraphBuilder::average_pool2d, Tol::transcendental, {}},
                          {"l2Pool2d", &GraphBuilder::l2_pool2d, Tol::transcendental, {}},
                          {"maxPool2d", &GraphBuilder::max_pool2d, Tol::exact, {U8}}};
  for (const PoolOp& p : pools) {
    Pool fn = p.fn;
    std::vector<DataType> types = {F32, F16};
    types.insert(types.end(), p.extra_types.begin(), p.extra_types.end());
    for (DataType type : types) {
      v.add(std::string(p.op) + "_nchw_3x3_s2_pad", p.op, {type}, p.tol, [fn](CaseBuilder& c, DataType t) {
        auto o = c.opt<Pool2dOptions>();
        o.window_dimensions = {3, 3}, o.strides = {2, 2}, o.padding = {1, 1, 1, 1};
        return (c.b.*fn)(c.in(t, {2, 3, 9, 11}), o);
      });
    }
    v.add(std::string(p.op) + "_nhwc_ceil_asym_pad", p.op, {F32, F16}, p.tol, [fn](CaseBuilder& c, DataType t) {
      auto o = c.opt<Pool2dOptions>();
      // Ceil rounding adds a last, partial window in both dimensions (none of them empty):
      // height (8 - 2 + 1) / 2 + 1 = 4.5, width (10 - 3) / 2 + 1 = 4.5.
      o.layout = InputLayout::nhwc, o.window_dimensions = {2, 3}, o.strides = {2, 2};
      o.padding = {1, 0, 0, 0}, o.output_shape_rounding = RoundingType::ceil;
      return (c.b.*fn)(c.in(t, {2, 8, 10, 5}), o);
    });
    v.add(std::string(p.op) + "_nchw_dilated_sizes", p.op, {F32}, p.tol, [fn](CaseBuilder& c, DataType t) {
      auto o = c.opt<Pool2dOptions>();
      o.window_dimensions = {2, 2}, o.dilations = {2, 2}, o.strides = {2, 2};
      o.output_sizes = {5, 5};  // (10 - 3) / 2 + 1 = 4.5: the ceil, a last partial window
      return (c.b.*fn)(c.in(t, {1, 4, 10, 10}), o);
    });
    v.add(std::string(p.op) + "_global", p.op, {F32, F16}, p.tol, [fn](CaseBuilder& c, DataType t) {
      return (c.b.*fn)(c.in(t, {2, 32, 7, 7}), c.opt<Pool2dOptions>());
    });
  }
}

void shape_cases(CaseList& v) {
  // Data movement: exact in every type.
  v.add("reshape", "reshape", {F32, F16, I64}, Tol::exact,
        [](CaseBuilder& c, DataType t) { return c.b.reshape(c.in(t, kShape), {6, 35}, c.opt()); });
  v.add("transpose_default", "transpose", {F32, F16, I32}, Tol::exact,
        [](CaseBuilder& c, DataType t) { return c.b.transpose(c.in(t, kShape), c.opt<TransposeOptions>()); });
  v.add("transpose_nchw_to_nhwc", "transpose", {F32, F16, U8}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<TransposeOptions>();
    o.permutation = std::vector<uint32_t>{0, 2, 3, 1};
    return c.b.transpose(c.in(t, kShape), o);
  });
  v.add("transpose_2_0_3_1", "transpose", {F32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<TransposeOptions>();
    o.permutation = std::vector<uint32_t>{2, 0, 3, 1};
    return c.b.transpose(c.in(t, kShape), o);
  });
  v.add("concat_axis1", "concat", {F32, F16, I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.concat({c.in(t, {2, 1, 5, 7}), c.in(t, kShape), c.in(t, {2, 4, 5, 7})}, 1, c.opt());
  });
  v.add("concat_axis3", "concat", {F32, F16, U8}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.concat({c.in(t, kShape), c.in(t, {2, 3, 5, 2})}, 3, c.opt());
  });
  v.add("concat_axis0_one_input", "concat", {F32}, Tol::exact,
        [](CaseBuilder& c, DataType t) { return c.b.concat({c.in(t, kShape)}, 0, c.opt()); });
  v.add("split_count_axis1", "split", {F32, F16, I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<SplitOptions>();
    o.axis = 1;
    return c.b.split(c.in(t, kShape), 3, o);
  });
  v.add("split_sizes_axis3", "split", {F32, F16, I64}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<SplitOptions>();
    o.axis = 3;
    return c.b.split(c.in(t, kShape), std::vector<uint32_t>{2, 1, 4}, o);
  });
  v.add("slice", "slice", {F32, F16, I64}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.slice(c.in(t, kShape), {0, 1, 1, 2}, {2, 2, 3, 4}, c.opt<SliceOptions>());
  });
  v.add("slice_strided", "slice", {F32, F16, I8}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<SliceOptions>();
    o.strides = {2, 1, 2, 3};
    return c.b.slice(c.in(t, kShape), {1, 0, 0, 1}, {1, 3, 5, 6}, o);
  });
  // gather: indices in [-size, size) (negative ones count from the end), three index types.
  v.add("gather_axis0_i32_indices", "gather", {F32, F16, I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.gather(c.in(t, kShape), c.in(I32, {2, 4}, Whole(-2, 1)), c.opt<GatherOptions>());
  });
  v.add("gather_axis2_u32_indices", "gather", {F32, F16, U8}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<GatherOptions>();
    o.axis = 2;
    return c.b.gather(c.in(t, kShape), c.in(U32, {3}, Whole(0, 4)), o);
  });
  v.add("gather_axis3_i64_indices", "gather", {F32, F16, I64}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<GatherOptions>();
    o.axis = 3;
    return c.b.gather(c.in(t, kShape), c.in(I64, {2, 2}, Whole(-7, 6)), o);
  });
  v.add("gather_scalar_index", "gather", {F32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<GatherOptions>();
    o.axis = 1;
    return c.b.gather(c.in(t, kShape), c.in(I32, {}, Whole(-3, 2)), o);
  });
  v.add("gather_embedding", "gather", {F32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.gather(c.weight(t, {50, 16}), c.in(I32, {2, 9}, Whole(0, 49)), c.opt<GatherOptions>());
  });
  // gatherElements / gatherND: indices past both ends too (clamped, as gather's).
  v.add("gather_elements_axis1_i32_indices", "gatherElements", {F32, F16, I32}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<GatherOptions>();
          o.axis = 1;
          return c.b.gather_elements(c.in(t, kShape), c.in(I32, {2, 4, 5, 7}, Whole(-4, 3)), o);
        });
  v.add("gather_elements_axis3_i64_indices", "gatherElements", {F32, F16, U8}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<GatherOptions>();
          o.axis = 3;
          return c.b.gather_elements(c.in(t, kShape), c.in(I64, {2, 3, 5, 9}, Whole(-9, 8)), o);
        });
  v.add("gather_nd_2_coordinates_u32", "gatherND", {F32, F16, I8}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.gather_nd(c.in(t, kShape), c.in(U32, {4, 2}, Whole(0, 3)), c.opt());
        });
  v.add("gather_nd_4_coordinates_i64", "gatherND", {F32, F16, I64}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.gather_nd(c.in(t, kShape), c.in(I64, {3, 2, 4}, Whole(-8, 7)), c.opt());
        });
  v.add("gather_nd_embedding_i32", "gatherND", {F32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    return c.b.gather_nd(c.weight(t, {50, 16}), c.in(I32, {2, 9, 1}, Whole(-50, 49)), c.opt());
  });
  // scatterElements / scatterND: random indices repeat and reach past both ends (clamped; the
  // last of repeated indices wins on both backends).
  v.add("scatter_elements_axis3_i32_indices", "scatterElements", {F32, F16, I32}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<ScatterOptions>();
          o.axis = 3;
          return c.b.scatter_elements(c.in(t, kShape), c.in(I32, {2, 3, 5, 4}, Whole(-9, 8)),
                                      c.in(t, {2, 3, 5, 4}), o);
        });
  v.add("scatter_elements_axis0_u32_indices", "scatterElements", {F32, F16, U8}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.scatter_elements(c.in(t, kShape), c.in(U32, {1, 3, 5, 7}, Whole(0, 3)),
                                      c.in(t, {1, 3, 5, 7}), c.opt<ScatterOptions>());
        });
  v.add("scatter_nd_2_coordinates_i64", "scatterND", {F32, F16, I64}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.scatter_nd(c.in(t, kShape), c.in(I64, {3, 2}, Whole(-4, 3)),
                                c.in(t, {3, 5, 7}), c.opt());
        });
  v.add("scatter_nd_4_coordinates_i32", "scatterND", {F32, F16, I8}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.scatter_nd(c.in(t, kShape), c.in(I32, {6, 4}, Whole(-8, 7)), c.in(t, {6}),
                                c.opt());
        });
  // quantizeLinear / dequantizeLinear: the case's type is the float side (input and scale, or
  // scale and output); per-axis and block-wise scales, every quantized type among the cases.
  v.add("quantize_per_axis_i8", "quantizeLinear", {F32, F16}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.quantize_linear(c.in(t, kShape, U(-40, 40)), c.in(t, {1, 3, 1, 1}, U(0.1, 2)),
                                     c.in(I8, {1, 3, 1, 1}), c.opt());
        });
  v.add("quantize_blockwise_u8", "quantizeLinear", {F32, F16}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.quantize_linear(c.in(t, {4, 6, 8}, U(-300, 300)),
                                     c.in(t, {2, 3, 2}, U(0.25, 2)), c.in(U8, {2, 3, 2}), c.opt());
        });
  v.add("quantize_per_tensor_i32", "quantizeLinear", {F32}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.quantize_linear(c.in(t, kShape, U(-1e4, 1e4)), c.in(t, {1, 1, 1, 1}, U(0.01, 1)),
                                     c.in(I32, {1, 1, 1, 1}), c.opt());
        });
  v.add("quantize_per_axis_u32", "quantizeLinear", {F16}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.quantize_linear(c.in(t, kShape, U(-100, 100)), c.in(t, {1, 1, 1, 7}, U(0.1, 1)),
                                     c.in(U32, {1, 1, 1, 7}), c.opt());
        });
  v.add("dequantize_per_axis_u8", "dequantizeLinear", {F32, F16}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.dequantize_linear(c.in(U8, kShape), c.in(t, {1, 3, 1, 7}, U(0.01, 1)),
                                       c.in(U8, {1, 3, 1, 7}), c.opt());
        });
  v.add("dequantize_blockwise_i8_weight", "dequantizeLinear", {F32, F16}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.dequantize_linear(c.in(I8, {16, 64}), c.weight(t, {16, 4}, U(0.001, 0.1)),
                                       c.weight(I8, {16, 4}), c.opt());
        });
  v.add("dequantize_per_tensor_i32", "dequantizeLinear", {F32}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.dequantize_linear(c.in(I32, kShape), c.in(t, {1, 1, 1, 1}, U(0.5, 2)),
                                       c.in(I32, {1, 1, 1, 1}), c.opt());
        });
  v.add("dequantize_blockwise_u32", "dequantizeLinear", {F16}, Tol::exact,
        [](CaseBuilder& c, DataType t) {
          return c.b.dequantize_linear(c.in(U32, {4, 6, 8}), c.in(t, {4, 2, 4}, U(0.01, 1)),
                                       c.in(U32, {4, 2, 4}), c.opt());
        });
  v.add("expand", "expand", {F32, F16, I32}, Tol::exact,
        [](CaseBuilder& c, DataType t) { return c.b.expand(c.in(t, {3, 1, 7}), {2, 3, 5, 7}, c.opt()); });
  v.add("expand_scalar", "expand", {F32}, Tol::exact,
        [](CaseBuilder& c, DataType t) { return c.b.expand(c.in(t, {}), {4, 6}, c.opt()); });
  v.add("pad_constant", "pad", {F32, F16, U8}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<PadOptions>();
    o.value = 2;
    return c.b.pad(c.in(t, kShape), {0, 1, 2, 0}, {1, 0, 1, 3}, o);
  });
  v.add("pad_edge", "pad", {F32, F16, I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<PadOptions>();
    o.mode = PaddingMode::edge;
    return c.b.pad(c.in(t, kShape), {0, 0, 3, 1}, {0, 2, 1, 4}, o);
  });
  v.add("pad_reflection", "pad", {F32, F16}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<PadOptions>();
    o.mode = PaddingMode::reflection;
    return c.b.pad(c.in(t, kShape), {1, 0, 4, 2}, {0, 2, 3, 6}, o);
  });
  v.add("tile", "tile", {F32, F16, I32}, Tol::exact,
        [](CaseBuilder& c, DataType t) { return c.b.tile(c.in(t, kShape), {2, 1, 3, 2}, c.opt()); });
  v.add("reverse_all", "reverse", {F32, F16, I32}, Tol::exact,
        [](CaseBuilder& c, DataType t) { return c.b.reverse(c.in(t, kShape), c.opt<ReverseOptions>()); });
  v.add("reverse_axes_1_3", "reverse", {F32, F16}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<ReverseOptions>();
    o.axes = std::vector<uint32_t>{1, 3};
    return c.b.reverse(c.in(t, kShape), o);
  });
  v.add("reverse_no_axes", "reverse", {F32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<ReverseOptions>();
    o.axes = std::vector<uint32_t>{};
    return c.b.reverse(c.in(t, kShape), o);
  });
  v.add("triangular_upper_diag1", "triangular", {F32, F16, I32}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<TriangularOptions>();
    o.diagonal = 1;
    return c.b.triangular(c.in(t, kShape), o);
  });
  v.add("triangular_lower_diag_minus2", "triangular", {F32, F16}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<TriangularOptions>();
    o.upper = false, o.diagonal = -2;
    return c.b.triangular(c.in(t, kShape), o);
  });
  v.add("resample2d_nearest_up", "resample2d", {F32, F16, U8}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<Resample2dOptions>();
    o.scales = {2.0f, 3.0f};
    return c.b.resample2d(c.in(t, kShape), o);
  });
  v.add("resample2d_nearest_down_nhwc", "resample2d", {F32, F16}, Tol::exact, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<Resample2dOptions>();
    o.axes = {1, 2}, o.sizes = {3, 4};
    return c.b.resample2d(c.in(t, {2, 7, 9, 3}), o);
  });
  v.add("resample2d_linear_sizes", "resample2d", {F32, F16, I8}, Tol::plain, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<Resample2dOptions>();
    o.mode = InterpolationMode::linear, o.sizes = {9, 4};
    return c.b.resample2d(c.in(t, kShape), o);
  });
  v.add("resample2d_linear_scales_nhwc", "resample2d", {F32, F16}, Tol::plain, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<Resample2dOptions>();
    o.mode = InterpolationMode::linear, o.axes = {1, 2}, o.scales = {1.5f, 0.5f};
    return c.b.resample2d(c.in(t, {2, 6, 8, 3}), o);
  });
}

// The recurrent ops run on the GPU as the plan's lowering of them (lower_recurrent: matmuls,
// slices and generated element-wise kernels); the lowered nodes keep the op's label.
// Weights are constants (as in a model), the states inputs.
void recurrent_cases(CaseList& v) {
  using Act = RecurrentNetworkActivation;
  v.add("lstm_default_sequence", "lstm", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<LstmOptions>();
    o.bias = c.weight(t, {1, 32}), o.recurrent_bias = c.weight(t, {1, 32});
    o.return_sequence = true;
    return c.b.lstm(c.in(t, {5, 2, 6}), c.weight(t, {1, 32, 6}), c.weight(t, {1, 32, 8}), 5, 8, o);
  });
  v.add("lstm_both_peephole_states_ifgo", "lstm", {F32, F16}, Tol::transcendental,
        [](CaseBuilder& c, DataType t) {
          auto o = c.opt<LstmOptions>();
          o.direction = RecurrentNetworkDirection::both, o.layout = LstmWeightLayout::ifgo;
          o.bias = c.weight(t, {2, 32}), o.peephole_weight = c.weight(t, {2, 24});
          o.initial_hidden_state = c.in(t, {2, 3, 8}), o.initial_cell_state = c.in(t, {2, 3, 8});
          o.return_sequence = true;
          o.activations = {Act::sigmoid, Act::relu, Act::tanh};
          return c.b.lstm(c.in(t, {4, 3, 6}), c.weight(t, {2, 32, 6}), c.weight(t, {2, 32, 8}), 4, 8, o);
        });
  // silero VAD: hidden 128, one step per call, the states carried in.
  v.add("lstm_silero_step", "lstm", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<LstmOptions>();
    o.bias = c.weight(t, {1, 512}, U(-0.1, 0.1)), o.recurrent_bias = c.weight(t, {1, 512}, U(-0.1, 0.1));
    o.initial_hidden_state = c.in(t, {1, 1, 128}), o.initial_cell_state = c.in(t, {1, 1, 128});
    return c.b.lstm(c.in(t, {1, 1, 128}), c.weight(t, {1, 512, 128}, U(-0.1, 0.1)),
                    c.weight(t, {1, 512, 128}, U(-0.1, 0.1)), 1, 128, o);
  });
  v.add("lstmCell_peephole", "lstmCell", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<LstmCellOptions>();
    o.bias = c.weight(t, {32}), o.recurrent_bias = c.weight(t, {32}), o.peephole_weight = c.weight(t, {24});
    return c.b.lstm_cell(c.in(t, {3, 6}), c.weight(t, {32, 6}), c.weight(t, {32, 8}), c.in(t, {3, 8}),
                         c.in(t, {3, 8}), 8, o);
  });
  v.add("gru_reset_after_sequence", "gru", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<GruOptions>();
    o.bias = c.weight(t, {1, 24}), o.recurrent_bias = c.weight(t, {1, 24});
    o.return_sequence = true;
    return c.b.gru(c.in(t, {5, 2, 6}), c.weight(t, {1, 24, 6}), c.weight(t, {1, 24, 8}), 5, 8, o);
  });
  v.add("gru_both_reset_before_rzn", "gru", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<GruOptions>();
    o.direction = RecurrentNetworkDirection::both, o.layout = GruWeightLayout::rzn;
    o.reset_after = false, o.return_sequence = true;
    o.bias = c.weight(t, {2, 24}), o.recurrent_bias = c.weight(t, {2, 24});
    o.initial_hidden_state = c.in(t, {2, 2, 8});
    return c.b.gru(c.in(t, {4, 2, 6}), c.weight(t, {2, 24, 6}), c.weight(t, {2, 24, 8}), 4, 8, o);
  });
  v.add("gruCell_reset_before", "gruCell", {F32, F16}, Tol::transcendental, [](CaseBuilder& c, DataType t) {
    auto o = c.opt<GruCellOptions>();
    o.reset_after = false, o.bias = c.weight(t, {24});
    return c.b.gru_cell(c.in(t, {3, 6}), c.weight(t, {24, 6}), c.weight(t, {24, 8}), c.in(t, {3, 8}), 8, o);
  });
}

const std::vector<OpCase>& all_cases() {
  static const std::vector<OpCase> cases = [] {
    CaseList v;
    elementwise_cases(v);
    reduction_cases(v);
    conv_cases(v);
    norm_pool_cases(v);
    shape_cases(v);
    recurrent_cases(v);
    return v.take();
  }();
  return cases;
}

// ---- comparison and report ------------------------------------------------------------------

// Compares element by element: integers and exact cases bit for bit (floats by value, so
// that -0 == +0; NaN matches NaN, an infinity the same infinity); others within rtol of
// max(|want|, rms(want)). Returns the worst relative error; adds a failure per bad element
// (the first 5).
double compare(const Tensor& got, const Tensor& want, double rtol, const std::string& what) {
  EXPECT_EQ(got.shape(), want.shape()) << what;
  EXPECT_EQ(got.data_type(), want.data_type()) << what;
  if (got.shape() != want.shape() || got.data_type() != want.data_type()) return INFINITY;
  std::vector<double> g = got.to_doubles(), w = want.to_doubles();
  bool integer = !is_float(want.data_type());
  size_t es = element_size(want.data_type());
  const auto* gb = static_cast<const uint8_t*>(got.data());
  const auto* wb = static_cast<const uint8_t*>(want.data());
  double sq = 0;
  size_t finite = 0;
  for (double x : w)
    if (std::isfinite(x)) sq += x * x, ++finite;
  double rms = finite ? std::sqrt(sq / double(finite)) : 0;
  double worst = 0;
  size_t bad = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    bool same = integer ? std::memcmp(gb + i * es, wb + i * es, es) == 0
                        : g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i]));
    double err = 0;
    if (!same) {
      err = std::isfinite(g[i]) && std::isfinite(w[i])
                ? std::abs(g[i] - w[i]) / std::max({std::abs(w[i]), rms, 1e-30})
                : INFINITY;
      err = std::max(err, std::numeric_limits<double>::min());  // int64 beyond 2^53
    }
    worst = std::max(worst, err);
    if (!same && !(err <= rtol) && bad++ < 5)
      ADD_FAILURE() << what << " element " << i << ": gpu " << g[i] << ", cpu " << w[i]
                    << " (relative error " << err << ", tolerance " << rtol << ")";
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << w.size()
                     << " elements differ; worst relative error " << worst << ", tolerance " << rtol;
  return worst;
}

// Where the op under test ran, from the plan report's "steps:" lines ("[gpu] ..." or
// "[cpu] ..."): the line naming the label and the op (node_name: "op 'label'"), else a line whose
// leading op list ("add" or a generated kernel's "add+relu") names the op. "cpu" if any
// matching step is on the CPU; "none" when no step matches (the op was optimized away, or
// its step's description names neither the op nor the label).
std::string where_ran(const std::string& report, const std::string& op) {
  size_t at = report.find("steps:\n");
  if (at == std::string::npos) return "none";
  std::istringstream lines(report.substr(at + 7));
  std::string line, by_label, by_op;
  auto merge = [](std::string& into, const std::string& side) {
    if (into.empty() || side == "cpu") into = side;
  };
  while (std::getline(lines, line)) {
    size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos || line.compare(start, 1, "[") != 0 || line.size() < start + 6) continue;
    std::string side = line.substr(start + 1, 3);
    if (side != "gpu" && side != "cpu") continue;
    std::string rest = line.substr(start + 6);
    if (rest.find(std::string("'") + kLabel + "'") != std::string::npos &&
        rest.find(op) != std::string::npos) {
      merge(by_label, side);
      continue;
    }
    std::string ops = rest.substr(0, rest.find_first_of(" :'("));
    std::istringstream parts(ops);
    for (std::string part; std::getline(parts, part, '+');)
      if (part == op) merge(by_op, side);
  }
  if (by_label.empty() && by_op.empty()) {
    // An op the plan lowers into others (the recurrent ops: lower_recurrent) has no step of
    // its own: its steps are those carrying its label.
    std::istringstream again(report.substr(at + 7));
    while (std::getline(again, line)) {
      size_t start = line.find_first_not_of(' ');
      if (start == std::string::npos || line.compare(start, 1, "[") != 0 || line.size() < start + 6) continue;
      std::string side = line.substr(start + 1, 3);
      if ((side == "gpu" || side == "cpu") &&
          line.find(std::string("'") + kLabel + "'") != std::string::npos)
        merge(by_label, side);
    }
  }
  return !by_label.empty() ? by_label : !by_op.empty() ? by_op : "none";
}

struct Row {
  std::string name, op, type, where;
  double worst;
  bool passed;
};

std::vector<Row>& rows() {
  static std::vector<Row> r;
  return r;
}

// Prints the summary table once every case has run.
class SummaryPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    if (rows().empty()) return;
    size_t on_gpu = 0, wide = 4;
    for (const Row& r : rows()) {
      on_gpu += r.where == "gpu";
      wide = std::max(wide, r.name.size());
    }
    std::printf("\nGPU vs CPU, every op case (where = the op's step in the CUDA plan; worst = worst relative error):\n");
    std::printf("%-20s | %-*s | %-7s | %-5s | %s\n", "op", int(wide), "case", "dtype", "where", "worst");
    for (const Row& r : rows())
      std::printf("%-20s | %-*s | %-7s | %-5s | %.3g%s\n", r.op.c_str(), int(wide), r.name.c_str(),
                  r.type.c_str(), r.where.c_str(), r.worst, r.passed ? "" : "  FAILED");
    std::printf("[ op coverage ] %zu of %zu op cases ran on the GPU (seed %u: CPPNN_TEST_SEED=%u reproduces)\n",
                on_gpu, rows().size(), base_seed(), base_seed());
    std::fflush(stdout);
  }
};
[[maybe_unused]] ::testing::Environment* const summary_printer = ::testing::AddGlobalTestEnvironment(new SummaryPrinter);

Graph build_case(const OpCase& c, CaseBuilder& cb) {
  std::vector<Operand> outs = c.build(cb);
  std::map<std::string, Operand> named;
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string name = "y";  // appended, not "y" + ...: g++ 12's -Wrestrict misfires on that
    name += std::to_string(i);
    named[name] = outs[i];
  }
  return cb.b.build(named);
}

// ---- tests ----------------------------------------------------------------------------------

class Case : public ::testing::TestWithParam<OpCase> {};

TEST_P(Case, MatchesCpu) {
  REQUIRE_CUDA();
  const OpCase& c = GetParam();
  uint32_t seed = case_seed(c.name);
  SCOPED_TRACE(c.name + ", case seed " + std::to_string(seed) + " (CPPNN_TEST_SEED=" +
               std::to_string(base_seed()) + ")");
  CaseBuilder cb(seed);
  Graph g = build_case(c, cb);
  Row row{c.name, c.op, std::string(to_string(c.type)), "error", INFINITY, false};
  try {
    std::string report = cuda_context().report(g);
    row.where = where_ran(report, c.op);
    // Twice with fresh inputs: nothing of the first compute may stay in the plan's buffers.
    double worst = 0;
    for (uint32_t run = 0; run < 2; ++run) {
      NamedTensors inputs = cb.draw_inputs(seed + run * 0x9E3779B9u);
      NamedTensors want = cpu_context().compute(g, inputs);
      NamedTensors got = cuda_context().compute(g, inputs);
      EXPECT_EQ(got.size(), want.size());
      for (const auto& [name, tensor] : want) {
        if (!got.count(name)) {
          ADD_FAILURE() << "no output " << name;
          worst = INFINITY;
          continue;
        }
        double rtol = rtol_for(c.tol, c.op, c.type, tensor.data_type());
        worst = std::max(worst, compare(got.at(name), tensor, rtol,
                                        c.name + " output " + name + " (run " + std::to_string(run) + ")"));
      }
    }
    row.worst = worst;
    // Every case of the table runs on the GPU: a case that starts falling back is a regression
    // of the backend, even when its values still match.
    EXPECT_NE(row.where, "cpu") << c.name << " ran on the CPU fallback:\n" << report;
    // Not a failure (the values matched), but the table should say "gpu" or "cpu": a step
    // whose report line names neither the op nor the label is a report to fix.
    if (row.where == "none") std::printf("no step of the plan names %s:\n%s", c.op.c_str(), report.c_str());
  } catch (const Error& e) {
    ADD_FAILURE() << c.name << " threw: " << e.what();
  }
  row.passed = !HasFailure();
  rows().push_back(row);
}

INSTANTIATE_TEST_SUITE_P(GpuAllOps, Case, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; });

// Runs without a GPU: a new op of the table without a case fails here, and so does a case
// that does not build a node of the op it names, or an op without float32 and float16
// cases (only the uint8 logical ops have no float form).
TEST(GpuAllOps, EveryOpOfTheOpTableHasACase) {
  using detail::OpId;
  std::map<OpId, std::set<DataType>> types;
  std::set<std::string> names;
  for (const OpCase& c : all_cases()) {
    EXPECT_TRUE(names.insert(c.name).second) << "two cases named " << c.name;
    OpId op = detail::find_op(c.op).value_or(OpId::none);
    EXPECT_NE(detail::OpTable::instance().find(op), nullptr) << c.name << ": no op " << c.op;
    CaseBuilder cb(1);
    Graph g;
    try {
      g = build_case(c, cb);
    } catch (const Error& e) {
      ADD_FAILURE() << c.name << " does not build: " << e.what();
      continue;
    }
    bool found = false;
    for (const detail::Node& node : g.ir().nodes)
      found = found || (op != OpId::none && node.op == op && node.label == kLabel);
    EXPECT_TRUE(found) << c.name << " has no " << c.op << " node labelled " << kLabel;
    types[op].insert(c.type);
  }
  const std::set<OpId> uint8_only = {OpId::logicalAnd, OpId::logicalOr, OpId::logicalXor,
                                     OpId::logicalNot};
  for (const detail::OpInfo& info : detail::all_ops()) {
    OpId op = info.id;
    if (!detail::OpTable::instance().find(op)) continue;  // an internal pseudo-op
    EXPECT_TRUE(types.count(op)) << info.name << " has no case in tests/gpu/test_gpu_all_ops.cpp";
    if (!types.count(op) || uint8_only.count(op)) continue;
    EXPECT_TRUE(types[op].count(F32)) << info.name << " has no float32 case";
    EXPECT_TRUE(types[op].count(F16)) << info.name << " has no float16 case";
  }
}

}  // namespace
}  // namespace cppnn
