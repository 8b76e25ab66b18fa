// The engine file: round trip (the loaded graph computes what the original computes,
// against a float64 reference), the content hash, build options, atomic save.
// Corrupt and crafted files: test_engine_corrupt.cpp.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine/engine_format.h"
#include "core/hash.h"
#include "engine_test_model.h"

namespace cppnn {
namespace {

namespace fs = std::filesystem;
using testing::default_tolerance;
using testing::engine_test_reference;
using testing::expect_close;
using testing::expect_error;
using testing::make_engine_test_model;
using testing::random_tensor;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cppnn_engine_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ContextOptions options;
    options.accelerated = false;
    context_ = Context::create(options);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::set<std::string> files_in(const fs::path& dir) const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
  }

  fs::path dir_;
  Context context_;
};

NamedTensors model_inputs() {
  return {{"x", random_tensor(DataType::float32, {2, 3, 4, 5}, -2.0, 2.0, 99)}};
}

void expect_same_bytes(const NamedTensors& a, const NamedTensors& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    const Tensor& u = b.at(name);
    ASSERT_EQ(t.data_type(), u.data_type()) << name;
    ASSERT_EQ(t.shape(), u.shape()) << name;
    EXPECT_EQ(std::memcmp(t.data(), u.data(), t.byte_size()), 0) << name << " differs";
  }
}

void expect_same_ir(const detail::GraphIR& a, const detail::GraphIR& b) {
  ASSERT_EQ(a.operands.size(), b.operands.size());
  for (size_t i = 0; i < a.operands.size(); ++i) {
    const auto &x = a.operands[i], &y = b.operands[i];
    EXPECT_EQ(x.desc, y.desc) << "operand " << i;
    EXPECT_EQ(x.role, y.role) << "operand " << i;
    EXPECT_EQ(x.name, y.name) << "operand " << i;
    ASSERT_EQ(bool(x.data), bool(y.data)) << "operand " << i;
    if (x.data) {
      ASSERT_EQ(x.data->byte_size(), y.data->byte_size());
      EXPECT_EQ(std::memcmp(x.data->data(), y.data->data(), x.data->byte_size()), 0);
    }
  }
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t n = 0; n < a.nodes.size(); ++n) {
    EXPECT_EQ(a.nodes[n].op, b.nodes[n].op);
    EXPECT_EQ(a.nodes[n].label, b.nodes[n].label);
    EXPECT_EQ(a.nodes[n].inputs, b.nodes[n].inputs);
    EXPECT_EQ(a.nodes[n].outputs, b.nodes[n].outputs);
    EXPECT_TRUE(a.nodes[n].attrs == b.nodes[n].attrs) << detail::op_name(a.nodes[n].op);
  }
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.outputs, b.outputs);
}

TEST(EngineHash, MatchesXxh64Vectors) {
  // Reference values from the system's libxxhash 0.8.1 (XXH64), bytes b[i] = i * 31 + 7.
  EXPECT_EQ(detail::hash_hex(detail::hash64("", 0)), "ef46db3751d8e999");
  EXPECT_EQ(detail::hash_hex(detail::hash64("abc", 3)), "44bc2cf5ad770999");
  std::vector<uint8_t> b(1000);
  for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(i * 31 + 7);
  struct Vector {
    size_t n;
    uint64_t seed0, seed7;
  };
  const Vector vectors[] = {{1, 0xa96c7f0ce858bbb7, 0x29e170c8a15e4885},
                            {3, 0x56e6957632a487f9, 0x75267c6f6581fc8a},
                            {4, 0xc60d15b1e3ff8f04, 0xc54c524dd647b8b5},
                            {7, 0xafbefc3d6c6f9a8e, 0xa98b8f4fa312b820},
                            {8, 0x3da5c7aa269683e0, 0x38b71b239398ae01},
                            {31, 0x4a74f3a1a39ad4a1, 0xf549a82e8d08f523},
                            {32, 0x8d57d6a4671cc43d, 0x774b2d2517a0ff5b},
                            {33, 0x62c9fd21ed857664, 0x338dacb2402dbbbf},
                            {63, 0x5c320a0d2707057f, 0x6f4ec8f0225e0247},
                            {64, 0x7bbabbc45729d17e, 0x941b16aae391f836},
                            {100, 0xefa0ad2d3e70c151, 0xa110dbef405c5a24},
                            {1000, 0x99594f4828043d35, 0x1d35abeb1c5b7a8c}};
  for (const Vector& v : vectors) {
    EXPECT_EQ(detail::hash64(b.data(), v.n, 0), v.seed0) << v.n << " bytes";
    EXPECT_EQ(detail::hash64(b.data(), v.n, 7), v.seed7) << v.n << " bytes";
  }
}

TEST_F(EngineTest, RoundTripComputesTheReferenceAndTheOriginalsResults) {
  testing::EngineTestModel m = make_engine_test_model();
  Engine built = Engine::build(m.graph);
  // The folded neg is gone; everything else survives.
  EXPECT_EQ(built.graph().node_count(), m.graph.node_count() - 1);
  EXPECT_EQ(built.format_version(), kEngineFormatVersion);
  EXPECT_EQ(built.options().precision, Precision::float32);
  EXPECT_FALSE(built.cppnn_version().empty());
  EXPECT_NE(built.producer().find("cppnn"), std::string::npos);

  built.save(path("model.engine"));
  EXPECT_EQ(fs::file_size(path("model.engine")), built.byte_size());
  EXPECT_TRUE(Engine::is_engine_file(path("model.engine")));
  Engine loaded = Engine::load(path("model.engine"));
  EXPECT_EQ(loaded.graph().inputs(), m.graph.inputs());
  EXPECT_EQ(loaded.graph().outputs(), m.graph.outputs());
  expect_same_ir(loaded.graph().ir(), built.graph().ir());

  NamedTensors inputs = model_inputs();
  NamedTensors original = context_.compute(m.graph, inputs);
  NamedTensors from_engine = context_.compute(loaded.graph(), inputs);
  expect_same_bytes(original, from_engine);

  auto want = engine_test_reference(m, inputs.at("x").to_doubles());
  expect_close(from_engine.at("soft"), want.at("soft"), default_tolerance(DataType::float32),
               "soft");
  expect_close(from_engine.at("part"), want.at("part"), default_tolerance(DataType::float32),
               "part");
  expect_close(from_engine.at("ln16"), want.at("ln16"), default_tolerance(DataType::float16),
               "ln16");
}

TEST_F(EngineTest, TheFileCarriesAbsentOperandsAndEveryAttributeKind) {
  // Guards the round-trip test's coverage: if the model stops exercising a part of the
  // format, this fails instead of the round trip silently testing less.
  Engine loaded = Engine::from_bytes(Engine::build(make_engine_test_model().graph).to_bytes());
  const detail::GraphIR& ir = loaded.graph().ir();
  std::set<size_t> kinds;
  bool absent = false, multi_output = false, constant = false;
  for (const detail::Node& node : ir.nodes) {
    for (const auto& [_, value] : node.attrs.all()) kinds.insert(value.index());
    for (detail::OperandId id : node.inputs) absent = absent || id == detail::kNoOperand;
    multi_output = multi_output || node.outputs.size() > 1;
  }
  for (const auto& op : ir.operands)
    constant = constant || op.role == detail::OperandRole::constant;
  EXPECT_EQ(kinds, (std::set<size_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(absent);
  EXPECT_TRUE(multi_output);
  EXPECT_TRUE(constant);
}

TEST_F(EngineTest, BytesRoundTripAndConstantsAreAlignedInPlace) {
  Engine built = Engine::build(make_engine_test_model().graph);
  std::string bytes = built.to_bytes();
  Engine again = Engine::from_bytes(bytes);
  EXPECT_EQ(again.to_bytes(), bytes);
  // Constants are wrapped inside the file buffer, 64-byte aligned there.
  const uint8_t* base = nullptr;
  for (const auto& op : again.graph().ir().operands) {
    if (op.role != detail::OperandRole::constant) continue;
    auto at = reinterpret_cast<uintptr_t>(op.data->data());
    EXPECT_EQ(at % 64, 0u);
    if (!base) base = static_cast<const uint8_t*>(op.data->data());
  }
  ASSERT_NE(base, nullptr);
  expect_same_bytes(context_.compute(again.graph(), model_inputs()),
                    context_.compute(built.graph(), model_inputs()));
}

TEST_F(EngineTest, HashIsStableAcrossSaveLoadAndChangesWithTheWeights) {
  Engine a = Engine::build(make_engine_test_model(7).graph);
  EXPECT_EQ(a.hash().size(), 16u);
  EXPECT_EQ(a.hash().find_first_not_of("0123456789abcdef"), std::string::npos);
  std::string bytes = a.to_bytes();
  EXPECT_EQ(a.hash(), detail::hash_hex(detail::hash64(bytes.data() + 64, bytes.size() - 64)));

  a.save(path("a.engine"));
  Engine loaded = Engine::load(path("a.engine"));
  EXPECT_EQ(loaded.hash(), a.hash());
  loaded.save(path("b.engine"));
  EXPECT_EQ(Engine::load(path("b.engine")).hash(), a.hash());
  // Building is deterministic: the same graph gives the same file.
  EXPECT_EQ(Engine::build(make_engine_test_model(7).graph).to_bytes(), bytes);

  Engine other = Engine::build(make_engine_test_model(8).graph);
  EXPECT_NE(other.hash(), a.hash());
}

TEST_F(EngineTest, BadPrecisionAndInvalidGraphOrEngine) {
  EngineBuildOptions options;
  options.precision = Precision(7);
  expect_error([&] { Engine::build(make_engine_test_model().graph, options); },
               ErrorKind::TypeError, "unknown precision 7");
  options.precision = Precision::auto_;
  expect_error([&] { Engine::build(make_engine_test_model().graph, options); },
               ErrorKind::TypeError, "a context's choice");
  // bfloat16 is built (tests/unit/test_precision_bfloat16.cpp), not refused.
  options.precision = Precision::bfloat16;
  EXPECT_EQ(Engine::build(make_engine_test_model().graph, options).options().precision,
            Precision::bfloat16);
  expect_error([&] { Engine::build(Graph()); }, ErrorKind::DataError, "graph is not valid");
  Engine none;
  EXPECT_FALSE(none.valid());
  expect_error([&] { none.graph(); }, ErrorKind::InvalidStateError, "engine is not valid");
  expect_error([&] { none.save(path("x.engine")); }, ErrorKind::InvalidStateError, "not valid");
}

TEST_F(EngineTest, SaveIntoAMissingDirectoryLeavesNothing) {
  Engine e = Engine::build(make_engine_test_model().graph);
  std::string target = path("missing/model.engine");
  expect_error([&] { e.save(target); }, ErrorKind::DataError,
               "cannot save engine to '" + target + "'");
  EXPECT_FALSE(fs::exists(path("missing")));
  EXPECT_TRUE(files_in(dir_).empty());
  // The context and the engine still work.
  expect_same_bytes(context_.compute(e.graph(), model_inputs()),
                    context_.compute(make_engine_test_model().graph, model_inputs()));
}

TEST_F(EngineTest, AFailedRenameRemovesTheTemporaryFile) {
  Engine e = Engine::build(make_engine_test_model().graph);
  // A non-empty directory where the file should go: the write succeeds, the rename fails.
  fs::create_directories(path("taken"));
  std::ofstream(path("taken/keep")) << "x";
  expect_error([&] { e.save(path("taken")); }, ErrorKind::DataError,
               "cannot save engine to '" + path("taken"));
  EXPECT_EQ(files_in(dir_), (std::set<std::string>{"taken"}));
  EXPECT_EQ(files_in(path("taken")), (std::set<std::string>{"keep"}));
}

TEST_F(EngineTest, SaveReplacesAnExistingFileWhole) {
  Engine small = Engine::build(make_engine_test_model(1).graph);
  Engine other = Engine::build(make_engine_test_model(2).graph);
  small.save(path("m.engine"));
  other.save(path("m.engine"));
  EXPECT_EQ(Engine::load(path("m.engine")).hash(), other.hash());
  EXPECT_EQ(files_in(dir_), (std::set<std::string>{"m.engine"}));
}

TEST_F(EngineTest, LoadingAMissingFileOrADirectoryIsADataError) {
  expect_error([&] { Engine::load(path("nope.engine")); }, ErrorKind::DataError,
               "cannot open engine file");
  expect_error([&] { Engine::load(dir_.string()); }, ErrorKind::DataError, "not a regular file");
  EXPECT_FALSE(Engine::is_engine_file(path("nope.engine")));
  std::ofstream(path("short")) << "CPP";
  EXPECT_FALSE(Engine::is_engine_file(path("short")));
  expect_error([&] { Engine::load(path("short")); }, ErrorKind::DataError, "truncated");
}

}  // namespace
}  // namespace cppnn
