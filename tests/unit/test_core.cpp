// Core: data types, half conversion, tensors, the builder's own checks, compute's input checks.
#include "test_support.h"

namespace cppnn {
namespace {

using testing::expect_error;

TEST(Types, NamesRoundTrip) {
  for (DataType t : kAllDataTypes) EXPECT_EQ(data_type_from_string(to_string(t)), t);
  expect_error([] { data_type_from_string("float64"); }, ErrorKind::TypeError, "float64");
}

TEST(Types, HalfConversionMatchesIeee) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(70000.0f), 0x7c00);
  EXPECT_EQ(float_to_half(5.96046448e-8f), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(1.0f + 1.0f / 2048), 0x3c00);  // tie rounds to even
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(NAN))));
  for (uint32_t h = 0; h < 0x7c00; h += 7) EXPECT_EQ(float_to_half(half_to_float(uint16_t(h))), h);
}

TEST(Tensor, SizeIsChecked) {
  std::vector<float> v(5);
  expect_error([&] { Tensor(DataType::float32, {2, 3}, v.data(), v.size() * 4); },
               ErrorKind::DataError, "needs 24 bytes");
}

TEST(Builder, RejectsBadInputs) {
  GraphBuilder b;
  b.input("x", DataType::float32, {2});
  expect_error([&] { b.input("x", DataType::float32, {2}); }, ErrorKind::TypeError, "duplicate");
  expect_error([&] { b.input("", DataType::float32, {2}); }, ErrorKind::TypeError, "empty");
  expect_error([&] { b.input("z", DataType::float32, {2, 0}); }, ErrorKind::TypeError,
               "valid dimension");
}

TEST(Builder, OperandFromAnotherBuilderIsRejected) {
  GraphBuilder b1, b2;
  Operand x = b1.input("x", DataType::float32, {2});
  Operand y = b2.input("y", DataType::float32, {2});
  expect_error([&] { b1.add(x, y); }, ErrorKind::TypeError, "another builder");
  expect_error([&] { b1.add(x, Operand()); }, ErrorKind::TypeError, "not a valid operand");
}

TEST(Builder, BuildTwiceIsInvalidState) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  Operand y = b.add(x, x);
  b.build({{"y", y}});
  expect_error([&] { b.build({{"y", y}}); }, ErrorKind::InvalidStateError, "already built");
  expect_error([&] { b.add(x, x); }, ErrorKind::InvalidStateError, "already built");
}

TEST(Builder, OutputMustBeAnOpResult) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  expect_error([&] { b.build({{"y", x}}); }, ErrorKind::TypeError, "not the result of an op");
}

TEST(Builder, BuildKeepsOnlyWhatOutputsNeed) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2});
  Operand unused = b.input("unused", DataType::float32, {2});
  b.mul(unused, unused);
  Operand y = b.add(x, x);
  Graph g = b.build({{"y", y}});
  EXPECT_EQ(g.node_count(), 1u);
  EXPECT_EQ(g.inputs().size(), 1u);
}

TEST(Builder, BinaryShapeErrorNamesOpAndRule) {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 3});
  Operand y = b.input("y", DataType::float32, {4});
  expect_error([&] { b.add(x, y, {"my_add"}); }, ErrorKind::TypeError, "add 'my_add'");
  expect_error([&] { b.add(x, y); }, ErrorKind::TypeError, "not broadcastable");
  Operand z = b.input("z", DataType::int32, {2, 3});
  expect_error([&] { b.add(x, z); }, ErrorKind::TypeError, "data type");
}

class ComputeChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    GraphBuilder b;
    Operand x = b.input("x", DataType::float32, {2, 3});
    Operand c = b.constant(Tensor::from(DataType::float32, {3}, std::vector<float>{1, 2, 3}));
    graph = b.build({{"y", b.add(x, c)}});
    ContextOptions o;
    o.accelerated = false;
    context = Context::create(o);
  }
  Graph graph;
  Context context;
};

TEST_F(ComputeChecks, AddsWithBroadcast) {
  Tensor x = Tensor::from(DataType::float32, {2, 3}, std::vector<float>{0, 1, 2, 3, 4, 5});
  NamedTensors out = context.compute(graph, {{"x", x}});
  testing::expect_close(out.at("y"), {1, 3, 5, 4, 6, 8}, {0, 0});
}

TEST_F(ComputeChecks, BadInputsAreClearErrorsAndContextKeepsWorking) {
  Tensor good(DataType::float32, {2, 3});
  expect_error([&] { context.compute(graph, {}); }, ErrorKind::TypeError, "'x' is missing");
  expect_error([&] { context.compute(graph, {{"x", good}, {"extra", good}}); },
               ErrorKind::TypeError, "no input named 'extra'");
  expect_error([&] { context.compute(graph, {{"x", Tensor(DataType::float32, {3, 2})}}); },
               ErrorKind::TypeError, "shape [3, 2]");
  expect_error([&] { context.compute(graph, {{"x", Tensor(DataType::int32, {2, 3})}}); },
               ErrorKind::TypeError, "data type int32");
  NamedTensors out = context.compute(graph, {{"x", good}});
  testing::expect_close(out.at("y"), {1, 2, 3, 1, 2, 3}, {0, 0});
}

TEST_F(ComputeChecks, DestroyedContextIsInvalidState) {
  context.destroy();
  expect_error([&] { context.compute(graph, {{"x", Tensor(DataType::float32, {2, 3})}}); },
               ErrorKind::InvalidStateError, "destroyed");
}

}  // namespace
}  // namespace cppnn
