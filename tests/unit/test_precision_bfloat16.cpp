// bfloat16 precision (Engine::build / ContextOptions precision bfloat16): the internal
// bfloat16 type and its conversions bit for bit, the lowering (float32 interface, bfloat16
// inside, reductions in float32), the CPU backend's float32 kernels between bfloat16
// conversions, the engine file round trip and its validation, and whole models against
// float64 / ONNX Runtime references.
//
// Tolerances: bfloat16 keeps 8 significant bits, 2^-9 = 0.2% relative per rounding. Each op
// computes in float32 and rounds its result once, so an output a few ops deep is a few
// roundings off, and sums of many products (matmul, conv) add errors that partly cancel:
// kBfloat16 below allows 2e-2 absolute and relative per element on O(1) values (measured
// at most 4.2e-3 on the engine test model, CPU); whole models are held to a relative L2
// error with 2.5x headroom over the measured one (MobileNetV2 8.1e-3 -> 2e-2, tiny BERT
// 4.1e-3 -> 1e-2) and MobileNetV2 to the same top-1 class. Each is also held to be *not*
// float32-exact, so a lowering that silently did nothing fails.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>

#include "cppnn/cppnn.h"
#include "engine/engine_format.h"
#include "engine_test_model.h"
#include "graph/ir.h"
#include "unit/onnx_test_model.h"
#include "test_support.h"

namespace cppnn {
namespace {

using testing::read_values;
using testing::rel_l2;

using testing::expect_close;
using testing::expect_error;
using testing::random_tensor;
using testing::run_cpu;

constexpr DataType f32 = DataType::float32;
constexpr DataType bf16 = DataType::bfloat16;
constexpr testing::Tolerance kBfloat16{2e-2, 2e-2};

uint16_t to_bf(uint32_t float_bits) { return float_to_bfloat16(std::bit_cast<float>(float_bits)); }

Engine build_bf16(const Graph& g) {
  EngineBuildOptions o;
  o.precision = Precision::bfloat16;
  return Engine::build(g, o);
}

Context cpu_with(Precision precision) {
  ContextOptions o;
  o.accelerated = false;
  o.precision = precision;
  return Context::create(o);
}

// ---- conversions ------------------------------------------------------------------------

TEST(Bfloat16Conversion, RoundsToNearestEvenBitExactly) {
  EXPECT_EQ(to_bf(0x3f800000u), 0x3f80);  // 1
  EXPECT_EQ(to_bf(0x3f807fffu), 0x3f80);  // below the half-way point
  EXPECT_EQ(to_bf(0x3f808000u), 0x3f80);  // a tie, to the even 0x3f80
  EXPECT_EQ(to_bf(0x3f808001u), 0x3f81);  // past the tie
  EXPECT_EQ(to_bf(0x3f818000u), 0x3f82);  // a tie, to the even 0x3f82
  EXPECT_EQ(to_bf(0xbf818000u), 0xbf82);  // the same, negative
  EXPECT_EQ(to_bf(0x3fff8000u), 0x4000);  // the carry moves into the exponent
  EXPECT_EQ(to_bf(0x00000000u), 0x0000);
  EXPECT_EQ(to_bf(0x80000000u), 0x8000);  // -0 keeps its sign
}

TEST(Bfloat16Conversion, InfinitiesOverflowAndNaN) {
  EXPECT_EQ(to_bf(0x7f800000u), 0x7f80);
  EXPECT_EQ(to_bf(0xff800000u), 0xff80);
  EXPECT_EQ(to_bf(0x7f7f7fffu), 0x7f7f);  // just below the tie: the largest finite bfloat16
  EXPECT_EQ(to_bf(0x7f7f8000u), 0x7f80);  // tie with an odd 0x7f7f: up, to infinity
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(float_to_bfloat16(std::numeric_limits<float>::lowest()), 0xff80);
  // NaNs stay NaN (quiet, same sign), even with a payload only in the dropped bits, which
  // plain truncation or rounding would turn into infinity.
  EXPECT_EQ(to_bf(0x7fc00000u), 0x7fc0);
  EXPECT_EQ(to_bf(0x7f800001u), 0x7fc0);
  EXPECT_EQ(to_bf(0xff800001u), 0xffc0);
  EXPECT_EQ(to_bf(0x7fffffffu), 0x7fff);
  EXPECT_TRUE(std::isnan(bfloat16_to_float(0x7fc0)));
  EXPECT_TRUE(std::isinf(bfloat16_to_float(0xff80)));
}

TEST(Bfloat16Conversion, Subnormals) {
  EXPECT_EQ(to_bf(0x00000001u), 0x0000);  // the smallest float subnormal rounds to 0
  EXPECT_EQ(to_bf(0x00008000u), 0x0000);  // a tie, to the even 0
  EXPECT_EQ(to_bf(0x00008001u), 0x0001);
  EXPECT_EQ(to_bf(0x00010000u), 0x0001);  // the smallest bfloat16 subnormal, exact
  EXPECT_EQ(to_bf(0x00018000u), 0x0002);  // a tie, to the even 0x0002
  EXPECT_EQ(to_bf(0x007fffffu), 0x0080);  // the largest subnormal rounds to the smallest normal
  EXPECT_EQ(bfloat16_to_float(0x0001), std::ldexp(1.0f, -133));
  EXPECT_EQ(bfloat16_to_float(0x8001), -std::ldexp(1.0f, -133));
}

TEST(Bfloat16Conversion, EveryBfloat16RoundTripsAndRandomFloatsRoundToTheNearest) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = bfloat16_to_float(uint16_t(b));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(bfloat16_to_float(float_to_bfloat16(f)))) << b;
      continue;
    }
    ASSERT_EQ(float_to_bfloat16(f), b) << "bfloat16 " << b << " is not exact in float";
  }
  // Against a float64 reference: the result is one of the two bfloat16 neighbours and no
  // farther than the other one; at equal distance, the even one.
  std::mt19937 gen(5);
  for (int i = 0; i < 200000; ++i) {
    uint32_t bits = gen();
    float f = std::bit_cast<float>(bits);
    if (!std::isfinite(f)) continue;
    uint16_t got = float_to_bfloat16(f);
    uint16_t down = uint16_t(bits >> 16), up = uint16_t(down + 1);  // magnitudes around f
    double d = std::fabs(double(f)), lo = std::fabs(double(bfloat16_to_float(down))),
           hi = std::fabs(double(bfloat16_to_float(up)));
    if (std::isinf(hi)) hi = std::ldexp(1.0, 128);  // infinity stands at 2^128 for rounding
    uint16_t want = d - lo < hi - d ? down : d - lo > hi - d ? up : (down & 1) ? up : down;
    ASSERT_EQ(got, want) << std::hex << bits;
  }
}

// ---- the API: bfloat16 is no WebNN type ---------------------------------------------------

TEST(Bfloat16Type, IsInternal) {
  EXPECT_EQ(to_string(bf16), "bfloat16");
  EXPECT_EQ(element_size(bf16), 2u);
  EXPECT_TRUE(is_float(bf16));
  for (DataType t : kAllDataTypes) EXPECT_NE(t, bf16);
  expect_error([] { data_type_from_string("bfloat16"); }, ErrorKind::TypeError, "bfloat16");
  EXPECT_EQ(internal_data_type_from_string("bfloat16"), bf16);
  EXPECT_EQ(internal_data_type_from_string("int8"), DataType::int8);
  GraphBuilder b;
  expect_error([&] { b.input("x", bf16, {2}); }, ErrorKind::TypeError, "bfloat16");
  expect_error([&] { b.constant(bf16, {2}, "abcd", 4); }, ErrorKind::TypeError, "bfloat16");
  expect_error([&] { b.constant(bf16, 1.0); }, ErrorKind::TypeError, "bfloat16");
  Operand x = b.input("x", f32, {2});
  expect_error([&] { b.cast(x, bf16); }, ErrorKind::TypeError, "bfloat16");
}

// ---- the lowering -----------------------------------------------------------------------

TEST(Bfloat16Engine, InterfaceStaysFloat32AndTheInsideIsBfloat16) {
  auto m = testing::make_engine_test_model();
  Engine e = build_bf16(m.graph);
  EXPECT_EQ(e.options().precision, Precision::bfloat16);
  const detail::GraphIR& ir = e.graph().ir();
  EXPECT_EQ(ir.precision, Precision::bfloat16);
  for (const auto& [name, id] : ir.inputs) EXPECT_EQ(ir.desc(id).data_type, f32) << name;
  EXPECT_EQ(ir.desc(ir.outputs.at("soft")).data_type, f32);
  EXPECT_EQ(ir.desc(ir.outputs.at("ln16")).data_type, DataType::float16);  // untouched
  size_t bf16_nodes = 0;
  for (const auto& node : ir.nodes) {
    DataType out = ir.desc(node.outputs[0]).data_type;
    if (out == f32) {
      EXPECT_TRUE(node.op == detail::OpId::cast || node.op == detail::OpId::reduceMean)
          << detail::op_name(node.op) << " computes float32";
    }
    bf16_nodes += out == bf16;
  }
  EXPECT_GT(bf16_nodes, 5u);
  for (const auto& operand : ir.operands)
    if (operand.role == detail::OperandRole::constant && operand.desc.data_type != DataType::float16) {
      EXPECT_EQ(operand.desc.data_type, bf16) << "a float32 constant survived";
    }
}

TEST(Bfloat16Engine, ValuesMatchFloat64AndTheFileRoundTrips) {
  auto m = testing::make_engine_test_model();
  Engine built = build_bf16(m.graph);
  std::string bytes = built.to_bytes();
  Engine e = Engine::from_bytes(bytes);
  EXPECT_EQ(e.options().precision, Precision::bfloat16);
  EXPECT_EQ(e.hash(), built.hash());
  EXPECT_EQ(e.to_bytes(), bytes);
  Tensor x = random_tensor(f32, {2, 3, 4, 5}, -2.0, 2.0, 11);
  NamedTensors out = run_cpu(e.graph(), {{"x", x}});
  NamedTensors before = run_cpu(built.graph(), {{"x", x}});
  NamedTensors exact = run_cpu(m.graph, {{"x", x}});
  auto want = testing::engine_test_reference(m, x.to_doubles());
  for (const char* name : {"soft", "part", "ln16"}) {
    expect_close(out.at(name), want.at(name), kBfloat16, name);
    std::vector<double> g = out.at(name).to_doubles();
    double worst = 0;
    for (size_t i = 0; i < g.size(); ++i)
      worst = std::max(worst, std::fabs(g[i] - want.at(name)[i]) / (1 + std::fabs(want.at(name)[i])));
    RecordProperty(std::string("max_error_") + name, std::to_string(worst));
    EXPECT_EQ(std::memcmp(out.at(name).data(), before.at(name).data(), out.at(name).byte_size()), 0)
        << name << ": the loaded engine computes other bytes";
  }
  // The engine really computes in bfloat16: float32's bytes would mean no lowering.
  EXPECT_NE(std::memcmp(out.at("part").data(), exact.at("part").data(), out.at("part").byte_size()), 0);
}

TEST(Bfloat16Engine, WeightsTakeHalfTheBytesAndMatmulAccumulatesInFloat32) {
  // K = 1024 products of +-1-ish terms: a bfloat16 accumulator (8 bits) would lose the
  // small terms once the sum reaches a few hundred; float32 accumulation keeps the error at
  // the inputs' rounding.
  GraphBuilder b;
  Operand x = b.input("x", f32, {4, 1024});
  Tensor wt = random_tensor(f32, {1024, 64}, -0.1, 0.1, 3);
  Operand w = b.constant(wt);
  Graph g = b.build({{"y", b.matmul(x, w)}});
  Engine e32 = Engine::build(g), e = build_bf16(g);
  EXPECT_LT(double(e.byte_size()), 0.6 * double(e32.byte_size()));
  Tensor xv = random_tensor(f32, {4, 1024}, 0.5, 1.5, 4);
  Tensor got = run_cpu(e.graph(), {{"x", xv}}).at("y");
  // The reference from the bfloat16-rounded operands, in float64: what remains is the
  // accumulation's error and the result's one rounding (2^-9 relative).
  std::vector<double> xs = xv.to_doubles(), ws = wt.to_doubles(), want(4 * 64, 0.0);
  auto r = [](double v) { return double(bfloat16_to_float(float_to_bfloat16(float(v)))); };
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 1024; ++k)
      for (int j = 0; j < 64; ++j)
        want[size_t(i * 64 + j)] += r(xs[size_t(i * 1024 + k)]) * r(ws[size_t(k * 64 + j)]);
  double worst = 0;
  std::vector<double> gv = got.to_doubles();
  for (size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::fabs(gv[i] - want[i]) / std::max(std::fabs(want[i]), 1.0));
  EXPECT_LE(worst, std::ldexp(1.0, -8)) << "more than the result's rounding";
}

TEST(Bfloat16Engine, HugeConstantsSaturateInsteadOfMakingNaN) {
  // BERT's additive mask: (1 - mask) * float32 lowest. Rounded to bfloat16 the constant
  // would be -inf, and 0 * -inf NaN; saturated at bfloat16's -3.39e38 it is not.
  GraphBuilder b;
  Operand scores = b.input("scores", f32, {2, 8});
  Operand mask = b.input("mask", f32, {2, 8});
  Operand one = b.constant(Tensor::from<float>(f32, {1}, {1.0f}));
  Operand lowest = b.constant(Tensor::from<float>(f32, {1}, {-3.4028234e38f}));
  Graph g = b.build({{"p", b.softmax(b.add(scores, b.mul(b.sub(one, mask), lowest)), 1)}});
  Tensor s = random_tensor(f32, {2, 8}, -3, 3, 5);
  std::vector<float> mv(16, 1.0f);
  mv[6] = mv[7] = mv[15] = 0.0f;
  Tensor got = run_cpu(build_bf16(g).graph(),
                       {{"scores", s}, {"mask", Tensor::from<float>(f32, {2, 8}, mv)}})
                   .at("p");
  std::vector<double> sv = s.to_doubles(), want(16);
  for (size_t r = 0; r < 2; ++r) {
    double mx = -INFINITY, sum = 0;
    for (size_t c = 0; c < 8; ++c)
      if (mv[r * 8 + c] != 0) mx = std::max(mx, sv[r * 8 + c]);
    for (size_t c = 0; c < 8; ++c)
      if (mv[r * 8 + c] != 0) sum += std::exp(sv[r * 8 + c] - mx);
    for (size_t c = 0; c < 8; ++c)
      want[r * 8 + c] = mv[r * 8 + c] != 0 ? std::exp(sv[r * 8 + c] - mx) / sum : 0.0;
  }
  expect_close(got, want, kBfloat16, "masked softmax");
}

TEST(Bfloat16Engine, ReductionsStayFloat32) {
  // 1 + 4095 * 2^-9: in a bfloat16 running sum each 2^-9 after the first few is lost.
  GraphBuilder b;
  Operand x = b.input("x", f32, {1, 4096});
  ReduceOptions o;
  o.axes = std::vector<uint32_t>{1};
  Graph g = b.build({{"sum", b.reduce_sum(x, o)}});
  std::vector<float> xv(4096, 1.0f / 512);
  xv[0] = 1.0f;
  Tensor got = run_cpu(build_bf16(g).graph(), {{"x", Tensor::from<float>(f32, {1, 4096}, xv)}})
                   .at("sum");
  double want = 1.0 + 4095.0 / 512;  // 8.998..., then rounded once to bfloat16: 9.0
  expect_close(got, {want}, {0, 2e-3}, "sum");
}

TEST(Bfloat16Engine, CastsRoundOnceAndSaturate) {
  // int32 -> float32 becomes int32 -> bfloat16: rounded once from the integer (through
  // float the first and third would round twice, onto a tie and then to the wrong side).
  GraphBuilder b;
  Operand i = b.input("i", DataType::int32, {6});
  Operand x = b.input("x", f32, {5});
  Graph g = b.build({{"f", b.cast(i, f32)}, {"n", b.cast(x, DataType::int32)}});
  Engine e = build_bf16(g);
  NamedTensors out = run_cpu(
      e.graph(),
      {{"i", Tensor::from<int32_t>(DataType::int32, {6},
                                   {16842753, -16842753, 257, 259, 2147483647, -7})},
       {"x", Tensor::from<float>(f32, {5}, {3.7f, -2.99f, 1e10f, -1e10f, NAN})}});
  expect_close(out.at("f"), {16908288, -16908288, 256, 260, 2147483648.0, -7}, {0, 0}, "f");
  // The float input is rounded to bfloat16 first (-2.99 -> -2.984375), then truncated;
  // out of range saturates and NaN is 0, as the float32 cast kernel does.
  expect_close(out.at("n"), {3, -2, 2147483647, -2147483648.0, 0}, {0, 0}, "n");
}

TEST(Bfloat16Engine, IntegerOperandsAreUntouched) {
  GraphBuilder b;
  Operand i = b.input("i", DataType::int32, {3});
  Graph g = b.build({{"i2", b.add(i, i)}});
  Engine e = build_bf16(g);
  const detail::GraphIR& ir = e.graph().ir();
  for (const auto& operand : ir.operands) EXPECT_EQ(operand.desc.data_type, DataType::int32);
  NamedTensors out =
      run_cpu(e.graph(), {{"i", Tensor::from<int32_t>(DataType::int32, {3}, {1, 2, 70000})}});
  expect_close(out.at("i2"), {2, 4, 140000}, {0, 0}, "integers");
}

// ---- contexts ---------------------------------------------------------------------------

TEST(Bfloat16Context, ComputesABuilderGraphAsTheEngineDoes) {
  GraphBuilder b;
  Tensor w1 = random_tensor(f32, {64, 32}, -0.3, 0.3, 32), b1 = random_tensor(f32, {32}, -0.5, 0.5, 33);
  Operand x = b.input("x", f32, {4, 64});
  Operand h = b.relu(b.add(b.matmul(x, b.constant(w1)), b.constant(b1)));
  Graph g = b.build({{"h", h}, {"p", b.softmax(h, 1)}});
  Tensor xv = random_tensor(f32, {4, 64}, -1, 1, 31);
  Context c = cpu_with(Precision::bfloat16), c32 = cpu_with(Precision::float32);
  EXPECT_EQ(c.precision(), Precision::bfloat16);
  NamedTensors got = c.compute(g, {{"x", xv}});
  NamedTensors exact = c32.compute(g, {{"x", xv}});
  NamedTensors engine = c32.compute(build_bf16(g).graph(), {{"x", xv}});
  for (const char* name : {"h", "p"}) {
    ASSERT_EQ(got.at(name).data_type(), f32);
    expect_close(got.at(name), exact.at(name).to_doubles(), kBfloat16, name);
    EXPECT_EQ(std::memcmp(got.at(name).data(), engine.at(name).data(), got.at(name).byte_size()), 0)
        << name << ": the context and the engine lower differently";
  }
  std::string report = c.report(g);
  EXPECT_NE(report.substr(0, report.find('\n')).find("precision bfloat16"), std::string::npos)
      << report;
}

// ---- engine files -----------------------------------------------------------------------

std::string bytes_of(const detail::GraphIR& ir, Precision precision) {
  EngineBuildOptions o;
  o.precision = precision;
  detail::EngineBytes b = detail::write_engine(ir, o);
  return std::string(reinterpret_cast<const char*>(b.begin()), b.size);
}

TEST(Bfloat16EngineFile, BadTypesAreRejected) {
  auto m = testing::make_engine_test_model();
  Engine engine = build_bf16(m.graph);
  const detail::GraphIR& good = engine.graph().ir();
  EXPECT_NO_THROW(Engine::from_bytes(bytes_of(good, Precision::bfloat16)));

  // bfloat16 operands in an engine that says float32 (or float16).
  for (Precision p : {Precision::float32, Precision::float16})
    expect_error([&] { Engine::from_bytes(bytes_of(good, p)); }, ErrorKind::DataError,
                 "only bfloat16 engines store it");

  // A data type past bfloat16.
  detail::GraphIR unknown = good;
  for (auto& operand : unknown.operands)
    if (operand.role == detail::OperandRole::intermediate && operand.desc.data_type == bf16) {
      operand.desc.data_type = DataType(uint8_t(bf16) + 1);
      break;
    }
  expect_error([&] { Engine::from_bytes(bytes_of(unknown, Precision::bfloat16)); },
               ErrorKind::DataError, "unknown data type 9");

  // A precision past bfloat16 (auto_ is a context's, never an engine's).
  expect_error([&] { Engine::from_bytes(bytes_of(good, Precision::auto_)); },
               ErrorKind::DataError, "unknown precision 3");

  // bfloat16 at the interface: callers could neither feed nor read it.
  GraphBuilder b;
  Operand x = b.input("x", f32, {4});
  Graph g = b.build({{"y", b.relu(x)}});
  Engine relu = build_bf16(g);
  detail::GraphIR at_input = relu.graph().ir();
  detail::Node& back = at_input.nodes.back();  // the cast to the float32 output
  ASSERT_EQ(back.op, detail::OpId::cast);
  back.attrs.set("dataType", std::string("bfloat16"));
  at_input.operands[size_t(back.outputs[0])].desc.data_type = bf16;
  expect_error([&] { Engine::from_bytes(bytes_of(at_input, Precision::bfloat16)); },
               ErrorKind::DataError, "has data type bfloat16");

  // A bfloat16 operand where the op takes no floats: the op table rejects it as it would
  // a float16 one.
  GraphBuilder bi;
  Operand a = bi.input("a", DataType::uint8, {4});
  Graph gi = bi.build({{"y", bi.cast(bi.logical_not(a), f32)}});
  Engine not_engine = build_bf16(gi);
  detail::GraphIR logical = not_engine.graph().ir();
  for (auto& node : logical.nodes)
    if (node.op == detail::OpId::logicalNot) logical.operands[size_t(node.inputs[0])].desc.data_type = bf16;
  // The input itself is now bfloat16: rejected either way, never run.
  EXPECT_THROW(Engine::from_bytes(bytes_of(logical, Precision::bfloat16)), Error);
}

TEST(Bfloat16EngineFile, HasNoOnnxExport) {
  // ONNX has BFLOAT16, but import takes no type WebNN lacks: an export could not be read
  // back, so it is refused by name rather than written.
  auto m = testing::make_engine_test_model();
  Engine e = build_bf16(m.graph);
  expect_error([&] { export_onnx_bytes(e.graph()); }, ErrorKind::NotSupportedError,
               "bfloat16 graph");
  EXPECT_FALSE(export_onnx_bytes(Engine::build(m.graph).graph()).empty());
}

// ---- whole models -----------------------------------------------------------------------

size_t argmax(const std::vector<double>& v) {
  return size_t(std::max_element(v.begin(), v.end()) - v.begin());
}

TEST(Bfloat16Models, MobileNetV2MatchesOnnxRuntime) {
  Graph g = load_onnx(CPPNN_SHARED_DIR "/models/mobilenet_v2.onnx");
  Tensor x(f32, {1, 3, 224, 224});
  for (size_t i = 0; i < x.element_count(); ++i)
    x.data_as<float>()[i] = float(std::sin(double(i) * 0.001));
  Engine e = Engine::from_bytes(build_bf16(g).to_bytes());
  std::vector<double> got = run_cpu(e.graph(), {{"input.1", x}}).at("536").to_doubles();
  std::vector<double> want =
      read_values(CPPNN_SOURCE_DIR "/tests/unit/onnx_fixtures/mobilenet_v2_logits.txt");
  ASSERT_EQ(got.size(), want.size());
  double err = rel_l2(got, want);
  RecordProperty("rel_l2", std::to_string(err));
  EXPECT_LT(err, 2e-2);
  EXPECT_GT(err, 1e-4) << "as exact as float32: not computed in bfloat16";
  EXPECT_EQ(argmax(got), argmax(want));
}

TEST(Bfloat16Models, TinyBertMatchesOnnxRuntime) {
  OnnxImportOptions options;
  options.dim_values = {{"N", 2}, {"S", 8}};
  Graph g = load_onnx(CPPNN_SOURCE_DIR "/tests/unit/onnx_fixtures/tiny_bert.onnx", options);
  Tensor ids(DataType::int64, {2, 8}), mask(DataType::int64, {2, 8});
  for (int64_t i = 0; i < 16; ++i) {
    ids.data_as<int64_t>()[i] = (7 * i + 3) % 50;
    mask.data_as<int64_t>()[i] = i / 8 == 1 && i % 8 >= 6 ? 0 : 1;
  }
  Engine e = build_bf16(g);
  std::vector<double> got =
      run_cpu(e.graph(), {{"input_ids", ids}, {"attention_mask", mask}}).at("last_hidden_state").to_doubles();
  std::vector<double> want =
      read_values(CPPNN_SOURCE_DIR "/tests/unit/onnx_fixtures/tiny_bert_output.txt");
  ASSERT_EQ(got.size(), want.size());
  double err = rel_l2(got, want);
  RecordProperty("rel_l2", std::to_string(err));
  EXPECT_LT(err, 1e-2);
  EXPECT_GT(err, 1e-5) << "as exact as float32: not computed in bfloat16";
}

}  // namespace
}  // namespace cppnn
