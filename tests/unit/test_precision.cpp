// Engine precision float16 (src/compiler/precision.cpp): the float32 interface stays, the
// inside is float16, reductions stay float32, constants are clamped, and values match
// float64 references within float16 tolerances on the CPU backend.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "cppnn/cppnn.h"
#include "engine_test_model.h"
#include "graph/ir.h"
#include "test_support.h"

namespace cppnn {
namespace {

using testing::engine_test_reference;
using testing::expect_close;
using testing::make_engine_test_model;
using testing::random_tensor;
using testing::run_cpu;

constexpr DataType f32 = DataType::float32;
constexpr DataType f16 = DataType::float16;

Engine build16(const Graph& g) {
  EngineBuildOptions o;
  o.precision = Precision::float16;
  return Engine::build(g, o);
}

// float16 keeps 11 significant bits: 2^-11 relative per rounding, a few roundings deep.
constexpr testing::Tolerance kHalf{1e-2, 1e-2};

TEST(Float16Engine, InterfaceStaysFloat32AndTheInsideIsFloat16) {
  auto m = make_engine_test_model();
  Engine e = build16(m.graph);
  EXPECT_EQ(e.options().precision, Precision::float16);
  const detail::GraphIR& ir = e.graph().ir();
  EXPECT_EQ(ir.desc(ir.inputs.at("x")).data_type, f32);
  EXPECT_EQ(ir.desc(ir.outputs.at("soft")).data_type, f32);
  EXPECT_EQ(ir.desc(ir.outputs.at("part")).data_type, f32);
  EXPECT_EQ(ir.desc(ir.outputs.at("ln16")).data_type, f16);  // was float16 already
  std::set<detail::OpId> f32_ops;
  size_t f16_nodes = 0;
  for (const auto& node : ir.nodes) {
    bool any32 = false;
    for (auto id : node.outputs) any32 = any32 || ir.desc(id).data_type == f32;
    if (any32) {
      f32_ops.insert(node.op);
    } else {
      ++f16_nodes;
    }
  }
  // Only the casts back to the float32 outputs and the float32 reduction produce float32.
  for (detail::OpId op : f32_ops)
    EXPECT_TRUE(op == detail::OpId::cast || op == detail::OpId::reduceMean) << detail::op_name(op);
  EXPECT_GT(f16_nodes, 5u);
  for (const auto& operand : ir.operands) {
    if (operand.role == detail::OperandRole::constant) {
      EXPECT_EQ(operand.desc.data_type, f16) << "a float32 constant survived";
    }
  }
}

TEST(Float16Engine, ValuesMatchFloat64WithinHalfTolerance) {
  auto m = make_engine_test_model();
  Engine e = Engine::from_bytes(build16(m.graph).to_bytes());  // and through the file
  Tensor x = random_tensor(f32, {2, 3, 4, 5}, -2.0, 2.0, 11);
  NamedTensors out = run_cpu(e.graph(), {{"x", x}});
  auto want = engine_test_reference(m, x.to_doubles());
  for (const char* name : {"soft", "part", "ln16"}) expect_close(out.at(name), want.at(name), kHalf, name);
}

TEST(Float16Engine, WithoutKeepIoTypesTheInterfaceIsFloat16) {
  auto m = make_engine_test_model();
  EngineBuildOptions o;
  o.precision = Precision::float16;
  o.keep_io_types = false;
  Engine built = Engine::build(m.graph, o);
  EXPECT_FALSE(built.options().keep_io_types);
  Engine e = Engine::from_bytes(built.to_bytes());  // not a file field: read from the graph
  EXPECT_FALSE(e.options().keep_io_types);
  EXPECT_TRUE(build16(m.graph).options().keep_io_types);
  const detail::GraphIR& ir = e.graph().ir();
  EXPECT_EQ(ir.desc(ir.inputs.at("x")).data_type, f16);
  for (const auto& [name, id] : ir.outputs) EXPECT_EQ(ir.desc(id).data_type, f16) << name;
  // No cast reads an input, and fewer casts than behind a float32 interface (the input's
  // and the float32 outputs' are gone; a reduction's float32 result still comes back).
  auto casts = [](const detail::GraphIR& g) {
    size_t n = 0;
    for (const auto& node : g.nodes) n += node.op == detail::OpId::cast;
    return n;
  };
  for (const auto& node : ir.nodes) {
    if (node.op != detail::OpId::cast) continue;
    for (auto id : node.inputs) EXPECT_NE(ir.operands[size_t(id)].role, detail::OperandRole::input);
  }
  EXPECT_LT(casts(ir), casts(build16(m.graph).graph().ir()));
  // The values: the float16 input (rounded) against float64 on the rounded values.
  Tensor x = random_tensor(f16, {2, 3, 4, 5}, -2.0, 2.0, 11);
  NamedTensors out = run_cpu(e.graph(), {{"x", x}});
  auto want = engine_test_reference(m, x.to_doubles());
  for (const char* name : {"soft", "part", "ln16"}) {
    EXPECT_EQ(out.at(name).data_type(), f16) << name;
    expect_close(out.at(name), want.at(name), kHalf, name);
  }
}

TEST(Float16Engine, KeepIoTypesFalseNeedsFloat16) {
  auto m = make_engine_test_model();
  EngineBuildOptions o;
  o.keep_io_types = false;
  // A float16 engine's graph (float32 interface, lowered already) cannot change its types.
  o.precision = Precision::float16;
  EXPECT_THROW(Engine::build(build16(m.graph).graph(), o), Error);
  for (Precision p : {Precision::float32, Precision::bfloat16}) {
    o.precision = p;
    try {
      Engine::build(m.graph, o);
      ADD_FAILURE() << "keep_io_types false was accepted with " << to_string(p);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::TypeError);
      EXPECT_NE(std::string(e.what()).find("keep_io_types"), std::string::npos) << e.what();
    }
  }
}

TEST(Float16Engine, KeepIoTypesFalseWithAReductionOutput) {
  // An output straight from a float32 reduction: float16 at the interface, summed in
  // float32 (4096 x 30 = 122880 is past float16's range, clamped to inf when it comes back:
  // the sum of the second row is what fits).
  GraphBuilder b;
  Operand x = b.input("x", f32, {2, 4096});
  ReduceOptions r;
  r.axes = std::vector<uint32_t>{1};
  Operand sum = b.reduce_sum(x, r);
  Operand mean = b.reduce_mean(x, r);
  Graph g = b.build({{"sum", sum}, {"mean", mean}});
  EngineBuildOptions o;
  o.precision = Precision::float16;
  o.keep_io_types = false;
  Engine e = Engine::build(g, o);
  const detail::GraphIR& ir = e.graph().ir();
  for (const auto& [name, id] : ir.outputs) EXPECT_EQ(ir.desc(id).data_type, f16) << name;
  std::vector<double> xv(2 * 4096, 30.0);
  for (size_t i = 4096; i < xv.size(); ++i) xv[i] = -double(i % 5);
  NamedTensors out = run_cpu(e.graph(), {{"x", testing::tensor_from_doubles(f16, {2, 4096}, xv)}});
  double s1 = 0;
  for (size_t i = 4096; i < xv.size(); ++i) s1 += xv[i];
  std::vector<double> sum_got = out.at("sum").to_doubles();
  EXPECT_TRUE(std::isinf(sum_got[0]) && sum_got[0] > 0) << sum_got[0];
  EXPECT_NEAR(sum_got[1], s1, std::abs(s1) * 1e-2);
  expect_close(out.at("mean"), {30.0, s1 / 4096}, kHalf, "mean");  // no overflow on the way
}

TEST(Float16Engine, WeightsTakeHalfTheBytes) {
  GraphBuilder b;
  Operand x = b.input("x", f32, {4, 256});
  Operand w = b.constant(random_tensor(f32, {256, 256}, -0.1, 0.1, 3));
  Graph g = b.build({{"y", b.relu(b.matmul(x, w))}});
  Engine e32 = Engine::build(g), e16 = build16(g);
  EXPECT_LT(double(e16.byte_size()), 0.6 * double(e32.byte_size()));
  EXPECT_NE(e16.hash(), e32.hash());
  Tensor xv = random_tensor(f32, {4, 256}, -1, 1, 4);
  Tensor got = run_cpu(e16.graph(), {{"x", xv}}).at("y");
  Tensor want = run_cpu(g, {{"x", xv}}).at("y");
  ASSERT_EQ(got.data_type(), f32);
  expect_close(got, want.to_doubles(), kHalf, "y");
}

TEST(Float16Engine, HugeConstantsClampInsteadOfMakingNaN) {
  // BERT-style additive mask: (1 - mask) * float32 lowest. In float16 the constant would be
  // -inf and 0 * -inf NaN; clamped to -65504 the kept positions stay exact.
  GraphBuilder b;
  Operand scores = b.input("scores", f32, {2, 8});
  Operand mask = b.input("mask", f32, {2, 8});
  Tensor lowest = Tensor::from<float>(f32, {1}, {-3.4028234e38f});
  Operand one = b.constant(Tensor::from<float>(f32, {1}, {1.0f}));
  Operand masked = b.add(scores, b.mul(b.sub(one, mask), b.constant(lowest)));
  Graph g = b.build({{"p", b.softmax(masked, 1)}});
  Tensor s = random_tensor(f32, {2, 8}, -3, 3, 5);
  std::vector<float> mv(16, 1.0f);
  mv[6] = mv[7] = mv[15] = 0.0f;
  Tensor mt = Tensor::from<float>(f32, {2, 8}, mv);
  Tensor got = run_cpu(build16(g).graph(), {{"scores", s}, {"mask", mt}}).at("p");
  std::vector<double> sv = s.to_doubles(), want(16);
  for (int r = 0; r < 2; ++r) {
    double mx = -INFINITY, sum = 0;
    for (int c = 0; c < 8; ++c) if (mv[size_t(r * 8 + c)] != 0) mx = std::max(mx, sv[size_t(r * 8 + c)]);
    for (int c = 0; c < 8; ++c) if (mv[size_t(r * 8 + c)] != 0) sum += std::exp(sv[size_t(r * 8 + c)] - mx);
    for (int c = 0; c < 8; ++c)
      want[size_t(r * 8 + c)] = mv[size_t(r * 8 + c)] != 0 ? std::exp(sv[size_t(r * 8 + c)] - mx) / sum : 0.0;
  }
  expect_close(got, want, kHalf, "masked softmax");
}

TEST(Float16Engine, ReductionsStayFloat32) {
  // 4096 x 30 = 122880 overflows float16 (max 65504); a float32 reduction does not.
  GraphBuilder b;
  Operand x = b.input("x", f32, {2, 4096});
  ReduceOptions o;
  o.axes = std::vector<uint32_t>{1};
  Operand sum = b.reduce_sum(x, o);
  Operand mean = b.reduce_mean(b.mul(x, x), o);  // the product runs in float16 first
  // (A float16 op after the sum would see +inf in the first row: float16's range is the
  // user's to respect once a value leaves the reduction.)
  Graph g = b.build({{"sum", sum}, {"mean", mean}});
  std::vector<float> xv(2 * 4096, 30.0f);
  for (size_t i = 4096; i < xv.size(); ++i) xv[i] = -float(i % 7);
  NamedTensors out = run_cpu(build16(g).graph(), {{"x", Tensor::from<float>(f32, {2, 4096}, xv)}});
  double s1 = 0, q1 = 0;
  for (size_t i = 4096; i < xv.size(); ++i) s1 += xv[i], q1 += double(xv[i]) * xv[i];
  expect_close(out.at("sum"), {122880.0, s1}, kHalf, "sum");
  expect_close(out.at("mean"), {900.0, q1 / 4096}, kHalf, "mean");
}

TEST(Float16Engine, IntegerOperandsAreUntouched) {
  GraphBuilder b;
  Operand x = b.input("x", f32, {3});
  Operand i = b.input("i", DataType::int32, {3});
  Operand xi = b.cast(i, f32);
  Graph g = b.build({{"x", b.identity(x)}, {"sum", b.add(x, xi)}, {"i2", b.add(i, i)}});
  Engine e = build16(g);
  const detail::GraphIR& ir = e.graph().ir();
  EXPECT_EQ(ir.desc(ir.outputs.at("x")).data_type, f32);
  EXPECT_EQ(ir.desc(ir.outputs.at("i2")).data_type, DataType::int32);
  NamedTensors out = run_cpu(e.graph(), {{"x", Tensor::from<float>(f32, {3}, {0.1f, 1000.25f, -2.5f})},
                                         {"i", Tensor::from<int32_t>(DataType::int32, {3}, {1, 2, 70000})}});
  // identity in float16: 0.1 and 1000.25 round to float16 (1000.25 -> 1000).
  expect_close(out.at("x"), {0.0999755859375, 1000.0, -2.5}, {0, 0}, "x through float16");
  expect_close(out.at("i2"), {2, 4, 140000}, {0, 0}, "integers");
  // 70000 is past float16's range: only the first two are checked.
  std::vector<double> s = out.at("sum").to_doubles();
  EXPECT_NEAR(s[0], 1.1, 1e-2);
  EXPECT_NEAR(s[1], 1002.25, 1.0);
}

}  // namespace
}  // namespace cppnn

// ---- the context's precision (ContextOptions::precision): a builder graph, no Engine step

namespace cppnn {
namespace {

Context cpu_with(Precision precision) {
  ContextOptions o;
  o.accelerated = false;
  o.precision = precision;
  return Context::create(o);
}

// y = relu(x W1 + b1) W2, p = softmax(y): matmuls, a fused bias, a reduction-like softmax.
struct Mlp {
  Graph graph;
  Tensor x, w1, b1, w2;
};

Mlp make_mlp() {
  Mlp m;
  m.x = random_tensor(f32, {4, 64}, -1, 1, 31);
  m.w1 = random_tensor(f32, {64, 32}, -0.3, 0.3, 32);
  m.b1 = random_tensor(f32, {32}, -0.5, 0.5, 33);
  m.w2 = random_tensor(f32, {32, 8}, -0.5, 0.5, 34);
  GraphBuilder b;
  Operand x = b.input("x", f32, {4, 64});
  Operand h = b.relu(b.add(b.matmul(x, b.constant(m.w1)), b.constant(m.b1)));
  Operand y = b.matmul(h, b.constant(m.w2));
  m.graph = b.build({{"y", y}, {"p", b.softmax(y, 1)}});
  return m;
}

std::map<std::string, std::vector<double>> mlp_reference(const Mlp& m) {
  std::vector<double> x = m.x.to_doubles(), w1 = m.w1.to_doubles(), b1 = m.b1.to_doubles(),
                      w2 = m.w2.to_doubles(), y(4 * 8, 0.0), p(4 * 8);
  for (int r = 0; r < 4; ++r) {
    for (int j = 0; j < 32; ++j) {
      double h = b1[size_t(j)];
      for (int k = 0; k < 64; ++k) h += x[size_t(r * 64 + k)] * w1[size_t(k * 32 + j)];
      h = std::max(h, 0.0);
      for (int o = 0; o < 8; ++o) y[size_t(r * 8 + o)] += h * w2[size_t(j * 8 + o)];
    }
    double mx = -INFINITY, sum = 0;
    for (int o = 0; o < 8; ++o) mx = std::max(mx, y[size_t(r * 8 + o)]);
    for (int o = 0; o < 8; ++o) sum += std::exp(y[size_t(r * 8 + o)] - mx);
    for (int o = 0; o < 8; ++o) p[size_t(r * 8 + o)] = std::exp(y[size_t(r * 8 + o)] - mx) / sum;
  }
  return {{"y", y}, {"p", p}};
}

bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.byte_size() == b.byte_size() && std::memcmp(a.data(), b.data(), a.byte_size()) == 0;
}

TEST(ContextPrecision, Float16ContextComputesABuilderGraphInFloat16) {
  Mlp m = make_mlp();
  auto want = mlp_reference(m);
  Context c32 = cpu_with(Precision::float32), c16 = cpu_with(Precision::float16);
  EXPECT_EQ(c16.precision(), Precision::float16);
  NamedTensors out32 = c32.compute(m.graph, {{"x", m.x}});
  NamedTensors out16 = c16.compute(m.graph, {{"x", m.x}});
  for (const char* name : {"y", "p"}) {
    ASSERT_EQ(out16.at(name).data_type(), f32) << name << ": the interface stays float32";
    expect_close(out32.at(name), want.at(name), {1e-5, 1e-5}, name);
    expect_close(out16.at(name), want.at(name), kHalf, name);
    // Lowering skipped would give the float32 bytes.
    EXPECT_FALSE(bit_identical(out16.at(name), out32.at(name))) << name;
  }
  std::string report = c16.report(m.graph);
  EXPECT_EQ(report.rfind("cpu plan: ", 0), 0u) << report;
  EXPECT_NE(report.substr(0, report.find('\n')).find("precision float16"), std::string::npos) << report;
  EXPECT_NE(c32.report(m.graph).find("precision float32 (as built)"), std::string::npos);
}

TEST(ContextPrecision, AutoOnTheCpuIsFloat32) {
  Mlp m = make_mlp();
  Context automatic = cpu_with(Precision::auto_), plain = cpu_with(Precision::float32);
  EXPECT_EQ(automatic.precision(), Precision::float32);
  EXPECT_EQ(Context::create().precision(), Precision::float32);  // the default
  NamedTensors a = automatic.compute(m.graph, {{"x", m.x}});
  NamedTensors b = plain.compute(m.graph, {{"x", m.x}});
  for (const char* name : {"y", "p"}) EXPECT_TRUE(bit_identical(a.at(name), b.at(name))) << name;
  EXPECT_EQ(automatic.report(m.graph), plain.report(m.graph));
}

TEST(ContextPrecision, BadPrecisions) {
  ContextOptions o;
  o.accelerated = false;
  o.precision = Precision(9);
  testing::expect_error([&] { Context::create(o); }, ErrorKind::TypeError, "unknown precision 9");
  EXPECT_EQ(precision_from_string("auto"), Precision::auto_);
  EXPECT_EQ(to_string(Precision::bfloat16), "bfloat16");
  testing::expect_error([&] { precision_from_string("float64"); }, ErrorKind::TypeError,
                        "unknown precision 'float64'");
}

// The one lowering: a float16 engine computes on any context exactly what a float16
// context computes from the graph, and a float16 context does not lower it again; a
// float32 engine on a float16 context is lowered as its graph would be.
TEST(ContextPrecision, EnginesAndContextsShareTheLowering) {
  Mlp m = make_mlp();
  Engine e16 = build16(m.graph), e32 = Engine::build(m.graph);
  EXPECT_EQ(e16.graph().ir().precision, Precision::float16);
  EXPECT_EQ(e32.graph().ir().precision, Precision::float32);
  Context c32 = cpu_with(Precision::float32), c16 = cpu_with(Precision::float16);
  NamedTensors direct = c16.compute(m.graph, {{"x", m.x}});
  std::string report = c16.report(m.graph);
  for (Context* c : {&c32, &c16}) {
    EXPECT_EQ(c->report(e16.graph()), report);
    NamedTensors got = c->compute(e16.graph(), {{"x", m.x}});
    for (const char* name : {"y", "p"}) EXPECT_TRUE(bit_identical(got.at(name), direct.at(name))) << name;
  }
  EXPECT_EQ(c16.report(e32.graph()), report);
  // Built again from a float16 engine's graph, an engine stays float16 (not lowered twice).
  Engine again = Engine::build(e16.graph());
  EXPECT_EQ(again.options().precision, Precision::float16);
  EXPECT_EQ(c32.report(again.graph()), report);
}

}  // namespace
}  // namespace cppnn
