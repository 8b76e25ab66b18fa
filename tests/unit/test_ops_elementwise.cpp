// Element-wise ops: binary arithmetic, logical, unary math, activations, clamp, prelu,
// where, and their validation (cast has its own file). References are naive float64 loops
// written here, with broadcasting indexed independently of the kernels.
#include <cmath>
#include <limits>

#include "graph/ir.h"
#include "test_support.h"

namespace cppnn {
namespace {

using testing::default_tolerance;
using testing::expect_close;
using testing::expect_error;
using testing::random_tensor;
using testing::tensor_from_doubles;
using testing::Tolerance;

using OpFn = std::function<Operand(GraphBuilder&, const std::vector<Operand>&)>;

// Fixed names: "x" + std::to_string(i) trips a false GCC 12 -Wrestrict warning.
const std::vector<std::string> kInputNames = {"x0", "x1", "x2"};

// Builds a graph of one op over inputs x0, x1, ... and runs it on the CPU.
Tensor run_op(const std::vector<Tensor>& inputs, const OpFn& op) {
  GraphBuilder b;
  std::vector<Operand> xs;
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = kInputNames.at(i);
    xs.push_back(b.input(name, inputs[i].data_type(), inputs[i].shape()));
    feeds[name] = inputs[i];
  }
  Graph g = b.build({{"y", op(b, xs)}});
  return testing::run_cpu(g, feeds).at("y");
}

// The flat index of `shape` that element i of the broadcast output `out` reads.
size_t source_index(const Dims& shape, const Dims& out, size_t i) {
  size_t index = 0, stride = 1;
  for (size_t d = out.size(); d-- > 0;) {
    size_t coord = i % size_t(out[d]);
    i /= size_t(out[d]);
    if (d + shape.size() < out.size()) continue;
    size_t sd = d + shape.size() - out.size();
    if (shape[sd] != 1) index += coord * stride;
    stride *= size_t(shape[sd]);
  }
  return index;
}

std::string type_name(DataType t) { return std::string(to_string(t)); }

// ---------------------------------------------------------------- binary arithmetic

using BinaryMethod = Operand (GraphBuilder::*)(const Operand&, const Operand&,
                                               const OperatorOptions&);
struct BinaryCase {
  const char* name;
  BinaryMethod method;
  std::function<double(double, double)> ref;
};

struct BroadcastCase {
  Dims a, b, out;
};
const std::vector<BroadcastCase> kBroadcasts = {
    {{2, 3, 5}, {2, 3, 5}, {2, 3, 5}},
    {{2, 3, 5}, {5}, {2, 3, 5}},
    {{4, 1, 3}, {1, 5, 1}, {4, 5, 3}},
    {{7}, {}, {7}},
    {{}, {3, 2}, {3, 2}},
    {{3, 1}, {1, 1, 4}, {1, 3, 4}},
    {{2, 3, 20001}, {3, 1}, {2, 3, 20001}},  // long rows split across threads mid-row
};

// Random values; `integral` rounds float values too (so comparisons meet equal pairs).
Tensor random_input(DataType type, const Dims& shape, std::pair<double, double> range,
                    uint32_t seed, bool integral) {
  Tensor t = random_tensor(type, shape, range.first, range.second, seed);
  if (!integral || !is_float(type)) return t;
  std::vector<double> v = t.to_doubles();
  for (double& e : v) e = std::round(e);
  return tensor_from_doubles(type, shape, v);
}

// Runs op over random a and b of `type` and compares with ref on the stored values.
void check_binary(const char* name, BinaryMethod method,
                  const std::function<double(double, double)>& ref, DataType type,
                  const BroadcastCase& shapes, std::pair<double, double> ra,
                  std::pair<double, double> rb, bool logical, uint32_t seed) {
  Tensor a = random_input(type, shapes.a, ra, seed, logical);
  Tensor b = random_input(type, shapes.b, rb, seed + 7, logical);
  Tensor y =
      run_op({a, b}, [&](GraphBuilder& g, const auto& x) { return (g.*method)(x[0], x[1], {}); });
  std::string what = std::string(name) + " " + type_name(type) + " " + to_string(shapes.a) + " " +
                     to_string(shapes.b);
  ASSERT_EQ(y.shape(), shapes.out) << what;
  ASSERT_EQ(y.data_type(), logical ? DataType::uint8 : type) << what;
  std::vector<double> av = a.to_doubles(), bv = b.to_doubles(), want(y.element_count());
  for (size_t i = 0; i < want.size(); ++i)
    want[i] =
        ref(av[source_index(shapes.a, shapes.out, i)], bv[source_index(shapes.b, shapes.out, i)]);
  expect_close(y, want, logical ? Tolerance{0, 0} : default_tolerance(type), what);
}

bool is_unsigned_type(DataType t) { return !is_signed(t); }

TEST(ElementwiseBinary, AllOpsAllTypesBroadcast) {
  const std::vector<BinaryCase> ops = {
      {"add", &GraphBuilder::add, [](double a, double b) { return a + b; }},
      {"sub", &GraphBuilder::sub, [](double a, double b) { return a - b; }},
      {"mul", &GraphBuilder::mul, [](double a, double b) { return a * b; }},
      {"max", &GraphBuilder::max, [](double a, double b) { return a > b ? a : b; }},
      {"min", &GraphBuilder::min, [](double a, double b) { return a < b ? a : b; }},
  };
  uint32_t seed = 1;
  for (DataType type : kAllDataTypes)
    for (const BinaryCase& op : ops)
      for (const BroadcastCase& shapes : kBroadcasts) {
        // Ranges keep integer results inside every type (sub on unsigned stays >= 0).
        bool u = is_unsigned_type(type);
        std::pair<double, double> ra{u ? 10 : -10, u ? 15 : 10}, rb{u ? 0 : -10, 10};
        check_binary(op.name, op.method, op.ref, type, shapes, ra, rb, false, seed++);
      }
}

TEST(ElementwiseBinary, DivTruncatesIntegersTowardZero) {
  for (DataType type : kAllDataTypes) {
    Dims shape{3, 41};
    Tensor a = random_tensor(type, shape, is_signed(type) ? -100 : 0, 100, 3);
    std::vector<double> bvals(123);
    for (size_t i = 0; i < bvals.size(); ++i)
      bvals[i] = double(i % 7 + 1) * (is_signed(type) && i % 2 ? -0.75 : 1.0);
    if (!is_float(type))
      for (double& v : bvals) v = std::trunc(v) == 0 ? 1 : std::trunc(v);
    Tensor b = tensor_from_doubles(type, shape, bvals);
    Tensor y = run_op({a, b}, [](GraphBuilder& g, const auto& x) { return g.div(x[0], x[1]); });
    std::vector<double> av = a.to_doubles(), bv = b.to_doubles(), want(av.size());
    for (size_t i = 0; i < av.size(); ++i)
      want[i] = is_float(type) ? av[i] / bv[i] : std::trunc(av[i] / bv[i]);
    expect_close(y, want, default_tolerance(type), "div " + type_name(type));
  }
}

TEST(ElementwiseBinary, PowFloatAndInteger) {
  auto ref = [](double a, double b) { return std::pow(a, b); };
  for (DataType type : {DataType::float32, DataType::float16})
    check_binary("pow", &GraphBuilder::pow, ref, type, {{4, 1, 33}, {5, 1}, {4, 5, 33}}, {0.5, 3},
                 {-2, 2}, false, 11);
  for (DataType type : {DataType::int32, DataType::int64, DataType::int8, DataType::uint8,
                        DataType::uint32, DataType::uint64})
    check_binary("pow", &GraphBuilder::pow, ref, type, {{6, 9}, {9}, {6, 9}},
                 {is_signed(type) ? -3.0 : 0.0, 3}, {0, 4}, false, 12);
}

TEST(ElementwiseBinary, IntegerOverflowWrapsAndNaNPropagates) {
  Tensor a = tensor_from_doubles(DataType::int8, {3}, {100, -128, 120});
  Tensor b = tensor_from_doubles(DataType::int8, {3}, {100, -1, 2});
  expect_close(run_op({a, b}, [](GraphBuilder& g, const auto& x) { return g.add(x[0], x[1]); }),
               {-56, 127, 122}, {0, 0}, "int8 add");
  expect_close(run_op({a, b}, [](GraphBuilder& g, const auto& x) { return g.div(x[0], x[1]); }),
               {1, -128, 60}, {0, 0}, "int8 div");
  double nan = std::nan("");
  Tensor f = tensor_from_doubles(DataType::float32, {2}, {nan, 1});
  Tensor h = tensor_from_doubles(DataType::float32, {2}, {2, nan});
  for (BinaryMethod m : {&GraphBuilder::max, &GraphBuilder::min}) {
    std::vector<double> y = run_op({f, h}, [&](GraphBuilder& g, const auto& x) {
                              return (g.*m)(x[0], x[1], {});
                            }).to_doubles();
    EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[1]));
  }
}

// ---------------------------------------------------------------- logical

TEST(ElementwiseLogical, ComparisonsAllTypesBroadcast) {
  const std::vector<BinaryCase> ops = {
      {"equal", &GraphBuilder::equal, [](double a, double b) { return double(a == b); }},
      {"notEqual", &GraphBuilder::not_equal, [](double a, double b) { return double(a != b); }},
      {"greater", &GraphBuilder::greater, [](double a, double b) { return double(a > b); }},
      {"greaterOrEqual", &GraphBuilder::greater_or_equal,
       [](double a, double b) { return double(a >= b); }},
      {"lesser", &GraphBuilder::lesser, [](double a, double b) { return double(a < b); }},
      {"lesserOrEqual", &GraphBuilder::lesser_or_equal,
       [](double a, double b) { return double(a <= b); }},
  };
  uint32_t seed = 100;
  for (DataType type : kAllDataTypes)
    for (const BinaryCase& op : ops)
      for (const BroadcastCase& shapes : kBroadcasts) {
        std::pair<double, double> r{0, 3};
        check_binary(op.name, op.method, op.ref, type, shapes, r, r, true, seed++);
      }
}

TEST(ElementwiseLogical, ComparisonsWithNaN) {
  double nan = std::nan("");
  for (DataType type : {DataType::float32, DataType::float16}) {
    Tensor a = tensor_from_doubles(type, {3}, {nan, 1, nan});
    Tensor b = tensor_from_doubles(type, {3}, {1, nan, nan});
    auto run = [&](BinaryMethod m) {
      return run_op({a, b}, [&](GraphBuilder& g, const auto& x) { return (g.*m)(x[0], x[1], {}); });
    };
    expect_close(run(&GraphBuilder::equal), {0, 0, 0}, {0, 0}, "equal NaN");
    expect_close(run(&GraphBuilder::not_equal), {1, 1, 1}, {0, 0}, "notEqual NaN");
    expect_close(run(&GraphBuilder::greater_or_equal), {0, 0, 0}, {0, 0}, "greaterOrEqual NaN");
    expect_close(run(&GraphBuilder::lesser_or_equal), {0, 0, 0}, {0, 0}, "lesserOrEqual NaN");
  }
}

TEST(ElementwiseLogical, AndOrXorNotTreatNonZeroAsTrue) {
  auto t = [](double v) { return v != 0; };
  const std::vector<BinaryCase> ops = {
      {"logicalAnd", &GraphBuilder::logical_and,
       [&](double a, double b) { return double(t(a) && t(b)); }},
      {"logicalOr", &GraphBuilder::logical_or,
       [&](double a, double b) { return double(t(a) || t(b)); }},
      {"logicalXor", &GraphBuilder::logical_xor,
       [&](double a, double b) { return double(t(a) != t(b)); }},
  };
  uint32_t seed = 300;
  for (const BinaryCase& op : ops)
    for (const BroadcastCase& shapes : kBroadcasts)
      check_binary(op.name, op.method, op.ref, DataType::uint8, shapes, {0, 3}, {0, 3}, true,
                   seed++);
  Tensor a = random_tensor(DataType::uint8, {3, 5, 7}, 0, 4, 9);
  Tensor y = run_op({a}, [](GraphBuilder& g, const auto& x) { return g.logical_not(x[0]); });
  std::vector<double> av = a.to_doubles(), want;
  for (double v : av) want.push_back(v == 0 ? 1 : 0);
  EXPECT_EQ(y.data_type(), DataType::uint8);
  expect_close(y, want, {0, 0}, "logicalNot");
}

// ---------------------------------------------------------------- unary and activations

using UnaryFn = std::function<Operand(GraphBuilder&, const Operand&)>;
struct UnaryCase {
  const char* name;
  UnaryFn build;
  std::function<double(double)> ref;
  double lo, hi;
  std::vector<DataType> types;
};

const std::vector<DataType> kFloats = {DataType::float32, DataType::float16};
const std::vector<DataType> kSigned = {DataType::float32, DataType::float16, DataType::int32,
                                       DataType::int64, DataType::int8};

void check_unary(const UnaryCase& c) {
  uint32_t seed = 500;
  for (DataType type : c.types)
    for (const Dims& shape : {Dims{}, Dims{3, 7, 11}, Dims{5, 4099}}) {
      double lo = c.lo, hi = c.hi;
      if (!is_float(type)) lo = std::max(lo, -100.0), hi = std::min(hi, 100.0);
      Tensor x = random_tensor(type, shape, lo, hi, seed++);
      Tensor y = run_op({x}, [&](GraphBuilder& g, const auto& in) { return c.build(g, in[0]); });
      std::string what = std::string(c.name) + " " + type_name(type) + " " + to_string(shape);
      ASSERT_EQ(y.shape(), shape) << what;
      ASSERT_EQ(y.data_type(), type) << what;
      std::vector<double> want;
      for (double v : x.to_doubles()) want.push_back(c.ref(v));
      expect_close(y, want, default_tolerance(type), what);
    }
}

#define METHOD(m) [](GraphBuilder& g, const Operand& x) { return g.m(x); }

TEST(ElementwiseUnary, MathOps) {
  const std::vector<UnaryCase> cases = {
      {"abs", METHOD(abs), [](double v) { return std::abs(v); }, -5, 5, kSigned},
      {"neg", METHOD(neg), [](double v) { return -v; }, -5, 5, kSigned},
      {"sign", METHOD(sign), [](double v) { return double((v > 0) - (v < 0)); }, -3, 3, kSigned},
      {"ceil", METHOD(ceil), [](double v) { return std::ceil(v); }, -5, 5, kFloats},
      {"floor", METHOD(floor), [](double v) { return std::floor(v); }, -5, 5, kFloats},
      {"cos", METHOD(cos), [](double v) { return std::cos(v); }, -6, 6, kFloats},
      {"sin", METHOD(sin), [](double v) { return std::sin(v); }, -6, 6, kFloats},
      {"tan", METHOD(tan), [](double v) { return std::tan(v); }, -1.2, 1.2, kFloats},
      {"erf", METHOD(erf), [](double v) { return std::erf(v); }, -3, 3, kFloats},
      {"exp", METHOD(exp), [](double v) { return std::exp(v); }, -5, 5, kFloats},
      {"log", METHOD(log), [](double v) { return std::log(v); }, 0.01, 10, kFloats},
      {"sqrt", METHOD(sqrt), [](double v) { return std::sqrt(v); }, 0, 10, kFloats},
      {"reciprocal", METHOD(reciprocal), [](double v) { return 1 / v; }, 0.1, 5, kFloats},
      {"identity", METHOD(identity), [](double v) { return v; }, 0, 100,
       std::vector<DataType>(std::begin(kAllDataTypes), std::end(kAllDataTypes))},
  };
  for (const UnaryCase& c : cases) check_unary(c);
}

TEST(ElementwiseUnary, SpecialValues) {
  double nan = std::nan(""), inf = INFINITY;
  Tensor x = tensor_from_doubles(DataType::float32, {6}, {-0.0, 0, -2, nan, inf, -inf});
  auto run = [&](const UnaryFn& f) {
    return run_op({x}, [&](GraphBuilder& g, const auto& in) { return f(g, in[0]); }).to_doubles();
  };
  std::vector<double> s = run(METHOD(sign));
  EXPECT_EQ(s, (std::vector<double>{0, 0, -1, 0, 1, -1}));  // the spec's "0 otherwise" for NaN
  std::vector<double> a = run(METHOD(abs));
  EXPECT_FALSE(std::signbit(a[0]));
  EXPECT_TRUE(std::isnan(run(METHOD(relu))[3]));
  Tensor i = tensor_from_doubles(DataType::int8, {2}, {-128, -5});
  expect_close(run_op({i}, [](GraphBuilder& g, const auto& in) { return g.abs(in[0]); }), {-128, 5},
               {0, 0}, "int8 abs wraps");
}

double sigmoid_ref(double v) { return 1 / (1 + std::exp(-v)); }

TEST(ElementwiseActivation, AllActivations) {
  const std::vector<UnaryCase> cases = {
      {"relu", METHOD(relu), [](double v) { return v > 0 ? v : 0; }, -5, 5, kSigned},
      {"sigmoid", METHOD(sigmoid), sigmoid_ref, -10, 10, kFloats},
      {"tanh", METHOD(tanh), [](double v) { return std::tanh(v); }, -5, 5, kFloats},
      {"gelu", METHOD(gelu), [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); },
       -5, 5, kFloats},
      {"softplus", METHOD(softplus), [](double v) { return std::log(1 + std::exp(v)); }, -20, 20,
       kFloats},
      {"softsign", METHOD(softsign), [](double v) { return v / (1 + std::abs(v)); }, -10, 10,
       kFloats},
      {"hardSwish", METHOD(hard_swish),
       [](double v) { return v * std::max(0.0, std::min(6.0, v + 3)) / 6; }, -5, 5, kFloats},
      {"elu",
       [](GraphBuilder& g, const Operand& x) {
         return g.elu(x, {{}, 0.7});
       },
       [](double v) { return v > 0 ? v : 0.7 * (std::exp(v) - 1); }, -4, 4, kFloats},
      {"leakyRelu",
       [](GraphBuilder& g, const Operand& x) {
         return g.leaky_relu(x, {{}, 0.2});
       },
       [](double v) { return v > 0 ? v : 0.2 * v; }, -4, 4, kFloats},
      {"hardSigmoid",
       [](GraphBuilder& g, const Operand& x) {
         return g.hard_sigmoid(x, {{}, 0.3, 0.4});
       },
       [](double v) { return std::max(0.0, std::min(1.0, 0.3 * v + 0.4)); }, -5, 5, kFloats},
      {"linear",
       [](GraphBuilder& g, const Operand& x) {
         return g.linear(x, {{}, 1.5, -0.25});
       },
       [](double v) { return 1.5 * v - 0.25; }, -5, 5, kFloats},
  };
  for (const UnaryCase& c : cases) check_unary(c);
}

TEST(ElementwiseActivation, DefaultOptionsAreFilledAndUsed) {
  const std::vector<UnaryCase> cases = {
      {"elu", METHOD(elu), [](double v) { return v > 0 ? v : std::exp(v) - 1; }, -4, 4, kFloats},
      {"leakyRelu", METHOD(leaky_relu), [](double v) { return v > 0 ? v : 0.01 * v; }, -4, 4,
       kFloats},
      {"hardSigmoid", METHOD(hard_sigmoid),
       [](double v) { return std::max(0.0, std::min(1.0, 0.2 * v + 0.5)); }, -5, 5, kFloats},
      {"linear", METHOD(linear), [](double v) { return v; }, -5, 5, kFloats},
  };
  for (const UnaryCase& c : cases) check_unary(c);
  GraphBuilder b;
  Operand x = b.input("x", DataType::float16, {2});
  Graph g = b.build({{"e", b.elu(x)}, {"h", b.hard_sigmoid(x)}, {"c", b.clamp(x)}});
  std::map<std::string, const detail::Node*> nodes;
  for (const detail::Node& n : g.ir().nodes) nodes[detail::op_name(n.op)] = &n;
  EXPECT_EQ(nodes.at("elu")->attrs.f("alpha"), 1.0);
  // Options are cast to the input's type: 0.2 becomes the nearest float16.
  EXPECT_EQ(nodes.at("hardSigmoid")->attrs.f("alpha"), double(half_to_float(float_to_half(0.2f))));
  EXPECT_EQ(nodes.at("hardSigmoid")->attrs.f("beta"), 0.5);
  EXPECT_EQ(nodes.at("clamp")->attrs.f("minValue"), -INFINITY);
  EXPECT_EQ(nodes.at("clamp")->attrs.f("maxValue"), INFINITY);
}

TEST(ElementwiseActivation, SoftplusAndSigmoidDoNotOverflow) {
  Tensor x = tensor_from_doubles(DataType::float32, {4}, {100, -100, 88.8, -88.8});
  expect_close(run_op({x}, [](GraphBuilder& g, const auto& in) { return g.softplus(in[0]); }),
               {100, std::log1p(std::exp(-100.0)), 88.8, std::log1p(std::exp(-88.8))},
               {1e-30, 1e-5}, "softplus");
  expect_close(run_op({x}, [](GraphBuilder& g, const auto& in) { return g.sigmoid(in[0]); }),
               {1, sigmoid_ref(-100), 1, sigmoid_ref(-88.8)}, {1e-30, 1e-5}, "sigmoid");
}

TEST(ElementwiseClamp, AllTypesAndBounds) {
  uint32_t seed = 700;
  for (DataType type : kAllDataTypes) {
    bool u = !is_signed(type);
    double lo = is_float(type) ? -1.5 : (u ? 3 : -5), hi = is_float(type) ? 2.25 : 9;
    Tensor x = random_tensor(type, {3, 4, 1001}, u ? 0 : -20, 20, seed++);
    struct Bounds {
      std::optional<double> min, max;
    };
    for (Bounds bounds : {Bounds{lo, hi}, Bounds{lo, {}}, Bounds{{}, hi}, Bounds{{}, {}}}) {
      ClampOptions o;
      o.min_value = bounds.min;
      o.max_value = bounds.max;
      Tensor y = run_op({x}, [&](GraphBuilder& g, const auto& in) { return g.clamp(in[0], o); });
      std::vector<double> want;
      for (double v : x.to_doubles())
        want.push_back(
            std::min(std::max(v, bounds.min.value_or(-INFINITY)), bounds.max.value_or(INFINITY)));
      expect_close(y, want, default_tolerance(type), "clamp " + type_name(type));
    }
  }
}

TEST(ElementwiseClamp, BoundsAreCastToTheInputType) {
  // int32: 2.5 rounds to 2 (ties to even) and 3.5 to 4, as the spec's cast does; a minimum
  // above the maximum only before the cast is accepted.
  Tensor x = tensor_from_doubles(DataType::int32, {4}, {1, 3, 5, 2});
  ClampOptions o;
  o.min_value = 2.5;
  o.max_value = 3.5;
  expect_close(run_op({x}, [&](GraphBuilder& g, const auto& in) { return g.clamp(in[0], o); }),
               {2, 3, 4, 2}, {0, 0}, "clamp int32");
  o.min_value = 2.4;
  o.max_value = 2.2;
  GraphBuilder b;
  Operand i = b.input("i", DataType::int32, {4});
  EXPECT_NO_THROW(b.clamp(i, o));
  Operand f = b.input("f", DataType::float32, {4});
  expect_error([&] { b.clamp(f, o); }, ErrorKind::TypeError, "'minValue' (2.4) is greater than");
  Tensor u = tensor_from_doubles(DataType::uint8, {3}, {0, 100, 255});
  o.min_value = -7;    // casts to 0
  o.max_value = 1000;  // casts to 255
  expect_close(run_op({u}, [&](GraphBuilder& g, const auto& in) { return g.clamp(in[0], o); }),
               {0, 100, 255}, {0, 0}, "clamp uint8 saturated bounds");
}

TEST(ElementwisePrelu, TypesAndBidirectionalBroadcast) {
  const std::vector<BroadcastCase> shapes = {{{2, 3, 4, 5}, {3, 1, 1}, {2, 3, 4, 5}},
                                             {{2, 3, 4, 5}, {5}, {2, 3, 4, 5}},
                                             {{6, 7}, {}, {6, 7}},
                                             {{3, 1}, {1, 4}, {3, 4}},
                                             {{4, 40000}, {4, 1}, {4, 40000}}};
  auto ref = [](double x, double s) { return x < 0 ? x * s : x; };
  uint32_t seed = 900;
  for (DataType type : kSigned)
    for (const BroadcastCase& s : shapes)
      check_binary("prelu", &GraphBuilder::prelu, ref, type, s, {-9, 9}, {-3, 3}, false, seed++);
}

// ---------------------------------------------------------------- where

TEST(ElementwiseWhere, AllValueTypesBroadcast) {
  struct Shapes {
    Dims c, t, f, out;
  };
  const std::vector<Shapes> cases = {{{2, 3, 4}, {2, 3, 4}, {2, 3, 4}, {2, 3, 4}},
                                     {{2, 1, 4}, {3, 1}, {4}, {2, 3, 4}},
                                     {{}, {5}, {1, 5}, {1, 5}},
                                     {{3, 20000}, {1}, {3, 20000}, {3, 20000}},
                                     {{7, 1}, {}, {}, {7, 1}}};
  uint32_t seed = 1100;
  for (DataType type : kAllDataTypes)
    for (const Shapes& s : cases) {
      Tensor c = random_tensor(DataType::uint8, s.c, 0, 3, seed++);
      Tensor t = random_tensor(type, s.t, 0, 50, seed++);
      Tensor f = random_tensor(type, s.f, 51, 100, seed++);
      Tensor y = run_op({c, t, f},
                        [](GraphBuilder& g, const auto& x) { return g.where(x[0], x[1], x[2]); });
      std::string what = "where " + type_name(type) + " " + to_string(s.out);
      ASSERT_EQ(y.shape(), s.out) << what;
      ASSERT_EQ(y.data_type(), type) << what;
      std::vector<double> cv = c.to_doubles(), tv = t.to_doubles(), fv = f.to_doubles(),
                          want(y.element_count());
      for (size_t i = 0; i < want.size(); ++i)
        want[i] = cv[source_index(s.c, s.out, i)] != 0 ? tv[source_index(s.t, s.out, i)]
                                                       : fv[source_index(s.f, s.out, i)];
      expect_close(y, want, {0, 0}, what);
    }
}

// ---------------------------------------------------------------- validation

TEST(ElementwiseErrors, DataTypesOutsideTheSpecTablesAreRejected) {
  GraphBuilder b;
  Operand f32 = b.input("f32", DataType::float32, {2, 3});
  Operand i32 = b.input("i32", DataType::int32, {2, 3});
  Operand u8 = b.input("u8", DataType::uint8, {2, 3});
  Operand u32 = b.input("u32", DataType::uint32, {2, 3});
  expect_error([&] { b.exp(i32, {"my_exp"}); }, ErrorKind::TypeError,
               "exp 'my_exp': operand 'input' has data type int32; allowed: float32, float16");
  expect_error([&] { b.abs(u8); }, ErrorKind::TypeError, "data type uint8");
  expect_error([&] { b.neg(u32); }, ErrorKind::TypeError, "data type uint32");
  expect_error([&] { b.relu(u8); }, ErrorKind::TypeError, "operand 'input' has data type uint8");
  expect_error([&] { b.gelu(i32); }, ErrorKind::TypeError, "gelu");
  expect_error([&] { b.elu(i32); }, ErrorKind::TypeError, "data type int32");
  expect_error([&] { b.logical_and(f32, f32); }, ErrorKind::TypeError,
               "operand 'a' has data type float32; allowed: uint8");
  expect_error([&] { b.logical_not(i32); }, ErrorKind::TypeError, "logicalNot");
  expect_error([&] { b.equal(f32, i32); }, ErrorKind::TypeError, "operand 'b' has data type int32");
  expect_error([&] { b.sub(u8, i32); }, ErrorKind::TypeError, "must match");
  expect_error([&] { b.prelu(u8, u8); }, ErrorKind::TypeError, "data type uint8");
  expect_error([&] { b.prelu(f32, i32); }, ErrorKind::TypeError, "operand 'slope'");
  expect_error([&] { b.where(i32, f32, f32); }, ErrorKind::TypeError,
               "operand 'condition' has data type int32; allowed: uint8");
  expect_error([&] { b.where(u8, f32, i32); }, ErrorKind::TypeError, "operand 'falseValue'");
  // Ops of "any" type accept every type.
  for (Operand x : {f32, i32, u8, u32}) {
    EXPECT_NO_THROW(b.identity(x));
    EXPECT_NO_THROW(b.clamp(x));
    EXPECT_NO_THROW(b.greater(x, x));
    EXPECT_NO_THROW(b.pow(x, x));
  }
}

TEST(ElementwiseErrors, ShapesThatDoNotBroadcastAreRejected) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3});
  Operand y = b.input("y", DataType::float32, {4});
  Operand c = b.input("c", DataType::uint8, {5, 1, 1});
  Operand c2 = b.input("c2", DataType::uint8, {2});
  expect_error([&] { b.mul(x, y); }, ErrorKind::TypeError, "not broadcastable");
  expect_error([&] { b.greater(x, y); }, ErrorKind::TypeError, "[2, 3] and [4]");
  expect_error([&] { b.prelu(x, y); }, ErrorKind::TypeError, "not broadcastable");
  expect_error([&] { b.where(c, x, y); }, ErrorKind::TypeError, "not broadcastable");
  expect_error([&] { b.where(c2, x, x); }, ErrorKind::TypeError, "[2] and [2, 3]");
  EXPECT_EQ(b.where(c, x, x).shape(), (Dims{5, 2, 3}));
}

TEST(ElementwiseErrors, BadOptionsAreRejectedAndTheBuilderKeepsWorking) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3});
  ClampOptions o;
  o.min_value = 3;
  o.max_value = 1;
  expect_error([&] { b.clamp(x, o); }, ErrorKind::TypeError,
               "'minValue' (3) is greater than 'maxValue' (1)");
  expect_error([&] { b.elu(x, {{}, NAN}); }, ErrorKind::TypeError, "'alpha' must be a finite");
  expect_error([&] { b.linear(x, {{}, 1, INFINITY}); }, ErrorKind::TypeError, "'beta'");
  detail::Attrs attrs;
  attrs.set("dataType", std::string("float64"));
  expect_error([&] { detail::add_op(b, detail::OpId::cast, {x}, attrs, ""); }, ErrorKind::TypeError, "float64");
  expect_error([&] { detail::add_op(b, detail::OpId::cast, {x}, {}, ""); }, ErrorKind::TypeError,
               "'dataType' is required");
  // After the failures the builder still builds and computes a graph.
  o.min_value = -1;
  o.max_value = 1;
  Operand y = b.cast(b.clamp(b.add(x, x), o), DataType::int32);
  Graph g = b.build({{"y", y}});
  Tensor in = tensor_from_doubles(DataType::float32, {2, 3}, {-3, -0.2, 0.3, 0.45, 2, 0});
  expect_close(testing::run_cpu(g, {{"x", in}}).at("y"), {-1, 0, 0, 0, 1, 0}, {0, 0}, "chain");
}

}  // namespace
}  // namespace cppnn

namespace cppnn {
namespace {

// hardSigmoid is max(min(alpha * x + beta, 1), 0) with NaN-propagating min and max: a NaN
// input gives NaN (the GPU's saturating clamp once gave 0, the CPU's std::min gave 1).
TEST(ElementwiseActivation, HardSigmoidKeepsNaN) {
  for (DataType type : {DataType::float32, DataType::float16}) {
    GraphBuilder b;
    Operand x = b.input("x", type, {4});
    Graph g = b.build({{"y", b.hard_sigmoid(x)}});
    Tensor in = testing::tensor_from_doubles(type, {4}, {std::nan(""), -100.0, 0.0, 100.0});
    testing::expect_close(testing::run_cpu(g, {{"x", in}}).at("y"), {std::nan(""), 0, 0.5, 1},
                          {0, 0}, std::string(to_string(type)));
  }
}

}  // namespace
}  // namespace cppnn
