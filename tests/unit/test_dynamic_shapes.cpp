// Dynamic shapes (graph/symbolic.h): fitting how a graph's integers depend on its symbols,
// specializing at other values (equal to a graph built there, computed against a float64
// reference), constants whose shape depends on a symbol, the errors for graphs that do not
// fit, the engine's SYMS section (round trip and forged files), and Context::compute at
// shapes that change from call to call.
#include <cmath>
#include <cstring>

#include "backends/cpu/packed_constants.h"
#include "compiler/passes.h"
#include "engine/engine_format.h"
#include "engine_forgery.h"
#include "graph/symbolic.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::FittedGraph;
using detail::GraphIR;
using detail::SymbolicShapes;
using testing::expect_error;

// A fixed table the graphs slice: row r, column c holds r + c / 8.
Tensor table(int64_t rows, int64_t cols) {
  std::vector<float> v;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) v.push_back(float(r) + float(c) / 8);
  return Tensor::from(DataType::float32, {rows, cols}, v);
}

// x [N, S, 8] -> flattened to [N*S, 8] -> matmul w [8, 4] -> [N, S, 4] -> + pos[S, 4]
// (a leading part of a 16-row table, as a position embedding) -> + bias[N, S, 4] (one row
// repeated, as a token-type embedding). The reshapes' shapes are N*S and N, S.
std::shared_ptr<GraphIR> transformer_like(int64_t n, int64_t s) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {n, s, 8});
  std::vector<float> w(8 * 4);
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(int(i % 7) - 3) / 4;
  Operand wt = b.constant(Tensor::from(DataType::float32, {8, 4}, w));
  Operand flat = b.reshape(x, {uint32_t(n * s), 8});
  Operand y = b.reshape(b.matmul(flat, wt), {uint32_t(n), uint32_t(s), 4});
  Tensor t = table(16, 4);
  Tensor pos = Tensor::from(DataType::float32, {s, 4},
                            std::vector<float>(t.data_as<float>(), t.data_as<float>() + s * 4));
  std::vector<float> rep;
  for (int64_t i = 0; i < n * s; ++i)
    for (int c = 0; c < 4; ++c) rep.push_back(float(c) * 0.5f - 1);
  Operand bias = b.constant(Tensor::from(DataType::float32, {n, s, 4}, rep));
  Operand out = b.add(b.add(y, b.constant(pos)), bias);
  Graph g = b.build({{"y", out}});
  return std::make_shared<GraphIR>(g.ir());
}

std::vector<double> transformer_like_reference(const Tensor& x, int64_t n, int64_t s) {
  std::vector<double> out;
  const float* px = x.data_as<float>();
  for (int64_t i = 0; i < n * s; ++i)
    for (int c = 0; c < 4; ++c) {
      double acc = 0;
      for (int k = 0; k < 8; ++k) acc += double(px[i * 8 + k]) * (double(int((k * 4 + c) % 7) - 3) / 4);
      int64_t row = i % s;
      acc += double(row) + double(c) / 8 + (double(c) * 0.5 - 1);
      out.push_back(acc);
    }
  return out;
}

FittedGraph fit_transformer_like(SymbolRange n, SymbolRange s) {
  return detail::fit_symbolic({"N", "S"}, {n, s},
                              [](const std::vector<int64_t>& v) { return transformer_like(v[0], v[1]); },
                              "test");
}

// Everything but the table's slice / expand nodes, which only the fitted graph has.
void expect_same_shapes(const GraphIR& fitted, const GraphIR& direct) {
  std::map<std::string, Dims> a, b;
  for (const auto& [name, id] : fitted.outputs) a[name] = fitted.desc(id).shape;
  for (const auto& [name, id] : direct.outputs) b[name] = direct.desc(id).shape;
  EXPECT_EQ(a, b);
  std::vector<std::vector<int64_t>> ra, rb;
  for (const auto& n : fitted.nodes)
    if (n.op == detail::OpId::reshape) ra.push_back(n.attrs.ints("newShape"));
  for (const auto& n : direct.nodes)
    if (n.op == detail::OpId::reshape) rb.push_back(n.attrs.ints("newShape"));
  EXPECT_EQ(ra, rb);
}

TEST(DynamicShapes, FitsProductsOfSymbolsAndSpecializesToTheDirectGraph) {
  FittedGraph f = fit_transformer_like({1, 2, 4}, {2, 5, 16});
  ASSERT_TRUE(f.symbolic);
  const SymbolicShapes& s = *f.symbolic;
  std::vector<std::string> polys;
  for (const auto& p : s.patches) polys.push_back(p.value.to_string(s.names));
  EXPECT_NE(std::find(polys.begin(), polys.end(), "N*S"), polys.end());
  ASSERT_TRUE(s.sources[0] && s.sources[1]);
  EXPECT_EQ(s.sources[0]->input, "x");
  EXPECT_EQ(s.sources[0]->axis, 0u);
  EXPECT_EQ(s.sources[1]->axis, 1u);
  for (auto [n, sv] : {std::pair<int64_t, int64_t>{1, 2}, {4, 16}, {3, 7}, {2, 5}}) {
    auto g = detail::specialize(*f.ir, s, {n, sv});
    expect_same_shapes(*g, *transformer_like(n, sv));
    Tensor x = testing::random_tensor(DataType::float32, {n, sv, 8}, -1, 1, uint32_t(n * 100 + sv));
    NamedTensors out = testing::run_cpu(Graph(g), {{"x", x}});
    testing::expect_close(out.at("y"), transformer_like_reference(x, n, sv), {1e-5, 1e-5});
  }
}

// A context's specialization for a run is marked (its backend then chooses kernels without
// timing: GraphIR::run_time_shape); a graph a user specializes, to build a fixed-shape
// engine from, is not, and is timed as any graph.
TEST(DynamicShapes, OnlyTheContextsSpecializationsAreRunTimeShapes) {
  FittedGraph f = fit_transformer_like({1, 2, 4}, {2, 5, 16});
  EXPECT_FALSE(detail::specialize(*f.ir, *f.symbolic, {3, 7})->run_time_shape);
  auto marked = detail::specialize(*f.ir, *f.symbolic, {3, 7}, /*run_time_shape=*/true);
  EXPECT_TRUE(marked->run_time_shape);
  // The mark changes nothing else: the marked graph computes what the graph at (3, 7) does.
  Tensor x = testing::random_tensor(DataType::float32, {3, 7, 8}, -1, 1, 5);
  testing::expect_close(testing::run_cpu(Graph(marked), {{"x", x}}).at("y"), transformer_like_reference(x, 3, 7),
                        {1e-5, 1e-5});
}

// The CPU plans of two graphs over the same constant tensors (a dynamic graph's shapes) pack
// each constant into oneDNN's layout once, and compute the same; a graph with weights of its
// own packs its own.
TEST(DynamicShapes, CpuPlansOverTheSameWeightsShareTheirPackedConstants) {
  FittedGraph f = fit_transformer_like({1, 2, 4}, {2, 5, 16});
  Graph a(detail::specialize(*f.ir, *f.symbolic, {3, 7}, true));
  Graph b(detail::specialize(*f.ir, *f.symbolic, {3, 7}, true));
  ContextOptions o;
  o.accelerated = false;
  Context cpu = Context::create(o);
  const size_t start = detail::packed_constants_made();
  cpu.compile(a);
  const size_t after_a = detail::packed_constants_made();
  EXPECT_GT(after_a, start) << "the matmul's weights are packed";
  cpu.compile(b);
  EXPECT_EQ(detail::packed_constants_made(), after_a) << "b reads a's packed weights";
  Tensor x = testing::random_tensor(DataType::float32, {3, 7, 8}, -1, 1, 5);
  testing::expect_close(cpu.compute(b, {{"x", x}}).at("y"), transformer_like_reference(x, 3, 7), {1e-5, 1e-5});
  testing::expect_close(cpu.compute(a, {{"x", x}}).at("y"), transformer_like_reference(x, 3, 7), {1e-5, 1e-5});
  cpu.compile(Graph(transformer_like(3, 7)));
  EXPECT_GT(detail::packed_constants_made(), after_a) << "other weight tensors are packed again";
}

TEST(DynamicShapes, ConstantsThatChangeShapeBecomeASliceAndAnExpandOfOneTable) {
  FittedGraph f = fit_transformer_like({1, 2, 4}, {2, 5, 16});
  size_t slices = 0, expands = 0, constant_bytes = 0;
  for (const auto& n : f.ir->nodes) {
    if (n.label != "dynamic-shape table") continue;
    slices += n.op == detail::OpId::slice;
    expands += n.op == detail::OpId::expand;
  }
  for (const auto& op : f.ir->operands)
    if (op.role == detail::OperandRole::constant) constant_bytes += op.data->byte_size();
  EXPECT_EQ(slices, 1u);   // the position table, cut to S
  EXPECT_EQ(expands, 1u);  // the repeated bias, stored once
  // w (128 bytes) + the 16-row table (256) + one bias row (16).
  EXPECT_EQ(constant_bytes, 128u + 256u + 16u);
}

TEST(DynamicShapes, ValuesOutsideTheRangesAreTypeErrors) {
  FittedGraph f = fit_transformer_like({1, 2, 4}, {2, 5, 16});
  expect_error([&] { detail::specialize(*f.ir, *f.symbolic, {5, 5}); }, ErrorKind::TypeError,
               "N=5 is outside the graph's range [1, 4]");
  Graph g(f.ir, f.symbolic);
  expect_error([&] { g.specialize({{"N", 1}}); }, ErrorKind::TypeError, "no value for the symbol 'S'");
  expect_error([&] { g.specialize({{"N", 1}, {"S", 3}, {"T", 1}}); }, ErrorKind::TypeError,
               "no symbol 'T'");
  expect_error([&] { g.specialize_for({{"x", {2, 1, 8}}}); }, ErrorKind::TypeError,
               "whose range is [2, 16]");
}

TEST(DynamicShapes, ADependenceThatIsNotMultilinearIsNotSupported) {
  // [S, S] flattened: S*S is quadratic in S.
  auto at = [](const std::vector<int64_t>& v) {
    GraphBuilder b;
    Operand x = b.input("x", DataType::float32, {v[0], v[0]});
    Graph g = b.build({{"y", b.reshape(x, {uint32_t(v[0] * v[0])})}});
    return std::make_shared<GraphIR>(g.ir());
  };
  expect_error([&] { detail::fit_symbolic({"S"}, {{1, 4, 9}}, at, "test"); },
               ErrorKind::NotSupportedError, "no multilinear polynomial");
}

TEST(DynamicShapes, AStructureThatChangesWithASymbolIsNotSupported) {
  auto at = [](const std::vector<int64_t>& v) {
    GraphBuilder b;
    Operand x = b.input("x", DataType::float32, {v[0]});
    Operand y = b.relu(x);
    if (v[0] > 6) y = b.relu(y);
    Graph g = b.build({{"y", y}});
    return std::make_shared<GraphIR>(g.ir());
  };
  expect_error([&] { detail::fit_symbolic({"S"}, {{1, 4, 9}}, at, "test"); },
               ErrorKind::NotSupportedError, "structure changes");
}

TEST(DynamicShapes, ASymbolNoInputDimensionReadsIsNotSupported) {
  // The symbol changes only a constant folded into an attribute: compute could not tell it.
  auto at = [](const std::vector<int64_t>& v) {
    GraphBuilder b;
    Operand x = b.input("x", DataType::float32, {8});
    Graph g = b.build({{"y", b.slice(x, {0}, {uint32_t(v[0])})}});
    return std::make_shared<GraphIR>(g.ir());
  };
  expect_error([&] { detail::fit_symbolic({"S"}, {{1, 4, 8}}, at, "test"); },
               ErrorKind::NotSupportedError, "no dimension of any graph input");
}

TEST(DynamicShapes, ComputeSpecializesPerShapeAndKeepsThePlans) {
  FittedGraph f = fit_transformer_like({1, 2, 4}, {2, 5, 16});
  Graph g(f.ir, f.symbolic);
  EXPECT_TRUE(g.dynamic());
  EXPECT_EQ(g.symbols().at("S"), (SymbolRange{2, 5, 16}));
  EXPECT_EQ(g.input_symbols().at("x"), (std::vector<std::string>{"N", "S", ""}));
  ContextOptions options;
  options.accelerated = false;
  Context c = Context::create(options);
  // More shapes than the context keeps (8), some twice, in an order that evicts.
  std::vector<std::pair<int64_t, int64_t>> shapes = {{2, 5}, {1, 2}, {4, 16}, {3, 7}, {1, 2},
                                                     {1, 3}, {1, 4}, {1, 5}, {1, 6}, {1, 7},
                                                     {1, 8}, {1, 9}, {4, 16}, {3, 7}};
  for (auto [n, s] : shapes) {
    Tensor x = testing::random_tensor(DataType::float32, {n, s, 8}, -1, 1, uint32_t(n * 31 + s));
    NamedTensors out = c.compute(g, {{"x", x}});
    EXPECT_EQ(out.at("y").shape(), (Dims{n, s, 4}));
    testing::expect_close(out.at("y"), transformer_like_reference(x, n, s), {1e-5, 1e-5});
  }
  Tensor x = testing::random_tensor(DataType::float32, {2, 3, 7}, -1, 1, 7);
  expect_error([&] { c.compute(g, {{"x", x}}); }, ErrorKind::TypeError, "the graph expects [2, 3, 8]");
}

TEST(DynamicShapes, EnginesKeepTheSymbolsAndRefitAfterTheirPasses) {
  FittedGraph f = fit_transformer_like({1, 2, 4}, {2, 5, 16});
  Graph g(f.ir, f.symbolic);
  EngineBuildOptions o;
  o.shapes["x"] = {{1, 3, 8}, {2, 5, 8}, {4, 12, 8}};
  Engine e = Engine::from_bytes(Engine::build(g, o).to_bytes());
  ASSERT_TRUE(e.graph().dynamic());
  EXPECT_EQ(e.graph().symbols().at("S"), (SymbolRange{3, 5, 12}));
  ContextOptions options;
  options.accelerated = false;
  Context c = Context::create(options);
  for (auto [n, s] : {std::pair<int64_t, int64_t>{1, 3}, {4, 12}, {3, 11}}) {
    Tensor x = testing::random_tensor(DataType::float32, {n, s, 8}, -1, 1, uint32_t(n + s));
    testing::expect_close(c.compute(e.graph(), {{"x", x}}).at("y"), transformer_like_reference(x, n, s),
                          {1e-5, 1e-5});
  }
  o.shapes["x"] = {{1, 3, 8}, {2, 5, 8}, {4, 17, 8}};
  expect_error([&] { Engine::build(g, o); }, ErrorKind::TypeError, "import it with a wider range");
  o.shapes["x"] = {{1, 3, 8}, {2, 5, 8}, {4, 12, 9}};
  expect_error([&] { Engine::build(g, o); }, ErrorKind::TypeError, "is fixed at 8");
  EngineBuildOptions fixed;
  fixed.shapes["x"] = {{1, 3, 8}, {2, 5, 8}, {4, 12, 8}};
  expect_error([&] { Engine::build(Graph(transformer_like(1, 2)), fixed); }, ErrorKind::TypeError,
               "needs a graph with symbolic dimensions");
}

// A bfloat16 engine is as dynamic as a float32 one: the lowering runs before the refit, and
// the values stay within bfloat16's rounding (8 bits: outputs up to ~20, a few roundings
// deep, so 0.05 absolute plus 1% relative) at shapes other than the opt one.
TEST(DynamicShapes, Bfloat16EnginesKeepTheSymbols) {
  FittedGraph f = fit_transformer_like({1, 2, 4}, {2, 5, 16});
  Graph g(f.ir, f.symbolic);
  EngineBuildOptions o;
  o.precision = Precision::bfloat16;
  o.shapes["x"] = {{1, 3, 8}, {2, 5, 8}, {4, 12, 8}};
  Engine e = Engine::from_bytes(Engine::build(g, o).to_bytes());
  ASSERT_TRUE(e.graph().dynamic());
  EXPECT_EQ(e.options().precision, Precision::bfloat16);
  ContextOptions options;
  options.accelerated = false;
  Context c = Context::create(options);
  for (auto [n, s] : {std::pair<int64_t, int64_t>{1, 3}, {4, 12}, {3, 11}}) {
    Tensor x = testing::random_tensor(DataType::float32, {n, s, 8}, -1, 1, uint32_t(n + s));
    Tensor y = c.compute(e.graph(), {{"x", x}}).at("y");
    std::vector<double> want = transformer_like_reference(x, n, s);
    testing::expect_close(y, want, {5e-2, 1e-2});
    EXPECT_NE(y.to_doubles(), c.compute(Graph(transformer_like(n, s)), {{"x", x}}).at("y").to_doubles())
        << "float32 values: not computed in bfloat16";
  }
}

// x [S, 4] + table[S - 1]: the row index is a one-element int32 constant whose value is a
// polynomial (as GPT-2's decode step looks up the position embedding at the past length).
std::shared_ptr<GraphIR> lookup_at_last_row(int64_t s) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {s, 4});
  Operand rows = b.constant(table(32, 4));
  Operand index = b.constant(Tensor::from(DataType::int32, {1}, std::vector<int32_t>{int32_t(s - 1)}));
  Graph g = b.build({{"y", b.add(x, b.gather(rows, index))}});
  return std::make_shared<GraphIR>(g.ir());
}

TEST(DynamicShapes, SmallIntegerConstantsHoldPolynomialValuesThatEnginesKeep) {
  FittedGraph f = detail::fit_symbolic({"S"}, {{1, 4, 32}},
                                       [](const std::vector<int64_t>& v) { return lookup_at_last_row(v[0]); },
                                       "test");
  ASSERT_TRUE(f.symbolic);
  bool patched = false;
  for (const auto& p : f.symbolic->patches)
    if (p.kind == detail::ShapePatch::Kind::constant_value) {
      patched = true;
      EXPECT_EQ(p.value.to_string(f.symbolic->names), "-1 + S");
    }
  EXPECT_TRUE(patched);
  Graph g(f.ir, f.symbolic);
  // Through an engine too: its constant folding must not fold the lookup into a row.
  Engine e = Engine::from_bytes(Engine::build(g).to_bytes());
  ContextOptions options;
  options.accelerated = false;
  Context c = Context::create(options);
  for (int64_t s : {1, 4, 9, 32}) {
    Tensor x = testing::random_tensor(DataType::float32, {s, 4}, -1, 1, uint32_t(s));
    std::vector<double> want;
    for (int64_t r = 0; r < s; ++r)
      for (int k = 0; k < 4; ++k) want.push_back(double(x.data_as<float>()[r * 4 + k]) + double(s - 1) + k / 8.0);
    testing::expect_close(c.compute(g, {{"x", x}}).at("y"), want, {1e-6, 1e-6});
    testing::expect_close(c.compute(e.graph(), {{"x", x}}).at("y"), want, {1e-6, 1e-6});
  }
}

// Engine bytes of a fitted graph with its symbols edited as a forger would.
std::string forged_engine(const FittedGraph& f, const std::function<void(SymbolicShapes&)>& edit) {
  SymbolicShapes s = *f.symbolic;
  edit(s);
  detail::EngineBytes bytes =
      detail::write_engine(*f.ir, {}, {{{'S', 'Y', 'M', 'S'}, true, detail::write_symbols(s)}});
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size);
}

// x [N, S] flattened, then gathered back with an int64 index grid [N, S] holding n * S + s
// (as transformers 5 builds BERT's padding mask): the grid changes shape and values with
// both symbols, and is generated at each shape from n * S + s.
std::shared_ptr<GraphIR> flat_gather(int64_t n, int64_t s) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {n, s});
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < s; ++j) idx.push_back(i * s + j);
  Operand grid = b.constant(Tensor::from(DataType::int64, {n, s}, idx));
  Operand flat = b.reshape(x, {uint32_t(n * s)});
  Graph g = b.build({{"y", b.mul(b.gather(flat, grid), b.constant(DataType::float32, 2.0))}});
  return std::make_shared<GraphIR>(g.ir());
}

TEST(DynamicShapes, IntegerConstantsThatChangeShapeAreGeneratedFromTheirIndices) {
  // opt N = 1: the grid's rows are fitted where N >= 2.
  FittedGraph f = detail::fit_symbolic({"N", "S"}, {{1, 1, 5}, {1, 6, 40}},
                                       [](const std::vector<int64_t>& v) { return flat_gather(v[0], v[1]); },
                                       "test");
  ASSERT_TRUE(f.symbolic);
  std::string generated;
  for (const auto& p : f.symbolic->patches)
    if (p.kind == detail::ShapePatch::Kind::constant_generated)
      generated = p.value.to_string({"N", "S", "", "", "", "", "", "", "n", "s"});
  EXPECT_EQ(generated, "S*n + s");
  Graph g(f.ir, f.symbolic);
  Engine e = Engine::from_bytes(Engine::build(g).to_bytes());
  ContextOptions options;
  options.accelerated = false;
  Context c = Context::create(options);
  for (auto [n, s] : {std::pair<int64_t, int64_t>{1, 1}, {5, 40}, {3, 7}, {2, 1}}) {
    Tensor x = testing::random_tensor(DataType::float32, {n, s}, -1, 1, uint32_t(n * 50 + s));
    std::vector<double> want;
    for (size_t i = 0; i < x.element_count(); ++i) want.push_back(2.0 * x.data_as<float>()[i]);
    testing::expect_close(c.compute(g, {{"x", x}}).at("y"), want, {0, 0});
    testing::expect_close(c.compute(e.graph(), {{"x", x}}).at("y"), want, {0, 0});
  }
  // Forged: a generated polynomial other than the stored values, or one whose values leave
  // int32's range... the constant here is int64: a polynomial that overflows int64.
  auto forge = [&](const std::function<void(SymbolicShapes&)>& edit) { return forged_engine(f, edit); };
  auto generator = [](SymbolicShapes& s) -> detail::Polynomial& {
    for (auto& p : s.patches)
      if (p.kind == detail::ShapePatch::Kind::constant_generated) return p.value;
    throw std::runtime_error("no generated constant");
  };
  expect_error([&] { Engine::from_bytes(forge([&](SymbolicShapes& s) { generator(s).terms.back().coeff = 2; })); },
               ErrorKind::DataError, "values at opt");
  expect_error([&] {
    Engine::from_bytes(forge([&](SymbolicShapes& s) { generator(s).terms.push_back({1u << 12, 1}); }));
  }, ErrorKind::DataError, "names no symbol");
  expect_error([&] {
    Engine::from_bytes(forge([&](SymbolicShapes& s) {
      generator(s).terms.push_back({(1u << 8) | (1u << 9) | 3u, int64_t(1) << 50});
    }));
  }, ErrorKind::DataError, "leave the constant's type");
}

// A dynamic engine build lowers the same weights at every probe: converted once, shared.
TEST(DynamicShapes, ProbesShareTheirLoweredWeights) {
  detail::LoweredConstants cache;
  auto a = transformer_like(1, 2), b = transformer_like(3, 7);
  // b's weight is a copy at another address: the same values, converted on its own.
  auto c = std::make_shared<GraphIR>(*a);
  detail::lower_to_float16(*a, &cache);
  size_t after_first = cache.entries.size();
  detail::lower_to_float16(*c, &cache);  // the same tensors as a: nothing new
  EXPECT_EQ(cache.entries.size(), after_first);
  detail::lower_to_float16(*b, &cache);  // other tensors: converted
  EXPECT_GT(cache.entries.size(), after_first);
  auto weight16 = [](const GraphIR& g) {
    for (const auto& op : g.operands)
      if (op.role == detail::OperandRole::constant && op.desc.shape == Dims{8, 4}) return op.data;
    return std::shared_ptr<const Tensor>();
  };
  ASSERT_TRUE(weight16(*a) && weight16(*c));
  EXPECT_EQ(weight16(*a), weight16(*c));  // one converted copy
  EXPECT_EQ(std::memcmp(weight16(*a)->data(), weight16(*b)->data(), weight16(*a)->byte_size()), 0);
}

// A forged SYMS section: each must be a DataError at load, never a graph that runs.
TEST(DynamicShapes, ForgedSymbolsAreRejectedByTheReader) {
  FittedGraph f = fit_transformer_like({1, 2, 4}, {2, 5, 16});
  auto forge = [&](const std::function<void(SymbolicShapes&)>& edit) { return forged_engine(f, edit); };
  EXPECT_NO_THROW(Engine::from_bytes(forge([](SymbolicShapes&) {})));
  auto rejected = [&](const std::function<void(SymbolicShapes&)>& edit, const std::string& why) {
    expect_error([&] { Engine::from_bytes(forge(edit)); }, ErrorKind::DataError, why);
  };
  rejected([](SymbolicShapes& s) { s.ranges[1].max = int64_t(1) << 40; }, "range of 'S'");
  rejected([](SymbolicShapes& s) { s.ranges[0] = {3, 2, 4}; }, "range of 'N'");
  rejected([](SymbolicShapes& s) { s.names[1] = s.names[0]; }, "distinct");  // "N" twice
  rejected([](SymbolicShapes& s) { s.patches[0].index = 1 << 20; }, "no such");
  rejected([](SymbolicShapes& s) { s.patches[0].pos = 7; }, "no such dimension");
  rejected([](SymbolicShapes& s) { s.patches[0].value.terms.push_back({1u << 5, 1}); }, "names no symbol");
  rejected([](SymbolicShapes& s) { s.patches.push_back(s.patches[0]); }, "repeats a place");
  // A dimension that the polynomial makes 0 at a corner of the ranges (N - 1 at N = 1).
  rejected(
      [](SymbolicShapes& s) {
        for (auto& p : s.patches)
          if (p.kind == detail::ShapePatch::Kind::operand_dim && p.value.to_string(s.names) == "N") {
            p.value.terms = {{0, 1}, {1, 1}};  // N + 1: not the graph's value at opt
            return;
          }
      },
      "value at opt");
  rejected(
      [](SymbolicShapes& s) {
        s.ranges[0].max = int64_t(1) << 30;  // N*S then leaves the dimension range
      },
      "leaves");
  // A patch on a constant's shape.
  rejected(
      [&](SymbolicShapes& s) {
        for (size_t i = 0; i < f.ir->operands.size(); ++i)
          if (f.ir->operands[i].role == detail::OperandRole::constant) {
            s.patches.push_back({detail::ShapePatch::Kind::operand_dim, int32_t(i), "", 0,
                                 {{{0, f.ir->operands[i].desc.shape[0]}}}});
            return;
          }
      },
      "a constant's shape cannot change");
  // A value patch on a float constant, or past a constant's end.
  auto value_patch = [&](DataType type, uint32_t pos) {
    return [&, type, pos](SymbolicShapes& s) {
      for (size_t i = 0; i < f.ir->operands.size(); ++i)
        if (f.ir->operands[i].role == detail::OperandRole::constant && f.ir->operands[i].desc.data_type == type) {
          s.patches.push_back({detail::ShapePatch::Kind::constant_value, int32_t(i), "", pos, {{{1, 1}}}});
          return;
        }
      ADD_FAILURE() << "no constant of that type";
    };
  };
  rejected(value_patch(DataType::float32, 0), "not a small int32 or int64 constant");
  // An older reader refuses the section instead of running the graph at opt: the flag.
  std::string bytes = forge([](SymbolicShapes&) {});
  EXPECT_NE(bytes.find("SYMS"), std::string::npos);
}

}  // namespace
}  // namespace cppnn
