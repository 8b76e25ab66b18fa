// Engines are layout-neutral: Engine::build folds and fuses but keeps the model's NCHW
// convolutions, and each backend lays the graph out when it compiles it (the CPU plan:
// channels-last). So a CPU plan compiled from an engine is the plan compiled from the graph
// directly (same report: precision, layout, steps) and computes the same values; the
// passes run twice on that path (engine build, then the backend) and must give what they
// give once. Engine files written before this (NHWC convs baked in) still load and run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>

#include "compiler/passes.h"
#include "backends/cpu/evaluator.h"
#include "cppnn/cppnn.h"
#include "cppnn/onnx.h"
#include "engine/engine_format.h"
#include "engine/portable_graph.h"
#include "graph/ir.h"
#include "test_support.h"

namespace cppnn {
namespace {

using detail::GraphIR;
using detail::OpId;
using testing::expect_close;
using testing::random_tensor;

constexpr DataType f32 = DataType::float32;

// Convs and pools that run channels-last, and the transposes that move data between layouts.
size_t nhwc_nodes(const GraphIR& g) {
  size_t n = 0;
  for (const auto& node : g.nodes)
    n += node.attrs.s_or("inputLayout", "nchw") == "nhwc" || node.attrs.s_or("layout", "nchw") == "nhwc";
  return n;
}

size_t layout_transposes(const GraphIR& g) {
  size_t n = 0;
  for (const auto& node : g.nodes)
    if (node.op == OpId::transpose) {
      const auto& p = node.attrs.ints("permutation");
      n += p == std::vector<int64_t>{0, 2, 3, 1} || p == std::vector<int64_t>{0, 3, 1, 2};
    }
  return n;
}

size_t count_op(const GraphIR& g, OpId op) {
  size_t n = 0;
  for (const auto& node : g.nodes) n += node.op == op;
  return n;
}

// A small NCHW network with every fusion a conv takes (bias add, residual add, relu, clamp),
// a pool between convs, a global pool, a matmul head and an intermediate output.
Graph small_cnn() {
  GraphBuilder b;
  Operand x = b.input("x", f32, {2, 3, 12, 10});
  Conv2dOptions pad1;
  pad1.padding = {1, 1, 1, 1};
  auto conv = [&](Operand in, int64_t out_c, int64_t in_c, int64_t k, const Conv2dOptions& o,
                  uint32_t seed) {
    Operand w = b.constant(random_tensor(f32, {out_c, in_c, k, k}, -0.4, 0.4, seed));
    Operand bias = b.constant(random_tensor(f32, {1, out_c, 1, 1}, -0.2, 0.2, seed + 100));
    return b.add(b.conv2d(in, w, o), bias);
  };
  Operand c1 = b.relu(conv(x, 8, 3, 3, pad1, 1));
  Operand c2 = b.relu(b.add(conv(c1, 8, 8, 3, pad1, 2), c1));  // residual
  Pool2dOptions pool;
  pool.window_dimensions = {2, 2};
  pool.strides = {2, 2};
  Operand p = b.max_pool2d(c2, pool);
  ClampOptions relu6;
  relu6.min_value = 0.0;
  relu6.max_value = 6.0;
  Operand c3 = b.clamp(conv(p, 16, 8, 1, Conv2dOptions(), 3), relu6);
  Operand g = b.average_pool2d(c3);  // global: [2, 16, 1, 1]
  Operand flat = b.reshape(g, {2, 16});
  Operand head = b.matmul(flat, b.constant(random_tensor(f32, {16, 5}, -0.5, 0.5, 4)));
  return b.build({{"logits", b.add(head, b.constant(random_tensor(f32, {5}, -0.1, 0.1, 5)))},
                  {"features", c2}});
}

Graph mobilenet_v2() { return load_onnx(CPPNN_SHARED_DIR "/models/mobilenet_v2.onnx"); }

Context cpu_context(Precision precision = Precision::float32) {
  ContextOptions o;
  o.accelerated = false;
  o.num_threads = 1;  // the report names the threads: both plans get the same
  o.precision = precision;
  return Context::create(o);
}

void expect_same_values(const NamedTensors& got, const NamedTensors& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, w] : want) {
    const Tensor& g = got.at(name);
    ASSERT_EQ(g.shape(), w.shape()) << name;
    ASSERT_EQ(g.data_type(), w.data_type()) << name;
    EXPECT_EQ(std::memcmp(g.data(), w.data(), w.byte_size()), 0) << name << " differs";
  }
}

// The graphs' nodes, node for node: ops, attributes, and operands compared by where they
// are first used (two passes may number the operands they add differently): descriptors,
// roles and constants' bytes.
void expect_same_graph(const GraphIR& a, const GraphIR& b) {
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  std::map<detail::OperandId, detail::OperandId> a_to_b;
  auto same_operand = [&](detail::OperandId x, detail::OperandId y, const std::string& where) {
    if (x == detail::kNoOperand || y == detail::kNoOperand) {
      EXPECT_EQ(x, y) << where;
      return;
    }
    auto [it, fresh] = a_to_b.emplace(x, y);
    EXPECT_EQ(it->second, y) << where << ": operand used in another place";
    if (!fresh) return;
    const auto &p = a.operands[size_t(x)], &q = b.operands[size_t(y)];
    EXPECT_TRUE(p.desc == q.desc && p.role == q.role && p.name == q.name) << where;
    if (p.data && q.data) {
      EXPECT_EQ(std::memcmp(p.data->data(), q.data->data(), p.data->byte_size()), 0) << where;
    }
  };
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const auto &m = a.nodes[i], &n = b.nodes[i];
    std::string where = "node " + std::to_string(i) + " (" + detail::op_name(m.op) + ")";
    ASSERT_EQ(m.op, n.op) << where;
    EXPECT_TRUE(m.attrs == n.attrs) << where;
    ASSERT_EQ(m.inputs.size(), n.inputs.size()) << where;
    ASSERT_EQ(m.outputs.size(), n.outputs.size()) << where;
    for (size_t k = 0; k < m.inputs.size(); ++k) same_operand(m.inputs[k], n.inputs[k], where);
    for (size_t k = 0; k < m.outputs.size(); ++k) same_operand(m.outputs[k], n.outputs[k], where);
  }
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (const auto& [name, id] : a.outputs) same_operand(id, b.outputs.at(name), "output " + name);
  for (const auto& [name, id] : a.inputs) same_operand(id, b.inputs.at(name), "input " + name);
  EXPECT_EQ(a.precision, b.precision);
}

Engine build(const Graph& g, Precision precision) {
  EngineBuildOptions o;
  o.precision = precision;
  return Engine::build(g, o);
}

TEST(EngineLayout, TheEngineGraphKeepsTheModelsLayoutAndIsFused) {
  for (Graph g : {small_cnn(), mobilenet_v2()}) {
    for (Precision p : {Precision::float32, Precision::float16}) {
      Engine e = build(g, p);
      const GraphIR& ir = e.graph().ir();
      EXPECT_EQ(nhwc_nodes(ir), 0u) << to_string(p);
      EXPECT_EQ(layout_transposes(ir), 0u) << to_string(p);
      // Fusions and folding are still done: every conv took its bias and activation.
      EXPECT_EQ(count_op(ir, OpId::relu) + count_op(ir, OpId::clamp), 0u) << to_string(p);
      EXPECT_LT(ir.nodes.size(), g.ir().nodes.size());
    }
  }
}

// The CPU plan of an engine is the plan of the graph compiled directly: the same report
// (precision, layout, one line per step) and the same bytes out.
TEST(EngineLayout, CpuPlanFromTheEngineIsTheDirectPlan) {
  Graph g = small_cnn();
  NamedTensors in = {{"x", random_tensor(f32, {2, 3, 12, 10}, -1, 1, 9)}};
  Context c = cpu_context();
  Engine e = Engine::from_bytes(build(g, Precision::float32).to_bytes());
  std::string direct = c.report(g);
  EXPECT_NE(direct.find("precision float32 (as built), layout nhwc (3 of 3 conv2d channels-last)"),
            std::string::npos)
      << direct;
  EXPECT_EQ(c.report(e.graph()), direct);
  expect_same_values(c.compute(e.graph(), in), c.compute(g, in));

  // float16: the engine's lowering and a float16 context's are the same one.
  Context c16 = cpu_context(Precision::float16);
  Engine e16 = Engine::from_bytes(build(g, Precision::float16).to_bytes());
  std::string direct16 = c16.report(g);
  EXPECT_NE(direct16.find("precision float16, layout nhwc (3 of 3 conv2d channels-last)"),
            std::string::npos)
      << direct16;
  EXPECT_EQ(c.report(e16.graph()), direct16);
  EXPECT_EQ(c16.report(e16.graph()), direct16);  // not lowered a second time
  expect_same_values(c.compute(e16.graph(), in), c16.compute(g, in));
  // And float16 is float16's distance from float32.
  NamedTensors want = c.compute(g, in), got = c16.compute(g, in);
  for (const char* name : {"logits", "features"})
    expect_close(got.at(name), want.at(name).to_doubles(), {2e-2, 2e-2}, name);
}

// MobileNetV2 (the shared torchvision export): from its float32 engine, from its float16
// engine and compiled directly (on a float32 / float16 context): same plans, same values;
// float32 against ONNX Runtime's logits. (This model's logits are ~1e-10, under float16's
// range, so its float16 values are compared with the direct float16 plan only;
// tests/python/test_context_precision.py checks float16 against ONNX Runtime on the
// generator's MobileNetV2.)
TEST(EngineLayout, MobileNetV2FromItsEnginesIsTheDirectPlan) {
  Graph g = mobilenet_v2();
  Tensor x(f32, {1, 3, 224, 224});
  for (size_t i = 0; i < x.element_count(); ++i) x.data_as<float>()[i] = float(std::sin(double(i) * 0.001));
  NamedTensors in = {{"input.1", x}};
  Context c = cpu_context();
  std::string direct = c.report(g);
  EXPECT_NE(direct.find("layout nhwc (52 of 52 conv2d channels-last)"), std::string::npos)
      << direct.substr(0, direct.find('\n'));
  Engine e = build(g, Precision::float32);
  EXPECT_EQ(c.report(e.graph()), direct);
  NamedTensors out = c.compute(e.graph(), in);
  expect_same_values(out, c.compute(g, in));
  std::vector<double> got = out.at("536").to_doubles(), want(got.size());
  std::ifstream f(CPPNN_SOURCE_DIR "/tests/unit/onnx_fixtures/mobilenet_v2_logits.txt");
  std::string line;
  size_t n = 0;
  while (std::getline(f, line))
    if (!line.empty() && line[0] != '#' && n < want.size()) want[n++] = std::stod(line);
  ASSERT_EQ(n, want.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) num += (got[i] - want[i]) * (got[i] - want[i]), den += want[i] * want[i];
  EXPECT_LT(std::sqrt(num / den), 1e-4);

  Context c16 = cpu_context(Precision::float16);
  Engine e16 = build(g, Precision::float16);
  std::string direct16 = c16.report(g);
  EXPECT_NE(direct16.find("precision float16, layout nhwc (52 of 52"), std::string::npos);
  EXPECT_EQ(c.report(e16.graph()), direct16);
  expect_same_values(c.compute(e16.graph(), in), c16.compute(g, in));
}

// Engine build then the backend: optimize() runs twice. The second run changes nothing
// that the first did not (the CPU's passes), and the portable graph of a portable graph
// is itself (a float16 one is not lowered again).
TEST(EngineLayout, OptimizingTwiceIsIdempotent) {
  for (Graph g : {small_cnn(), mobilenet_v2()}) {
    auto cpu = detail::cpu_pass_options();
    auto once = detail::optimize(g.ir_ptr(), cpu);
    expect_same_graph(*detail::optimize(once, cpu), *once);
    for (Precision p : {Precision::float32, Precision::float16}) {
      auto portable = detail::portable_graph(g.ir_ptr(), p, "test");
      EXPECT_EQ(portable->precision, p);
      expect_same_graph(*detail::portable_graph(portable, p, "test"), *portable);
      // Laid out after fusion, the graph is laid out as before fusion: the engine path's
      // plan is the direct path's.
      if (p == Precision::float32) expect_same_graph(*detail::optimize(portable, cpu), *once);
    }
  }
}

// A GRU (which the CUDA plan lowers into matmuls and element-wise ops) feeding a fused head.
Graph gru_net() {
  GraphBuilder b;
  Operand x = b.input("x", f32, {5, 2, 6});  // steps, batch, input size
  Operand w = b.constant(random_tensor(f32, {1, 12, 6}, -0.5, 0.5, 41));
  Operand r = b.constant(random_tensor(f32, {1, 12, 4}, -0.5, 0.5, 42));
  GruOptions o;
  o.bias = b.constant(random_tensor(f32, {1, 12}, -0.2, 0.2, 43));
  Operand h = b.reshape(b.gru(x, w, r, 5, 4, o)[0], {2, 4});
  Operand head = b.add(b.matmul(h, b.constant(random_tensor(f32, {4, 3}, -1, 1, 44))),
                       b.constant(random_tensor(f32, {3}, -0.1, 0.1, 45)));
  return b.build({{"y", b.relu(head)}});
}

// The CUDA plan's passes (recurrent ops lowered; channels-last for float16 and TF32, not for
// exact float32) give an engine's graph the graph they give the model: the GPU's plan
// from an engine is its direct plan too. (Its device-only steps after the passes take the
// same graph, so they do the same.)
TEST(EngineLayout, TheCudaPlansPassesGiveTheSameGraphFromTheEngine) {
  for (Graph g : {small_cnn(), mobilenet_v2(), gru_net()}) {
    auto portable = detail::portable_graph(g.ir_ptr(), Precision::float32, "test");
    for (bool channels_last : {false, true}) {
      auto cuda = detail::cpu_pass_options();
      cuda.lower_recurrent = true;
      cuda.channels_last = channels_last;
      auto from_engine = detail::optimize(portable, cuda);
      EXPECT_EQ(count_op(*from_engine, OpId::gru), 0u);
      expect_same_graph(*from_engine, *detail::optimize(g.ir_ptr(), cuda));
    }
  }
}

// choose_channels_last on a fused graph (what a backend gets from an engine): every conv
// moves, the one with a residual input too, and the transposes cancel along the chain.
TEST(EngineLayout, ChannelsLastMovesFusedConvs) {
  Graph g = small_cnn();
  auto portable = detail::portable_graph(g.ir_ptr(), Precision::float32, "test");
  size_t residuals = 0;
  for (const auto& node : portable->nodes)
    residuals += node.op == OpId::conv2d && node.inputs.size() > 3 && node.inputs[3] != detail::kNoOperand;
  ASSERT_EQ(residuals, 1u);
  GraphIR laid = *portable;
  detail::choose_channels_last(laid);
  detail::remove_dead_code(laid);
  EXPECT_EQ(count_op(laid, OpId::conv2d), 3u);
  for (const auto& node : laid.nodes) {
    if (node.op == OpId::conv2d) {
      EXPECT_EQ(node.attrs.s("inputLayout"), "nhwc");
    }
  }
  // In at the input; out for the intermediate output "features" and before the global
  // pool's reshape (which the size-1 axes turn into a reshape): no more.
  EXPECT_LE(layout_transposes(laid), 2u);
  NamedTensors in = {{"x", random_tensor(f32, {2, 3, 12, 10}, -1, 1, 3)}};
  Graph direct = small_cnn();
  NamedTensors want = testing::run_cpu(direct, in);
  // The laid-out graph computes what the model computes (the CPU plan's passes find
  // nothing more to do in it).
  auto shared = std::make_shared<const GraphIR>(std::move(laid));
  Context c = cpu_context();
  NamedTensors got = c.compute(Graph(shared), in);
  for (const char* name : {"logits", "features"})
    expect_close(got.at(name), want.at(name).to_doubles(), {1e-5, 1e-5}, name);
}

// Engines written before engines were layout-neutral hold NHWC convs and their transposes.
// They still load (the reader's validation is unchanged), their layout stays as built,
// and they compute what the model computes. engine_fixtures/ keeps two such files, written
// by the earlier builder from conv_relu_pool.onnx (tests/fuzz/make_seeds.py).
TEST(EngineLayout, EnginesWithTheOldNhwcLayoutStillLoadAndRun) {
  const std::string dir = CPPNN_SOURCE_DIR "/tests/unit/engine_fixtures/";
  Graph model = load_onnx(dir + "conv_relu_pool.onnx");
  NamedTensors in = {{"x", random_tensor(f32, {1, 3, 8, 8}, -1, 1, 17)}};
  NamedTensors want = testing::run_cpu(model, in);
  Context c = cpu_context();
  for (const char* precision : {"float32", "float16"}) {
    Engine old = Engine::load(dir + "legacy_nhwc_conv_relu_pool." + precision + ".engine");
    EXPECT_GT(nhwc_nodes(old.graph().ir()), 0u) << precision << ": not an NHWC engine";
    EXPECT_GT(layout_transposes(old.graph().ir()), 0u) << precision;
    EXPECT_NE(c.report(old.graph()).find("layout nhwc (1 of 1 conv2d"), std::string::npos);
    testing::Tolerance tol = std::string(precision) == "float32" ? testing::Tolerance{1e-5, 1e-5}
                                                                 : testing::Tolerance{1e-2, 1e-2};
    expect_close(c.compute(old.graph(), in).at("y"), want.at("y").to_doubles(), tol, precision);
  }
  // An engine as the earlier builder wrote it (the CPU's passes, NHWC), of a larger graph.
  Graph g = small_cnn();
  auto nhwc = detail::optimize(g.ir_ptr(), detail::cpu_pass_options());
  ASSERT_GT(nhwc_nodes(*nhwc), 0u);
  detail::EngineBytes bytes = detail::write_engine(*nhwc, EngineBuildOptions{});
  Engine old = Engine::from_bytes(
      std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size));
  NamedTensors x = {{"x", random_tensor(f32, {2, 3, 12, 10}, -1, 1, 5)}};
  NamedTensors got = c.compute(old.graph(), x), ref = c.compute(g, x);
  for (const char* name : {"logits", "features"})
    expect_close(got.at(name), ref.at(name).to_doubles(), {1e-5, 1e-5}, name);
}

}  // namespace
}  // namespace cppnn
