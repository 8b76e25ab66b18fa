// ONNX export: the ModelProto it writes (opset, declared inputs and outputs, initializers,
// the ONNX ops and attributes each WebNN op maps to), an Engine's fused graph, what it
// refuses, and how it writes files. test_onnx_export.cpp checks the values the exported models
// compute.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "graph/ir.h"
#include "unit/onnx_export_round_trip.h"
#include "unit/onnx_test_model.h"

namespace cppnn {
namespace {

namespace fs = std::filesystem;
using testing::build_graph;
using testing::Case;
using testing::expect_error;
using testing::expect_round_trip;
using testing::input;
using testing::Outputs;
using testing::random_tensor;
using testing::run_cpu;
using testing::weights;
using P = onnx::TensorProto;

constexpr DataType F32 = DataType::float32, U8 = DataType::uint8, I32 = DataType::int32;

onnx::ModelProto exported(const Graph& g) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(export_onnx_bytes(g)));
  // Every initializer is read: a constant written transposed is not written twice.
  std::set<std::string> read;
  for (const auto& n : m.graph().node()) read.insert(n.input().begin(), n.input().end());
  for (const auto& t : m.graph().initializer()) EXPECT_TRUE(read.count(t.name())) << t.name();
  return m;
}

std::vector<const onnx::NodeProto*> nodes(const onnx::ModelProto& m, const std::string& op) {
  std::vector<const onnx::NodeProto*> out;
  for (const auto& n : m.graph().node())
    if (n.op_type() == op) out.push_back(&n);
  return out;
}

const onnx::NodeProto& only(const onnx::ModelProto& m, const std::string& op) {
  auto found = nodes(m, op);
  EXPECT_EQ(found.size(), 1u) << op;
  if (found.empty()) throw std::runtime_error("no " + op + " node");
  return *found[0];
}

const onnx::AttributeProto& attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a;
  throw std::runtime_error(n.op_type() + " has no attribute " + name);
}

std::vector<int64_t> ints(const onnx::NodeProto& n, const std::string& name) {
  const auto& a = attr(n, name);
  return {a.ints().begin(), a.ints().end()};
}

// The int64 values of an initializer.
std::vector<int64_t> initializer_ints(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) {
      EXPECT_EQ(t.data_type(), P::INT64);
      std::vector<int64_t> v(t.raw_data().size() / 8);
      std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
      return v;
    }
  throw std::runtime_error("no initializer " + name);
}

TEST(OnnxExport, ModelDeclaresOpsetInputsOutputsAndInitializers) {
  GraphBuilder b;
  Operand x = b.input("x", F32, {2, 3});
  Operand m = b.input("mask", U8, {2, 3});
  Operand w = b.constant(random_tensor(F32, {2, 3}, -1, 1));
  Operand y = b.add(x, w);
  Graph g = b.build({{"y", y}, {"y_again", y}, {"masked", b.logical_not(m)}});
  onnx::ModelProto model = exported(g);
  EXPECT_EQ(model.producer_name(), "cppnn");
  ASSERT_EQ(model.opset_import_size(), 1);
  EXPECT_EQ(model.opset_import(0).domain(), "");
  EXPECT_EQ(model.opset_import(0).version(), 17);
  const onnx::GraphProto& graph = model.graph();
  std::map<std::string, std::pair<int32_t, std::vector<int64_t>>> declared;
  for (const auto* list : {&graph.input(), &graph.output()})
    for (const auto& v : *list) {
      std::vector<int64_t> dims;
      for (const auto& d : v.type().tensor_type().shape().dim()) dims.push_back(d.dim_value());
      declared[v.name()] = {v.type().tensor_type().elem_type(), dims};
    }
  using Decl = std::pair<int32_t, std::vector<int64_t>>;
  EXPECT_EQ(declared["x"], (Decl{P::FLOAT, {2, 3}}));
  EXPECT_EQ(declared["mask"], (Decl{P::UINT8, {2, 3}}));  // uint8 stays uint8
  EXPECT_EQ(declared["masked"], (Decl{P::UINT8, {2, 3}}));
  EXPECT_EQ(declared["y"], (Decl{P::FLOAT, {2, 3}}));
  EXPECT_EQ(declared["y_again"], (Decl{P::FLOAT, {2, 3}}));
  EXPECT_EQ(graph.input_size(), 2);  // initializers are not listed as inputs
  ASSERT_EQ(graph.initializer_size(), 1);
  EXPECT_EQ(graph.initializer(0).raw_data().size(), 6 * sizeof(float));
  // The second name of one operand is an Identity of the first.
  EXPECT_EQ(only(model, "Identity").output(0), "y_again");
  // logicalNot: uint8 -> bool, Not, bool -> uint8.
  EXPECT_EQ(attr(*nodes(model, "Cast")[0], "to").i(), P::BOOL);
  EXPECT_EQ(attr(*nodes(model, "Cast")[1], "to").i(), P::UINT8);
}

TEST(OnnxExport, ConvAndPoolAttributesFollowOnnxConventions) {
  GraphBuilder b;
  Operand x = b.input("x", F32, {1, 2, 7, 8});
  Conv2dOptions c;
  c.padding = {1, 0, 2, 1}, c.strides = {2, 1}, c.dilations = {1, 2}, c.groups = 2;
  c.input_layout = InputLayout::nhwc, c.filter_layout = Conv2dFilterLayout::hwio;
  Operand conv = b.conv2d(b.input("xn", F32, {1, 7, 8, 4}),
                          b.constant(random_tensor(F32, {3, 2, 2, 6}, -1, 1)), c);
  Pool2dOptions avg, l2;
  avg.window_dimensions = {3, 3}, avg.padding = {1, 0, 0, 0}, avg.strides = {2, 2};
  avg.output_shape_rounding = RoundingType::ceil;
  l2.window_dimensions = {2, 3}, l2.padding = {0, 1, 1, 0}, l2.strides = {3, 2};
  l2.output_shape_rounding = RoundingType::ceil;
  Graph g = b.build({{"conv", conv},
                     {"avg", b.average_pool2d(x, avg)},
                     {"l2", b.l2_pool2d(b.input("xl", F32, {1, 2, 6, 7}), l2)}});
  onnx::ModelProto model = exported(g);
  const onnx::NodeProto& conv_node = only(model, "Conv");
  EXPECT_EQ(ints(conv_node, "pads"), (std::vector<int64_t>{1, 2, 0, 1}));  // [bH, bW, eH, eW]
  EXPECT_EQ(ints(conv_node, "strides"), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(ints(conv_node, "dilations"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ints(conv_node, "kernel_shape"), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(attr(conv_node, "group").i(), 2);
  // NHWC input: a Transpose on each side; the constant HWIO filter is transposed on the host.
  EXPECT_EQ(nodes(model, "Transpose").size(), 2u);
  const onnx::NodeProto& avg_node = only(model, "AveragePool");
  EXPECT_EQ(attr(avg_node, "ceil_mode").i(), 1);
  EXPECT_EQ(attr(avg_node, "count_include_pad").i(), 0);
  // LpPool-11 has no ceil_mode: the end padding grows to give the ceil size.
  const onnx::NodeProto& lp = only(model, "LpPool");
  EXPECT_EQ(attr(lp, "p").i(), 2);
  EXPECT_EQ(ints(lp, "pads"), (std::vector<int64_t>{0, 1, 2, 1}));  // ends 1, 0 -> 2, 1
}

TEST(OnnxExport, DecompositionsAndInputAttributes) {
  GraphBuilder b;
  Operand x = b.input("x", F32, {2, 3, 4});
  LayerNormalizationOptions trailing, middle;
  trailing.axes = std::vector<uint32_t>{1, 2};
  middle.axes = std::vector<uint32_t>{1};
  ReduceOptions r;
  r.axes = std::vector<uint32_t>{2};
  ClampOptions upper;
  upper.max_value = 1.0;
  ArgMinMaxOptions arg;
  ReverseOptions rev;
  rev.axes = std::vector<uint32_t>{0, 2};
  Graph g = b.build({{"gelu", b.gelu(x)},
                     {"ln", b.layer_normalization(x, trailing)},
                     {"ln_middle", b.layer_normalization(x, middle)},
                     {"sum", b.reduce_sum(x, r)},
                     {"max", b.reduce_max(x, r)},
                     {"clamp", b.clamp(x, upper)},
                     {"arg", b.arg_max(x, 1, arg)},
                     {"reverse", b.reverse(x, rev)}});
  onnx::ModelProto model = exported(g);
  EXPECT_TRUE(nodes(model, "Gelu").empty());  // opset 20
  EXPECT_EQ(nodes(model, "Erf").size(), 1u);
  EXPECT_EQ(attr(only(model, "LayerNormalization"), "axis").i(), 1);
  EXPECT_EQ(nodes(model, "ReduceMean").size(), 2u);  // mean and variance of ln_middle
  const onnx::NodeProto& sum = only(model, "ReduceSum");
  ASSERT_EQ(sum.input_size(), 2);  // opset 13+: axes as an input
  EXPECT_EQ(initializer_ints(model, sum.input(1)), (std::vector<int64_t>{2}));
  EXPECT_EQ(ints(only(model, "ReduceMax"), "axes"), (std::vector<int64_t>{2}));
  const onnx::NodeProto& clip = only(model, "Clip");
  ASSERT_EQ(clip.input_size(), 3);
  EXPECT_EQ(clip.input(1), "");  // no lower bound
  EXPECT_EQ(attr(only(model, "ArgMax"), "keepdims").i(), 0);
  const onnx::NodeProto& slice = only(model, "Slice");
  EXPECT_EQ(initializer_ints(model, slice.input(4)), (std::vector<int64_t>{-1, -1}));
  EXPECT_EQ(initializer_ints(model, slice.input(3)), (std::vector<int64_t>{0, 2}));
  bool int32_cast = false;
  for (const auto* c : nodes(model, "Cast")) int32_cast |= attr(*c, "to").i() == P::INT32;
  EXPECT_TRUE(int32_cast);  // ArgMax gives int64
}

TEST(OnnxExport, LogicalResultsFeedOnnxBoolOpsWithoutACastBack) {
  GraphBuilder b;
  Operand x = b.input("x", F32, {4}), y = b.input("y", F32, {4});
  Operand gt = b.greater(x, y);
  Graph g = b.build({{"gt", gt}, {"not", b.logical_not(gt)}, {"where", b.where(gt, x, y)}});
  onnx::ModelProto model = exported(g);
  const onnx::NodeProto& greater = only(model, "Greater");
  EXPECT_EQ(only(model, "Not").input(0), greater.output(0));
  EXPECT_EQ(only(model, "Where").input(0), greater.output(0));
  for (const auto* c : nodes(model, "Cast")) EXPECT_EQ(attr(*c, "to").i(), P::UINT8);
}

TEST(OnnxExport, ResampleUsesHalfPixelSizesAndRoundsIntegerLinear) {
  GraphBuilder b;
  Resample2dOptions nearest, linear;
  nearest.scales = {1.5f, 2.0f};
  linear.mode = InterpolationMode::linear, linear.sizes = {6, 9};
  Graph g = b.build({{"nearest", b.resample2d(b.input("x", F32, {1, 2, 4, 5}), nearest)},
                     {"u8", b.resample2d(b.input("u", U8, {1, 1, 3, 4}), linear)}});
  onnx::ModelProto model = exported(g);
  auto resizes = nodes(model, "Resize");
  ASSERT_EQ(resizes.size(), 2u);
  for (const auto* r : resizes) {
    EXPECT_EQ(attr(*r, "coordinate_transformation_mode").s(), "half_pixel");
    EXPECT_EQ(r->input(2), "");  // no scales: ONNX's scale is then output / input, as WebNN's
  }
  EXPECT_EQ(attr(*resizes[0], "nearest_mode").s(), "round_prefer_floor");
  EXPECT_EQ(initializer_ints(model, resizes[0]->input(3)), (std::vector<int64_t>{1, 2, 6, 10}));
  EXPECT_EQ(attr(*resizes[1], "mode").s(), "linear");
  EXPECT_EQ(only(model, "Round").input(0), resizes[1]->output(0));
}

TEST(OnnxExport, FusedConvExportsAsConvAddAndActivation) {
  GraphBuilder b;
  Conv2dOptions o;
  o.input_layout = InputLayout::nhwc, o.filter_layout = Conv2dFilterLayout::ohwi;
  Operand conv = b.conv2d(b.input("x", F32, {1, 5, 5, 3}),
                          b.constant(random_tensor(F32, {4, 1, 1, 3}, -1, 1)), o);
  ClampOptions relu6;
  relu6.min_value = 0.0, relu6.max_value = 6.0;
  Graph g = b.build({{"y", b.clamp(b.add(conv, b.input("r", F32, {1, 5, 5, 4})), relu6)}});
  onnx::ModelProto model = exported(Engine::build(g).graph());
  const onnx::NodeProto& add = only(model, "Add");
  EXPECT_EQ(add.input(1), "r");
  EXPECT_EQ(only(model, "Clip").input(0), add.output(0));
  EXPECT_EQ(only(model, "Clip").output(0), "y");
}

// An Engine's optimized graph holds the compiler's fused nodes: a conv2d with a bias, a
// residual operand and an activation, a matmul with a bias operand, activations on gemm and
// convTranspose2d. Exported, they run as the op followed by Add and activation nodes.
TEST(OnnxExport, FusedEngineGraphRoundTrips) {
  Case c{
      "fused", [](GraphBuilder& b) {
        Operand x = input(b, "x", F32, {1, 3, 8, 8});
        Conv2dOptions same;
        same.padding = {1, 1, 1, 1};
        Operand conv = b.conv2d(x, weights(b, F32, {4, 3, 3, 3}, 61), same);
        Operand y1 = b.relu(b.add(conv, weights(b, F32, {1, 4, 1, 1}, 62)));
        // NHWC, which the layout pass leaves alone, so the residual add is fused.
        Conv2dOptions nhwc = same;
        nhwc.input_layout = InputLayout::nhwc, nhwc.filter_layout = Conv2dFilterLayout::ohwi;
        Operand conv2 =
            b.conv2d(input(b, "xn", F32, {1, 8, 8, 3}), weights(b, F32, {4, 3, 3, 3}, 63), nhwc);
        ClampOptions relu6;
        relu6.min_value = 0.0, relu6.max_value = 6.0;
        Operand y2 = b.clamp(b.add(conv2, input(b, "r", F32, {1, 8, 8, 4})), relu6);
        Operand mm = b.matmul(input(b, "a", F32, {2, 5, 6}), weights(b, F32, {6, 7}, 64));
        Operand y3 = b.gelu(b.add(mm, weights(b, F32, {7}, 65)));
        LeakyReluOptions leaky;
        leaky.alpha = 0.1;
        Operand y4 =
            b.leaky_relu(b.gemm(input(b, "g", F32, {3, 4}), weights(b, F32, {4, 5}, 66)), leaky);
        ConvTranspose2dOptions up;
        up.strides = {2, 2};
        Operand y5 = b.sigmoid(b.conv_transpose2d(x, weights(b, F32, {3, 2, 2, 2}, 67), up));
        EluOptions elu;
        Operand y6 = b.elu(b.matmul(input(b, "e", F32, {2, 6}), weights(b, F32, {6, 3}, 68)), elu);
        return Outputs{{"y1", y1}, {"y2", y2}, {"y3", y3}, {"y4", y4}, {"y5", y5}, {"y6", y6}};
      }};
  Graph original = build_graph(c);
  Engine engine = Engine::build(original);
  const Graph& optimized = engine.graph();
  // The round trip must see what it claims to test.
  std::set<std::string> activations;
  bool residual = false, matmul_bias = false;
  for (const detail::Node& node : optimized.ir().nodes) {
    if (node.attrs.has("activation")) activations.insert(node.attrs.s("activation"));
    residual = residual || (node.op == detail::OpId::conv2d && node.inputs.size() > 3 &&
                            node.inputs[3] != detail::kNoOperand);
    matmul_bias = matmul_bias || (node.op == detail::OpId::matmul && node.inputs.size() > 2 &&
                                  node.inputs[2] != detail::kNoOperand);
  }
  EXPECT_EQ(activations,
            (std::set<std::string>{"relu", "clamp", "gelu", "leakyRelu", "sigmoid", "elu"}));
  EXPECT_TRUE(residual);
  EXPECT_TRUE(matmul_bias);
  expect_round_trip(original, optimized, c);
}

TEST(OnnxExport, OpsWithoutAFaithfulMappingAreNotSupported) {
  GraphBuilder b;
  Pool2dOptions dilated;
  dilated.label = "dilated_pool", dilated.dilations = {2, 2}, dilated.window_dimensions = {2, 2};
  Graph pool = b.build({{"y", b.average_pool2d(b.input("x", F32, {1, 1, 6, 6}), dilated)}});
  expect_error([&] { export_onnx_bytes(pool); }, ErrorKind::NotSupportedError,
               "node 'dilated_pool' (averagePool2d): dilations [2, 2]");

  GraphBuilder b2;
  Operand u = b2.input("u", U8, {3});
  Graph pow = b2.build({{"y", b2.pow(u, u, {"u8_pow"})}});
  expect_error([&] { export_onnx_bytes(pow); }, ErrorKind::NotSupportedError,
               "node 'u8_pow' (pow): ONNX's Pow (opset 17) does not take uint8");

  // ONNX's ceil_mode drops a last window that starts in the end padding; WebNN keeps it.
  GraphBuilder b3;
  Pool2dOptions ceil;
  ceil.label = "late_window", ceil.window_dimensions = {2, 2}, ceil.strides = {3, 3};
  ceil.padding = {0, 1, 0, 1}, ceil.output_shape_rounding = RoundingType::ceil;
  Graph late = b3.build({{"y", b3.max_pool2d(b3.input("x", F32, {1, 1, 6, 6}), ceil)}});
  expect_error([&] { export_onnx_bytes(late); }, ErrorKind::NotSupportedError,
               "node 'late_window' (maxPool2d): output size");

  GraphBuilder b4;
  Operand x = b4.input("x", F32, {2});
  Graph same_name = b4.build({{"x", b4.relu(x)}});
  expect_error([&] { export_onnx_bytes(same_name); }, ErrorKind::NotSupportedError,
               "output 'x' has the name of an input");

  OnnxExportOptions opset16;
  opset16.opset = 16;
  GraphBuilder b5;
  Graph ok = b5.build({{"y", b5.relu(b5.input("x", F32, {2}))}});
  expect_error([&] { export_onnx_bytes(ok, opset16); }, ErrorKind::NotSupportedError,
               "opset 16 is not supported");
  expect_error([&] { export_onnx_bytes(Graph()); }, ErrorKind::InvalidStateError, "not valid");
  // The exporter keeps working after a refusal.
  EXPECT_FALSE(export_onnx_bytes(ok).empty());
}

TEST(OnnxExport, ConstantOutputsOfAnEngineGraphExportAsIdentities) {
  GraphBuilder b;
  Operand c = b.constant(random_tensor(F32, {3}, -1, 1));
  Graph g = b.build({{"folded", b.neg(c)}, {"y", b.relu(b.input("x", F32, {3}))}});
  Graph optimized = Engine::build(g).graph();
  Graph back = load_onnx_from_bytes(export_onnx_bytes(optimized));
  Tensor x = random_tensor(F32, {3}, -1, 1, 2);
  NamedTensors want = run_cpu(g, {{"x", x}}), got = run_cpu(back, {{"x", x}});
  EXPECT_EQ(got["folded"].to_doubles(), want["folded"].to_doubles());
  EXPECT_EQ(got["y"].to_doubles(), want["y"].to_doubles());
}

// The importer reads back what the exporter writes for resample2d and l2Pool2d (Resize,
// LpPool), and the other ONNX forms that sample the same elements.
TEST(OnnxExport, ImportedResizeAndLpPoolMatchReference) {
  using testing::OnnxTestModel;
  std::vector<float> x = {1, 2, 3, 4, 5, 6};
  Tensor xt = Tensor::from(F32, {1, 1, 2, 3}, x);
  {
    OnnxTestModel m;
    m.input("x", P::FLOAT, {int64_t(1), int64_t(1), int64_t(2), int64_t(3)});
    m.floats("scales", {4}, {1, 1, 2, 3});
    auto& n = m.node("Resize", {"x", "", "scales"}, {"y"});
    testing::attr(n, "coordinate_transformation_mode", "asymmetric");
    testing::attr(n, "nearest_mode", "floor");
    m.output("y");
    Tensor y = run_cpu(m.load(), {{"x", xt}})["y"];
    std::vector<double> want;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 9; ++j) want.push_back(x[size_t(i / 2 * 3 + j / 3)]);
    EXPECT_EQ(y.shape(), (Dims{1, 1, 4, 9}));
    EXPECT_EQ(y.to_doubles(), want);
  }
  {
    OnnxTestModel m;
    m.input("x", P::FLOAT, {int64_t(1), int64_t(1), int64_t(2), int64_t(3)});
    m.int64s("sizes", {4}, {1, 1, 4, 6});
    auto& n = m.node("Resize", {"x", "", "", "sizes"}, {"y"});
    testing::attr(n, "mode", "linear");
    testing::attr(n, "coordinate_transformation_mode", "pytorch_half_pixel");
    m.output("y");
    Tensor y = run_cpu(m.load(), {{"x", xt}})["y"];
    auto coordinate = [](int o, int in, int out) {
      return std::clamp((o + 0.5) * in / out - 0.5, 0.0, double(in - 1));
    };
    std::vector<double> want;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 6; ++j) {
        double cy = coordinate(i, 2, 4), cx = coordinate(j, 3, 6);
        int y0 = int(std::floor(cy)), x0 = int(std::floor(cx));
        int y1 = int(std::ceil(cy)), x1 = int(std::ceil(cx));
        double ty = cy - y0, tx = cx - x0;
        auto at = [&](int r, int c) { return double(x[size_t(r * 3 + c)]); };
        double top = at(y0, x0) * (1 - tx) + at(y0, x1) * tx;
        double bottom = at(y1, x0) * (1 - tx) + at(y1, x1) * tx;
        want.push_back(top * (1 - ty) + bottom * ty);
      }
    testing::expect_close(y, want, {1e-6, 1e-6}, "pytorch_half_pixel");
  }
  {
    OnnxTestModel m;
    m.input("x", P::FLOAT, {int64_t(1), int64_t(1), int64_t(2), int64_t(3)});
    auto& n = m.node("LpPool", {"x"}, {"y"});
    testing::attr(n, "kernel_shape", std::vector<int64_t>{2, 2});
    m.output("y");
    Tensor y = run_cpu(m.load(), {{"x", xt}})["y"];
    std::vector<double> want = {std::sqrt(1 + 4 + 16 + 25.0), std::sqrt(4 + 9 + 25 + 36.0)};
    testing::expect_close(y, want, {1e-6, 1e-6}, "LpPool");
  }
  auto refused = [](const std::string& op, const std::vector<std::string>& inputs,
                    const std::function<void(OnnxTestModel&, onnx::NodeProto&)>& fill,
                    const std::string& fragment) {
    OnnxTestModel m;
    m.input("x", P::FLOAT, {int64_t(1), int64_t(1), int64_t(4), int64_t(5)});
    fill(m, m.node(op, inputs, {"y"}));
    m.output("y");
    expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, fragment);
  };
  refused(
      "Resize", {"x", "", "", "sizes"},
      [](OnnxTestModel& m, onnx::NodeProto& n) {
        m.int64s("sizes", {4}, {1, 1, 2, 2});
        testing::attr(n, "nearest_mode", "round_prefer_ceil");
      },
      "does not match WebNN's half-pixel mapping");
  refused(
      "Resize", {"x", "", "scales"},
      [](OnnxTestModel& m, onnx::NodeProto&) {
        m.floats("scales", {4}, {1, 1, 1, 1.5f});
      },
      "does not give a whole size");
  refused(
      "LpPool", {"x"},
      [](OnnxTestModel&, onnx::NodeProto& n) {
        testing::attr(n, "kernel_shape", std::vector<int64_t>{2, 2});
        testing::attr(n, "p", int64_t(1));
      },
      "attribute 'p' value 1");
}

class OnnxExportFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cppnn_export_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    GraphBuilder b;
    graph_ = b.build({{"y", b.relu(b.input("x", F32, {4}))}});
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    return names;
  }
  fs::path dir_;
  Graph graph_;
};

TEST_F(OnnxExportFile, WritesAModelTheImporterReads) {
  std::string path = dir_ / "relu.onnx";
  export_onnx(graph_, path);
  EXPECT_EQ(entries(), std::vector<std::string>{"relu.onnx"});
  std::ifstream f(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, export_onnx_bytes(graph_));
  Graph back = load_onnx(path);
  Tensor x = testing::tensor_from_doubles(F32, {4}, {-1, 2, -3, 4});
  EXPECT_EQ(run_cpu(back, {{"x", x}})["y"].to_doubles(), (std::vector<double>{0, 2, 0, 4}));
  // Overwrites in place.
  export_onnx(graph_, path);
  EXPECT_EQ(entries(), std::vector<std::string>{"relu.onnx"});
}

TEST_F(OnnxExportFile, AMissingFolderIsADataErrorNamingThePath) {
  std::string path = dir_ / "missing" / "relu.onnx";
  expect_error([&] { export_onnx(graph_, path); }, ErrorKind::DataError, path);
  EXPECT_TRUE(entries().empty());
}

TEST_F(OnnxExportFile, AFailedRenameLeavesNoTemporaryFile) {
  // A folder where the file should go: the temporary file is written, the rename fails.
  fs::create_directory(dir_ / "taken.onnx");
  fs::create_directory(dir_ / "taken.onnx" / "inside");
  std::string path = dir_ / "taken.onnx";
  expect_error([&] { export_onnx(graph_, path); }, ErrorKind::DataError, path);
  EXPECT_EQ(entries(), std::vector<std::string>{"taken.onnx"});
}

}  // namespace
}  // namespace cppnn
