// Crafted models and engines, as a user would download them: unbroadcastable constants,
// absent inputs, constant bombs, graphs larger than memory, cycles and absurd attributes.
// Each must be a cppnn::Error (of the kind named), the process intact: no crash, no write
// or read outside a buffer (the ASan/UBSan build of this suite checks that), no memory
// exhausted. Each case here crashed, corrupted memory or took gigabytes before its fix.
// Overflowing shape arithmetic is in test_hostile_arithmetic.cpp.
#include <chrono>
#include <cstdint>

#include "backends/cpu/evaluator.h"
#include "compiler/passes.h"
#include "cppnn/context.h"
#include "cppnn/engine.h"
#include "onnx/host_ops.h"
#include "onnx_test_model.h"

namespace cppnn {
namespace {

using testing::expect_error;
using testing::OnnxTestModel;

constexpr int32_t kFloat = onnx::TensorProto::FLOAT;
constexpr int32_t kInt64 = onnx::TensorProto::INT64;
constexpr int32_t kBool = onnx::TensorProto::BOOL;

// "c3": built with append, as gcc 12 warns (-Wrestrict, falsely) on "c" + to_string(i).
std::string indexed(const char* prefix, int i) {
  return std::string(prefix).append(std::to_string(i));
}

// A model whose import must fail with `kind`; the message must name `fragment`.
void expect_import_error(const OnnxTestModel& m, ErrorKind kind, const std::string& fragment,
                         const OnnxImportOptions& options = {}) {
  expect_error([&] { m.load(options); }, kind, fragment);
}

// The context still computes after the failures above: nothing was corrupted.
void expect_context_works() {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {4});
  Graph g = b.build({{"y", b.relu(x)}});
  NamedTensors out = testing::run_cpu(
      g, {{"x", Tensor::from(DataType::float32, {4}, std::vector<float>{-1, 2, -3, 4})}});
  EXPECT_EQ(out.at("y").to_doubles(), (std::vector<double>{0, 2, 0, 4}));
}

// ---- 1. constants that do not broadcast where they are expanded

// LayerNormalization's scale [2, 3] cannot broadcast to the normalized shape [4]: the
// host expand computed a stride offset of out.size() - in.size() = -1 and wrote past it.
TEST(HostileOnnx, LayerNormScaleThatDoesNotBroadcast) {
  OnnxTestModel m;
  m.input("x", kFloat, {int64_t(2), int64_t(4)});
  m.floats("scale", {2, 3}, std::vector<float>(6, 1.0f));
  m.node("LayerNormalization", {"x", "scale"}, {"y"}, "ln");
  m.output("y");
  expect_import_error(m, ErrorKind::DataError, "does not broadcast to the normalized shape");
  expect_context_works();
}

// A scale of 16 values for a normalized shape of 4096: the expand read 4096 values from
// the 16, and the heap bytes after them came back in the output.
TEST(HostileOnnx, LayerNormScaleTooShortIsNotReadPast) {
  OnnxTestModel m;
  m.input("x", kFloat, {int64_t(1), int64_t(4096)});
  m.floats("scale", {16}, std::vector<float>(16, 1.0f));
  m.floats("bias", {1, 4096}, std::vector<float>(4096, 0.0f));
  m.node("LayerNormalization", {"x", "scale", "bias"}, {"y"}, "ln");
  m.output("y");
  expect_import_error(m, ErrorKind::DataError, "ln");
}

// The host expand itself refuses, whoever calls it.
TEST(HostileOnnx, HostExpandChecksBroadcasting) {
  Tensor t = Tensor::from(DataType::float32, {16}, std::vector<float>(16, 1.0f));
  expect_error([&] { onnx_import::host_expand(t, {1, 4096}); }, ErrorKind::TypeError,
               "cannot be broadcast");
  expect_error([&] { onnx_import::host_expand(t, {}); }, ErrorKind::TypeError,
               "cannot be broadcast");
  Tensor a = Tensor::from(DataType::float32, {2, 3}, std::vector<float>(6, 1.0f));
  expect_error([&] { onnx_import::host_expand(a, {4}); }, ErrorKind::TypeError,
               "cannot be broadcast");
  Tensor ok = onnx_import::host_expand(
      Tensor::from(DataType::float32, {1, 2}, std::vector<float>{1, 2}), {3, 2});
  EXPECT_EQ(ok.to_doubles(), (std::vector<double>{1, 2, 1, 2, 1, 2}));
}

TEST(HostileOnnx, HostSliceTransposeConcatGatherCheckTheirArguments) {
  using namespace onnx_import;
  Tensor t = Tensor::from(DataType::float32, {2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  expect_error([&] { host_slice(t, {0, 2}, {1, 1}, {2, 2}); }, ErrorKind::DataError,
               "reads outside");
  expect_error([&] { host_slice(t, {0, 0}, {1, INT64_MAX}, {1, 3}); }, ErrorKind::TypeError,
               "overflows");
  expect_error([&] { host_slice(t, {0}, {1}, {2}); }, ErrorKind::DataError, "rank");
  EXPECT_EQ(host_slice(t, {1, 2}, {-1, -1}, {2, 3}).to_doubles(),
            (std::vector<double>{6, 5, 4, 3, 2, 1}));
  expect_error([&] { host_transpose(t, {0, 0}); }, ErrorKind::DataError, "permutation");
  expect_error([&] { host_transpose(t, {0, 2}); }, ErrorKind::DataError, "permutation");
  Tensor u = Tensor::from(DataType::float32, {3, 3}, std::vector<float>(9, 0.0f));
  expect_error([&] { host_concat({&t, &u}, 1); }, ErrorKind::DataError, "does not match");
  expect_error([&] { host_concat({&t}, 2); }, ErrorKind::DataError, "axis");
  Tensor idx = int64_tensor({1}, {0});
  expect_error([&] { host_gather(t, idx, 2); }, ErrorKind::DataError, "axis");
}

// ---- 3, 4. absent inputs

// "Every present input is constant" held for an Add with one input; the fold then read a
// second constant that did not exist.
TEST(HostileOnnx, AddWithOneInput) {
  OnnxTestModel m;
  m.floats("a", {2}, {1, 2});
  m.node("Add", {"a"}, {"y"});
  m.output("y");
  expect_import_error(m, ErrorKind::DataError, "input 1 is required but absent");
  OnnxTestModel empty_name;
  empty_name.floats("a", {2}, {1, 2});
  empty_name.node("Add", {"a", ""}, {"y"});
  empty_name.output("y");
  expect_import_error(empty_name, ErrorKind::DataError, "input 1 is required but absent");
}

TEST(HostileOnnx, NotAndWhereAndSumWithoutTheirInputs) {
  OnnxTestModel not_op;
  not_op.node("Not", {}, {"y"});
  not_op.output("y");
  expect_import_error(not_op, ErrorKind::DataError, "input 0 is required but absent");

  OnnxTestModel where;
  where.floats("a", {2}, {1, 2});
  where.node("Where", {"", "a", "a"}, {"y"});
  where.output("y");
  expect_import_error(where, ErrorKind::DataError, "input 0 is required but absent");

  OnnxTestModel sum;
  sum.floats("a", {2}, {1, 2});
  sum.node("Sum", {"a", "", "a"}, {"y"});
  sum.output("y");
  expect_import_error(sum, ErrorKind::DataError, "input 1 is required but absent");
}

// require_constant named node.input(i) past the node's inputs.
TEST(HostileOnnx, SliceWithOnlyItsData) {
  OnnxTestModel m;
  m.input("x", kFloat, {int64_t(4)});
  m.node("Slice", {"x"}, {"y"});
  m.output("y");
  expect_import_error(m, ErrorKind::DataError, "input 1 is required but absent");
  for (const char* op : {"Reshape", "Expand", "Tile", "ConstantOfShape", "Range"}) {
    OnnxTestModel n;
    n.input("x", kInt64, {int64_t(1)});
    n.node(op, {"x"}, {"y"});
    n.output("y");
    try {
      n.load();
      ADD_FAILURE() << op << " with one input loaded";
    } catch (const Error& e) {
      EXPECT_NE(e.kind(), ErrorKind::OperationError) << op << ": " << e.what();
    }
  }
  expect_context_works();
}

// ---- 6. memory exhaustion from small files

onnx::TensorProto int64_shape(const std::string& name, const std::vector<int64_t>& dims) {
  return testing::raw_tensor(name, kInt64, {int64_t(dims.size())}, dims);
}

// Twelve ConstantOfShape nodes of 2^28 int64 each: a 1 KB file that took over 10 GB.
TEST(HostileOnnx, ConstantOfShapeBombHitsTheImportBudget) {
  OnnxTestModel m;
  m.initializer(int64_shape("shape", {int64_t(1) << 28}));
  onnx::TensorProto one = testing::raw_tensor<int64_t>("", kInt64, {1}, {1});
  for (int i = 0; i < 12; ++i) {
    auto& n = m.node("ConstantOfShape", {"shape"}, {indexed("c", i)},
                     indexed("bomb", i));
    testing::attr(n, "value", one);
    m.output(indexed("c", i));
  }
  EXPECT_LT(m.bytes().size(), size_t(2048));
  auto t0 = std::chrono::steady_clock::now();
  // 2^28 int64 is 2 GiB: over the default 1 GiB on the first node, before it allocates.
  expect_import_error(m, ErrorKind::DataError, "bomb0");
  expect_import_error(m, ErrorKind::DataError, "max_import_bytes");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

// The budget is a total: each node fits, their sum does not, and the node that crossed it
// is named. A larger budget lets the same model load.
TEST(HostileOnnx, ImportBudgetIsATotalAndConfigurable) {
  OnnxTestModel m;
  m.initializer(int64_shape("shape", {1 << 20}));  // 8 MiB each
  for (int i = 0; i < 4; ++i) {
    m.node("ConstantOfShape", {"shape"}, {indexed("c", i)}, indexed("cos", i));
    m.output(indexed("c", i));
  }
  // Default value: float32 zeros, 4 MiB a node.
  OnnxImportOptions tight;
  tight.max_import_bytes = (size_t(4) << 20) * 3 - 1;
  expect_import_error(m, ErrorKind::DataError, "'cos2'", tight);
  OnnxImportOptions roomy;
  roomy.max_import_bytes = size_t(64) << 20;
  Graph g = m.load(roomy);
  EXPECT_EQ(g.outputs().size(), 4u);
}

// Folded results count too (the shape arithmetic path): a chain of folded Adds over a
// large constant crosses a small budget at the node that does.
TEST(HostileOnnx, FoldedConstantsCountAgainstTheBudget) {
  OnnxTestModel m;
  m.floats("a", {1 << 16}, std::vector<float>(1 << 16, 1.0f));  // 256 KiB
  std::string prev = "a";
  for (int i = 0; i < 8; ++i) {
    std::string out = indexed("s", i);
    m.node("Add", {prev, "a"}, {out}, indexed("add", i));
    prev = out;
  }
  m.output(prev);
  OnnxImportOptions tight;
  tight.max_import_bytes = (size_t(256) << 10) * 4;  // the initializer is not counted
  expect_import_error(m, ErrorKind::DataError, "'add4'", tight);
  EXPECT_NO_THROW(m.load());
}

// A constant expanded to a normalized shape goes through the budget before it is made.
TEST(HostileOnnx, ExpandedNormalizationConstantCounts) {
  OnnxTestModel m;
  m.input("x", kFloat, {int64_t(2), int64_t(1 << 20)});
  m.floats("scale", {1}, {1.0f});
  m.node("LayerNormalization", {"x", "scale"}, {"y"}, "ln");
  m.output("y");
  OnnxImportOptions tight;
  tight.max_import_bytes = size_t(1) << 20;
  expect_import_error(m, ErrorKind::DataError, "max_import_bytes", tight);
  EXPECT_NO_THROW(m.load());
}

// A Constant node's tensor comes from the file itself, like an initializer: not counted.
TEST(HostileOnnx, ConstantNodesAreTheModelsOwnBytes) {
  OnnxTestModel m;
  auto& n = m.node("Constant", {}, {"c"});
  testing::attr(n, "value",
                testing::raw_tensor("", kFloat, {1 << 18}, std::vector<float>(1 << 18, 2.0f)));
  m.output("c");
  OnnxImportOptions tight;
  tight.max_import_bytes = 1024;
  EXPECT_NO_THROW(m.load(tight));
}

// An Expand to 16 GiB passed validation and failed only at compute, after allocating.
TEST(HostileGraph, ExpandLargerThanTheMemoryLimitFailsAtCompile) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {1});
  Operand big = b.expand(x, {65536, 65536}, {"huge"});  // 16 GiB
  Graph g = b.build({{"y", b.reduce_sum(big)}});
  ContextOptions options;
  options.accelerated = false;
  options.max_graph_bytes = size_t(1) << 30;
  Context c = Context::create(options);
  NamedTensors in{{"x", Tensor::from(DataType::float32, {1}, std::vector<float>{1})}};
  expect_error([&] { c.compute(g, in); }, ErrorKind::OperationError, "expand 'huge'");
  expect_error([&] { c.compute(g, in); }, ErrorKind::OperationError, "max_graph_bytes");
  // The same context runs a graph that fits.
  GraphBuilder b2;
  Operand x2 = b2.input("x", DataType::float32, {1});
  Graph small = b2.build({{"y", b2.reduce_sum(b2.expand(x2, {4, 4}))}});
  EXPECT_EQ(c.compute(small, in).at("y").to_doubles(), std::vector<double>{16});
}

// With the default limit (the machine's memory), outputs far past any machine's memory
// fail at compile too; nothing is allocated.
TEST(HostileGraph, OutputsPastPhysicalMemoryFailAtCompile) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::int64, {1});
  std::map<std::string, Operand> outs;
  // Eight outputs of 2^32 int64 elements: 256 GiB.
  for (int i = 0; i < 8; ++i)
    outs[indexed("y", i)] = b.expand(x, {65536, 65536}, {indexed("big", i)});
  Graph g = b.build(outs);
  ContextOptions options;
  options.accelerated = false;
  Context c = Context::create(options);
  expect_error(
      [&] { c.compute(g, {{"x", Tensor::from(DataType::int64, {1}, std::vector<int64_t>{1})}}); },
      ErrorKind::OperationError, "machine's memory");
}

// The compiler's constant folding has a total too: past it, constant expands stay
// runtime ops instead of all being held (and written into the engine).
TEST(HostileGraph, FoldingStopsAtItsTotal) {
  GraphBuilder b;
  Operand c = b.constant(Tensor::from(DataType::float32, {1}, std::vector<float>{1}));
  std::map<std::string, Operand> outs;
  for (int i = 0; i < 8; ++i) outs[indexed("y", i)] = b.expand(c, {256, 1024});  // 1 MiB
  Graph g = b.build(outs);
  auto folded_bytes = [&](const detail::PassOptions& options) {
    auto opt = detail::optimize(g.ir_ptr(), options);
    size_t bytes = 0, runtime_ops = 0;
    for (const auto& op : opt->operands)
      if (op.role == detail::OperandRole::constant && op.data) bytes += op.data->byte_size();
    for (const auto& node : opt->nodes) runtime_ops += node.op == detail::OpId::expand;
    return std::make_pair(bytes, runtime_ops);
  };
  detail::PassOptions tight = detail::cpu_pass_options();
  tight.max_folded_bytes = (size_t(3) << 20) + 100;
  auto [bytes, runtime] = folded_bytes(tight);
  EXPECT_LE(bytes, tight.max_folded_bytes + 4);
  EXPECT_EQ(runtime, 5u);
  auto [all_bytes, none] = folded_bytes(detail::cpu_pass_options());
  EXPECT_GE(all_bytes, size_t(8) << 20);
  EXPECT_EQ(none, 0u);
  // Folded or not, the values are the same.
  NamedTensors out = testing::run_cpu(g, {});
  EXPECT_EQ(out.at("y3").to_doubles(), std::vector<double>(256 * 1024, 1.0));
}

// ---- cycles, undefined names, duplicate outputs, absurd attributes

TEST(HostileOnnx, CyclesAndUndefinedNames) {
  OnnxTestModel cycle;
  cycle.input("x", kFloat, {int64_t(2)});
  cycle.node("Add", {"x", "b"}, {"a"});
  cycle.node("Relu", {"a"}, {"b"});
  cycle.output("b");
  expect_import_error(cycle, ErrorKind::DataError, "is not defined");

  OnnxTestModel self;
  self.input("x", kFloat, {int64_t(2)});
  self.node("Add", {"x", "y"}, {"y"});
  self.output("y");
  expect_import_error(self, ErrorKind::DataError, "is not defined");

  OnnxTestModel twice;
  twice.input("x", kFloat, {int64_t(2)});
  twice.node("Relu", {"x"}, {"y"});
  twice.node("Relu", {"x"}, {"y"});
  twice.output("y");
  expect_import_error(twice, ErrorKind::DataError, "already defined");
}

TEST(HostileOnnx, AbsurdAttributesAreErrors) {
  struct Case {
    const char* op;
    const char* attr;
    std::vector<int64_t> value;
  };
  const Case cases[] = {
      {"MaxPool", "kernel_shape", {INT64_MAX, INT64_MAX}},
      {"MaxPool", "kernel_shape", {-5, 2}},
      {"AveragePool", "strides", {0, 0}},
      {"Conv", "dilations", {INT64_MAX, 1}},
      {"Conv", "pads", {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX}},
      {"Conv", "strides", {INT64_MIN, 1}},
      {"Transpose", "perm", {0, 0, 1, 2}},
      {"Transpose", "perm", {9, 1, 2, 3}},
      {"Softmax", "axis", {INT64_MIN}},
      {"Flatten", "axis", {INT64_MAX}},
      {"Concat", "axis", {INT64_MIN}},
      {"Squeeze", "axes", {INT64_MAX}},
  };
  for (const Case& c : cases) {
    OnnxTestModel m(c.op == std::string("Squeeze") ? 11 : 17);
    m.input("x", kFloat, {int64_t(1), int64_t(2), int64_t(4), int64_t(4)});
    std::vector<std::string> inputs{"x"};
    if (c.op == std::string("Conv")) {
      m.floats("w", {3, 2, 2, 2}, std::vector<float>(24, 0.5f));
      inputs.push_back("w");
    }
    auto& n = m.node(c.op, inputs, {"y"});
    if (c.op == std::string("MaxPool") || c.op == std::string("AveragePool")) {
      if (c.attr != std::string("kernel_shape")) testing::attr(n, "kernel_shape", {2, 2});
    }
    if (c.value.size() == 1 && c.attr != std::string("axes") && c.attr != std::string("perm"))
      testing::attr(n, c.attr, c.value[0]);
    else
      testing::attr(n, c.attr, c.value);
    m.output("y");
    try {
      Graph g = m.load();
      ADD_FAILURE() << c.op << " " << c.attr << " loaded";
    } catch (const Error& e) {
      EXPECT_NE(e.kind(), ErrorKind::OperationError) << c.op << ": " << e.what();
    }
  }
  expect_context_works();
}

TEST(HostileOnnx, BoolAndHugeDimsOnInputs) {
  OnnxTestModel m;
  m.input("x", kBool, {INT64_MAX, int64_t(2)});
  m.node("Not", {"x"}, {"y"});
  m.output("y");
  expect_import_error(m, ErrorKind::TypeError, "not a valid dimension");
  OnnxTestModel neg;
  neg.input("x", kFloat, {int64_t(-7)});
  neg.node("Relu", {"x"}, {"y"});
  neg.output("y");
  EXPECT_THROW(neg.load(), Error);
}

}  // namespace
}  // namespace cppnn
