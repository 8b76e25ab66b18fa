// Shape arithmetic on numbers a caller does not control: attributes of a crafted engine file,
// dimensions and attributes of a crafted ONNX file, extreme builder arguments. Each case used
// to overflow (undefined behaviour, or a wrapped size a kernel then trusted); each must now be
// a cppnn::Error of the right kind, or, where the value has a meaning, the right result.
#include <cstring>
#include <limits>

#include "engine/engine_format.h"
#include "graph/op_table.h"
#include "unit/engine_forgery.h"
#include "unit/onnx_test_model.h"

namespace cppnn {
namespace {

using detail::OpId;
using testing::attr;
using testing::expect_error;
using testing::OnnxTestModel;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr uint32_t kU32Max = std::numeric_limits<uint32_t>::max();
constexpr DataType F32 = DataType::float32;

// Runs an op's validation and shape inference as the engine reader does: on attributes
// that no builder call could produce.
std::vector<OperandDescriptor> infer(OpId op,
                                     const std::vector<OperandDescriptor>& inputs,
                                     detail::Attrs attrs) {
  const detail::OpSchema* schema = detail::OpTable::instance().find(op);
  detail::InputDescs descs;
  for (const OperandDescriptor& d : inputs) descs.push_back(&d);
  return schema->infer(descs, attrs);
}

// --- Engine files: patched bytes with the checksum recomputed, as a forger would ---

using testing::kEngineHeader;
using testing::le32;
using testing::le64;
using testing::str;

std::string ints_attr(const std::string& name, const std::vector<int64_t>& v) {
  std::string s = str(name) + '\x03' + le32(uint32_t(v.size()));
  for (int64_t x : v) s += le64(uint64_t(x));
  return s;
}

// An intermediate float32 operand's record: type, role, reserved, rank, dims.
std::string intermediate_f32(const Dims& dims) {
  std::string s{'\0', '\2', '\0', '\0'};
  s += le32(uint32_t(dims.size()));
  for (int64_t d : dims) s += le64(uint64_t(d));
  return s;
}

// Replaces the one occurrence of `find` in the payload, then fixes the checksum.
void patch(std::string& bytes, const std::string& find, const std::string& replace) {
  bytes = testing::patched(std::move(bytes), find, replace);
}

// --- Graph ops: validation and shape inference ---

TEST(HostileArithmetic, PadPaddingsWhoseSumWrapsAreATypeError) {
  // begin + end = 2^64 - 2 wraps to -2: [1, 8] would have passed as [1, 6].
  detail::Attrs a;
  a.set("beginningPadding", std::vector<int64_t>{0, kMax});
  a.set("endingPadding", std::vector<int64_t>{0, kMax});
  expect_error([&] { infer(OpId::pad, {{F32, {1, 8}}}, a); }, ErrorKind::TypeError, "Padding");
  a.set("beginningPadding", std::vector<int64_t>{0, int64_t(kU32Max) + 1});
  a.set("endingPadding", std::vector<int64_t>{0, 0});
  expect_error([&] { infer(OpId::pad, {{F32, {1, 8}}}, a); }, ErrorKind::TypeError,
               "beginningPadding");
}

TEST(HostileArithmetic, ACraftedPadEngineIsADataError) {
  GraphBuilder b;
  Operand x = b.input("x", F32, {1, 8});
  Operand y = b.pad(x, {0, 1}, {0, 1});  // [1, 10]
  std::string bytes = Engine::build(b.build({{"y", y}})).to_bytes();
  // The padding the kernel would have copied rows at 2^63 - 1 elements from.
  patch(bytes, ints_attr("beginningPadding", {0, 1}), ints_attr("beginningPadding", {0, kMax}));
  patch(bytes, ints_attr("endingPadding", {0, 1}), ints_attr("endingPadding", {0, kMax}));
  patch(bytes, intermediate_f32({1, 10}), intermediate_f32({1, 6}));
  expect_error([&] { Engine::from_bytes(bytes); }, ErrorKind::DataError, "pad");
}

TEST(HostileArithmetic, SliceEndsAndStridesPastInt64AreATypeError) {
  detail::Attrs a;
  a.set("starts", std::vector<int64_t>{1});
  a.set("sizes", std::vector<int64_t>{kMax});
  expect_error([&] { infer(OpId::slice, {{F32, {8}}}, a); }, ErrorKind::TypeError, "sizes");
  a.set("starts", std::vector<int64_t>{0});
  a.set("sizes", std::vector<int64_t>{8});
  a.set("strides", std::vector<int64_t>{kMax});
  expect_error([&] { infer(OpId::slice, {{F32, {8}}}, a); }, ErrorKind::TypeError, "strides");
}

TEST(HostileArithmetic, ConvTranspose2dOutputSizePastInt64IsATypeError) {
  // Valid dimensions and unsigned longs whose (input - 1) * stride + effective filter size
  // is about 2^64.
  GraphBuilder b;
  Operand x = b.input("x", F32, {1, 1, INT32_MAX, 1});
  Operand w = b.input("w", F32, {1, 1, INT32_MAX, 1});
  ConvTranspose2dOptions o;
  o.strides = {kU32Max, 1};
  o.dilations = {kU32Max, 1};
  expect_error([&] { b.conv_transpose2d(x, w, o); }, ErrorKind::TypeError, "convTranspose2d");
}

TEST(HostileArithmetic, PoolingWindowPastInt64IsATypeError) {
  // The dilated window is about 2^64: its output size is no int64 at all.
  GraphBuilder b;
  Operand x = b.input("x", F32, {1, 1, 4, 4});
  Pool2dOptions o;
  o.window_dimensions = {kU32Max, 1};
  o.dilations = {kU32Max, 1};
  expect_error([&] { b.max_pool2d(x, o); }, ErrorKind::TypeError, "maxPool2d");
}

TEST(HostileArithmetic, PoolingAttributesPastUnsignedLongAreATypeError) {
  detail::Attrs a;
  a.set("windowDimensions", std::vector<int64_t>{1, 1});
  a.set("padding", std::vector<int64_t>{int64_t(1) << 62, int64_t(1) << 62, 0, 0});
  expect_error(
      [&] {
        infer(OpId::averagePool2d, {{F32, {1, 1, 4, 4}}}, a);
      },
      ErrorKind::TypeError, "padding");
  a.set("padding", std::vector<int64_t>{0, 0, 0, 0});
  a.set("strides", std::vector<int64_t>{kMax, 1});
  expect_error(
      [&] {
        infer(OpId::maxPool2d, {{F32, {1, 1, 4, 4}}}, a);
      },
      ErrorKind::TypeError, "strides");
}

TEST(HostileArithmetic, ACraftedPoolingEngineIsADataError) {
  // Strides of 2^63 - 1 give a valid output, but not one the exporter's arithmetic survives.
  GraphBuilder b;
  Operand x = b.input("x", F32, {1, 1, 4, 4});
  Pool2dOptions o;
  o.window_dimensions = {1, 1};
  o.strides = {4, 1};
  Operand y = b.max_pool2d(x, o);  // [1, 1, 1, 4]
  std::string bytes = Engine::build(b.build({{"y", y}})).to_bytes();
  patch(bytes, ints_attr("strides", {4, 1}), ints_attr("strides", {kMax, 1}));
  expect_error([&] { Engine::from_bytes(bytes); }, ErrorKind::DataError, "strides");
}

// --- ONNX import ---

onnx::TensorProto empty_float_tensor(const std::string& name, const Dims& dims) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  t.set_raw_data("");
  return t;
}

TEST(HostileArithmetic, OnnxReshapeWhoseShapeProductOverflowsIsADataError) {
  OnnxTestModel m(13);
  m.input("x", onnx::TensorProto::FLOAT, {2, 3});
  m.int64s("shape", {3}, {int64_t(1) << 62, 4, -1});
  m.node("Reshape", {"x", "shape"}, {"y"});
  m.output("y");
  expect_error([&] { m.load(); }, ErrorKind::DataError, "Reshape");
}

// An empty initializer may have any other dimensions: [0, 2^62, 4] holds no element.
TEST(HostileArithmetic, OnnxFlattenOfHugeEmptyDimsIsADataError) {
  OnnxTestModel m(13);
  m.initializer(empty_float_tensor("c", {0, int64_t(1) << 62, 4}));
  attr(m.node("Flatten", {"c"}, {"y"}), "axis", int64_t(1));
  m.output("y");
  expect_error([&] { m.load(); }, ErrorKind::DataError, "Flatten");
}

TEST(HostileArithmetic, OnnxSoftmaxOfHugeEmptyDimsIsADataError) {
  // Before opset 13 Softmax flattens around its axis.
  OnnxTestModel m(11);
  m.initializer(empty_float_tensor("c", {0, int64_t(1) << 62, 4}));
  attr(m.node("Softmax", {"c"}, {"y"}), "axis", int64_t(1));
  m.output("y");
  expect_error([&] { m.load(); }, ErrorKind::DataError, "Softmax");
}

TEST(HostileArithmetic, OnnxConcatWhoseSizeOverflowsIsADataError) {
  OnnxTestModel m(13);
  m.initializer(empty_float_tensor("a", {0, int64_t(1) << 62}));
  m.initializer(empty_float_tensor("b", {0, int64_t(1) << 62}));
  attr(m.node("Concat", {"a", "b"}, {"y"}), "axis", int64_t(1));
  m.output("y");
  expect_error([&] { m.load(); }, ErrorKind::DataError, "Concat");
}

TEST(HostileArithmetic, OnnxSplitWithHugeCountsOrSizesIsADataError) {
  {
    // Also a loop of 2^63 - 1 chunks before the count was compared with the outputs.
    OnnxTestModel m(18);
    m.input("x", onnx::TensorProto::FLOAT, {4});
    attr(m.node("Split", {"x"}, {"y0", "y1"}), "num_outputs", kMax);
    m.output("y0");
    expect_error([&] { m.load(); }, ErrorKind::DataError, "num_outputs");
  }
  {
    OnnxTestModel m(13);
    m.input("x", onnx::TensorProto::FLOAT, {4});
    m.int64s("split", {2}, {kMax, 2});
    m.node("Split", {"x", "split"}, {"y0", "y1"});
    m.output("y0");
    expect_error([&] { m.load(); }, ErrorKind::DataError, "Split");
  }
}

TEST(HostileArithmetic, OnnxSliceWithTheMostNegativeStepTakesOneElement) {
  // -step does not exist for INT64_MIN; one element needs no step at all.
  OnnxTestModel m(13);
  m.input("x", onnx::TensorProto::FLOAT, {4});
  m.int64s("starts", {1}, {3});
  m.int64s("ends", {1}, {-100});
  m.int64s("axes", {1}, {0});
  m.int64s("steps", {1}, {kMin});
  m.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
  m.output("y");
  Tensor x = Tensor::from(F32, {4}, std::vector<float>{1, 2, 3, 4});
  NamedTensors out = testing::run_model(m, {{"x", x}});
  EXPECT_EQ(out.at("y").shape(), Dims{1});
  EXPECT_EQ(out.at("y").to_doubles(), std::vector<double>{4});
}

// An empty range, made visible by a concatenation with two elements.
void expect_empty_range(int32_t elem_type, const onnx::TensorProto& start,
                        const onnx::TensorProto& limit, const onnx::TensorProto& delta) {
  OnnxTestModel m(13);
  m.initializer(start);
  m.initializer(limit);
  m.initializer(delta);
  if (elem_type == onnx::TensorProto::FLOAT)
    m.floats("tail", {2}, {1, 2});
  else
    m.int64s("tail", {2}, {1, 2});
  m.node("Range", {"start", "limit", "delta"}, {"r"});
  attr(m.node("Concat", {"r", "tail"}, {"y"}), "axis", int64_t(0));
  m.output("y");
  NamedTensors out = testing::run_model(m, {});
  EXPECT_EQ(out.at("y").to_doubles(), (std::vector<double>{1, 2}));
}

TEST(HostileArithmetic, OnnxRangeWithAHugeNegativeCountIsEmpty) {
  // (limit - start) / delta is about -2^64 (int64) and -1e60 (float), past int64.
  using testing::raw_tensor;
  const int32_t I64 = onnx::TensorProto::INT64, FLT = onnx::TensorProto::FLOAT;
  expect_empty_range(I64, raw_tensor<int64_t>("start", I64, {}, {kMax}),
                     raw_tensor<int64_t>("limit", I64, {}, {kMin}),
                     raw_tensor<int64_t>("delta", I64, {}, {1}));
  expect_empty_range(FLT, raw_tensor<float>("start", FLT, {}, {0}),
                     raw_tensor<float>("limit", FLT, {}, {-1e30f}),
                     raw_tensor<float>("delta", FLT, {}, {1e-30f}));
}

TEST(HostileArithmetic, OnnxRangeNearTheInt64LimitsHasItsValues) {
  // i * delta passes 2^63 at i = 2, start + i * delta never does.
  const int32_t I64 = onnx::TensorProto::INT64;
  OnnxTestModel m(13);
  m.initializer(testing::raw_tensor<int64_t>("start", I64, {}, {kMin}));
  m.initializer(testing::raw_tensor<int64_t>("limit", I64, {}, {kMax}));
  m.initializer(testing::raw_tensor<int64_t>("delta", I64, {}, {int64_t(1) << 62}));
  m.node("Range", {"start", "limit", "delta"}, {"y"});
  m.output("y");
  NamedTensors out = testing::run_model(m, {});
  ASSERT_EQ(out.at("y").shape(), Dims{4});
  const int64_t* y = out.at("y").data_as<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(y, y + 4),
            (std::vector<int64_t>{kMin, -(int64_t(1) << 62), 0, int64_t(1) << 62}));
}

TEST(HostileArithmetic, OnnxConvWithHugeStridesOrDilationsIsAnError) {
  {
    OnnxTestModel m(13);
    m.input("x", onnx::TensorProto::FLOAT, {1, 1, 4, 4});
    testing::weight(m, "w", {1, 1, 3, 3}, 1);
    auto& n = m.node("Conv", {"x", "w"}, {"y"});
    attr(n, "auto_pad", "SAME_UPPER");
    attr(n, "strides", std::vector<int64_t>{kMax, 1});
    m.output("y");
    // SAME's padding is computable (ceil(4 / stride) = 1); WebNN's strides are 32-bit.
    expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, "strides");
  }
  {
    OnnxTestModel m(13);
    m.input("x", onnx::TensorProto::FLOAT, {1, 1, 4, 4});
    testing::weight(m, "w", {1, 1, 3, 3}, 1);
    auto& n = m.node("Conv", {"x", "w"}, {"y"});
    attr(n, "auto_pad", "SAME_LOWER");
    attr(n, "dilations", std::vector<int64_t>{kMax, 1});
    m.output("y");
    expect_error([&] { m.load(); }, ErrorKind::DataError, "Conv");
  }
  {
    OnnxTestModel m(13);
    m.input("x", onnx::TensorProto::FLOAT, {1, 1, 4, 4});
    testing::weight(m, "w", {1, 1, 3, 3}, 1);
    auto& n = m.node("ConvTranspose", {"x", "w"}, {"y"});
    attr(n, "strides", std::vector<int64_t>{kMax, 1});
    attr(n, "output_shape", std::vector<int64_t>{8, 8});
    m.output("y");
    expect_error([&] { m.load(); }, ErrorKind::DataError, "ConvTranspose");
  }
}

TEST(HostileArithmetic, OnnxCeilModePoolingWithHugeDilationsIsADataError) {
  OnnxTestModel m(13);
  m.input("x", onnx::TensorProto::FLOAT, {1, 1, 4, 4});
  auto& n = m.node("MaxPool", {"x"}, {"y"});
  attr(n, "kernel_shape", std::vector<int64_t>{3, 3});
  attr(n, "dilations", std::vector<int64_t>{kMax, 1});
  attr(n, "ceil_mode", int64_t(1));
  m.output("y");
  expect_error([&] { m.load(); }, ErrorKind::DataError, "MaxPool");
}

TEST(HostileArithmetic, OnnxResizeScalesAndSizesPastTheirRangeAreErrors) {
  for (float scale :
       {1e30f, std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    OnnxTestModel m(13);
    m.input("x", onnx::TensorProto::FLOAT, {1, 1, 4, 4});
    m.floats("scales", {4}, {1, 1, scale, 1});
    m.node("Resize", {"x", "", "scales"}, {"y"});
    m.output("y");
    expect_error([&] { m.load(); }, ErrorKind::DataError, "scale");
  }
  // 2^32 + 8 would have been resampled to 8.
  OnnxTestModel m(13);
  m.input("x", onnx::TensorProto::FLOAT, {1, 1, 4, 4});
  m.int64s("sizes", {4}, {1, 1, (int64_t(1) << 32) + 8, 8});
  m.node("Resize", {"x", "", "", "sizes"}, {"y"});
  m.output("y");
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, "sizes");
}

TEST(HostileArithmetic, OnnxResizeOfAnEmptyInputIsNotSupported) {
  // Whole upsampling factors were checked with out % in: a division by zero.
  OnnxTestModel m(13);
  m.initializer(empty_float_tensor("c", {1, 1, 0, 4}));
  m.int64s("sizes", {4}, {1, 1, 4, 8});
  m.node("Resize", {"c", "", "", "sizes"}, {"y"});
  m.output("y");
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, "empty");
}

// --- ONNX export ---

// The int64 initializer `name` of an exported model.
std::vector<int64_t> exported_int64s(const std::string& model_bytes, const std::string& name) {
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(model_bytes));
  for (const onnx::TensorProto& t : model.graph().initializer()) {
    if (t.name() != name) continue;
    std::vector<int64_t> v(t.raw_data().size() / sizeof(int64_t));
    std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(int64_t));
    return v;
  }
  ADD_FAILURE() << "no initializer '" << name << "'";
  return {};
}

TEST(HostileArithmetic, ExportClampsConstantIndicesAtTheInt64Limits) {
  // 2^63 - 1 is 2^63 as a double, which no int64 holds.
  GraphBuilder b;
  Operand x = b.input("x", F32, {4});
  Operand far = b.constant(Tensor::from(DataType::int64, {2}, std::vector<int64_t>{kMax, kMin}));
  Operand nd = b.constant(Tensor::from(DataType::int64, {1, 1}, std::vector<int64_t>{kMax}));
  Graph g = b.build({{"gather", b.gather(x, far)},
                     {"elements", b.gather_elements(x, far)},
                     {"nd", b.gather_nd(x, nd)}});
  std::string bytes = export_onnx_bytes(g);
  EXPECT_EQ(exported_int64s(bytes, "indices"), (std::vector<int64_t>{3, -4}));
  EXPECT_EQ(exported_int64s(bytes, "indices_3"), (std::vector<int64_t>{3}));
}

// A valid graph of one node, then that node's attribute `name` set to `value`: what the
// exporter must survive if anything hands it a graph the op table did not validate.
Graph with_attr(const Graph& g, const std::string& name, const std::vector<int64_t>& value) {
  auto ir = std::make_shared<detail::GraphIR>(g.ir());
  ir->nodes.back().attrs.set(name, value);
  return Graph(ir);
}

TEST(HostileArithmetic, ExportOfAttributesPastInt64IsADataError) {
  {
    GraphBuilder b;
    Operand x = b.input("x", F32, {1, 1, 4, 4});
    Pool2dOptions o;
    o.window_dimensions = {1, 1};
    Graph g = b.build({{"y", b.max_pool2d(x, o)}});
    expect_error(
        [&] {
          export_onnx_bytes(with_attr(g, "strides", {kMax, 1}));
        },
        ErrorKind::DataError, "maxPool2d");
  }
  {
    GraphBuilder b;
    Operand x = b.input("x", F32, {1, 1, 4, 4});
    Operand w = b.input("w", F32, {1, 1, 3, 3});
    Graph g = b.build({{"y", b.conv_transpose2d(x, w)}});
    expect_error(
        [&] {
          export_onnx_bytes(with_attr(g, "strides", {kMax, 1}));
        },
        ErrorKind::DataError, "convTranspose2d");
  }
  {
    GraphBuilder b;
    Operand x = b.input("x", F32, {8});
    Graph g = b.build({{"y", b.slice(x, {1}, {3})}});
    expect_error([&] { export_onnx_bytes(with_attr(g, "sizes", {kMax})); }, ErrorKind::DataError,
                 "slice");
  }
}

}  // namespace
}  // namespace cppnn
