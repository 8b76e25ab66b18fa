// ONNX import at the graph's boundary: symbolic dimensions (named, and the unnamed ones
// exporters write as -1, 0, "" or "?"), bool inputs and outputs, optional inputs given as
// empty names, float64, and external data (paths confined to the model's folder, offsets and
// lengths checked against the file).
#include <filesystem>
#include <fstream>

#include "test_support.h"
#include "unit/onnx_test_model.h"

namespace cppnn {
namespace {

namespace fs = std::filesystem;
using testing::attr;
using testing::expect_close;
using testing::expect_error;
using testing::OnnxTestModel;
using testing::random_tensor;
using testing::raw_tensor;
using testing::run_cpu;
using testing::tensor_from_doubles;
using P = onnx::TensorProto;

// ----- symbolic dimensions ------------------------------------------------------------------

// An input dimension written the way some exporter writes an unknown size.
void unnamed_dim(OnnxTestModel& m, const std::string& input, int index, int how) {
  for (auto& in : *m.graph().mutable_input()) {
    if (in.name() != input) continue;
    auto* d = in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(index);
    d->Clear();
    if (how == 0) d->set_dim_value(-1);
    if (how == 1) d->set_dim_value(0);
    if (how == 2) d->set_dim_param("");
    if (how == 3) d->set_dim_param("?");
    // how == 4: neither field set
  }
}

TEST(OnnxSymbolicDims, UnnamedDimsAreNamedAfterTheInputAndIndex) {
  // PP-OCR's classifier: x is [-1, 3, 48, 48].
  for (int how = 0; how < 5; ++how) {
    SCOPED_TRACE(how);
    OnnxTestModel m;
    m.input("x", P::FLOAT, {int64_t(1), int64_t(3), int64_t(2)});
    unnamed_dim(m, "x", 0, how);
    m.floats("w", {1}, {2});
    m.node("Mul", {"x", "w"}, {"y"});
    m.output("y");
    expect_error([&] { m.load(); }, ErrorKind::DataError, "graph input 'x': dimension 0");
    expect_error([&] { m.load(); }, ErrorKind::DataError, "cppnn calls it 'x:0'");
    expect_error([&] { m.load(); }, ErrorKind::DataError, "--dim x:0=<value>");
    expect_error([&] { m.load(); }, ErrorKind::DataError, "dim_values={'x:0': value}");
    Graph g = m.load({{{"x:0", 4}}});
    EXPECT_EQ(g.inputs().at("x").shape, (Dims{4, 3, 2}));
    Tensor x = random_tensor(DataType::float32, {4, 3, 2}, -1, 1, 3);
    std::vector<double> want;
    for (double v : x.to_doubles()) want.push_back(2 * v);
    expect_close(run_cpu(g, {{"x", x}})["y"], want, testing::default_tolerance(DataType::float32));
  }
}

TEST(OnnxSymbolicDims, NamedDimsAndBadValues) {
  OnnxTestModel m;
  m.input("ids", P::INT64, {std::string("batch"), std::string("?"), int64_t(-1)});
  m.node("Identity", {"ids"}, {"y"});
  m.output("y");
  // The named one first, then the unnamed ones by input and index.
  expect_error([&] { m.load(); }, ErrorKind::DataError, "the symbolic 'batch'");
  expect_error([&] { m.load(); }, ErrorKind::DataError, "--dim batch=<value>");
  expect_error([&] { m.load({{{"batch", 2}}}); }, ErrorKind::DataError, "'ids:1'");
  expect_error([&] { m.load({{{"batch", 2}, {"ids:1", 3}}}); }, ErrorKind::DataError, "'ids:2'");
  Graph g = m.load({{{"batch", 2}, {"ids:1", 3}, {"ids:2", 5}}});
  EXPECT_EQ(g.inputs().at("ids").shape, (Dims{2, 3, 5}));
  expect_error(
      [&] {
        m.load({{{"batch", 0}, {"ids:1", 3}, {"ids:2", 5}}});
      },
      ErrorKind::DataError, "must be > 0");
  expect_error(
      [&] {
        m.load({{{"batch", -1}, {"ids:1", 3}, {"ids:2", 5}}});
      },
      ErrorKind::DataError, "dimension 'batch'");
  // A positive dim_value is fixed: a dim_values entry does not change it.
  OnnxTestModel fixed;
  fixed.input("x", P::FLOAT, {int64_t(2)});
  fixed.node("Identity", {"x"}, {"y"});
  fixed.output("y");
  EXPECT_EQ(fixed.load({{{"x:0", 7}}}).inputs().at("x").shape, (Dims{2}));
  // No shape at all (not even a rank) cannot be fixed by a dimension value.
  OnnxTestModel shapeless;
  shapeless.input("x", P::FLOAT, {});
  shapeless.graph().mutable_input(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  shapeless.node("Identity", {"x"}, {"y"});
  shapeless.output("y");
  expect_error([&] { shapeless.load(); }, ErrorKind::NotSupportedError, "has no shape");
}

// ----- bool, optional inputs, float64 -----------------------------------------------------

TEST(OnnxBoundary, BoolInputsAndOutputsAreUint8) {
  OnnxTestModel m;
  m.input("mask", P::BOOL, {int64_t(4)});
  m.input("x", P::FLOAT, {int64_t(4)});
  m.floats("zero", {}, {0});
  m.node("Not", {"mask"}, {"inverted"});
  m.node("Where", {"mask", "x", "zero"}, {"kept"});
  m.node("Greater", {"x", "zero"}, {"positive"});
  m.output("inverted");
  m.output("kept");
  m.output("positive");
  m.graph().mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(P::BOOL);
  Graph g = m.load();
  EXPECT_EQ(g.inputs().at("mask").data_type, DataType::uint8);
  EXPECT_EQ(g.outputs().at("inverted").data_type, DataType::uint8);
  EXPECT_EQ(g.outputs().at("positive").data_type, DataType::uint8);
  Tensor mask = tensor_from_doubles(DataType::uint8, {4}, {1, 0, 0, 1});
  Tensor x = tensor_from_doubles(DataType::float32, {4}, {-1.5, 2, 3.25, 4});
  NamedTensors out = run_cpu(g, {{"mask", mask}, {"x", x}});
  expect_close(out["inverted"], {0, 1, 1, 0}, {0, 0});
  expect_close(out["kept"], {-1.5, 0, 0, 4}, {0, 0});
  expect_close(out["positive"], {0, 1, 1, 1}, {0, 0});
}

TEST(OnnxBoundary, OptionalInputsGivenAsEmptyNames) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(2), int64_t(4)});
  m.floats("hi", {}, {0.5f});
  m.node("Clip", {"x", "", "hi"}, {"clipped"});  // no min
  m.int64s("starts", {2}, {0, 3});
  m.int64s("ends", {2}, {2, -100});
  m.int64s("steps", {2}, {1, -2});
  m.node("Slice", {"x", "starts", "ends", "", "steps"}, {"sliced"});  // axes default
  m.int64s("pads", {4}, {0, 1, 0, 0});
  m.node("Pad", {"x", "pads", ""}, {"padded"});  // constant_value defaults to 0
  m.node("Dropout", {"x", "", ""}, {"dropped"});
  m.input("img", P::FLOAT, {int64_t(1), int64_t(1), int64_t(2), int64_t(2)});
  m.floats("scale", {4}, {1, 1, 2, 2});
  m.node("Resize", {"img", "", "scale"}, {"resized"});  // no roi
  for (const char* o : {"clipped", "sliced", "padded", "dropped", "resized"}) m.output(o);
  Graph g = m.load();
  Tensor x = random_tensor(DataType::float32, {2, 4}, -1, 1, 5);
  std::vector<double> xv = x.to_doubles();
  Tensor img = tensor_from_doubles(DataType::float32, {1, 1, 2, 2}, {1, 2, 3, 4});
  NamedTensors out = run_cpu(g, {{"x", x}, {"img", img}});
  std::vector<double> clipped, sliced, padded;
  for (double v : xv) clipped.push_back(std::min(v, 0.5));
  for (int i = 0; i < 2; ++i)
    for (int j : {3, 1}) sliced.push_back(xv[size_t(i * 4 + j)]);
  for (int i = 0; i < 2; ++i) {
    padded.push_back(0);
    for (int j = 0; j < 4; ++j) padded.push_back(xv[size_t(i * 4 + j)]);
  }
  auto exact = testing::default_tolerance(DataType::float32);
  expect_close(out["clipped"], clipped, exact, "clipped");
  expect_close(out["sliced"], sliced, exact, "sliced");
  expect_close(out["padded"], padded, exact, "padded");
  expect_close(out["dropped"], xv, exact, "dropped");
  expect_close(out["resized"], {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, exact, "resized");
}

TEST(OnnxBoundary, Float64IsAnErrorUnlessCastToFloat32) {
  auto make = [] {
    OnnxTestModel m;
    m.input("x", P::DOUBLE, {int64_t(3)});
    onnx::TensorProto w = raw_tensor("w", P::DOUBLE, {3}, std::vector<double>{0.1, -2.5, 1e-3});
    m.initializer(w);
    onnx::TensorProto b;  // typed double_data instead of raw_data
    b.set_name("b");
    b.set_data_type(P::DOUBLE);
    b.add_dims(3);
    for (double v : {1.0, 2.0, 1e40}) b.add_double_data(v);
    m.initializer(b);
    m.node("Mul", {"x", "w"}, {"xw"});
    m.node("Add", {"xw", "b"}, {"y"});
    attr(m.node("Cast", {"y"}, {"z"}, "to_double"), "to", int64_t(P::DOUBLE));
    m.output("z");
    m.graph().mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(P::DOUBLE);
    return m;
  };
  OnnxTestModel m = make();
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, "WebNN has no float64");
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError, "float64_as_float32");
  OnnxImportOptions options;
  options.float64_as_float32 = true;
  Graph g = m.load(options);
  EXPECT_EQ(g.inputs().at("x").data_type, DataType::float32);
  EXPECT_EQ(g.outputs().at("z").data_type, DataType::float32);
  Tensor x = tensor_from_doubles(DataType::float32, {3}, {2, 4, 8});
  // Each value rounded to float32 at load time (1e40 becomes infinity).
  std::vector<double> want = {double(float(2 * double(float(0.1))) + 1.0f), 4 * -2.5 + 2,
                              double(INFINITY)};
  expect_close(run_cpu(g, {{"x", x}})["z"], want, testing::default_tolerance(DataType::float32));
}

// ONNX's expanded functions negate axes and counts: Neg of an integer constant folds, so a
// Reshape's shape computed that way is known at import time.
TEST(OnnxBoundary, NegOfIntegerConstantsFolds) {
  OnnxTestModel m;
  m.input("x", P::FLOAT, {int64_t(6)});
  m.int64s("minus", {2}, {-2, -3});
  m.node("Neg", {"minus"}, {"shape"});
  m.node("Reshape", {"x", "shape"}, {"y"});
  m.node("Neg", {"y"}, {"z"});  // a float operand stays a graph op
  m.output("z");
  Graph g = m.load();
  EXPECT_EQ(g.outputs().at("z").shape, (Dims{2, 3}));
  Tensor x = tensor_from_doubles(DataType::float32, {6}, {1, -2, 3, -4, 5, 0});
  expect_close(run_cpu(g, {{"x", x}})["z"], {-1, 2, -3, 4, -5, 0}, {0, 0});
}

TEST(OnnxBoundary, ModelsWithoutTheDefaultOpset) {
  OnnxTestModel m;
  m.proto().mutable_opset_import(0)->set_domain("ai.onnx.ml");
  m.input("x", P::FLOAT, {int64_t(2)});
  m.node("Binarizer", {"x"}, {"y"}, "bin").set_domain("ai.onnx.ml");
  m.output("y");
  expect_error([&] { m.load(); }, ErrorKind::NotSupportedError,
               "'bin' (Binarizer): op type 'ai.onnx.ml.Binarizer' is not supported");
  m.graph().mutable_node(0)->set_domain("");
  m.graph().mutable_node(0)->set_op_type("Identity");
  expect_error([&] { m.load(); }, ErrorKind::DataError,
               "imports no version of the default ONNX opset");
}

// ----- external data -----------------------------------------------------------------------

class OnnxExternalData : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cppnn_external_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "model");
    // weights.bin: 8 bytes of padding, then the 3 floats of w.
    std::vector<float> w = {1.5f, -2.0f, 0.25f};
    std::string bytes(8, 'p');
    bytes.append(reinterpret_cast<const char*>(w.data()), sizeof(float) * 3);
    write(dir_ / "model" / "weights.bin", bytes);
    write(dir_ / "outside.bin", bytes);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void write(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
  }

  // y = x * w with w stored externally under `location`, at `offset` / `length` (empty: no key).
  static OnnxTestModel model(const std::string& location, const std::string& offset = "8",
                             const std::string& length = "12") {
    OnnxTestModel m;
    m.input("x", P::FLOAT, {int64_t(3)});
    onnx::TensorProto& w = m.initializer(raw_tensor("w", P::FLOAT, {3}, std::vector<float>{}));
    w.clear_raw_data();
    w.set_data_location(P::EXTERNAL);
    auto key = [&](const char* k, const std::string& v) {
      if (v.empty()) return;
      auto* e = w.add_external_data();
      e->set_key(k);
      e->set_value(v);
    };
    key("location", location);
    key("offset", offset);
    key("length", length);
    m.node("Mul", {"x", "w"}, {"y"});
    m.output("y");
    return m;
  }

  Graph load(const OnnxTestModel& m) {
    fs::path p = dir_ / "model" / "model.onnx";
    write(p, m.bytes());
    return load_onnx(p.string());
  }

  fs::path dir_;
};

TEST_F(OnnxExternalData, ReadsTensorsBesideTheModel) {
  Graph g = load(model("weights.bin"));
  Tensor x = tensor_from_doubles(DataType::float32, {3}, {2, 3, 4});
  expect_close(run_cpu(g, {{"x", x}})["y"], {3, -6, 1}, {0, 0});
  // In a subfolder, and with no length (to the end of the file).
  fs::create_directories(dir_ / "model" / "data");
  fs::copy_file(dir_ / "model" / "weights.bin", dir_ / "model" / "data" / "w.bin");
  expect_close(run_cpu(load(model("data/w.bin", "8", "")), {{"x", x}})["y"], {3, -6, 1}, {0, 0});
  expect_close(run_cpu(load(model("data/./w.bin")), {{"x", x}})["y"], {3, -6, 1}, {0, 0});
}

TEST_F(OnnxExternalData, HostileLocationsAndRanges) {
  // Out of the model's folder.
  expect_error([&] { load(model("../outside.bin")); }, ErrorKind::DataError,
               "initializer 'w': external data file '../outside.bin' leaves the model's folder");
  expect_error([&] { load(model("data/../../outside.bin")); }, ErrorKind::DataError, "'..'");
  expect_error([&] { load(model((dir_ / "outside.bin").string())); }, ErrorKind::DataError,
               "is an absolute path");
  fs::create_symlink(dir_ / "outside.bin", dir_ / "model" / "link.bin");
  expect_error([&] { load(model("link.bin")); }, ErrorKind::DataError,
               "outside the model's folder");
  fs::create_directory_symlink(dir_, dir_ / "model" / "up");
  expect_error([&] { load(model("up/outside.bin")); }, ErrorKind::DataError,
               "outside the model's folder");
  // A symbolic link inside the folder is fine.
  fs::create_symlink(dir_ / "model" / "weights.bin", dir_ / "model" / "inside.bin");
  load(model("inside.bin"));
  // Ranges.
  expect_error([&] { load(model("weights.bin", "21", "")); }, ErrorKind::DataError,
               "offset 21 is past the end of the file (20 bytes)");
  expect_error([&] { load(model("weights.bin", "12", "12")); }, ErrorKind::DataError,
               "offset 12 + length 12 is past the end");
  expect_error([&] { load(model("weights.bin", "18446744073709551615", "12")); },
               ErrorKind::DataError, "past the end");
  expect_error([&] { load(model("weights.bin", "0", "18446744073709551615")); },
               ErrorKind::DataError, "past the end");
  expect_error([&] { load(model("weights.bin", "0", "8")); }, ErrorKind::DataError,
               "holds 8 bytes for the tensor; its shape and type need 12");
  expect_error([&] { load(model("weights.bin", "-8", "12")); }, ErrorKind::DataError,
               "not a non-negative integer");
  expect_error([&] { load(model("weights.bin", "8x", "12")); }, ErrorKind::DataError,
               "not a non-negative integer");
  expect_error([&] { load(model("missing.bin")); }, ErrorKind::DataError, "cannot be opened");
  // A huge shape is checked against the file before anything is allocated for it.
  OnnxTestModel huge = model("weights.bin", "0", "");
  huge.graph().mutable_initializer(0)->set_dims(0, int64_t(1) << 40);
  expect_error([&] { load(huge); }, ErrorKind::DataError,
               "holds 20 bytes for the tensor; its shape and type need 4398046511104");
  expect_error([&] { load(model("")); }, ErrorKind::DataError, "has no location");
  fs::create_directory(dir_ / "model" / "folder");
  expect_error([&] { load(model("folder")); }, ErrorKind::DataError, "not a regular file");
  // From memory there is no folder.
  expect_error([&] { model("weights.bin").load(); }, ErrorKind::DataError,
               "a model loaded from memory has no folder");
}

TEST_F(OnnxExternalData, TheSameBytesReadAgainAndAgainAreRefused) {
  OnnxTestModel m = model("weights.bin", "0", "20");
  // Two 5-float tensors over the one 20-byte file: 40 bytes read from 20.
  onnx::TensorProto& w = *m.graph().mutable_initializer(0);
  w.clear_dims();
  w.add_dims(5);
  onnx::TensorProto w2 = w;
  w2.set_name("w2");
  m.initializer(w2);
  m.graph().clear_node();
  m.graph()
      .mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(0)
      ->set_dim_value(5);
  m.node("Mul", {"x", "w"}, {"xw"});
  m.node("Mul", {"xw", "w2"}, {"y"});
  expect_error([&] { load(m); }, ErrorKind::DataError, "initializer 'w2'");
  expect_error([&] { load(m); }, ErrorKind::DataError, "read more external bytes");
}

}  // namespace
}  // namespace cppnn
