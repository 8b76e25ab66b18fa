// ONNX import: models built in C++ with the onnx protobuf classes, imported, run on the CPU
// and compared with float64 references written here; host folding of shape arithmetic; every
// kind of malformed or unsupported model.
#include <cmath>
#include <fstream>
#include <limits>

#include "test_support.h"
#include "unit/onnx_test_model.h"

namespace cppnn {
namespace {

using testing::attr;
using testing::expect_close;
using testing::expect_error;
using testing::OnnxTestModel;
using testing::random_tensor;
using testing::raw_tensor;
using testing::run_cpu;
using testing::tensor_from_doubles;
using P = onnx::TensorProto;

// Reference for a broadcast binary op over a [2,3,4] x, a [4] b and a [3,1] c.
std::vector<double> reference3(const std::vector<double>& a, const std::vector<double>& b,
                               const std::vector<double>& c,
                               const std::function<double(double, double, double)>& f) {
  std::vector<double> out;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        out.push_back(f(a[size_t((i * 3 + j) * 4 + k)], b[size_t(k)], c[size_t(j)]));
  return out;
}

TEST(OnnxImport, ElementwiseOpsMatchReference) {
  OnnxTestModel m;
  m.input("a", P::FLOAT, {int64_t(2), int64_t(3), int64_t(4)});
  std::vector<float> b = {0.5f, -1.25f, 2.0f, 3.5f}, c = {1.5f, -2.0f, 0.75f};
  m.floats("b", {4}, b);
  m.floats("c", {3, 1}, c);
  m.int64s("two", {}, {2});  // Pow's exponent may have another type than its base
  m.node("Add", {"a", "b"}, {"add"});
  m.node("Sub", {"a", "c"}, {"sub"});
  m.node("Mul", {"b", "a"}, {"mul"});
  m.node("Div", {"a", "c"}, {"div"});
  m.node("Max", {"a", "b", "c"}, {"max"});
  m.node("Min", {"a", "c"}, {"min"});
  m.node("Pow", {"a", "two"}, {"pow"});
  m.node("Sum", {"a", "b", "c"}, {"sum"});
  m.node("Mean", {"a", "b"}, {"mean"});
  for (const char* o : {"add", "sub", "mul", "div", "max", "min", "pow", "sum", "mean"})
    m.output(o);
  Graph g = m.load();
  Tensor a = random_tensor(DataType::float32, {2, 3, 4}, -3, 3, 7);
  NamedTensors out = run_cpu(g, {{"a", a}});
  std::vector<double> av = a.to_doubles(), bv(b.begin(), b.end()), cv(c.begin(), c.end());
  auto tol = testing::default_tolerance(DataType::float32);
  expect_close(out["add"], reference3(av, bv, cv, [](double x, double y, double) { return x + y; }),
               tol, "add");
  expect_close(out["sub"], reference3(av, bv, cv, [](double x, double, double z) { return x - z; }),
               tol, "sub");
  expect_close(out["mul"], reference3(av, bv, cv, [](double x, double y, double) { return x * y; }),
               tol, "mul");
  expect_close(out["div"], reference3(av, bv, cv, [](double x, double, double z) { return x / z; }),
               tol, "div");
  expect_close(out["max"],
               reference3(av, bv, cv,
                          [](double x, double y, double z) {
                            return std::max({x, y, z});
                          }),
               tol, "max");
  expect_close(out["min"],
               reference3(av, bv, cv, [](double x, double, double z) { return std::min(x, z); }),
               tol, "min");
  expect_close(out["pow"], reference3(av, bv, cv, [](double x, double, double) { return x * x; }),
               tol, "pow");
  expect_close(out["sum"],
               reference3(av, bv, cv, [](double x, double y, double z) { return x + y + z; }), tol,
               "sum");
  expect_close(out["mean"],
               reference3(av, bv, cv, [](double x, double y, double) { return (x + y) / 2; }), tol,
               "mean");
}

// One initializer encoding per case: raw_data or the typed field onnx.proto assigns.
struct InitializerCase {
  const char* what;
  int32_t onnx_type;
  DataType type;
  std::function<void(P&)> fill;  // writes the values 1, -2, 3, 100, 5 (unsigned: 2 for -2)
};

TEST(OnnxImport, InitializersOfEveryTypeAndEncoding) {
  std::vector<double> want_signed = {1, -2, 3, 100, 5}, want_unsigned = {1, 2, 3, 100, 5};
  auto raw = [](auto values) {
    return [values](P& t) {
      t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()),
                                 values.size() * sizeof(values[0])));
    };
  };
  std::vector<InitializerCase> cases = {
      {"float raw", P::FLOAT, DataType::float32, raw(std::vector<float>{1, -2, 3, 100, 5})},
      {"float float_data", P::FLOAT, DataType::float32,
       [](P& t) {
         for (float v : {1.f, -2.f, 3.f, 100.f, 5.f}) t.add_float_data(v);
       }},
      {"float16 raw", P::FLOAT16, DataType::float16,
       raw(std::vector<uint16_t>{0x3c00, 0xc000, 0x4200, 0x5640, 0x4500})},
      {"float16 int32_data", P::FLOAT16, DataType::float16,
       [](P& t) {
         for (int v : {0x3c00, 0xc000, 0x4200, 0x5640, 0x4500}) t.add_int32_data(v);
       }},
      {"int32 int32_data", P::INT32, DataType::int32,
       [](P& t) {
         for (int v : {1, -2, 3, 100, 5}) t.add_int32_data(v);
       }},
      {"int64 raw", P::INT64, DataType::int64, raw(std::vector<int64_t>{1, -2, 3, 100, 5})},
      {"int64 int64_data", P::INT64, DataType::int64,
       [](P& t) {
         for (int64_t v : {1, -2, 3, 100, 5}) t.add_int64_data(v);
       }},
      {"int8 raw", P::INT8, DataType::int8, raw(std::vector<int8_t>{1, -2, 3, 100, 5})},
      {"int8 int32_data", P::INT8, DataType::int8,
       [](P& t) {
         for (int v : {1, -2, 3, 100, 5}) t.add_int32_data(v);
       }},
      {"uint8 int32_data", P::UINT8, DataType::uint8,
       [](P& t) {
         for (int v : {1, 2, 3, 100, 5}) t.add_int32_data(v);
       }},
      {"uint32 uint64_data", P::UINT32, DataType::uint32,
       [](P& t) {
         for (uint64_t v : {1, 2, 3, 100, 5}) t.add_uint64_data(v);
       }},
      {"uint64 raw", P::UINT64, DataType::uint64, raw(std::vector<uint64_t>{1, 2, 3, 100, 5})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    OnnxTestModel m;
    m.input("x", c.onnx_type, {int64_t(5)});
    P init;
    init.set_name("y");
    init.set_data_type(c.onnx_type);
    init.add_dims(5);
    c.fill(init);
    m.initializer(init);
    m.node("Add", {"x", "y"}, {"z"});
    m.output("z");
    Graph g = m.load();
    ASSERT_EQ(g.outputs().at("z").data_type, c.type);
    std::vector<double> x = {2, 4, 6, 8, 10};
    NamedTensors out = run_cpu(g, {{"x", tensor_from_doubles(c.type, {5}, x)}});
    const auto& y = is_signed(c.type) ? want_signed : want_unsigned;
    std::vector<double> want;
    for (size_t i = 0; i < 5; ++i) want.push_back(x[i] + y[i]);
    expect_close(out["z"], want, testing::default_tolerance(c.type));
  }
}

TEST(OnnxImport, BoolInitializersFoldThroughCastNotAndWhere) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(4)});
  m.initializer(raw_tensor("flags", P::BOOL, {4}, std::vector<uint8_t>{1, 0, 7, 0}));
  attr(m.node("Cast", {"flags"}, {"flags_f"}), "to", int64_t(P::FLOAT));
  m.node("Not", {"flags"}, {"inverted"});
  m.floats("ten", {1}, {10});
  m.floats("minus", {4}, {-1, -2, -3, -4});
  m.node("Where", {"inverted", "ten", "minus"}, {"picked"});
  m.node("Add", {"flags_f", "picked"}, {"offset"});
  m.node("Add", {"x", "offset"}, {"y"});
  m.output("y");
  Graph g = m.load();
  EXPECT_EQ(g.node_count(), 1u) << g.summary();
  NamedTensors out = run_cpu(g, {{"x", tensor_from_doubles(DataType::float32, {4}, {1, 2, 3, 4})}});
  // flags (7 is true) = 1 0 1 0; picked = -1 10 -3 10.
  expect_close(out["y"], {1 + 1 - 1, 2 + 0 + 10, 3 + 1 - 3, 4 + 0 + 10}, {0, 0});
}

TEST(OnnxImport, IdentityAndDropoutPassThrough) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(3)});
  m.floats("w", {3}, {1, 2, 3});
  m.node("Identity", {"x"}, {"x1"});
  m.node("Dropout", {"x1"}, {"x2", "mask"});
  m.node("Identity", {"w"}, {"w1"});  // torch exports shared weights this way
  m.node("Mul", {"x2", "w1"}, {"y"});
  m.output("y");
  Graph g = m.load();
  EXPECT_EQ(g.node_count(), 1u) << g.summary();
  NamedTensors out = run_cpu(g, {{"x", tensor_from_doubles(DataType::float32, {3}, {4, 5, 6})}});
  expect_close(out["y"], {4, 10, 18}, {0, 0});
}

// torch.onnx.export writes x.view(x.size(0), -1)-style shape code; all of it must fold.
TEST(OnnxFolding, TorchShapeArithmeticFolds) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(3)});
  m.node("Shape", {"x"}, {"shape"});
  m.int64s("one", {}, {1});
  m.node("Gather", {"shape", "one"}, {"dim1"});  // scalar 3
  m.int64s("axis0", {1}, {0});
  m.node("Unsqueeze", {"dim1", "axis0"}, {"dim1_1d"});
  attr(m.node("Shape", {"x"}, {"dim0_1d"}), "end", int64_t(1));
  attr(m.node("Concat", {"dim0_1d", "dim1_1d"}, {"target"}), "axis", int64_t(0));
  m.int64s("start", {}, {0});
  m.int64s("limit", {}, {6});
  m.node("Range", {"start", "limit", "one"}, {"iota"});
  attr(m.node("Cast", {"iota"}, {"iota_f"}), "to", int64_t(P::FLOAT));
  m.node("Reshape", {"iota_f", "target"}, {"grid"});  // [[0 1 2] [3 4 5]]
  attr(m.node("ConstantOfShape", {"target"}, {"halves"}), "value",
       raw_tensor("v", P::FLOAT, {1}, std::vector<float>{0.5f}));
  m.node("Mul", {"grid", "halves"}, {"scaled"});
  m.floats("ten", {1}, {10});
  m.node("Expand", {"ten", "shape"}, {"tens"});
  m.floats("two", {}, {2});
  m.node("Equal", {"grid", "two"}, {"is_two"});
  m.node("Where", {"is_two", "tens", "scaled"}, {"picked"});
  m.node("Unsqueeze", {"picked", "axis0"}, {"picked3"});
  m.node("Squeeze", {"picked3", "axis0"}, {"picked2"});
  attr(m.node("Transpose", {"picked2"}, {"t"}), "perm", std::vector<int64_t>{1, 0});
  m.node("Transpose", {"t"}, {"tt"});
  m.node("Flatten", {"tt"}, {"flat"});  // [2, 3] stays [2, 3]
  m.node("Add", {"x", "flat"}, {"y"});
  m.output("y");
  Graph g = m.load();
  EXPECT_EQ(g.node_count(), 1u) << g.summary();
  NamedTensors out =
      run_cpu(g, {{"x", tensor_from_doubles(DataType::float32, {2, 3}, {1, 1, 1, 1, 1, 1})}});
  expect_close(out["y"], {1, 1.5, 11, 2.5, 3, 3.5}, {0, 0});
}

TEST(OnnxFolding, IntegerArithmeticFollowsOnnx) {
  OnnxTestModel m;
  m.input("x", P::INT64, {int64_t(4)});
  m.int64s("n", {4}, {7, -7, 9, -9});
  m.int64s("d", {4}, {2, 2, -4, -4});
  m.int64s("three", {}, {3});
  m.int64s("one", {1}, {1});
  m.node("Div", {"n", "d"}, {"q"});  // truncates toward zero: 3 -3 -2 2
  m.node("Mul", {"q", "three"}, {"q3"});
  m.node("Sub", {"q3", "one"}, {"r"});  // 8 -10 -7 5
  m.node("Greater", {"r", "one"}, {"big"});
  attr(m.node("Cast", {"big"}, {"big_i"}), "to", int64_t(P::INT64));  // 1 0 0 1
  m.node("Add", {"r", "big_i"}, {"s"});                               // 9 -10 -7 6
  m.node("Add", {"x", "s"}, {"y"});
  m.output("y");
  Graph g = m.load();
  EXPECT_EQ(g.node_count(), 1u) << g.summary();
  NamedTensors out =
      run_cpu(g, {{"x", tensor_from_doubles(DataType::int64, {4}, {100, 100, 100, 100})}});
  expect_close(out["y"], {109, 90, 93, 106}, {0, 0});
}

// Mod folds on the host with ONNX's two sign rules (exporters emit it in shape arithmetic).
TEST(OnnxFolding, ModFollowsBothSignRules) {
  OnnxTestModel m;
  m.input("x", P::INT64, {int64_t(5)});
  m.int64s("n", {5}, {7, -7, 7, -7, 6});
  m.int64s("d", {5}, {3, 3, -3, -3, -1});
  m.node("Mod", {"n", "d"}, {"py"});                          // 1 2 -2 -1 0
  attr(m.node("Mod", {"n", "d"}, {"c"}), "fmod", int64_t(1));  // 1 -1 1 -1 0
  m.int64s("ten", {}, {10});
  m.node("Mul", {"py", "ten"}, {"py10"});
  m.node("Add", {"py10", "c"}, {"both"});  // 11 19 -19 -11 0
  m.node("Add", {"x", "both"}, {"y"});
  m.output("y");
  Graph g = m.load();
  EXPECT_EQ(g.node_count(), 1u) << g.summary();
  NamedTensors out =
      run_cpu(g, {{"x", tensor_from_doubles(DataType::int64, {5}, {100, 100, 100, 100, 100})}});
  expect_close(out["y"], {111, 119, 81, 89, 100}, {0, 0});
}

TEST(OnnxFolding, ModByZeroConstantIsADataError) {
  OnnxTestModel m;
  m.input("x", P::INT64, {int64_t(1)});
  m.int64s("n", {1}, {7});
  m.int64s("z", {1}, {0});
  m.node("Mod", {"n", "z"}, {"r"});
  m.node("Add", {"x", "r"}, {"y"});
  m.output("y");
  expect_error([&] { m.load(); }, ErrorKind::DataError, "Mod by zero");
}

// A float Mod at run time: C's fmod and Python's %, against std::fmod in double.
TEST(OnnxImport, FloatModAtRunTimeMatchesFmod) {
  for (int64_t c_fmod : {int64_t(0), int64_t(1)}) {
    OnnxTestModel m;
    m.input("a", P::FLOAT, {int64_t(6)});
    m.input("b", P::FLOAT, {int64_t(6)});
    attr(m.node("Mod", {"a", "b"}, {"y"}), "fmod", c_fmod);
    m.output("y");
    Graph g = m.load();
    std::vector<double> a = {7.5, -7.5, 7.5, -7.5, 1e3 + 0.25, 0.35};
    std::vector<double> b = {2, 2, -2, -2, 7, 0.1};
    std::vector<double> want;
    for (size_t i = 0; i < a.size(); ++i) {
      double fa = double(float(a[i])), fb = double(float(b[i]));
      double r = std::fmod(fa, fb);
      if (!c_fmod && r != 0 && ((r < 0) != (fb < 0))) r += fb;
      want.push_back(r);
    }
    NamedTensors out = run_cpu(g, {{"a", tensor_from_doubles(DataType::float32, {6}, a)},
                                   {"b", tensor_from_doubles(DataType::float32, {6}, b)}});
    expect_close(out["y"], want, {1e-5, 1e-5});
  }
}

TEST(OnnxFolding, SliceClampsNegativeAndHugeIndicesAndNegativeSteps) {
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  std::vector<float> data(24);
  for (size_t i = 0; i < 24; ++i) data[i] = float(i);
  OnnxTestModel m;
  m.floats("data", {4, 6}, data);
  m.input("x1", P::FLOAT, {int64_t(3), int64_t(2)});
  m.input("x2", P::FLOAT, {int64_t(4), int64_t(3)});
  m.input("x3", P::FLOAT, {int64_t(2), int64_t(6)});
  // rows -3.. (1, 2, 3), cols 1 to -1 step 2 (1, 3)
  m.int64s("s1", {2}, {-3, 1});
  m.int64s("e1", {2}, {kMax, -1});
  m.int64s("a1", {2}, {0, 1});
  m.int64s("st1", {2}, {1, 2});
  m.node("Slice", {"data", "s1", "e1", "a1", "st1"}, {"p1"});
  // every row, cols from the last backwards by 2 (5, 3, 1)
  m.int64s("s2", {1}, {-1});
  m.int64s("e2", {1}, {kMin});
  m.int64s("a2", {1}, {1});
  m.int64s("st2", {1}, {-2});
  m.node("Slice", {"data", "s2", "e2", "a2", "st2"}, {"p2"});
  // axis -2 from 2 to past the end: rows 2, 3 (no axes/steps inputs)
  m.int64s("s3", {2}, {2, -100});
  m.int64s("e3", {2}, {100, 100});
  m.node("Slice", {"data", "s3", "e3"}, {"p3"});
  // every row backwards from past the end (3, 2, 1, 0)
  m.int64s("s4", {1}, {kMax});
  m.int64s("st4", {1}, {-1});
  m.int64s("a4", {1}, {0});
  m.node("Slice", {"data", "s4", "e2", "a4", "st4"}, {"p4"});
  m.input("x4", P::FLOAT, {int64_t(4), int64_t(6)});
  m.node("Add", {"x4", "p4"}, {"y4"});
  m.node("Add", {"x1", "p1"}, {"y1"});
  m.node("Add", {"x2", "p2"}, {"y2"});
  m.node("Add", {"x3", "p3"}, {"y3"});
  for (const char* o : {"y1", "y2", "y3", "y4"}) m.output(o);
  Graph g = m.load();
  EXPECT_EQ(g.node_count(), 4u);
  NamedTensors out = run_cpu(g, {{"x1", Tensor(DataType::float32, {3, 2})},
                                 {"x2", Tensor(DataType::float32, {4, 3})},
                                 {"x3", Tensor(DataType::float32, {2, 6})},
                                 {"x4", Tensor(DataType::float32, {4, 6})}});
  auto at = [](int r, int c) { return double(r * 6 + c); };
  expect_close(out["y1"], {at(1, 1), at(1, 3), at(2, 1), at(2, 3), at(3, 1), at(3, 3)}, {0, 0});
  std::vector<double> want2, want3, want4;
  for (int r = 3; r >= 0; --r)
    for (int c = 0; c < 6; ++c) want4.push_back(at(r, c));
  expect_close(out["y4"], want4, {0, 0});
  for (int r = 0; r < 4; ++r)
    for (int c : {5, 3, 1}) want2.push_back(at(r, c));
  for (int r = 2; r < 4; ++r)
    for (int c = 0; c < 6; ++c) want3.push_back(at(r, c));
  expect_close(out["y2"], want2, {0, 0});
  expect_close(out["y3"], want3, {0, 0});
}

TEST(OnnxFolding, GatherSplitConcatOnConstants) {
  OnnxTestModel m;
  std::vector<float> data(12);
  for (size_t i = 0; i < 12; ++i) data[i] = float(i);  // [3, 4]
  m.floats("data", {3, 4}, data);
  m.int64s("rows", {1, 2}, {2, -3});
  m.node("Gather", {"data", "rows"}, {"g"});  // [1, 2, 4]: rows 2 and 0
  m.int64s("col", {}, {-1});
  attr(m.node("Gather", {"data", "col"}, {"last"}), "axis", int64_t(1));  // [3]: 3 7 11
  m.int64s("sizes", {2}, {1, 3});
  attr(m.node("Split", {"data", "sizes"}, {"left", "right"}), "axis", int64_t(1));
  attr(m.node("Concat", {"right", "left"}, {"rotated"}), "axis", int64_t(-1));  // [3, 4]
  m.input("x", P::FLOAT, {int64_t(3), int64_t(4)});
  m.input("u", P::FLOAT, {int64_t(1), int64_t(2), int64_t(4)});
  m.input("v", P::FLOAT, {int64_t(3)});
  m.node("Add", {"x", "rotated"}, {"y"});
  m.node("Add", {"u", "g"}, {"z"});
  m.node("Add", {"v", "last"}, {"w"});
  for (const char* o : {"y", "z", "w"}) m.output(o);
  Graph g = m.load();
  EXPECT_EQ(g.node_count(), 3u);
  NamedTensors out = run_cpu(g, {{"x", Tensor(DataType::float32, {3, 4})},
                                 {"u", Tensor(DataType::float32, {1, 2, 4})},
                                 {"v", Tensor(DataType::float32, {3})}});
  expect_close(out["y"], {1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8}, {0, 0});
  expect_close(out["z"], {8, 9, 10, 11, 0, 1, 2, 3}, {0, 0});
  expect_close(out["w"], {3, 7, 11}, {0, 0});
}

TEST(OnnxImport, OlderOpsetsTakeAxesAndSliceBoundsFromAttributes) {
  OnnxTestModel m(9);
  m.floats("data", {2, 3}, {0, 1, 2, 3, 4, 5});
  auto& s = m.node("Slice", {"data"}, {"p"});
  attr(s, "starts", std::vector<int64_t>{1});
  attr(s, "ends", std::vector<int64_t>{3});
  attr(s, "axes", std::vector<int64_t>{1});
  attr(m.node("Unsqueeze", {"p"}, {"p3"}), "axes", std::vector<int64_t>{0});  // [1, 2, 2]
  m.input("x", P::FLOAT, {int64_t(1), int64_t(2), int64_t(2)});
  m.node("Add", {"x", "p3"}, {"y"});
  m.output("y");
  Graph g = m.load();
  NamedTensors out = run_cpu(g, {{"x", Tensor(DataType::float32, {1, 2, 2})}});
  expect_close(out["y"], {1, 2, 4, 5}, {0, 0});
}

TEST(OnnxImport, Float16Model) {
  OnnxTestModel m;
  m.input("x", P::FLOAT16, {int64_t(2), int64_t(3)});
  std::vector<uint16_t> w;
  for (float v : {0.5f, -1.5f, 2.25f}) w.push_back(float_to_half(v));
  m.initializer(raw_tensor("w", P::FLOAT16, {3}, w));
  m.node("Mul", {"x", "w"}, {"y"});
  m.output("y");
  Graph g = m.load();
  Tensor x = random_tensor(DataType::float16, {2, 3}, -2, 2, 3);
  NamedTensors out = run_cpu(g, {{"x", x}});
  std::vector<double> xv = x.to_doubles(), want;
  for (size_t i = 0; i < 6; ++i)
    want.push_back(xv[i] * std::vector<double>{0.5, -1.5, 2.25}[i % 3]);
  expect_close(out["y"], want, testing::default_tolerance(DataType::float16));
}

TEST(OnnxImport, KeepsNamesAndResolvesSymbolicDims) {
  OnnxTestModel m;
  m.input("input.1", P::FLOAT, {std::string("N"), int64_t(3), std::string("S")});
  m.floats("w", {1}, {2});
  m.node("Mul", {"input.1", "w"}, {"536"});
  m.output("536");
  OnnxImportOptions options;
  options.dim_values = {{"N", 2}, {"S", 5}};
  Graph g = m.load(options);
  EXPECT_EQ(g.inputs().at("input.1").shape, (Dims{2, 3, 5}));
  EXPECT_EQ(g.outputs().at("536").shape, (Dims{2, 3, 5}));
  expect_error([&] { m.load({{{"N", 2}}}); }, ErrorKind::DataError, "input.1");
  expect_error([&] { m.load({{{"N", 2}}}); }, ErrorKind::DataError, "'S'");
}

TEST(OnnxImport, BoolInputsBecomeUint8) {
  OnnxTestModel m;
  m.input("mask", P::BOOL, {int64_t(4)});
  m.node("Add", {"mask", "mask"}, {"y"});
  m.output("y");
  EXPECT_EQ(m.load().inputs().at("mask").data_type, DataType::uint8);
}

// ----- errors -------------------------------------------------------------------------------

OnnxTestModel good_model() {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2)});
  m.floats("w", {2}, {3, 4});
  m.node("Mul", {"x", "w"}, {"y"});
  m.output("y");
  return m;
}

void expect_good_model_still_loads() {
  Graph g = good_model().load();
  NamedTensors out = run_cpu(g, {{"x", tensor_from_doubles(DataType::float32, {2}, {1, 2})}});
  expect_close(out["y"], {3, 8}, {0, 0});
}

TEST(OnnxErrors, MissingFileNamesThePath) {
  std::string path = "/nonexistent/dir/model.onnx";
  expect_error([&] { load_onnx(path); }, ErrorKind::DataError, path);
  expect_good_model_still_loads();
}

TEST(OnnxErrors, TruncatedAndRandomBytesAreDataErrors) {
  std::string bytes = good_model().bytes();
  expect_error([&] { load_onnx_from_bytes(bytes.substr(0, bytes.size() - 3)); },
               ErrorKind::DataError, "");
  std::string noise(4096, '\0');
  uint32_t s = 12345;
  for (char& c : noise) c = char((s = s * 1664525u + 1013904223u) >> 24);
  expect_error([&] { load_onnx_from_bytes(noise); }, ErrorKind::DataError, "not an ONNX model");
  // The same through a file.
  std::string path = ::testing::TempDir() + "cppnn_truncated.onnx";
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  expect_error([&] { load_onnx(path); }, ErrorKind::DataError, path);
  expect_good_model_still_loads();
}

TEST(OnnxErrors, ModelWithoutGraphOrOpset) {
  onnx::ModelProto empty;
  empty.set_ir_version(8);
  expect_error([&] { load_onnx_from_bytes(empty.SerializeAsString()); }, ErrorKind::DataError,
               "no graph");
  OnnxTestModel m = good_model();
  m.proto().clear_opset_import();
  expect_error([&] { m.load(); }, ErrorKind::DataError, "opset");
  OnnxTestModel none = good_model();
  none.graph().clear_output();
  expect_error([&] { none.load(); }, ErrorKind::DataError, "no outputs");
}

TEST(OnnxErrors, UnknownOpNamesNodeAndType) {
  OnnxTestModel m = good_model();
  m.node("FancyOp", {"y"}, {"z"}, "my_fancy_node");
  m.output("z");
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, "'my_fancy_node' (FancyOp)");
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, "'FancyOp' is not supported");
  OnnxTestModel ms = good_model();
  ms.node("Add", {"y", "y"}, {"z"}, "ms_add").set_domain("com.microsoft");
  ms.output("z");
  expect_error([&] { ms.load(); }, ErrorKind::NotSupportedError, "com.microsoft.Add");
  expect_good_model_still_loads();
}

TEST(OnnxErrors, UndefinedInputNamesIt) {
  OnnxTestModel m = good_model();
  m.node("Add", {"y", "ghost"}, {"z"}, "adder");
  m.output("z");
  expect_error([&] { m.load(); }, ErrorKind::DataError, "'ghost'");
  expect_error([&] { m.load(); }, ErrorKind::DataError, "'adder' (Add)");
  OnnxTestModel out = good_model();
  out.output("never_made");
  expect_error([&] { out.load(); }, ErrorKind::DataError, "'never_made'");
  expect_good_model_still_loads();
}

TEST(OnnxErrors, UnsupportedAttributeValuesNameTheNode) {
  OnnxTestModel conv = good_model();
  conv.floats("k", {1, 1, 1, 1}, {1});
  conv.input("img", P::FLOAT, {int64_t(1), int64_t(1), int64_t(4), int64_t(4)});
  attr(conv.node("Conv", {"img", "k"}, {"c"}, "conv0"), "auto_pad", "SOMETIMES");
  conv.output("c");
  expect_error([&] { conv.load(); }, ErrorKind::NotSupportedError, "'conv0' (Conv)");
  expect_error([&] { conv.load(); }, ErrorKind::NotSupportedError, "'SOMETIMES'");

  OnnxTestModel gelu = good_model();
  attr(gelu.node("Gelu", {"y"}, {"g"}, "gelu0"), "approximate", "fast");
  gelu.output("g");
  expect_error([&] { gelu.load(); }, ErrorKind::NotSupportedError, "'fast'");

  OnnxTestModel cast = good_model();
  attr(cast.node("Cast", {"y"}, {"d"}, "to_double"), "to", int64_t(P::DOUBLE));
  cast.output("d");
  expect_error([&] { cast.load(); }, ErrorKind::NotSupportedError, "DOUBLE");

  OnnxTestModel bn = good_model();
  attr(bn.node("BatchNormalization", {"y", "w", "w", "w", "w"}, {"b"}, "bn0"), "training_mode",
       int64_t(1));
  bn.output("b");
  expect_error([&] { bn.load(); }, ErrorKind::NotSupportedError, "training_mode");

  OnnxTestModel wrong_type = good_model();
  attr(wrong_type.node("Softmax", {"y"}, {"s"}, "sm"), "axis", "last");
  wrong_type.output("s");
  expect_error([&] { wrong_type.load(); }, ErrorKind::DataError, "attribute 'axis' must be an int");
  expect_good_model_still_loads();
}

TEST(OnnxErrors, RuntimeValuesWhereConstantsAreNeeded) {
  OnnxTestModel m = good_model();
  m.input("shape", P::INT64, {int64_t(1)});
  m.node("Reshape", {"y", "shape"}, {"r"}, "reshape0");
  m.output("r");
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, "'reshape0' (Reshape)");
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, "Reshape's shape");
  OnnxTestModel clip = good_model();
  clip.input("lo", P::FLOAT, {});
  clip.node("Clip", {"y", "lo"}, {"c"}, "clip0");
  clip.output("c");
  expect_error([&] { clip.load(); }, ErrorKind::NotSupportedError, "Clip's min");
  OnnxTestModel bad_reshape = good_model();
  bad_reshape.int64s("s", {2}, {-1, -1});
  bad_reshape.node("Reshape", {"w", "s"}, {"r"}, "r2");
  bad_reshape.output("r");
  expect_error([&] { bad_reshape.load(); }, ErrorKind::DataError, "more than one -1");
}

TEST(OnnxErrors, BadInitializers) {
  OnnxTestModel ext = good_model();
  P& w = *ext.graph().mutable_initializer(0);
  w.set_data_location(P::EXTERNAL);
  auto* e = w.add_external_data();
  e->set_key("location");
  e->set_value("weights.bin");
  // Both in the model and outside it; then, from memory, no folder to read from (the
  // external files themselves: test_onnx_boundary.cpp).
  expect_error([&] { ext.load(); }, ErrorKind::DataError,
               "initializer 'w' is EXTERNAL but also holds data in the model");
  w.clear_raw_data();
  expect_error([&] { ext.load(); }, ErrorKind::DataError, "initializer 'w'");
  expect_error([&] { ext.load(); }, ErrorKind::DataError, "loaded from memory");

  OnnxTestModel size = good_model();
  size.graph().mutable_initializer(0)->set_raw_data(std::string(5, '\0'));
  expect_error([&] { size.load(); }, ErrorKind::DataError, "initializer 'w'");

  OnnxTestModel count = good_model();
  P& c = *count.graph().mutable_initializer(0);
  c.clear_raw_data();
  c.add_float_data(1);
  expect_error([&] { count.load(); }, ErrorKind::DataError, "holds 1 values");

  OnnxTestModel dbl = good_model();
  dbl.graph().mutable_initializer(0)->set_data_type(P::DOUBLE);
  expect_error([&] { dbl.load(); }, ErrorKind::NotSupportedError, "DOUBLE");

  OnnxTestModel twice = good_model();
  twice.node("Identity", {"x"}, {"y"}, "again");
  expect_error([&] { twice.load(); }, ErrorKind::DataError, "already defined");
  expect_good_model_still_loads();
}

TEST(OnnxErrors, BuilderValidationNamesTheNode) {
  OnnxTestModel m = good_model();
  m.input("z", P::FLOAT, {int64_t(3)});
  m.node("Add", {"y", "z"}, {"bad"}, "mismatch");
  m.output("bad");
  expect_error([&] { m.load(); }, ErrorKind::TypeError, "'mismatch' (Add)");
  expect_error([&] { m.load(); }, ErrorKind::TypeError, "add 'mismatch'");
  expect_error([&] { m.load(); }, ErrorKind::TypeError, "not broadcastable");
  expect_good_model_still_loads();
}

// Corrupt bytes anywhere in a model must give a cppnn::Error, never a crash or another
// exception type.
TEST(OnnxErrors, CorruptedBytesNeverCrash) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(3)});
  m.node("Shape", {"x"}, {"shape"});
  m.int64s("one", {}, {1});
  m.node("Gather", {"shape", "one"}, {"d"});
  m.int64s("axis0", {1}, {0});
  m.node("Unsqueeze", {"d", "axis0"}, {"d1"});
  attr(m.node("Concat", {"d1", "d1"}, {"t"}), "axis", int64_t(0));
  attr(m.node("ConstantOfShape", {"t"}, {"c"}), "value",
       raw_tensor("v", P::FLOAT, {1}, std::vector<float>{0.5f}));
  m.int64s("s", {2}, {2, 3});
  m.int64s("z", {2}, {0, 0});
  m.node("Slice", {"c", "z", "s"}, {"c2"});
  m.node("Reshape", {"c2", "s"}, {"c3"});
  m.node("Add", {"x", "c3"}, {"y"});
  m.output("y");
  const std::string bytes = m.bytes();
  m.load();  // the intact model imports
  uint32_t state = 2024;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  size_t errors = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string b = bytes;
    for (int k = 0; k < 1 + trial % 4; ++k) b[next() % b.size()] = char(next() >> 24);
    try {
      load_onnx_from_bytes(b);
    } catch (const Error&) {
      ++errors;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "trial " << trial << ": " << typeid(e).name() << ": " << e.what();
    }
  }
  EXPECT_GT(errors, 100u);  // the corruption did reach the importer's checks
  expect_good_model_still_loads();
}

}  // namespace
}  // namespace cppnn
