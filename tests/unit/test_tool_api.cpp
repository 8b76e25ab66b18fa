// The public API the command-line tool is built on (tools/): a graph's nodes and operands
// (graph_info.h), an ONNX file's declared inputs (read_onnx_decl, onnx.h) and the runtime
// cache's listing and clearing (runtime_cache.h), which must never touch a file the cache
// did not write.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "cppnn/engine.h"
#include "cppnn/graph_info.h"
#include "cppnn/runtime_cache.h"
#include "unit/onnx_test_model.h"
#include "unit/runtime_cache_test_support.h"

namespace cppnn {
namespace {

using namespace cppnn::testing;

// matmul + bias + relu, which the engine builder fuses into one node, and a reduceMean.
Graph fusable_graph() {
  GraphBuilder b;
  Operand x = b.input("x", DataType::float32, {2, 4});
  std::vector<float> w(12, 0.5f), bias(3, 1.0f);
  Operand m = b.matmul(x, b.constant(Tensor::from(DataType::float32, {4, 3}, w)));
  Operand r = b.relu(b.add(m, b.constant(Tensor::from(DataType::float32, {3}, bias))));
  ReduceOptions ro;
  ro.axes = std::vector<uint32_t>{1};
  return b.build({{"y", r}, {"mean", b.reduce_mean(x, ro)}});
}

TEST(ToolApi, NodesOperandsAndFusions) {
  Graph g = fusable_graph();
  std::vector<NodeSummary> nodes = graph_nodes(g);
  ASSERT_EQ(nodes.size(), 4u);
  EXPECT_EQ(nodes[0].op, "matmul");
  EXPECT_TRUE(nodes[0].fused.empty());
  EXPECT_EQ(constant_bytes(g), (12 + 3) * sizeof(float));
  EXPECT_EQ(graph_precision(g), Precision::float32);

  Engine e = Engine::build(g);
  std::vector<NodeSummary> built = graph_nodes(e.graph());
  std::vector<OperandSummary> operands = graph_operands(e.graph());
  ASSERT_EQ(operands.size(), operand_count(e.graph()));
  auto mm = std::find_if(built.begin(), built.end(),
                         [](const NodeSummary& n) { return n.op == "matmul"; });
  ASSERT_NE(mm, built.end());
  EXPECT_EQ(std::set<std::string>(mm->fused.begin(), mm->fused.end()),
            (std::set<std::string>{"bias", "relu"}));
  // Its output is the graph's output "y"; its inputs are the input x and the constants.
  ASSERT_EQ(mm->outputs.size(), 1u);
  EXPECT_EQ(operands[size_t(mm->outputs[0])].output_name, "y");
  EXPECT_EQ(operands[size_t(mm->inputs[0])].kind, OperandKind::input);
  EXPECT_EQ(operands[size_t(mm->inputs[0])].name, "x");
  EXPECT_EQ(operands[size_t(mm->inputs[1])].kind, OperandKind::constant);
  EXPECT_EQ(operands[size_t(mm->inputs[1])].bytes, 12 * sizeof(float));
  EXPECT_EQ(built.size(), 2u);  // matmul (fused) and reduceMean

  EngineBuildOptions half;
  half.precision = Precision::float16;
  Engine h = Engine::build(g, half);
  EXPECT_EQ(graph_precision(h.graph()), Precision::float16);
  EXPECT_EQ(constant_bytes(h.graph()), (12 + 3) * 2u);  // weights stored in float16
}

class ToolApiFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("cppnn_tool_api_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& p, const std::string& bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
  }
  std::string read(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
  }
  fs::path dir_;
};

TEST_F(ToolApiFiles, OnnxDeclNamesDimsAsTheImporterDoes) {
  OnnxTestModel m;
  m.input("x", onnx::TensorProto::FLOAT, {std::string("N"), int64_t(-1), int64_t(4)});
  m.input("mask", onnx::TensorProto::FLOAT, {std::string("N"), std::string("?")});
  m.floats("w", {4}, {1, 2, 3, 4});
  m.proto().mutable_graph()->add_input()->set_name("w");  // IR < 4: an initializer as input
  m.node("Mul", {"x", "w"}, {"y"});
  m.node("Identity", {"mask"}, {"z"});
  m.output("y");
  m.output("z");
  m.proto().set_producer_name("unit");
  fs::path path = dir_ / "m.onnx";
  write(path, m.bytes());

  OnnxModelDecl decl = read_onnx_decl(path.string());
  EXPECT_EQ(decl.ir_version, 8);
  EXPECT_EQ(decl.opsets.at(""), 17);
  EXPECT_EQ(decl.producer, "unit");
  ASSERT_EQ(decl.inputs.size(), 2u);  // w is an initializer
  EXPECT_EQ(decl.inputs[0].dims, (std::vector<std::string>{"N", "x:1", "4"}));
  EXPECT_EQ(decl.inputs[1].dims, (std::vector<std::string>{"N", "mask:1"}));
  std::vector<std::string> names = decl.symbolic_dims();
  EXPECT_EQ(names, (std::vector<std::string>{"N", "mask:1", "x:1"}));

  // The importer takes exactly these names: with all of them it loads, and without one it
  // names that one.
  OnnxImportOptions options;
  for (const std::string& n : names) options.dim_values[n] = 3;
  Graph g = load_onnx(path.string(), options);
  EXPECT_EQ(g.inputs().at("x").shape, (Dims{3, 3, 4}));
  for (const std::string& n : names) {
    OnnxImportOptions missing = options;
    missing.dim_values.erase(n);
    expect_error([&] { load_onnx(path.string(), missing); }, ErrorKind::DataError,
                 "--dim " + n + "=<value>");
  }

  write(dir_ / "bad.onnx", "not a model");
  expect_error([&] { read_onnx_decl((dir_ / "bad.onnx").string()); }, ErrorKind::DataError,
               "bad.onnx");
  expect_error([&] { read_onnx_decl((dir_ / "none.onnx").string()); }, ErrorKind::DataError,
               "none.onnx");
}

TEST_F(ToolApiFiles, CacheListAndClearTouchOnlyCppnnFiles) {
  fs::path cache = dir_ / "cache";
  RuntimeCacheOptions options;
  options.folder = cache.string();
  detail::RuntimeCache rc(options);
  CacheKey key = cache_key("sm_90");
  ASSERT_TRUE(rc.store(key, cache_entry()));
  ASSERT_TRUE(rc.store(cache_key("sm_80"), cache_entry(2)));
  fs::path entry = rc.path_for(key);
  fs::path engine_dir = entry.parent_path();
  fs::path temporary = engine_dir / (entry.filename().string() + ".tmp-123-0123456789abcdef");
  write(temporary, "partial");

  // Files that are not the cache's, some named like its own.
  std::map<fs::path, std::string> foreign = {
      {cache / "notes.txt", "mine"},
      {cache / "0123456789abcdef.cache", "a cache-like name at the top"},
      {engine_dir / "readme.txt", "mine too"},
      {engine_dir / "aaaaaaaaaaaaaaaa.cache", "no magic: not cppnn's"},
      {engine_dir / "aaaaaaaaaaaaaaaa.cache.tmp-x-0123456789abcdef", "not the temporary pattern"},
      {cache / "NOTHEX0123456789" / "bbbbbbbbbbbbbbbb.cache",
       "CPPNNRTC in a folder not named by a hash"},
      {dir_ / "outside" / "cccccccccccccccc.cache", "CPPNNRTC behind a link"},
  };
  for (const auto& [p, bytes] : foreign) write(p, bytes);
  fs::create_directory_symlink(dir_ / "outside", cache / "fedcba9876543210");

  std::vector<RuntimeCacheFile> files = list_runtime_cache(cache.string());
  ASSERT_EQ(files.size(), 3u);
  size_t temporaries = 0;
  for (const RuntimeCacheFile& f : files) {
    EXPECT_EQ(fs::path(f.path).parent_path(), engine_dir);
    if (f.temporary) {
      ++temporaries;
      EXPECT_EQ(f.path, temporary.string());
      continue;
    }
    EXPECT_EQ(f.engine_hash, key.engine_hash);
    EXPECT_TRUE(f.device_arch == "sm_90" || f.device_arch == "sm_80") << f.device_arch;
    EXPECT_EQ(f.driver_version, key.driver_version);
    EXPECT_EQ(f.cppnn_build, key.cppnn_version);
    EXPECT_EQ(f.bytes, fs::file_size(f.path));
  }
  EXPECT_EQ(temporaries, 1u);

  RuntimeCacheClearResult r = clear_runtime_cache(cache.string());
  EXPECT_EQ(r.files, 3u);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_FALSE(fs::exists(entry));
  EXPECT_FALSE(fs::exists(temporary));
  for (const auto& [p, bytes] : foreign) EXPECT_EQ(read(p), bytes) << p;
  EXPECT_TRUE(fs::is_directory(engine_dir));  // it still holds readme.txt
  EXPECT_TRUE(fs::is_symlink(cache / "fedcba9876543210"));
  EXPECT_TRUE(list_runtime_cache(cache.string()).empty());

  // An engine folder left empty goes; the cache folder itself stays.
  for (const auto& [p, bytes] : foreign)
    if (p.parent_path() == engine_dir) fs::remove(p);
  ASSERT_TRUE(rc.store(key, cache_entry()));
  EXPECT_EQ(clear_runtime_cache(cache.string()).files, 1u);
  EXPECT_FALSE(fs::exists(engine_dir));
  EXPECT_TRUE(fs::is_directory(cache));
  EXPECT_TRUE(list_runtime_cache((dir_ / "missing").string()).empty());
  EXPECT_EQ(clear_runtime_cache((dir_ / "missing").string()).files, 0u);
}

}  // namespace
}  // namespace cppnn
