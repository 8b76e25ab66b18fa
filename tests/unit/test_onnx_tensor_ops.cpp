// ONNX import of element-wise ops, activations, Cast/Where and shape ops on run-time
// tensors, run on the CPU against float64 references written here.
// They need the op families of the other branches; move this file to tests/unit/ once
// they are merged.
#include <cmath>
#include <limits>

#include "unit/index_test_support.h"
#include "unit/onnx_test_model.h"
#include "unit/test_support.h"

namespace cppnn {
namespace {

using testing::attr;
using testing::expect_close;
using testing::OnnxTestModel;
using testing::random_tensor;
using testing::raw_tensor;
using testing::run_model;
using testing::tensor_from_doubles;
using testing::weight;
using P = onnx::TensorProto;

constexpr testing::Tolerance kF32{1e-5, 1e-4};

// ----- element-wise ------------------------------------------------------------------------------

TEST(OnnxOps, UnaryOpsAndActivations) {
  struct Case {
    const char* op;
    double (*f)(double);
    double lo, hi;
  };
  std::vector<Case> cases = {
      {"Sqrt", [](double x) { return std::sqrt(x); }, 0.1, 4},
      {"Erf", [](double x) { return std::erf(x); }, -2, 2},
      {"Relu", [](double x) { return std::max(x, 0.0); }, -2, 2},
      {"Sigmoid", [](double x) { return 1 / (1 + std::exp(-x)); }, -4, 4},
      {"Tanh", [](double x) { return std::tanh(x); }, -3, 3},
      {"Exp", [](double x) { return std::exp(x); }, -3, 3},
      {"Log", [](double x) { return std::log(x); }, 0.1, 5},
      {"Abs", [](double x) { return std::abs(x); }, -2, 2},
      {"Neg", [](double x) { return -x; }, -2, 2},
      {"Reciprocal", [](double x) { return 1 / x; }, 0.5, 3},
      {"Floor", [](double x) { return std::floor(x); }, -3, 3},
      {"Ceil", [](double x) { return std::ceil(x); }, -3, 3},
      {"Sin", [](double x) { return std::sin(x); }, -3, 3},
      {"Cos", [](double x) { return std::cos(x); }, -3, 3},
      {"Softplus", [](double x) { return std::log1p(std::exp(x)); }, -3, 3},
      {"Softsign", [](double x) { return x / (1 + std::abs(x)); }, -3, 3},
      {"HardSwish", [](double x) { return x * std::clamp(x / 6 + 0.5, 0.0, 1.0); }, -4, 4},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    OnnxTestModel m;
    m.input("x", P::FLOAT, {int64_t(3), int64_t(7)});
    m.node(c.op, {"x"}, {"y"});
    m.output("y");
    Tensor x = random_tensor(DataType::float32, {3, 7}, c.lo, c.hi, 90);
    NamedTensors out = run_model(m, {{"x", x}});
    std::vector<double> want;
    for (double v : x.to_doubles()) want.push_back(c.f(v));
    expect_close(out["y"], want, kF32);
  }
}

TEST(OnnxOps, ActivationsWithAttributes) {
  OnnxTestModel m(20);
  m.input("x", P::FLOAT, {int64_t(2), int64_t(9)});
  attr(m.node("LeakyRelu", {"x"}, {"leaky"}), "alpha", 0.1);
  attr(m.node("Elu", {"x"}, {"elu"}), "alpha", 0.5);
  auto& hs = m.node("HardSigmoid", {"x"}, {"hsig"});
  attr(hs, "alpha", 0.25);
  attr(hs, "beta", 0.4);
  m.node("Gelu", {"x"}, {"gelu"});
  attr(m.node("Gelu", {"x"}, {"gelu_tanh"}), "approximate", "tanh");
  Tensor slope = weight(m, "slope", {9}, 91, 0, 0.5);
  m.node("PRelu", {"x", "slope"}, {"prelu"});
  for (const char* o : {"leaky", "elu", "hsig", "gelu", "gelu_tanh", "prelu"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {2, 9}, -3, 3, 92);
  NamedTensors out = run_model(m, {{"x", x}});
  std::vector<double> xv = x.to_doubles(), sv = slope.to_doubles();
  std::vector<double> leaky, elu, hsig, gelu, gelu_tanh, prelu;
  for (size_t i = 0; i < xv.size(); ++i) {
    double v = xv[i];
    leaky.push_back(v < 0 ? 0.1 * v : v);
    elu.push_back(v < 0 ? 0.5 * (std::exp(v) - 1) : v);
    hsig.push_back(std::clamp(0.25 * v + 0.4, 0.0, 1.0));
    gelu.push_back(0.5 * v * (1 + std::erf(v / std::sqrt(2.0))));
    gelu_tanh.push_back(0.5 * v *
                        (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
    prelu.push_back(v < 0 ? sv[i % 9] * v : v);
  }
  expect_close(out["leaky"], leaky, kF32, "leaky");
  expect_close(out["elu"], elu, kF32, "elu");
  expect_close(out["hsig"], hsig, kF32, "hsig");
  expect_close(out["gelu"], gelu, kF32, "gelu");
  expect_close(out["gelu_tanh"], gelu_tanh, kF32, "gelu_tanh");
  expect_close(out["prelu"], prelu, kF32, "prelu");
}

TEST(OnnxOps, ClipBoundsFromConstantsAndAttributes) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(10)});
  attr(m.node("Constant", {}, {"lo"}), "value",
       raw_tensor("lo", P::FLOAT, {}, std::vector<float>{-0.5f}));
  m.floats("hi", {}, {0.75f});
  m.node("Clip", {"x", "lo", "hi"}, {"both"});
  m.node("Clip", {"x", "", "hi"}, {"upper"});
  m.node("Clip", {"x"}, {"none"});
  m.node("Relu", {"none"}, {"none_relu"});  // "none" passes x through; make it an op result
  for (const char* o : {"both", "upper", "none_relu"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {10}, -2, 2, 100);
  NamedTensors out = run_model(m, {{"x", x}});
  std::vector<double> both, upper, relu;
  for (double v : x.to_doubles()) {
    both.push_back(std::clamp(v, -0.5, 0.75));
    upper.push_back(std::min(v, 0.75));
    relu.push_back(std::max(v, 0.0));
  }
  expect_close(out["both"], both, {0, 0});
  expect_close(out["upper"], upper, {0, 0});
  expect_close(out["none_relu"], relu, {0, 0});

  OnnxTestModel old(6);  // before opset 11 the bounds are attributes
  old.input("x", P::FLOAT, {int64_t(10)});
  auto& n = old.node("Clip", {"x"}, {"y"});
  attr(n, "min", 0.0);
  attr(n, "max", 6.0);
  old.output("y");
  Tensor x6 = random_tensor(DataType::float32, {10}, -3, 9, 101);
  NamedTensors out6 = run_model(old, {{"x", x6}});
  std::vector<double> relu6;
  for (double v : x6.to_doubles()) relu6.push_back(std::clamp(v, 0.0, 6.0));
  expect_close(out6["y"], relu6, {0, 0});
}

// IsNaN as transformers' SDPA mask uses it, IsInf with each choice of signs, and Round
// (halves to even), on float32 and float16 inputs holding the special values.
TEST(OnnxOps, IsNaNIsInfAndRound) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  const std::vector<double> xv = {nan, inf, -inf, -0.0, 0.5,  1.5, -2.5,
                                  2.5, 3.7, -1e4, 7.0,  -0.5, -nan, 65504};
  for (auto [elem, type] : {std::pair{int32_t(P::FLOAT), DataType::float32},
                            std::pair{int32_t(P::FLOAT16), DataType::float16}}) {
    SCOPED_TRACE(std::string(to_string(type)));
    OnnxTestModel m(20);
    m.input("x", elem, {int64_t(xv.size())});
    m.node("IsNaN", {"x"}, {"nan"});
    m.node("IsInf", {"x"}, {"inf"});
    attr(m.node("IsInf", {"x"}, {"pos"}), "detect_negative", int64_t(0));
    attr(m.node("IsInf", {"x"}, {"neg"}), "detect_positive", int64_t(0));
    auto& none = m.node("IsInf", {"x"}, {"none"});
    attr(none, "detect_negative", int64_t(0));
    attr(none, "detect_positive", int64_t(0));
    m.node("Round", {"x"}, {"round"});
    for (const char* o : {"nan", "inf", "pos", "neg", "none", "round"}) m.output(o);
    NamedTensors out = run_model(m, {{"x", tensor_from_doubles(type, {int64_t(xv.size())}, xv)}});
    std::vector<double> want_nan, want_inf, want_pos, want_neg, none_set(xv.size(), 0);
    for (double v : xv) {
      want_nan.push_back(std::isnan(v));
      want_inf.push_back(std::isinf(v));
      want_pos.push_back(v == inf);
      want_neg.push_back(v == -inf);
    }
    expect_close(out["nan"], want_nan, {0, 0}, "IsNaN");
    expect_close(out["inf"], want_inf, {0, 0}, "IsInf");
    expect_close(out["pos"], want_pos, {0, 0}, "IsInf positive");
    expect_close(out["neg"], want_neg, {0, 0}, "IsInf negative");
    expect_close(out["none"], none_set, {0, 0}, "IsInf neither");
    EXPECT_EQ(out["nan"].data_type(), DataType::uint8);
    expect_close(out["round"],
                 {nan, inf, -inf, -0.0, 0, 2, -2, 2, 4, -1e4, 7, -0.0, nan, 65504}, {0, 0},
                 "Round");
    EXPECT_TRUE(std::signbit(out["round"].to_doubles()[11])) << "Round(-0.5) is -0";
  }
}

TEST(OnnxOps, ComparisonsWhereAndCast) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(5)});
  m.input("y", P::FLOAT, {int64_t(5)});
  m.input("i", P::INT64, {int64_t(5)});
  m.node("Greater", {"x", "y"}, {"gt"});
  m.node("Where", {"gt", "x", "y"}, {"maximum"});
  m.node("Less", {"x", "y"}, {"lt"});
  attr(m.node("Cast", {"lt"}, {"lt_f"}), "to", int64_t(P::FLOAT));
  m.int64s("three", {}, {3});
  m.node("Equal", {"i", "three"}, {"eq"});
  attr(m.node("Cast", {"eq"}, {"eq_i"}), "to", int64_t(P::INT32));
  attr(m.node("Cast", {"i"}, {"i_bool"}), "to", int64_t(P::BOOL));  // nonzero, not truncation
  attr(m.node("Cast", {"i_bool"}, {"i_nonzero"}), "to", int64_t(P::FLOAT));
  attr(m.node("Cast", {"i"}, {"i_f"}), "to", int64_t(P::FLOAT));
  for (const char* o : {"maximum", "lt_f", "eq_i", "i_nonzero", "i_f"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {2, 5}, -2, 2, 110);
  Tensor y = random_tensor(DataType::float32, {5}, -2, 2, 111);
  std::vector<double> iv = {3, 0, 256, -3, 3};
  NamedTensors out =
      run_model(m, {{"x", x}, {"y", y}, {"i", tensor_from_doubles(DataType::int64, {5}, iv)}});
  std::vector<double> xv = x.to_doubles(), yv = y.to_doubles(), mx, lt;
  for (size_t k = 0; k < 10; ++k) {
    mx.push_back(std::max(xv[k], yv[k % 5]));
    lt.push_back(xv[k] < yv[k % 5] ? 1 : 0);
  }
  expect_close(out["maximum"], mx, {0, 0});
  expect_close(out["lt_f"], lt, {0, 0});
  EXPECT_EQ(out["eq_i"].data_type(), DataType::int32);
  expect_close(out["eq_i"], {1, 0, 0, 0, 1}, {0, 0});
  expect_close(out["i_nonzero"], {1, 0, 1, 1, 1}, {0, 0});
  expect_close(out["i_f"], iv, {0, 0});
}

// ----- shape and data movement on run-time tensors -------------------------------------------

TEST(OnnxOps, ReshapeSqueezeUnsqueezeTransposeExpand) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(3), int64_t(4)});
  m.int64s("shape", {2}, {0, -1});
  m.node("Reshape", {"x", "shape"}, {"r"});  // [2, 12]
  m.int64s("axes", {2}, {0, -1});
  m.node("Unsqueeze", {"r", "axes"}, {"u"});  // [1, 2, 12, 1]
  m.node("Squeeze", {"u"}, {"sq"});           // [2, 12]
  m.node("Relu", {"sq"}, {"flat"});
  attr(m.node("Transpose", {"x"}, {"t"}), "perm", std::vector<int64_t>{2, 0, 1});  // [4, 2, 3]
  m.input("col", P::FLOAT, {int64_t(3), int64_t(1)});
  m.int64s("target", {3}, {2, 1, 4});
  m.node("Expand", {"col", "target"}, {"e"});  // [2, 3, 4]
  for (const char* o : {"flat", "t", "e"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {2, 3, 4}, -2, 2, 160);
  Tensor col = random_tensor(DataType::float32, {3, 1}, -2, 2, 161);
  NamedTensors out = run_model(m, {{"x", x}, {"col", col}});
  std::vector<double> xv = x.to_doubles(), cv = col.to_doubles(), relu, t, e;
  for (double v : xv) relu.push_back(std::max(v, 0.0));
  for (size_t c = 0; c < 4; ++c)
    for (size_t a = 0; a < 2; ++a)
      for (size_t b = 0; b < 3; ++b) t.push_back(xv[(a * 3 + b) * 4 + c]);
  for (size_t a = 0; a < 2; ++a)
    for (size_t b = 0; b < 3; ++b)
      for (size_t c = 0; c < 4; ++c) e.push_back(cv[b]);
  EXPECT_EQ(out["flat"].shape(), (Dims{2, 12}));
  expect_close(out["flat"], relu, {0, 0});
  EXPECT_EQ(out["t"].shape(), (Dims{4, 2, 3}));
  expect_close(out["t"], t, {0, 0});
  EXPECT_EQ(out["e"].shape(), (Dims{2, 3, 4}));
  expect_close(out["e"], e, {0, 0});
}

TEST(OnnxOps, GatherConcatSliceSplitAtRunTime) {
  OnnxTestModel m;
  m.input("ids", P::INT64, {int64_t(2), int64_t(2)});
  Tensor table = weight(m, "table", {5, 3}, 170);
  m.node("Gather", {"table", "ids"}, {"emb"});  // [2, 2, 3]
  m.input("x", P::FLOAT, {int64_t(4), int64_t(6)});
  m.int64s("col", {}, {-2});
  attr(m.node("Gather", {"x", "col"}, {"x_col"}), "axis", int64_t(1));  // [4]
  Tensor k = weight(m, "k", {4, 2}, 171);
  attr(m.node("Concat", {"x", "k"}, {"cat"}), "axis", int64_t(1));  // [4, 8]
  m.int64s("starts", {2}, {-1, 1});
  m.int64s("ends", {2}, {-100, 100});
  m.int64s("slice_axes", {2}, {0, 1});
  m.int64s("steps", {2}, {-2, 2});
  m.node("Slice", {"x", "starts", "ends", "slice_axes", "steps"}, {"sl"});  // rows 3,1; cols 1,3,5
  m.int64s("sizes", {2}, {2, 4});
  attr(m.node("Split", {"x", "sizes"}, {"left", "right"}), "axis", int64_t(-1));
  for (const char* o : {"emb", "x_col", "cat", "sl", "left", "right"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {4, 6}, -2, 2, 172);
  std::vector<double> ids = {4, 0, -1, 2};
  NamedTensors out =
      run_model(m, {{"ids", tensor_from_doubles(DataType::int64, {2, 2}, ids)}, {"x", x}});
  std::vector<double> tv = table.to_doubles(), xv = x.to_doubles(), kv = k.to_doubles();
  std::vector<double> emb, x_col, cat, sl, left, right;
  for (double id : ids) {
    size_t row = size_t(id < 0 ? id + 5 : id);
    for (size_t c = 0; c < 3; ++c) emb.push_back(tv[row * 3 + c]);
  }
  for (size_t r = 0; r < 4; ++r) {
    x_col.push_back(xv[r * 6 + 4]);
    for (size_t c = 0; c < 6; ++c) cat.push_back(xv[r * 6 + c]);
    for (size_t c = 0; c < 2; ++c) cat.push_back(kv[r * 2 + c]);
    for (size_t c = 0; c < 6; ++c) (c < 2 ? left : right).push_back(xv[r * 6 + c]);
  }
  for (size_t r : {3, 1})
    for (size_t c : {1, 3, 5}) sl.push_back(xv[r * 6 + c]);
  expect_close(out["emb"], emb, {0, 0});
  expect_close(out["x_col"], x_col, {0, 0});
  expect_close(out["cat"], cat, {0, 0});
  EXPECT_EQ(out["sl"].shape(), (Dims{2, 3}));
  expect_close(out["sl"], sl, {0, 0});
  expect_close(out["left"], left, {0, 0});
  expect_close(out["right"], right, {0, 0});
}

TEST(OnnxOps, SplitIntoNumOutputsOpset18) {
  OnnxTestModel m(18);
  m.input("x", P::FLOAT, {int64_t(7), int64_t(2)});
  attr(m.node("Split", {"x"}, {"a", "b", "c"}), "num_outputs", int64_t(3));  // 3, 3, 1 rows
  for (const char* o : {"a", "b", "c"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {7, 2}, -2, 2, 180);
  NamedTensors out = run_model(m, {{"x", x}});
  std::vector<double> xv = x.to_doubles();
  EXPECT_EQ(out["a"].shape(), (Dims{3, 2}));
  EXPECT_EQ(out["c"].shape(), (Dims{1, 2}));
  expect_close(out["b"], std::vector<double>(xv.begin() + 6, xv.begin() + 12), {0, 0});
  expect_close(out["c"], std::vector<double>(xv.begin() + 12, xv.end()), {0, 0});
}

TEST(OnnxOps, OutputsThatAreInputsOrConstants) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(3)});
  m.node("Identity", {"x"}, {"same"});
  m.node("Shape", {"x"}, {"shape"});
  for (const char* o : {"same", "shape"}) m.output(o);
  Tensor x = random_tensor(DataType::float32, {2, 3}, -2, 2, 190);
  NamedTensors out = run_model(m, {{"x", x}});
  expect_close(out["same"], x.to_doubles(), {0, 0});
  EXPECT_EQ(out["shape"].data_type(), DataType::int64);
  expect_close(out["shape"], {2, 3}, {0, 0});
}

// GatherElements (negative axis; indices smaller than the data in another axis, which
// WebNN's gatherElements cannot take directly) and GatherND at run time, against naive
// references.
TEST(OnnxOps, GatherElementsAndGatherNDAtRunTime) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(4), int64_t(5)});
  m.input("ei", P::INT64, {int64_t(3), int64_t(2)});
  m.input("ni", P::INT64, {int64_t(3), int64_t(2)});
  attr(m.node("GatherElements", {"x", "ei"}, {"ge"}), "axis", int64_t(-1));  // [3, 2]
  m.node("GatherND", {"x", "ni"}, {"gn"});                                   // [3]
  m.output("ge");
  m.output("gn");
  Tensor x = random_tensor(DataType::float32, {4, 5}, -2, 2, 180);
  std::vector<double> ei = {4, -1, 0, 2, -5, 3}, ni = {3, 4, -1, 0, 1, -5};
  NamedTensors out = run_model(m, {{"x", x},
                                   {"ei", tensor_from_doubles(DataType::int64, {3, 2}, ei)},
                                   {"ni", tensor_from_doubles(DataType::int64, {3, 2}, ni)}});
  std::vector<double> xv = x.to_doubles(), ge, gn;
  auto wrap = [](double v, double n) { return size_t(v < 0 ? v + n : v); };
  for (size_t r = 0; r < 3; ++r)
    for (size_t c = 0; c < 2; ++c) ge.push_back(xv[r * 5 + wrap(ei[r * 2 + c], 5)]);
  for (size_t r = 0; r < 3; ++r) gn.push_back(xv[wrap(ni[r * 2], 4) * 5 + wrap(ni[r * 2 + 1], 5)]);
  EXPECT_EQ(out["ge"].shape(), (Dims{3, 2}));
  expect_close(out["ge"], ge, {0, 0});
  EXPECT_EQ(out["gn"].shape(), (Dims{3}));
  expect_close(out["gn"], gn, {0, 0});
}

// ONNX's GatherND with batch_dims = b, read the naive way: output position (batch, tuple, rest)
// is data[batch, indices[batch, tuple] (negatives counted from the end), rest].
std::vector<double> gather_nd_reference(const std::vector<double>& x, const Dims& xs,
                                        const std::vector<double>& idx, const Dims& is, size_t b) {
  size_t k = size_t(is.back()), lead = is.size() - 1;
  Dims os(is.begin(), is.end() - 1);
  os.insert(os.end(), xs.begin() + int64_t(b + k), xs.end());
  std::vector<double> want;
  for (size_t f = 0; f < testing::count(os); ++f) {
    testing::Index o = testing::unravel(f, os);
    size_t r = testing::ravel(testing::Index(o.begin(), o.begin() + int64_t(lead)),
                              Dims(is.begin(), is.end() - 1));
    testing::Index at(o.begin(), o.begin() + int64_t(b));
    for (size_t d = 0; d < k; ++d) {
      auto v = int64_t(idx[r * k + d]);
      at.push_back(v < 0 ? v + xs[b + d] : v);
    }
    at.insert(at.end(), o.begin() + int64_t(lead), o.end());
    want.push_back(x[testing::ravel(at, xs)]);
  }
  return want;
}

// batch_dims 1 with run-time indices (the batch numbers expanded and concatenated in the
// graph) and 2 with constant ones (prefixed on the host), negative indices included; batch
// dimensions that differ, or tuples longer than the non-batch axes, are bad models.
TEST(OnnxOps, GatherNDWithBatchDims) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(3), int64_t(4), int64_t(5)});
  m.input("i", P::INT64, {int64_t(3), int64_t(2), int64_t(1)});
  m.input("x4", P::INT64, {int64_t(2), int64_t(3), int64_t(4), int64_t(5)});
  std::vector<int64_t> ci = {3, -1, 0, 2, -4, 1, 2, 0, -2, 3, 1, -3};  // [2, 3, 2, 1]
  m.int64s("ci", {2, 3, 2, 1}, ci);
  attr(m.node("GatherND", {"x", "i"}, {"y1"}), "batch_dims", int64_t(1));    // [3, 2, 5]
  attr(m.node("GatherND", {"x4", "ci"}, {"y2"}), "batch_dims", int64_t(2));  // [2, 3, 2, 5]
  m.output("y1");
  m.output("y2");
  Tensor x = random_tensor(DataType::float32, {3, 4, 5}, -2, 2, 200);
  Tensor x4 = random_tensor(DataType::int64, {2, 3, 4, 5}, -1000, 1000, 201);
  std::vector<double> iv = {3, -4, 0, -1, 2, 1};
  NamedTensors out = run_model(
      m, {{"x", x}, {"i", tensor_from_doubles(DataType::int64, {3, 2, 1}, iv)}, {"x4", x4}});
  std::vector<double> civ(ci.begin(), ci.end());
  EXPECT_EQ(out["y1"].shape(), (Dims{3, 2, 5}));
  expect_close(out["y1"], gather_nd_reference(x.to_doubles(), {3, 4, 5}, iv, {3, 2, 1}, 1), {0, 0});
  EXPECT_EQ(out["y2"].data_type(), DataType::int64);
  EXPECT_EQ(out["y2"].shape(), (Dims{2, 3, 2, 5}));
  expect_close(out["y2"], gather_nd_reference(x4.to_doubles(), {2, 3, 4, 5}, civ, {2, 3, 2, 1}, 2),
               {0, 0});

  struct Bad {
    Dims x, i;
    int64_t batch_dims;
    const char* message;
  };
  std::vector<Bad> bads = {
      {{2, 3}, {3, 1}, 1, "(batch_dims) of data [2, 3] and indices [3, 1] must be equal"},
      {{2, 3}, {2, 2}, 1, "must be between 1 and the rank of data"},
      {{2, 3}, {2, 1}, 2, "'batch_dims' = 2 must be at least 0 and less"}};
  for (const Bad& bad : bads) {
    OnnxTestModel b;
    b.input("x", P::FLOAT, {bad.x[0], bad.x[1]});
    b.input("i", P::INT64, {bad.i[0], bad.i[1]});
    attr(b.node("GatherND", {"x", "i"}, {"y"}, "nd0"), "batch_dims", bad.batch_dims);
    b.output("y");
    testing::expect_error([&] { b.load(); }, ErrorKind::DataError, bad.message);
  }
}

}  // namespace
}  // namespace cppnn
